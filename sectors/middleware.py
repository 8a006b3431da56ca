from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from .acting import acting_for
from .choices import MembershipRole
from .identity import identity_get, identity_remember
from .models import Membership, User
from .sso import SSO_SESSION_KEY


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with the session's user read from the identity cache in the ordinary case: a
    model backend, an active user and a session hash that matches the password's. Anything else
    (no session, another backend, a hash made with an old secret, an inactive user) takes Django's
    own path, which also decides what happens to the session."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _session_user(request))


def _session_user(request):
    if not hasattr(request, "_cached_user"):  # the attribute Django's login and logout know
        request._cached_user = _cached_session_user(request) or auth.get_user(request)
    return request._cached_user


def _cached_session_user(request) -> User | None:
    session = request.session
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
        session_hash = session[HASH_SESSION_KEY]
    except KeyError:
        return None
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    backend = type(load_backend(backend_path))
    if backend.get_user is not ModelBackend.get_user or backend.user_can_authenticate is not (
        ModelBackend.user_can_authenticate
    ):
        return None
    identity = identity_get(user_id)
    if identity is None or not identity.user.is_active:
        return None
    if not session_hash or not constant_time_compare(session_hash, identity.user.get_session_auth_hash()):
        return None
    identity_remember(request, identity)
    return identity.user


class ActingOrganisationMiddleware:
    """Attach ``request.acting``: the organisation the user acts for on this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.acting = SimpleLazyObject(lambda: acting_for(request))
        return self.get_response(request)


def mfa_required_for(user) -> bool:
    """Superusers and organisation administrators hold the keys to other people's accounts."""
    if not getattr(settings, "MFA_REQUIRED_FOR_ADMINS", False) or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.active().filter(user=user, role=MembershipRole.ORGANISATION_ADMIN).exists()


def _sso_sign_in(request) -> dict | None:
    """The session's single sign-on record; reading it is not the view's use of the session
    (which would add ``Vary: Cookie`` to token requests and anonymous pages)."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    accessed = session.accessed
    sso = session.get(SSO_SESSION_KEY)
    session.accessed = accessed
    return sso


class MFARequiredMiddleware:
    """Two-factor authentication before the portal opens, where it is owed:

    - a session signed in through an identity provider that did not assert two factors: the
      portal's own TOTP was asked for at sign-in, or, for a person without it, must be set up
      before any other page (``sectors.sso``);
    - administrators without TOTP, before the admin opens (``MFA_REQUIRED_FOR_ADMINS``), unless the
      session's identity provider asserted two factors.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix: str | None = None
        self.open_prefixes: tuple[str, ...] = ()

    def __call__(self, request):
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
            self.open_prefixes = (
                reverse("mfa_index"),
                reverse("account_logout"),
                reverse("account_reauthenticate"),
                reverse("set_language"),
                reverse("session_keepalive"),
                reverse("health"),
                settings.STATIC_URL or "/static/",
            )
        sso = _sso_sign_in(request)
        if sso is not None and not sso.get("mfa") and not request.path.startswith(self.open_prefixes):
            if not request.user.is_authenticated:
                pass
            elif is_mfa_enabled(request.user, ["totp"]):
                request.session[SSO_SESSION_KEY] = {**sso, "mfa": "portal"}
            else:
                messages.warning(
                    request,
                    _(
                        "Your identity provider did not confirm a second factor: "
                        "set up two-factor authentication to continue."
                    ),
                )
                return redirect("mfa_activate_totp")
        if (
            request.path.startswith(self.admin_prefix)
            and not (sso is not None and sso.get("mfa") == "provider")
            and mfa_required_for(request.user)
            and not is_mfa_enabled(request.user, ["totp"])
        ):
            messages.warning(request, _("Set up two-factor authentication before you use the administration."))
            return redirect("mfa_activate_totp")
        return self.get_response(request)
