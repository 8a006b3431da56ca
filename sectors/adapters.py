from allauth.account.adapter import DefaultAccountAdapter, get_adapter
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _


class StaffOnlyAccountAdapter(DefaultAccountAdapter):
    """No public sign-up: staff accounts are created by administrators and invited by e-mail."""

    def is_open_for_signup(self, request) -> bool:
        return False

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
