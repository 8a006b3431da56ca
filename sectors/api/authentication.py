"""API token authentication with the token, the user and their memberships read from the identity
cache (``sectors.identity``), so an integration's request needs no query to know who it is."""

from __future__ import annotations

from rest_framework import authentication
from rest_framework.authtoken.models import Token

from ..identity import Identity, identity_for_token, identity_remember


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, cached. An unknown token or an inactive user takes DRF's own
    path (a database read), which refuses it with DRF's messages. DRF makes one instance per
    request, so the identity read here is handed to the rest of the request."""

    identity: Identity | None = None

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and self.identity is not None:
            identity_remember(request._request, self.identity)
        return result

    def authenticate_credentials(self, key):
        identity = identity_for_token(key)
        if identity is None or not identity.user.is_active:
            return super().authenticate_credentials(key)
        self.identity = identity
        return identity.user, Token(key=key, user=identity.user)
