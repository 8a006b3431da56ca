import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from allauth.core import context as allauth_context
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _


class StaffOnlyAccountAdapter(DefaultAccountAdapter):
    """No public sign-up: staff accounts are created by administrators and invited by e-mail."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_stages(self) -> list[str]:
        """allauth's, with its TOTP step skipped when an identity provider asserted two factors."""
        return [
            "sectors.sso.AuthenticateStage" if path == "allauth.mfa.stages.AuthenticateStage" else path
            for path in super().get_login_stages()
        ]

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """A person just signed in through an identity provider that did not assert two factors
        sets up TOTP without signing in again (they have no password of ours to give): within
        allauth's reauthentication window of that sign-in, and only while it is owed."""
        from .sso import mfa_setup_owed_since

        request = allauth_context.request
        if app == "allauth.mfa" and request is not None:
            since = mfa_setup_owed_since(request)
            if since is not None and time.time() - since < account_settings.REAUTHENTICATION_TIMEOUT:
                return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's reading of the trusted proxy headers; a request with fewer X-Forwarded-For
        entries than trusted proxies did not come through them: refused (403), not a 500."""
        try:
            return super().get_client_ip(request)
        except ImproperlyConfigured:
            raise PermissionDenied(_("The request did not come through the trusted proxies.")) from None


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the sign-in rate limits see it: X-Forwarded-For is believed only
    for the trusted proxies (``ALLAUTH_TRUSTED_PROXY_COUNT``) or a trusted proxy's own header
    (``ALLAUTH_TRUSTED_CLIENT_IP_HEADER``), so a spoofed header names no one. None when unknown."""
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # no valid address in the trusted header
        return None
