from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from smartcare.validators import date_errors, from_1900

from .choices import (
    PRACTICE_KINDS,
    ROLES_ANYWHERE,
    ROLES_BY_KIND,
    SECTOR_OF_KIND,
    GatewayEvent,
    MembershipRole,
    OrganisationKind,
    OrganisationSource,
    Sector,
    TokenUse,
)
from .validators import validate_gln, validate_municipality_code, validate_sor, validate_ydernummer


class OrganisationQuerySet(models.QuerySet):
    def active(self) -> OrganisationQuerySet:
        return self.filter(is_active=True)

    def of_kind(self, *kinds: str) -> OrganisationQuerySet:
        return self.filter(kind__in=kinds)

    def in_portal(self) -> OrganisationQuerySet:
        """Organisations of the portal: they can have members, receive messages and see citizens
        (the external directory entries cannot)."""
        return self.filter(is_external=False)


class Organisation(models.Model):
    """A unit of the SOR tree: an owner (region, municipality), an institution or one of its
    units. Portal organisations own data, work and messages; external directory entries (outside
    the region, or first met as a message's sender) are only addresses: no members, no access."""

    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("A hospital department belongs to its hospital unit; units and municipalities to the region."),
    )
    municipality = models.ForeignKey(
        "self",
        verbose_name=_("located in municipality"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="located_organisations",
        limit_choices_to={"kind": OrganisationKind.MUNICIPALITY},
    )
    sor_code = models.CharField(_("SOR code"), max_length=18, unique=True, validators=[validate_sor])
    # Null, not blank, when a unit has none: many SOR units have no EAN number, and the
    # unique constraint must not take two of them for the same number.
    gln = models.CharField(
        _("GLN/EAN location number"),
        max_length=13,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_gln],
        help_text=_("The unit's main EAN number: 13 digits with a GS1 check digit; used to route messages."),
    )
    municipality_code = models.CharField(
        _("municipality code"), max_length=4, blank=True, validators=[validate_municipality_code]
    )
    ydernummer = models.CharField(_("ydernummer"), max_length=7, blank=True, validators=[validate_ydernummer])
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=4, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_external = models.BooleanField(
        _("external directory entry"),
        default=False,
        help_text=_("Outside the portal: an address for messages, with no members and no access to anything."),
    )
    source = models.CharField(
        _("source"), max_length=10, choices=OrganisationSource.choices, default=OrganisationSource.PORTAL
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="organisation_municipality_code_only_for_municipalities",
                condition=Q(kind=OrganisationKind.MUNICIPALITY, municipality_code__regex=r"^[0-9]{4}$")
                | (~Q(kind=OrganisationKind.MUNICIPALITY) & Q(municipality_code="")),
                violation_error_message=_(
                    "A municipality needs a 4-digit municipality code; other organisations have none."
                ),
            ),
            models.CheckConstraint(
                name="organisation_ydernummer_only_for_practices",
                condition=Q(kind__in=PRACTICE_KINDS) | Q(ydernummer=""),
                violation_error_message=_("Only GP clinics and specialist practices have a ydernummer."),
            ),
            models.CheckConstraint(
                name="organisation_department_has_parent",
                condition=~Q(kind__in=[OrganisationKind.HOSPITAL_DEPARTMENT, OrganisationKind.HOSPITAL_WARD])
                | Q(parent__isnull=False)
                | Q(is_external=True),
                violation_error_message=_("A hospital department or ward must belong to the hospital above it."),
            ),
            models.CheckConstraint(
                name="organisation_valid_period_in_order",
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                violation_error_message=_("The end of validity cannot be before its start."),
            ),
            models.CheckConstraint(
                name="organisation_unverified_is_external",
                condition=~Q(source=OrganisationSource.MESSAGE) | Q(is_external=True),
                violation_error_message=_("An organisation known only from a message is an external entry."),
            ),
            models.UniqueConstraint(
                fields=["municipality_code"],
                condition=~Q(municipality_code=""),
                name="organisation_unique_municipality_code",
                violation_error_message=_("Another municipality already has this municipality code."),
            ),
            models.UniqueConstraint(
                fields=["ydernummer"],
                condition=~Q(ydernummer=""),
                name="organisation_unique_ydernummer",
                violation_error_message=_("Another GP clinic already has this ydernummer."),
            ),
        ]
        indexes = [models.Index(Lower("name"), name="organisation_lower_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def sector(self) -> Sector:
        return SECTOR_OF_KIND[OrganisationKind(self.kind)]

    @property
    def is_unverified(self) -> bool:
        return self.source == OrganisationSource.MESSAGE

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.kind == OrganisationKind.MUNICIPALITY and not self.municipality_code:
            errors.setdefault("municipality_code", []).append(_("A municipality needs its 4-digit municipality code."))
        if self.kind != OrganisationKind.MUNICIPALITY and self.municipality_code:
            errors.setdefault("municipality_code", []).append(_("Only municipalities have a municipality code."))
        if self.kind not in PRACTICE_KINDS and self.ydernummer:
            errors.setdefault("ydernummer", []).append(_("Only GP clinics and specialist practices have a ydernummer."))
        if self.kind == OrganisationKind.GP_CLINIC and not self.ydernummer and not self.is_external:
            errors.setdefault("ydernummer", []).append(_("A GP clinic needs its ydernummer."))
        if self.kind == OrganisationKind.HOSPITAL_DEPARTMENT and not (self.is_external and self.parent_id is None):
            # An external department first met as a message's sender: its hospital is not known yet.
            if self.parent_id is None:
                errors.setdefault("parent", []).append(_("A hospital department must belong to a hospital unit."))
            elif self.parent.kind != OrganisationKind.HOSPITAL_UNIT:
                errors.setdefault("parent", []).append(
                    _("The parent of a hospital department must be a hospital unit.")
                )
        if self.kind == OrganisationKind.HOSPITAL_WARD and (
            (self.parent_id is None and not self.is_external)
            or (self.parent_id is not None and self.parent.kind != OrganisationKind.HOSPITAL_DEPARTMENT)
        ):
            errors.setdefault("parent", []).append(_("A hospital ward must belong to a hospital department."))
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors.setdefault("valid_to", []).append(_("The end of validity cannot be before its start."))
        if self.source == OrganisationSource.MESSAGE and not self.is_external:
            errors.setdefault("is_external", []).append(
                _("An organisation known only from a message is an external entry.")
            )
        if self.gln and self.pk is not None and (taken := LocationNumber.objects.filter(gln=self.gln).first()):
            if taken.organisation_id != self.pk:
                errors.setdefault("gln", []).append(_("Another organisation already has this EAN number."))
        elif self.gln and self.pk is None and LocationNumber.objects.filter(gln=self.gln).exists():
            errors.setdefault("gln", []).append(_("Another organisation already has this EAN number."))
        if self.parent_id is not None and self.pk is not None and self.parent_id == self.pk:
            errors.setdefault("parent", []).append(_("An organisation cannot be its own parent."))
        if self.municipality_id is not None and self.municipality.kind != OrganisationKind.MUNICIPALITY:
            errors.setdefault("municipality", []).append(_("Choose a municipality."))
        if errors:
            raise ValidationError(errors)


class LocationNumber(models.Model):
    """One more EAN/GLN location number of an organisation (a unit can have several; the main
    one is ``Organisation.gln``). A message addressed to any of them reaches the organisation."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="location_numbers"
    )
    gln = models.CharField(_("EAN number"), max_length=13, unique=True, validators=[validate_gln])

    class Meta:
        verbose_name = _("EAN number")
        verbose_name_plural = _("EAN numbers")
        ordering = ["gln"]

    def __str__(self) -> str:
        return self.gln

    def clean(self) -> None:
        if self.gln and Organisation.objects.filter(gln=self.gln).exclude(pk=self.organisation_id).exists():
            raise ValidationError({"gln": _("Another organisation already has this EAN number.")})


def _all_gateway_events() -> list[str]:
    return list(GatewayEvent.values)


class Gateway(models.Model):
    """A system account through which the national MedCom network (a VANS provider, EHMI's
    delivery service) delivers messages from any sender in Denmark. Not a person and not a member
    of anything: it authenticates with the token of its own account (``user``), may deliver the
    events in ``event_codes`` to the receivers it is allowed (every portal organisation, or a
    list), and the sender of each message is found in the directory by SOR code and EAN number."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    user = models.OneToOneField(
        "User", verbose_name=_("system account"), on_delete=models.PROTECT, related_name="gateway", editable=False
    )
    event_codes = models.JSONField(
        _("events it may deliver"),
        default=_all_gateway_events,
        help_text=_("MedCom event codes: care-communication-message, hospital-notification-message, …"),
    )
    all_receivers = models.BooleanField(_("may deliver to every organisation of the portal"), default=True)
    receivers = models.ManyToManyField(
        Organisation, verbose_name=_("receivers it may deliver to"), blank=True, related_name="+"
    )
    webhook_url = models.URLField(
        _("webhook for outgoing messages"),
        blank=True,
        help_text=_("Messages to external organisations are delivered here as MedCom bundles."),
    )
    webhook_secret = models.CharField(_("webhook secret"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("gateway")
        verbose_name_plural = _("gateways")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        codes = self.event_codes
        if not isinstance(codes, list) or not codes or any(code not in GatewayEvent.values for code in codes):
            raise ValidationError(
                {"event_codes": _("Choose one or more of: %(codes)s.") % {"codes": ", ".join(GatewayEvent.values)}}
            )

    def may_deliver(self, event: str) -> bool:
        return self.is_active and event in (self.event_codes or [])

    def may_deliver_to(self, organisation: Organisation) -> bool:
        """The gateway's receivers, read once per gateway object."""
        if self.all_receivers:
            return True
        allowed = getattr(self, "_receiver_ids", None)
        if allowed is None:
            allowed = self._receiver_ids = set(self.receivers.values_list("pk", flat=True))
        return organisation.pk in allowed


class UserManager(BaseUserManager):
    """Users sign in with their e-mail address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    title = models.CharField(_("professional title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["first_name", "last_name", "email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_unique_email_ci",
                violation_error_message=_("A user with this e-mail address already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def clean(self) -> None:
        super().clean()
        self.email = (self.email or "").strip().lower()


class MembershipQuerySet(models.QuerySet):
    def active(self, on: datetime.date | None = None) -> MembershipQuerySet:
        on = on or timezone.localdate()
        return self.filter(Q(start_date__lte=on), Q(end_date__isnull=True) | Q(end_date__gte=on)).filter(
            organisation__is_active=True, user__is_active=True
        )


class Membership(models.Model):
    """A user's professional role in an organisation over a period; the basis of all access."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=MembershipRole.choices)
    start_date = models.DateField(_("start date"), default=timezone.localdate)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organisation__name", "user__email"]
        constraints = [
            models.CheckConstraint(
                name="membership_end_not_before_start",
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                violation_error_message=_("The end date cannot be before the start date."),
            ),
            models.UniqueConstraint(
                fields=["user", "organisation", "role", "start_date"],
                name="membership_unique_user_org_role_start",
                violation_error_message=_("This person already has this role here from that date."),
            ),
            from_1900("membership_start_from_1900", "start_date"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}, {self.organisation}"

    def is_active_on(self, day: datetime.date | None = None) -> bool:
        day = day or timezone.localdate()
        return self.start_date <= day and (self.end_date is None or self.end_date >= day)

    @property
    def is_active(self) -> bool:
        return self.is_active_on()

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date cannot be before the start date.")})
        if self.organisation_id and self.organisation.is_external:
            raise ValidationError(
                {"organisation": _("An external directory entry has no members: choose an organisation of the portal.")}
            )
        errors = date_errors(self, planned=("start_date", "end_date"), birth_date=None)
        if errors:
            raise ValidationError(errors)
        if self.organisation_id and self.role:
            allowed = ROLES_BY_KIND.get(OrganisationKind(self.organisation.kind), set()) | ROLES_ANYWHERE
            if self.role not in allowed:
                raise ValidationError(
                    {
                        "role": _("The role “%(role)s” does not exist in a %(kind)s.")
                        % {
                            "role": MembershipRole(self.role).label,
                            "kind": OrganisationKind(self.organisation.kind).label.lower(),
                        }
                    }
                )


def _fhir_resource_type_errors(names: object) -> list[str]:
    """The entries of ``names`` that are no FHIR R4B resource type (``Patient``, ``Observation``)."""
    from fhir.resources.R4B import get_fhir_model_class  # heavy: only when a scope is checked
    from fhir.resources.R4B.resource import Resource

    if not isinstance(names, list):
        return [str(names)]
    wrong = []
    for name in names:
        try:
            ok = isinstance(name, str) and issubclass(get_fhir_model_class(name), Resource)
        except ValueError:
            ok = False
        if not ok:
            wrong.append(str(name))
    return wrong


class TokenScope(models.Model):
    """What the API token of an account may do, and when it was last used.

    Keyed by the account, not by the token: an account has one token, and a renewed token (a
    gateway's "Renew the token") keeps the scope. An account without a scope row, or with a row
    that names no uses and no resource types, has every right its memberships give it, as before
    scopes. Only token requests are limited; a person signed in with a session never is."""

    user = models.OneToOneField(
        User,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="token_scope",
    )
    uses = models.JSONField(
        _("allowed uses"),
        default=list,
        blank=True,
        help_text=_("None chosen: every use (the token's full rights)."),
    )
    resource_types = models.JSONField(
        _("resource types"),
        default=list,
        blank=True,
        help_text=_("FHIR resource types, e.g. Observation, Patient. Empty: all."),
    )
    # Written at most once a minute per token and process (sectors.tokens.token_used), never
    # through save(): a use is no change of the scope and keeps the identity cache.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("token scope")
        verbose_name_plural = _("token scopes")

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_limited(self) -> bool:
        return bool(self.uses or self.resource_types)

    def allows_use(self, use: str) -> bool:
        return not self.uses or use in self.uses

    def allows_resource_type(self, resource_type: str | None) -> bool:
        """None: the request is about no one resource type, which the type list does not limit."""
        return resource_type is None or not self.resource_types or resource_type in self.resource_types

    def clean(self) -> None:
        errors = {}
        if not isinstance(self.uses, list) or any(use not in TokenUse.values for use in self.uses):
            errors["uses"] = _("Choose among: %(uses)s.") % {"uses": ", ".join(TokenUse.values)}
        wrong = _fhir_resource_type_errors(self.resource_types)
        if wrong:
            errors["resource_types"] = _("No FHIR resource type: %(names)s.") % {"names": ", ".join(wrong)}
        if errors:
            raise ValidationError(errors)


# Single sign-on (identity providers and the memberships they ask for) live in a module of their own.
from .models_sso import IdentityProvider, MembershipRequest  # noqa: E402

__all__ = [
    "Gateway",
    "IdentityProvider",
    "LocationNumber",
    "Membership",
    "MembershipQuerySet",
    "MembershipRequest",
    "Organisation",
    "OrganisationQuerySet",
    "TokenScope",
    "User",
    "UserManager",
]
