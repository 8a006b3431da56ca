"""The sign-in page's buttons for the organisations' identity providers."""

from __future__ import annotations

from django import template
from django.urls import reverse

from ..choices import IdentityProtocol
from ..selectors import identity_providers_for_sign_in

register = template.Library()


@register.simple_tag
def sign_in_providers() -> list[dict]:
    """[{name, url, organisations}] for every active provider whose protocol the server supports."""
    from ..services import saml_available

    buttons = []
    for provider in identity_providers_for_sign_in():
        if provider.protocol == IdentityProtocol.SAML:
            if not saml_available():
                continue
            url = reverse("saml_login", kwargs={"organization_slug": provider.slug})
        else:
            url = reverse("openid_connect_login", kwargs={"provider_id": provider.slug})
        buttons.append(
            {"name": provider.name, "url": url, "organisations": [o.name for o in provider.organisations.all()]}
        )
    return buttons
