"""E-mail: a notice that something waits in the portal, with a link and never health data
(e-mail is not secure), in the receiving user's language."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from smartcare.links import absolute_url

from ..choices import AttemptOutcome
from ..models import Delivery
from . import PermanentError, Sent, TransientError


def _language(user):
    """E-mails are written in the receiving user's language."""
    return translation.override(getattr(user, "language", None) or settings.LANGUAGE_CODE)


def email(delivery: Delivery) -> Sent:
    """A notice that something is waiting, with a link; never health data (e-mail is not secure)."""
    user = delivery.user
    organisation = delivery.recipient.organisation
    with _language(user):
        subject = _("SmartCare: new message for %(org)s") % {"org": organisation.name}
        body = _(
            "There is a new message for %(org)s in SmartCare.\n\nOpen it here (sign-in required):\n%(url)s\n\n"
            "You receive this e-mail because of your notification settings in SmartCare."
        ) % {"org": organisation.name, "url": absolute_url(reverse("messaging:inbox"))}
    return _send_email(subject, body, user.email)


def email_digest(delivery: Delivery) -> Sent:
    """The day's digest: how many messages are unread (counted when the digest was made), a link,
    and no health data."""
    unread = delivery.digest.messages
    with _language(delivery.user):
        subject = _("SmartCare: %(n)d unread messages") % {"n": unread}
        body = _(
            "You have %(n)d unread messages in SmartCare from the last day.\n\n"
            "Open your inbox here (sign-in required):\n%(url)s"
        ) % {"n": unread, "url": absolute_url(reverse("messaging:inbox"))}
    return _send_email(subject, body, delivery.user.email)


def email_notice(delivery: Delivery) -> Sent:
    """Something waits outside the inbox (a raised alert in the alert list): which organisation,
    a link, and no health data (no citizen, no measurement, no severity)."""
    notice = delivery.email_notice
    values = {"org": notice.organisation.name, "url": absolute_url(notice.link or reverse("messaging:inbox"))}
    with _language(delivery.user):
        texts = (
            _("SmartCare: new alert for %(org)s"),
            _(
                "There is a new alert for %(org)s in SmartCare.\n\nOpen the alert list here (sign-in required):\n"
                "%(url)s\n\nYou receive this e-mail because of your notification settings in SmartCare."
            ),
        )
    return _send_email(texts[0] % values, texts[1] % values, delivery.user.email)


def _send_email(subject: str, body: str, to: str) -> Sent:
    try:
        send_mail(subject, body, None, [to], fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"address refused: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    return Sent(AttemptOutcome.OK)
