"""allauth's texts whose Danish (allauth's own catalogue) says "password": listed so that
``makemessages`` copies them into the portal's catalogue, which comes first (LOCALE_PATHS) and
says "adgangskode", the one Danish word for it on every page. Only the flows the portal uses:
sign-in, reset, the invitation's set-password link and changing the password (sign-up is
closed; its e-mails too)."""

from django.utils.translation import gettext_noop

ALLAUTH_PASSWORD_TEXTS = (
    gettext_noop("Your account has no password set up."),
    gettext_noop("Password Reset"),
    gettext_noop("Password Reset Email"),
    gettext_noop("Password successfully changed."),
    gettext_noop("Password successfully set."),
    gettext_noop("Change Password"),
    gettext_noop(
        "Forgotten your password? Enter your email address below, and we'll send you an email allowing you to reset it."
    ),
    gettext_noop("Reset My Password"),
    gettext_noop("Please contact us if you have any trouble resetting your password."),
    gettext_noop(
        "The password reset link was invalid, possibly because it has already been used.  Please request a "
        '<a href="%(passwd_reset_url)s">new password reset</a>.'
    ),
    gettext_noop("Your password is now changed."),
    gettext_noop("Set Password"),
    gettext_noop("Forgot Password?"),
    gettext_noop("change password"),
    # The e-mail a reset request for an unknown address gets (the portal does not tell whether an
    # address has an account).
    gettext_noop(
        "You are receiving this email because you or someone else has requested a\npassword for your user account. "
        "However, we do not have any record of a user\nwith email %(email)s in our database.\n\nThis mail can be "
        "safely ignored if you did not request a password reset.\n\nIf it was you, you can sign up for an account "
        "using the link below."
    ),
)
