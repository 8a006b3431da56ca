"""What the single-sign-on tests of both protocols share (``test_sso.py`` for OpenID Connect,
``test_sso_saml.py`` for SAML): who is signed in, what the portal told them, and a portal TOTP."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.test import Client

from sectors.models import User


def signed_in(client: Client) -> User | None:
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id) if user_id else None


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def with_totp(user: User) -> User:
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    return user
