from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from sectors.choices import OrganisationKind, Sector
from sectors.models import Organisation
from smartcare.validators import date_errors, from_1900, validate_dates

from .choices import (
    ObjectionTarget,
    RelationshipKind,
    ReviewConclusion,
    ReviewKind,
    Sex,
    StayKind,
    StayStatus,
)
from .cpr import format_cpr, validate_cpr
from .identifiers import CitizenIdentifier, replacement_label  # noqa: F401 - registered with the app here


class Condition(models.Model):
    """A chronic condition from the maintained list (ICD-10), extended by administrators."""

    icd10_code = models.CharField(_("ICD-10 code"), max_length=10, unique=True)
    name_da = models.CharField(_("name (Danish)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        ordering = ["icd10_code"]
        constraints = [
            models.CheckConstraint(
                name="condition_icd10_format",
                condition=Q(icd10_code__regex=r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$"),
                violation_error_message=_("An ICD-10 code looks like J44 or E11.9."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.icd10_code} {self.name}"

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "da").startswith("en") else self.name_da


class Citizen(models.Model):
    """A person, identified by a CPR number, by replacement numbers (``identifiers``), or both.
    Having at least one is a rule of the services (``citizens.identity``): the database cannot
    check a row against rows of another table. Without a CPR number the birth date and sex are
    what a message said (or unknown). A citizen merged into another (``merged_into``) stays as a
    row only because its access-log entries, append-only and hash-chained, still name it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    cpr = models.CharField(
        _("CPR number"),
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_cpr],
        help_text=_("Stored as 10 digits; shown as DDMMYY-SSSS."),
    )
    birth_date = models.DateField(_("birth date"), null=True, editable=False)
    sex = models.CharField(_("sex"), max_length=7, choices=Sex.choices, editable=False)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    # Defaults in the database too: the region generator and the benchmarks insert rows without them.
    family_name_unknown = models.BooleanField(_("family name unknown"), default=False, db_default=False)
    registered_from_message = models.BooleanField(_("registered from a message"), default=False, db_default=False)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_citizens",
    )
    # "FIRST LAST" in upper case: searched with LIKE through a trigram index on PostgreSQL.
    search_name = models.CharField(max_length=201, editable=False, default="")
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=4, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    municipality = models.ForeignKey(
        Organisation,
        verbose_name=_("municipality of residence"),
        on_delete=models.PROTECT,
        related_name="residents",
        limit_choices_to={"kind": OrganisationKind.MUNICIPALITY},
    )
    gp_clinic = models.ForeignKey(
        Organisation,
        verbose_name=_("GP clinic"),
        on_delete=models.PROTECT,
        related_name="listed_citizens",
        null=True,
        blank=True,
        limit_choices_to={"kind": OrganisationKind.GP_CLINIC},
    )
    receives_home_care = models.BooleanField(_("receives municipal home care"), default=False)
    # Consent to sharing health data across sectors (Sundhedsloven §41-42). None: not asked yet.
    consent_to_share = models.BooleanField(_("consents to sharing across sectors"), null=True, blank=True)
    consent_recorded_at = models.DateTimeField(_("consent recorded"), null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("consent recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deceased_at = models.DateTimeField(_("deceased"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        ordering = ["last_name", "first_name", "cpr"]
        constraints = [
            models.CheckConstraint(
                name="citizen_cpr_ten_digits",
                condition=Q(cpr__isnull=True) | Q(cpr__regex=r"^[0-9]{10}$"),
                violation_error_message=_("A CPR number has 10 digits: DDMMYY-SSSS."),
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "last_name", "first_name"], name="citizen_municipality_name"),
            models.Index(fields=["gp_clinic", "last_name", "first_name"], name="citizen_gp_name"),
            # "My citizens" in name order: a large organisation's page walks this and asks the gate
            # for each row, instead of sorting the whole region (the gate decides who is listed).
            models.Index(fields=["last_name", "first_name", "cpr"], name="citizen_name"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.cpr_formatted})"

    def save(self, *args, **kwargs):
        self.search_name = self.make_search_name(self.first_name, self.last_name)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_name"}
        super().save(*args, **kwargs)

    @staticmethod
    def make_search_name(first_name: str, last_name: str) -> str:
        return " ".join(f"{first_name} {last_name}".split()).upper()

    @property
    def display_last_name(self) -> str:
        return str(_("(unknown family name)")) if self.family_name_unknown else self.last_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.display_last_name}".strip()

    @property
    def replacement_numbers(self) -> list[str]:
        """The values, from the selectors' prefetch or annotation (``first_replacement``) when there is one."""
        if hasattr(self, "first_replacement"):
            return [self.first_replacement] if self.first_replacement else []
        return [identifier.value for identifier in self.identifiers.all()]

    @property
    def cpr_formatted(self) -> str:
        """Where pages show the CPR number, a person without one shows the replacement number, labelled."""
        if self.cpr:
            return format_cpr(self.cpr)
        values = self.replacement_numbers if self.pk else []
        return replacement_label(values[0]) if values else ""

    @property
    def current_stay(self) -> HospitalStay | None:
        """The open hospital stay; selectors prefetch it as ``current_stays``."""
        stays = getattr(self, "current_stays", None)
        if stays is None:
            stays = list(self.stays.filter(discharged_at__isnull=True).select_related("department__parent"))
        return stays[0] if stays else None

    @property
    def age(self) -> int | None:
        today = timezone.localdate()
        b = self.birth_date
        if b is None:
            return None
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if self.municipality_id and self.municipality.kind != OrganisationKind.MUNICIPALITY:
            errors.setdefault("municipality", []).append(_("Choose a municipality."))
        if self.gp_clinic_id and self.gp_clinic.kind != OrganisationKind.GP_CLINIC:
            errors.setdefault("gp_clinic", []).append(_("Choose a GP clinic."))
        if not self.last_name.strip() and not self.family_name_unknown:
            errors.setdefault("last_name", []).append(_("Enter the last name."))
        errors |= date_errors(self, happened=("consent_recorded_at", "deceased_at"), birth_date=self.birth_date)
        if errors:
            raise ValidationError(errors)


class ContactPerson(models.Model):
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="contact_persons")
    name = models.CharField(_("name"), max_length=200)
    relation = models.CharField(_("relation"), max_length=100, blank=True, help_text=_("e.g. daughter, spouse"))
    phone = models.CharField(_("phone"), max_length=30)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["-is_primary", "name"]

    def __str__(self) -> str:
        return self.name


class CitizenCondition(models.Model):
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="conditions")
    condition = models.ForeignKey(Condition, verbose_name=_("condition"), on_delete=models.PROTECT, related_name="+")
    onset_date = models.DateField(_("onset date"), null=True, blank=True)

    class Meta:
        verbose_name = _("chronic condition")
        verbose_name_plural = _("chronic conditions")
        ordering = ["condition__icd10_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["citizen", "condition"],
                name="citizen_condition_unique",
                violation_error_message=_("The citizen already has this condition."),
            ),
            from_1900("citizencondition_onset_from_1900", "onset_date"),
        ]
        indexes = [models.Index(fields=["condition", "citizen"], name="citizencondition_condition")]

    def __str__(self) -> str:
        return str(self.condition)

    def clean(self) -> None:
        """A known onset has happened: not in the future, not before the birth."""
        validate_dates(self, happened=("onset_date",))


class HospitalStay(models.Model):
    """A stay at a hospital department. The open stay is the citizen's current stay; closed
    stays keep access for the department for a while after discharge (the access policy)."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="stays")
    department = models.ForeignKey(
        Organisation,
        verbose_name=_("hospital department"),
        on_delete=models.PROTECT,
        related_name="stays",
        limit_choices_to={"kind": OrganisationKind.HOSPITAL_DEPARTMENT},
    )
    kind = models.CharField(_("kind of stay"), max_length=20, choices=StayKind.choices, default=StayKind.INPATIENT)
    admitted_at = models.DateTimeField(_("admitted"))
    on_leave = models.BooleanField(_("on leave"), default=False)
    discharged_at = models.DateTimeField(_("discharged"), null=True, blank=True)

    class Meta:
        verbose_name = _("hospital stay")
        verbose_name_plural = _("hospital stays")
        ordering = ["-admitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["citizen"],
                condition=Q(discharged_at__isnull=True),
                name="hospitalstay_one_current_per_citizen",
                violation_error_message=_("The citizen already has a current hospital stay."),
            ),
            models.CheckConstraint(
                name="hospitalstay_discharge_after_admission",
                condition=Q(discharged_at__isnull=True) | Q(discharged_at__gte=models.F("admitted_at")),
                violation_error_message=_("Discharge cannot be before admission."),
            ),
            from_1900("hospitalstay_admitted_from_1900", "admitted_at", moment=True),
        ]
        indexes = [
            models.Index(fields=["department", "discharged_at"], name="hospitalstay_department"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.admitted_at:%Y-%m-%d}"

    def clean(self) -> None:
        """A stay has happened: admitted after the birth and not in the future, discharged after."""
        validate_dates(self, happened=("admitted_at", "discharged_at"), periods=(("admitted_at", "discharged_at"),))

    @property
    def is_current(self) -> bool:
        return self.discharged_at is None

    @property
    def status(self) -> str:
        return StayStatus.ADMITTED if self.is_current else StayStatus.HOME


class ConsentEvent(models.Model):
    """History of consent and objection changes (Sundhedsloven §42): never edited."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="consent_events")
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", null=True)
    description = models.CharField(_("change"), max_length=300)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return self.description


class Objection(models.Model):
    """The citizen objects to a sector or an organisation seeing their data."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="objections")
    target = models.CharField(_("objection against"), max_length=20, choices=ObjectionTarget.choices)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices, blank=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-recorded_at"]
        constraints = [
            models.CheckConstraint(
                name="objection_target_consistent",
                condition=(Q(target=ObjectionTarget.SECTOR) & ~Q(sector="") & Q(organisation__isnull=True))
                | (Q(target=ObjectionTarget.ORGANISATION) & Q(sector="") & Q(organisation__isnull=False)),
                violation_error_message=_("An objection names either a sector or an organisation."),
            )
        ]

    def __str__(self) -> str:
        return str(self.organisation) if self.organisation_id else str(Sector(self.sector).label)

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None

    def clean(self) -> None:
        if self.target == ObjectionTarget.SECTOR and not self.sector:
            raise ValidationError({"sector": _("Choose the sector.")})
        if self.target == ObjectionTarget.ORGANISATION and not self.organisation_id:
            raise ValidationError({"organisation": _("Choose the organisation.")})
        validate_dates(self, happened=("recorded_at", "withdrawn_at"), periods=(("recorded_at", "withdrawn_at"),))


class Reviewed(models.Model):
    """Reviewed by an administrator: when, by whom, the conclusion and a note."""

    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    conclusion = models.CharField(_("conclusion"), max_length=20, choices=ReviewConclusion.choices, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        abstract = True


class BreakGlassAccess(Reviewed):
    """Emergency access without a care relationship: time-limited, reasoned and reviewed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass_accesses")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="break_glass_accesses")
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="break_glass_accesses")
    reason = models.TextField(_("reason"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))

    class Meta(Reviewed.Meta):
        verbose_name = _("break-the-glass access")
        verbose_name_plural = _("break-the-glass accesses")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "organisation", "citizen", "expires_at"], name="breakglass_active")]
        constraints = [
            models.CheckConstraint(
                name="breakglass_expires_after_start",
                condition=Q(expires_at__gt=models.F("started_at")),
                violation_error_message=_("Break-the-glass access must end after it starts."),
            ),
            models.CheckConstraint(
                name="breakglass_reason_given",
                condition=~Q(reason=""),
                violation_error_message=_("State the reason."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()


class CareRelationship(models.Model):
    """Why an organisation may see a citizen, as a row: the access gate is one indexed lookup on
    this table. Rows are written from the facts (``citizens.relationships``) whenever a fact
    changes, and ``manage.py relationships_check`` recomputes them to prove it. Validity is read
    at lookup time, so expiry needs no job; ``valid_from`` null means "since before the portal
    knew" (a GP listing or a residence has no start date of its own)."""

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="relationships")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="care_relationships")
    kind = models.CharField(_("kind"), max_length=20, choices=RelationshipKind.choices)
    # Set only for a break-the-glass grant: personal to the user, acting for the organisation.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    source_type = models.CharField(_("source"), max_length=20)
    source_id = models.CharField(_("source id"), max_length=40)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    # A current hospital stay: treatment in progress, not removed by an objection.
    current = models.BooleanField(_("current stay"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_via = models.CharField(_("created via"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("care relationship")
        verbose_name_plural = _("care relationships")
        constraints = [
            # Two partial constraints: a NULL user would make one unique constraint never match.
            models.UniqueConstraint(
                fields=["kind", "source_type", "source_id", "organisation"],
                condition=Q(user__isnull=True),
                name="carerelationship_one_per_source",
            ),
            models.UniqueConstraint(
                fields=["kind", "source_type", "source_id", "organisation", "user"],
                condition=Q(user__isnull=False),
                name="carerelationship_one_per_source_user",
            ),
            models.CheckConstraint(
                name="carerelationship_valid_period",
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
                violation_error_message=_("A relationship must end after it starts."),
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "citizen"], name="carerelationship_gate"),
            models.Index(fields=["citizen", "organisation"], name="carerelationship_citizen"),
            models.Index(fields=["source_type", "source_id"], name="carerelationship_source"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.organisation_id} -> {self.citizen_id}"


class AccessReviewItem(Reviewed):
    """Something a hospital department did to a citizen without asking anyone first (an
    admission of a citizen it had no relationship with, a death): listed for review next to the
    break-the-glass accesses, for the department's and the region's administrators."""

    kind = models.CharField(_("what"), max_length=20, choices=ReviewKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    citizen = models.ForeignKey(Citizen, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta(Reviewed.Meta):
        verbose_name = _("access to review")
        verbose_name_plural = _("accesses to review")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["organisation", "reviewed_at"], name="accessreview_organisation"),
            models.Index(fields=["region", "reviewed_at"], name="accessreview_region"),
        ]
        constraints = [
            models.CheckConstraint(
                name="accessreview_reason_given",
                condition=~Q(reason=""),
                violation_error_message=_("State the reason."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"


# The access log's models have a module of their own; imported here so the app registers them.
from .accesslog_models import AccessLogEntry, AccessLogHead, AppendOnlyQuerySet  # noqa: E402, F401
