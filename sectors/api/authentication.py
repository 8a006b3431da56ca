"""API token authentication with the token, the user and their memberships read from the identity
cache (``sectors.identity``), so an integration's request needs no query to know who it is. The
token's scope comes with the identity and is handed to ``sectors.tokens``, which the permission
checks ask; the token's use is recorded at most once a minute (``sectors.tokens.token_used``)."""

from __future__ import annotations

from rest_framework import authentication
from rest_framework.authtoken.models import Token

from ..identity import Identity, identity_for_token, identity_get, identity_remember
from ..tokens import token_authenticated, token_used


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, cached. An unknown token or an inactive user takes DRF's own
    path (a database read), which refuses it with DRF's messages. DRF makes one instance per
    request, so the identity read here is handed to the rest of the request."""

    identity: Identity | None = None

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        # DRF's own path (a token created a moment ago) read no identity: read it now, so the
        # token's scope is never skipped.
        identity = self.identity or identity_get(result[0].pk)
        if identity is not None:
            identity_remember(request._request, identity)
        token_authenticated(request._request, scope=identity.token_scope if identity is not None else None)
        token_used(key=result[1].key, user_id=result[0].pk)
        return result

    def authenticate_credentials(self, key):
        identity = identity_for_token(key)
        if identity is None or not identity.user.is_active:
            return super().authenticate_credentials(key)
        self.identity = identity
        return identity.user, Token(key=key, user=identity.user)
