"""Writes for organisations, staff and memberships."""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass

from allauth.account.forms import ResetPasswordForm
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from smartcare.arguments import UNSET, Unset, given

from .choices import (
    ROLES_ANYWHERE,
    ROLES_BY_KIND,
    AccountLinking,
    GatewayEvent,
    IdentityProtocol,
    MembershipRequestStatus,
    MembershipRole,
    OrganisationKind,
    OrganisationSource,
)
from .models import Gateway, IdentityProvider, Membership, MembershipRequest, Organisation, TokenScope, User
from .selectors import identity_provider_scope, organisation_ancestor_ids, organisations_administered_by

logger = logging.getLogger("smartcare.sso")


@transaction.atomic
def organisation_create(
    *,
    by: User | None,
    kind: str,
    name: str,
    sor_code: str,
    gln: str,
    parent: Organisation | None = None,
    municipality: Organisation | None = None,
    municipality_code: str = "",
    ydernummer: str = "",
    street: str = "",
    postal_code: str = "",
    city: str = "",
    phone: str = "",
    email: str = "",
    is_active: bool = True,
) -> Organisation:
    organisation = Organisation(
        kind=kind,
        name=name,
        sor_code=sor_code,
        gln=gln,
        parent=parent,
        municipality=municipality,
        municipality_code=municipality_code,
        ydernummer=ydernummer,
        street=street,
        postal_code=postal_code,
        city=city,
        phone=phone,
        email=email,
        is_active=is_active,
    )
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def organisation_update(
    *,
    by: User | None,
    organisation: Organisation,
    kind: str | Unset = UNSET,
    name: str | Unset = UNSET,
    sor_code: str | Unset = UNSET,
    gln: str | Unset = UNSET,
    parent: Organisation | None | Unset = UNSET,
    municipality: Organisation | None | Unset = UNSET,
    municipality_code: str | Unset = UNSET,
    ydernummer: str | Unset = UNSET,
    street: str | Unset = UNSET,
    postal_code: str | Unset = UNSET,
    city: str | Unset = UNSET,
    phone: str | Unset = UNSET,
    email: str | Unset = UNSET,
    is_active: bool | Unset = UNSET,
) -> Organisation:
    """Change the fields given; those left ``UNSET`` keep their value."""
    changes = given(
        kind=kind,
        name=name,
        sor_code=sor_code,
        gln=gln,
        parent=parent,
        municipality=municipality,
        municipality_code=municipality_code,
        ydernummer=ydernummer,
        street=street,
        postal_code=postal_code,
        city=city,
        phone=phone,
        email=email,
        is_active=is_active,
    )
    for field, value in changes.items():
        setattr(organisation, field, value)
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def user_create(
    *,
    by: User | None,
    email: str,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    phone: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a staff account. Without a password the account can only be entered through an
    invitation (set-password) link, so administrators never handle other people's passwords.

    ``password_hash`` lets bulk loaders reuse one expensive hash for many demo accounts.
    """
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        title=title,
        phone=phone,
        is_staff=is_staff or is_superuser,
        is_superuser=is_superuser,
    )
    if password_hash:
        user.password = password_hash
    elif password:
        user.set_password(password)
    return _account_save(user)


def _account_save(user: User) -> User:
    """Save a new account and its (verified) sign-in address; without a password set, the
    password is unusable."""
    user.email = (user.email or "").strip().lower()
    if not user.password:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


@transaction.atomic
def user_onboard(*, by: User | None, user: User, request: HttpRequest) -> User:
    """Save a person an administrator has just added (an unsaved ``User`` with e-mail and name)
    with an unusable password, and e-mail them the invitation to choose their own once the
    account, and the memberships saved with it, are committed. A failed e-mail is logged and the
    account stays: the administrator can send the invitation again (the admin action)."""
    user.password = ""
    _account_save(user)
    transaction.on_commit(lambda: user_invite(by=by, user=user, request=request), robust=True)
    return user


def membership_grant_check(*, by: User, user: User, organisation: Organisation) -> None:
    """Refuse a membership ``by`` may not give or change: a superuser manages every membership;
    anybody else only those of organisations they administer, and never their own (nobody widens
    their own access to citizens)."""
    if by.is_superuser:
        return
    if user.pk == by.pk:
        raise ValidationError({"user": _("You cannot give yourself a membership or change your own.")})
    if not organisations_administered_by(user=by).filter(pk=organisation.pk).exists():
        raise ValidationError({"organisation": _("You can only manage memberships of organisations you administer.")})


@transaction.atomic
def membership_create(
    *,
    by: User | None,
    user: User,
    organisation: Organisation,
    role: str,
    start_date: datetime.date | None = None,
    end_date: datetime.date | None = None,
) -> Membership:
    """``by`` None: the system (demo data, commands); a person is held to ``membership_grant_check``."""
    if by is not None:
        membership_grant_check(by=by, user=user, organisation=organisation)
    membership = Membership(user=user, organisation=organisation, role=role, end_date=end_date)
    if start_date is not None:
        membership.start_date = start_date
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def membership_end(*, by: User | None, membership: Membership, end_date: datetime.date) -> Membership:
    if by is not None:
        membership_grant_check(by=by, user=membership.user, organisation=membership.organisation)
    membership.end_date = end_date
    membership.full_clean()
    membership.save(update_fields=["end_date"])
    return membership


def user_invite(*, by: User | None, user: User, request: HttpRequest) -> None:
    """E-mail the person a link to choose their own password (allauth's reset flow).

    allauth builds the link from its request context, which only its middleware sets; entering
    the context here lets callers outside a request cycle (a task, a command) pass their own.
    """
    if not user.is_active:
        raise ValidationError("An inactive account cannot be invited.")
    with allauth_context.request_context(request):
        form = ResetPasswordForm(data={"email": user.email})
        if not form.is_valid():
            raise ValidationError(form.errors.get("email") or "Cannot send an invitation.")
        form.save(request)


GATEWAY_ACCOUNT_DOMAIN = "gateways.smartcare.invalid"


@transaction.atomic
def gateway_create(
    *,
    by: User | None,
    name: str,
    event_codes: list[str] | None = None,
    all_receivers: bool = True,
    receivers: list[Organisation] | None = None,
    webhook_url: str = "",
    webhook_secret: str = "",
) -> tuple[Gateway, str]:
    """A gateway and its system account with a new token; returns the gateway and the token's
    key (shown once to the administrator who registers it). The account has no password and no
    memberships: it can only call the API with its token."""
    gateway = Gateway(
        name=(name or "").strip(),
        event_codes=list(GatewayEvent.values) if event_codes is None else event_codes,
        all_receivers=all_receivers,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
    )
    gateway.full_clean(exclude=["user"])
    user = User(email=f"gateway-{slugify(gateway.name)[:40]}-{secrets.token_hex(4)}@{GATEWAY_ACCOUNT_DOMAIN}")
    user.first_name = gateway.name[:150]
    user.set_unusable_password()
    user.save()
    gateway.user = user
    gateway.save()
    if receivers:
        gateway.receivers.set(receivers)
    token = Token.objects.create(user=user)
    return gateway, token.key


@transaction.atomic
def gateway_token_renew(*, by: User | None, gateway: Gateway) -> str:
    """A new token for the gateway; the old one stops working at once."""
    Token.objects.filter(user=gateway.user).delete()
    return Token.objects.create(user=gateway.user).key


@transaction.atomic
def token_scope_set(*, by: User | None, user: User, uses: list[str], resource_types: list[str]) -> TokenScope:
    """What the account's API token may do from its next request on (the identity cache learns
    it through the save). No uses and no resource types: full rights, as without a scope."""
    scope = TokenScope.objects.select_for_update().filter(user=user).first() or TokenScope(user=user)
    scope.uses = sorted(set(uses))
    scope.resource_types = sorted({name.strip() for name in resource_types if name.strip()})
    scope.full_clean(exclude=["user"])
    scope.save(update_fields=None if scope._state.adding else ["uses", "resource_types"])
    return scope


@transaction.atomic
def organisation_from_message(
    *, sor_code: str, gln: str, name: str = "", kind: str = OrganisationKind.OTHER
) -> Organisation:
    """A sender the directory does not know, as the message's Organization names it: an external
    entry marked "from a message, unverified" until a SOR import lists it (the import then
    confirms it in place). A nameless Organization is named after its SOR code. Two messages
    from the same new sender at once make one entry."""
    organisation = Organisation(
        sor_code=(sor_code or "").strip(),
        gln=(gln or "").strip() or None,
        name=(name or "").strip()[:200] or _("Unit with SOR code %(sor)s") % {"sor": (sor_code or "").strip()[:18]},
        kind=kind,
        is_external=True,
        source=OrganisationSource.MESSAGE,
    )
    organisation.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        existing = Organisation.objects.filter(Q(sor_code=organisation.sor_code) | Q(gln=organisation.gln)).first()
        if existing is None:
            raise
        return existing
    return organisation


# --- Single sign-on ----------------------------------------------------------------------------


def identity_provider_manage_check(*, by: User, organisations: list[Organisation]) -> None:
    """Superusers configure every identity provider; a region's administrators those that sign
    in only for organisations of their region."""
    managed, _seen = identity_provider_scope(user=by)
    if managed is None:
        return
    if not managed or any(organisation.pk not in managed for organisation in organisations):
        raise ValidationError(
            {"organisations": _("You can only configure identity providers for organisations of your region.")}
        )


def _social_app_settings(provider: IdentityProvider) -> dict:
    uid = provider.email_claim if provider.link_by == AccountLinking.EMAIL else provider.uid_claim
    if provider.protocol == IdentityProtocol.OIDC:
        return {
            "server_url": provider.server_url,
            "uid_field": uid,
            "fetch_userinfo": True,
            "oauth_pkce_enabled": True,
        }
    idp = {"entity_id": provider.saml_entity_id}
    if provider.saml_metadata_url:
        idp["metadata_url"] = provider.saml_metadata_url
    else:
        idp.update(sso_url=provider.saml_sso_url, x509cert=provider.saml_x509cert)
    return {
        "idp": idp,
        "attribute_mapping": {
            "uid": uid,
            "email": provider.email_claim,
            "email_verified": "email_verified",
            "first_name": ["urn:oid:2.5.4.42", "givenName", "given_name"],
            "last_name": ["urn:oid:2.5.4.4", "sn", "family_name"],
        },
    }


def saml_available() -> bool:
    from django.apps import apps

    return apps.is_installed("allauth.socialaccount.providers.saml")


@transaction.atomic
def identity_provider_save(
    *, by: User | None, provider: IdentityProvider, organisations: list[Organisation]
) -> IdentityProvider:
    """Save an identity provider (new or changed) with the organisations it signs in for, and
    keep allauth's application (``SocialApp``) in step: its protocol, addresses, client and the
    claim that becomes the account's uid."""
    from allauth.socialaccount.models import SocialApp

    if by is not None:
        identity_provider_manage_check(by=by, organisations=organisations)
    if not organisations:
        raise ValidationError({"organisations": _("Choose the organisations it signs in for.")})
    if provider.protocol == IdentityProtocol.SAML and not saml_available():
        raise ValidationError({"protocol": _("SAML support (python3-saml, xmlsec) is not installed on this server.")})
    provider.full_clean(exclude=["social_app"])
    app = provider.social_app or SocialApp()
    if provider.protocol == IdentityProtocol.OIDC:
        app.provider, app.provider_id, app.client_id = "openid_connect", provider.slug, provider.client_id
        app.secret = provider.client_secret
    else:
        app.provider, app.provider_id, app.client_id, app.secret = "saml", provider.saml_entity_id, provider.slug, ""
    app.name = provider.name
    app.settings = _social_app_settings(provider)
    app.save()
    provider.social_app = app
    provider.save()
    provider.organisations.set(organisations)
    logger.info("identity provider saved provider=%s by=%s", provider.slug, getattr(by, "pk", None))
    return provider


@transaction.atomic
def identity_provider_delete(*, by: User | None, provider: IdentityProvider) -> None:
    """The provider and its allauth application; the accounts linked through it stay (a
    password or another provider may still open them)."""
    if by is not None:
        identity_provider_manage_check(by=by, organisations=list(provider.organisations.all()))
    app = provider.social_app
    provider.delete()
    if app is not None:
        app.delete()


@dataclass(frozen=True)
class ClaimedMembership:
    """One (organisation SOR code, role value) pair read from a sign-in's claims."""

    sor_code: str
    role_value: str


@dataclass
class ClaimsOutcome:
    """What a sign-in's claims led to, for the messages the person is shown."""

    active: list[Membership]
    pending: list[MembershipRequest]
    refused: list[str]  # translated reasons


def identity_provider_resolve(
    *, provider: IdentityProvider, claimed: ClaimedMembership
) -> tuple[Organisation | None, str | None, str | None]:
    """(organisation, role, None) for a claimed membership the provider may ask for, else
    (None, None, the reason)."""
    organisation = Organisation.objects.filter(sor_code=claimed.sor_code, is_active=True, is_external=False).first()
    if organisation is None:
        return (
            None,
            None,
            _(
                "Your identity provider names the organisation with SOR code %(sor)s, which the portal does not know: "
                "no membership was requested."
            )
            % {"sor": claimed.sor_code},
        )
    served = set(provider.organisations.values_list("pk", flat=True))
    if served.isdisjoint(organisation_ancestor_ids(organisation=organisation)):
        return (
            None,
            None,
            _("%(provider)s does not sign in for %(organisation)s: no membership was requested.")
            % {
                "provider": provider.name,
                "organisation": organisation.name,
            },
        )
    role = (provider.role_mapping or {}).get(claimed.role_value)
    if role not in MembershipRole.values or role == MembershipRole.INTEGRATION:
        return (
            None,
            None,
            _("The role “%(role)s” from your identity provider is not mapped to a role of the portal.")
            % {"role": claimed.role_value},
        )
    if role not in ROLES_BY_KIND.get(OrganisationKind(organisation.kind), set()) | ROLES_ANYWHERE:
        return (
            None,
            None,
            _("The role “%(role)s” does not exist in a %(kind)s.")
            % {
                "role": MembershipRole(role).label,
                "kind": OrganisationKind(organisation.kind).label.lower(),
            },
        )
    return organisation, role, None


@transaction.atomic
def membership_requests_from_claims(
    *, provider: IdentityProvider, user: User, claimed: list[ClaimedMembership]
) -> ClaimsOutcome:
    """The memberships a sign-in's claims ask for: one already active is fine as it is; a new
    one becomes a request that an administrator of the organisation approves (it opens nothing
    until then); one naming an unknown organisation, one the provider does not sign in for, or
    an unmapped role, is refused with the reason. Memberships the claims no longer name are left
    to the administrators."""
    outcome = ClaimsOutcome(active=[], pending=[], refused=[])
    for claim in dict.fromkeys(claimed):
        organisation, role, reason = identity_provider_resolve(provider=provider, claimed=claim)
        if reason is not None:
            outcome.refused.append(reason)
            logger.info("sso membership refused provider=%s user=%s sor=%s", provider.slug, user.pk, claim.sor_code)
            continue
        assert organisation is not None and role is not None
        membership = Membership.objects.active().filter(user=user, organisation=organisation, role=role).first()
        if membership is not None:
            outcome.active.append(membership)
            continue
        request, created = MembershipRequest.objects.get_or_create(
            user=user,
            organisation=organisation,
            role=role,
            status=MembershipRequestStatus.PENDING,
            defaults={"identity_provider": provider},
        )
        outcome.pending.append(request)
        if created:
            logger.info(
                "sso membership requested provider=%s user=%s organisation=%s role=%s request=%s",
                provider.slug,
                user.pk,
                organisation.pk,
                role,
                request.pk,
            )
    return outcome


@transaction.atomic
def membership_request_approve(*, by: User, request: MembershipRequest) -> Membership:
    """Make the membership asked for, from today. Only those who may grant it (the
    organisation's administrators, superusers; never for themselves) approve it."""
    request = MembershipRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != MembershipRequestStatus.PENDING:
        raise ValidationError(_("This request has already been decided."))
    membership = membership_create(by=by, user=request.user, organisation=request.organisation, role=request.role)
    request.status, request.decided_at, request.decided_by = MembershipRequestStatus.APPROVED, timezone.now(), by
    request.membership = membership
    request.save(update_fields=["status", "decided_at", "decided_by", "membership"])
    logger.info("sso membership approved request=%s membership=%s by=%s", request.pk, membership.pk, by.pk)
    return membership


@transaction.atomic
def membership_request_reject(*, by: User, request: MembershipRequest) -> MembershipRequest:
    request = MembershipRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != MembershipRequestStatus.PENDING:
        raise ValidationError(_("This request has already been decided."))
    membership_grant_check(by=by, user=request.user, organisation=request.organisation)
    request.status, request.decided_at, request.decided_by = MembershipRequestStatus.REJECTED, timezone.now(), by
    request.save(update_fields=["status", "decided_at", "decided_by"])
    logger.info("sso membership rejected request=%s by=%s", request.pk, by.pk)
    return request
