"""Single sign-on through organisations' identity providers (allauth's OpenID Connect and SAML).

A sign-in through a provider is decided here, before allauth signs anyone in:

- whom it is: the account already linked to the provider's uid for the person; else, the first
  time, the account with the same e-mail address, only when the provider vouches for the address
  (``email_verified``, or the provider is configured as verifying them). A superuser's account is
  never opened this way. A person with no account gets one (never staff, never a superuser) only
  when the claims name an organisation of the portal the provider signs in for.
- what they may do: the claims' memberships (organisation SOR code, role) are mapped by
  ``services.membership_requests_from_claims``; a new one waits for an administrator's approval.
- whether two factors were used: when the provider does not assert it (``amr``/``acr``, or for
  SAML the assertion's ``AuthnContextClassRef``, see ``SAMLProvider``), the portal's own TOTP is
  asked for at sign-in (allauth's stage) or must be set up before anything else
  (``SSO_SESSION_KEY``, ``sectors.middleware.MFARequiredMiddleware``).
"""

from __future__ import annotations

import logging
import time
from typing import Any, NoReturn

from allauth.account.signals import user_logged_in
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal.httpkit import headed_redirect_response
from allauth.mfa.stages import AuthenticateStage as AllauthAuthenticateStage
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.saml.provider import SAMLProvider as AllauthSAMLProvider
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from .choices import AccountLinking, IdentityProtocol
from .models import IdentityProvider, User
from .services import ClaimedMembership, ClaimsOutcome, identity_provider_resolve, membership_requests_from_claims

logger = logging.getLogger("smartcare.sso")

STATE_KEY = "smartcare_sso"  # in the sign-in's allauth state (kept through its stages)
SSO_SESSION_KEY = "smartcare_sso"  # in the session: {"provider": id, "mfa": "provider" | "portal" | ""}
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
# The claim under which a SAML sign-in's authentication context (how the person signed in) is read.
AUTHN_CONTEXT_CLAIM = "AuthnContextClassRef"


class SAMLProvider(AllauthSAMLProvider):
    """allauth's SAML provider (``SOCIALACCOUNT_PROVIDERS["saml"]["provider_class"]``), whose claims
    also carry the assertion's ``AuthnContextClassRef`` values under ``AUTHN_CONTEXT_CLAIM``.

    A SAML identity provider says how the person signed in (password, two factors, an NSIS level of
    assurance) in the signed assertion's authentication statement, not in an attribute; allauth keeps
    only the attributes. With the IdentityProvider's ``mfa_claim`` set to ``AuthnContextClassRef``,
    ``mfa_asserted`` reads it like any other claim. The assertion's value replaces an attribute of the
    same name, so an attribute cannot stand in for it."""

    package = "allauth.socialaccount.providers.saml"  # allauth's URLs and views stay the provider's

    def extract_extra_data(self, data: Any) -> dict[str, Any]:
        # ``data`` is python3-saml's OneLogin_Saml2_Auth after it validated the response.
        return {**data.get_attributes(), AUTHN_CONTEXT_CLAIM: list(data.get_last_authn_contexts())}


def provider_of(sociallogin: SocialLogin) -> IdentityProvider | None:
    app = getattr(sociallogin.provider, "app", None)
    if app is None or app.pk is None:
        return None
    return IdentityProvider.objects.filter(social_app_id=app.pk, is_active=True).first()


def claims_of(provider: IdentityProvider, extra_data: Any) -> dict[str, Any]:
    """The claims of a sign-in, one dict: OpenID Connect's ID token and userinfo together (the
    ID token's ``amr``/``acr`` kept), SAML's attributes with single values unwrapped."""
    if not isinstance(extra_data, dict):
        return {}
    if provider.protocol == IdentityProtocol.OIDC:
        id_token = extra_data.get("id_token") or {}
        userinfo = extra_data.get("userinfo") or {}
        if not id_token and not userinfo:  # an older allauth's flat claims
            return dict(extra_data)
        return {**id_token, **userinfo, **{k: id_token[k] for k in ("amr", "acr") if k in id_token}}
    return {
        name: values[0] if isinstance(values, list) and len(values) == 1 else values
        for name, values in extra_data.items()
    }


def _values(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value).strip()]


def claimed_memberships(provider: IdentityProvider, claims: dict[str, Any]) -> list[ClaimedMembership]:
    """Pairs of (SOR code, role value): the two claims pairwise when both are lists of one
    length, else every organisation with every role."""
    sors = _values(claims.get(provider.organisation_claim))
    roles = _values(claims.get(provider.role_claim))
    if len(sors) == len(roles) > 1:
        return [ClaimedMembership(sor, role) for sor, role in zip(sors, roles, strict=True)]
    return [ClaimedMembership(sor, role) for sor in sors for role in roles]


def mfa_asserted(provider: IdentityProvider, claims: dict[str, Any]) -> bool:
    if not provider.mfa_claim:
        return False
    return not provider.accepted_mfa_values.isdisjoint(_values(claims.get(provider.mfa_claim)))


def email_verified(provider: IdentityProvider, claims: dict[str, Any]) -> bool:
    if provider.emails_verified:
        return True
    value = claims.get("email_verified")
    if isinstance(value, list):
        value = value[0] if value else None
    return value is True or str(value).strip().lower() in TRUE_WORDS


def _refuse(request: HttpRequest, provider: IdentityProvider | None, reason: str, event: str) -> NoReturn:
    logger.info("sso sign-in refused provider=%s reason=%s", getattr(provider, "slug", None), event)
    messages.error(request, reason)
    raise ImmediateHttpResponse(headed_redirect_response("account_login"))


class IdentityProviderAdapter(DefaultSocialAccountAdapter):
    """allauth's hooks for the portal's identity providers (see the module's docstring)."""

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        provider = provider_of(sociallogin)
        if provider is None:
            _refuse(request, None, _("This identity provider is not in use by SmartCare."), "inactive-provider")
        assert provider is not None
        claims = claims_of(provider, sociallogin.account.extra_data)
        email = str(claims.get(provider.email_claim) or "").strip().lower()
        verified = bool(email) and email_verified(provider, claims)
        asserted = mfa_asserted(provider, claims)
        claimed = claimed_memberships(provider, claims)
        sociallogin.state[STATE_KEY] = {"provider": provider.pk, "mfa": asserted, "may_create": False}
        if provider.link_by == AccountLinking.EMAIL and not verified:
            _refuse(
                request,
                provider,
                _(
                    "%(provider)s did not confirm your e-mail address, and SmartCare links accounts by it. "
                    "Ask your administrator."
                )
                % {"provider": provider.name},
                "email-not-verified",
            )
        user = sociallogin.user if sociallogin.is_existing else None
        if user is None and email:
            existing = User.objects.filter(email__iexact=email).first()
            if existing is not None and not verified:
                _refuse(
                    request,
                    provider,
                    _(
                        "%(provider)s did not confirm your e-mail address, so it cannot be linked to your SmartCare "
                        "account. Ask your administrator."
                    )
                    % {"provider": provider.name},
                    "email-not-verified",
                )
            if existing is not None:
                self._check_account(request, provider, existing)
                sociallogin.connect(request, existing)
                logger.info("sso account linked provider=%s user=%s by=email", provider.slug, existing.pk)
                user = existing
        if user is None:
            if not email:
                _refuse(
                    request,
                    provider,
                    _("%(provider)s did not give an e-mail address.") % {"provider": provider.name},
                    "no-email",
                )
            reasons = [identity_provider_resolve(provider=provider, claimed=claim)[2] for claim in claimed]
            if not claimed or all(reasons):
                for reason in filter(None, reasons):
                    messages.warning(request, reason)
                _refuse(
                    request,
                    provider,
                    _("You have no SmartCare account, and %(provider)s names no organisation of the portal for you.")
                    % {"provider": provider.name},
                    "no-organisation",
                )
            sociallogin.state[STATE_KEY].update(may_create=True, claimed=[[c.sor_code, c.role_value] for c in claimed])
            return  # created in save_user
        self._check_account(request, provider, user)
        _show(request, membership_requests_from_claims(provider=provider, user=user, claimed=claimed))

    def _check_account(self, request: HttpRequest, provider: IdentityProvider, user: User) -> None:
        if not user.is_active:
            _refuse(request, provider, _("Your SmartCare account is not active."), "inactive-user")
        if user.is_superuser:
            _refuse(
                request,
                provider,
                _("A superuser signs in with their e-mail address, password and two-factor code."),
                "superuser",
            )

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return bool(sociallogin.state.get(STATE_KEY, {}).get("may_create"))

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return True

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data):
        user = super().populate_user(request, sociallogin, data)
        user.email = (user.email or "").strip().lower()
        user.is_staff = user.is_superuser = False
        return user

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form=None):
        """A new account (never staff, never a superuser) for a person whose claims name an
        organisation of the portal (``pre_social_login`` decided that), with their membership requests."""
        state = sociallogin.state.get(STATE_KEY) or {}
        provider = IdentityProvider.objects.filter(pk=state.get("provider"), is_active=True).first()
        if provider is None:
            _refuse(request, None, _("This identity provider is not in use by SmartCare."), "inactive-provider")
        assert provider is not None
        claimed = [ClaimedMembership(sor, role) for sor, role in state.get("claimed", [])]
        user = sociallogin.user
        user.is_staff = user.is_superuser = False
        try:
            user.full_clean(exclude=["password"])
        except ValidationError:
            _refuse(
                request, provider, _("Your identity provider's details do not make a valid account."), "invalid-user"
            )
        with transaction.atomic():
            user = super().save_user(request, sociallogin, form)
            outcome = membership_requests_from_claims(provider=provider, user=user, claimed=claimed)
        logger.info("sso account created provider=%s user=%s", provider.slug, user.pk)
        _show(request, outcome)
        return user


def _show(request: HttpRequest, outcome: ClaimsOutcome) -> None:
    for reason in outcome.refused:
        messages.warning(request, reason)
    for pending in outcome.pending:
        messages.info(
            request,
            _("Your membership of %(organisation)s as %(role)s awaits approval by its administrator.")
            % {"organisation": pending.organisation.name, "role": pending.get_role_display()},
        )


class AuthenticateStage(AllauthAuthenticateStage):
    """allauth's TOTP step at sign-in, skipped when the identity provider asserted two factors."""

    def _should_handle(self, request: HttpRequest) -> bool:
        return not sso_state(self.login.signal_kwargs).get("mfa") and super()._should_handle(request)


def sso_state(signal_kwargs: dict | None) -> dict:
    sociallogin = (signal_kwargs or {}).get("sociallogin")
    return (getattr(sociallogin, "state", None) or {}).get(STATE_KEY) or {}


def _remember_sign_in(sender, request: HttpRequest, user: User, **kwargs) -> None:
    """After allauth signs the person in (the session is new): whether this session's two
    factors came from the provider, or are still owed to the portal."""
    state = sso_state(kwargs)
    if not state:  # signed in another way: what an earlier sign-in of this session said is gone
        if SSO_SESSION_KEY in request.session:
            del request.session[SSO_SESSION_KEY]
        return
    request.session[SSO_SESSION_KEY] = {
        "provider": state["provider"],
        "mfa": "provider" if state["mfa"] else "",
        "at": time.time(),
    }
    logger.info("sso signed in provider=%s user=%s mfa_asserted=%s", state["provider"], user.pk, bool(state["mfa"]))


def mfa_setup_owed_since(request: HttpRequest) -> float | None:
    """When this session signed in through a provider that asserted no second factor, while the
    portal's is still owed (not yet given or set up); else None."""
    session = getattr(request, "session", None)
    sso = session.get(SSO_SESSION_KEY) if session is not None else None
    if not sso or sso.get("mfa") or not isinstance(sso.get("at"), (int, float)):
        return None
    return float(sso["at"])


def connect_signals() -> None:
    user_logged_in.connect(_remember_sign_in, dispatch_uid="sectors.sso.remember_sign_in")
