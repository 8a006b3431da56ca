"""Writes for organisations, staff and memberships."""

from __future__ import annotations

import datetime
import secrets

from allauth.account.forms import ResetPasswordForm
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.text import slugify
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from smartcare.arguments import UNSET, Unset, given

from .choices import GatewayEvent, OrganisationKind, OrganisationSource
from .models import Gateway, Membership, Organisation, TokenScope, User
from .selectors import organisations_administered_by


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
