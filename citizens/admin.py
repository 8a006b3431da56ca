"""The admin for citizens' data.

Superusers see every citizen; everybody else sees only what the access gate lets the
organisation they act for see, on every page here (citizens, stays, objections, consent changes,
the access log). Citizens' data is changed in the portal, through the services that check the
gate and write the access log, so these pages are read-only; the exceptions are the list of
conditions, which administrators maintain, and the review of break-the-glass accesses and of the
other accesses to review (admissions without an earlier relationship, deaths). Looking
at a citizen here is written to the access log like anywhere else (``smartcare.admin``).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from sectors.acting import acting_for
from sectors.choices import OrganisationKind
from sectors.models import Organisation
from smartcare.admin import CitizenRowsMixin, GatedAdmin, ReadOnlyInline

from .access import actor_from_request
from .admin_merge import merge_citizens
from .models import (
    AccessLogEntry,
    AccessReviewItem,
    BreakGlassAccess,
    Citizen,
    CitizenCondition,
    CitizenIdentifier,
    Condition,
    ConsentEvent,
    ContactPerson,
    HospitalStay,
    Objection,
)
from .permissions import may_merge_citizens
from .reviews import access_review_done, break_glass_review, may_review, reviewed_organisations


class OrganisationOfKindFilter(admin.SimpleListFilter):
    """A short list of the organisations of one kind (the built-in filter would scan the table for
    the ones in use)."""

    kind: str = ""
    field: str = ""

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Organisation.objects.filter(kind=self.kind).values_list("pk", "name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{f"{self.field}_id": self.value()})
        return queryset


class MunicipalityFilter(OrganisationOfKindFilter):
    title = _("municipality of residence")
    parameter_name = "municipality"
    kind = OrganisationKind.MUNICIPALITY
    field = "municipality"


class DepartmentFilter(OrganisationOfKindFilter):
    title = _("hospital department")
    parameter_name = "department"
    kind = OrganisationKind.HOSPITAL_DEPARTMENT
    field = "department"


class ConditionFilter(admin.SimpleListFilter):
    title = _("condition")
    parameter_name = "condition"

    def lookups(self, request, model_admin):
        return [(c.icd10_code, str(c)) for c in Condition.objects.filter(is_active=True)]

    def queryset(self, request, queryset):
        if self.value():
            conditions = CitizenCondition.objects.filter(citizen_id=OuterRef("pk"), condition__icd10_code=self.value())
            return queryset.filter(Exists(conditions))
        return queryset


class AdmittedNowFilter(admin.SimpleListFilter):
    title = _("admitted now")
    parameter_name = "admitted_now"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            current = Exists(HospitalStay.objects.filter(citizen_id=OuterRef("pk"), discharged_at__isnull=True))
            return queryset.filter(current if self.value() == "1" else ~current)
        return queryset


# --- conditions: maintained by administrators ---------------------------------------------------


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    list_display = ["icd10_code", "name_da", "name_en", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["icd10_code", "name_da", "name_en"]
    ordering = ["icd10_code"]


# --- citizens -----------------------------------------------------------------------------------


class ContactPersonInline(ReadOnlyInline):
    model = ContactPerson
    fields = ["name", "relation", "phone", "is_primary"]


class CitizenConditionInline(ReadOnlyInline):
    model = CitizenCondition
    fields = ["condition", "onset_date"]
    related = ("condition",)


class HospitalStayInline(ReadOnlyInline):
    model = HospitalStay
    fields = ["department", "kind", "admitted_at", "on_leave", "discharged_at"]
    related = ("department",)


class CitizenIdentifierInline(ReadOnlyInline):
    model = CitizenIdentifier
    fields = ["value", "system", "created_at"]


@admin.register(Citizen)
class CitizenAdmin(GatedAdmin):
    citizen_path = ""  # the row is the citizen
    list_display = [
        "cpr_display",
        "first_name",
        "last_name",
        "birth_date",
        "municipality",
        "gp_clinic",
        "receives_home_care",
        "consent_to_share",
    ]
    list_display_links = ["cpr_display", "first_name", "last_name"]
    list_filter = [
        MunicipalityFilter,
        ConditionFilter,
        AdmittedNowFilter,
        "receives_home_care",
        "consent_to_share",
        "sex",
        "registered_from_message",
    ]
    list_select_related = ["municipality", "gp_clinic"]
    search_help_text = _("CPR number (whole or the first six digits or more) or part of the name.")
    inlines = [CitizenIdentifierInline, ContactPersonInline, CitizenConditionInline, HospitalStayInline]
    actions = [merge_citizens]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "cpr_display",
                    "birth_date",
                    "sex",
                    "first_name",
                    "last_name",
                    "family_name_unknown",
                    "registered_from_message",
                    "merged_into",
                ]
            },
        ),
        (_("Address"), {"fields": ["street", "postal_code", "city", "phone"]}),
        (_("Care"), {"fields": ["municipality", "gp_clinic", "receives_home_care", "deceased_at"]}),
        (_("Consent"), {"fields": ["consent_to_share", "consent_recorded_at", "consent_recorded_by"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = ["cpr_display", "birth_date", "sex", "created_at", "updated_at"]

    def get_actions(self, request):
        """The merge only for those who may merge (``may_merge_citizens``); the service checks again."""
        actions = super().get_actions(request)
        if not may_merge_citizens(actor_from_request(request)):
            actions.pop("merge_citizens", None)
        return actions

    @admin.display(description=_("CPR number"), ordering="cpr")
    def cpr_display(self, obj: Citizen) -> str:
        return obj.cpr_formatted


# --- stays, objections, consent ---------------------------------------------------------------------


@admin.register(HospitalStay)
class HospitalStayAdmin(GatedAdmin):
    list_display = ["citizen", "department", "kind", "admitted_at", "on_leave", "discharged_at"]
    list_filter = [DepartmentFilter, "kind", "on_leave"]
    list_select_related = ["citizen", "department"]
    date_hierarchy = "admitted_at"


@admin.register(Objection)
class ObjectionAdmin(GatedAdmin):
    list_display = ["citizen", "target", "sector", "organisation", "recorded_at", "withdrawn_at"]
    list_filter = ["target", "sector"]
    list_select_related = ["citizen", "organisation"]
    date_hierarchy = "recorded_at"


@admin.register(ConsentEvent)
class ConsentEventAdmin(GatedAdmin):
    list_display = ["at", "citizen", "description", "by", "organisation"]
    list_select_related = ["citizen", "by", "organisation"]
    date_hierarchy = "at"


class ReviewedFilter(admin.SimpleListFilter):
    title = _("reviewed")
    parameter_name = "reviewed"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(reviewed_at__isnull=self.value() == "0")
        return queryset


class ReviewListAdmin(CitizenRowsMixin, admin.ModelAdmin):
    """Rows of the review list: fixed but for the review, which the organisation's administrator
    (``may_review``) gives once through ``review`` (the service). Non-superusers see the rows of
    the organisations they review (``scope``: their own; a region's, every one of the region)."""

    list_filter = [ReviewedFilter, "conclusion"]

    def scope(self, qs, request):
        actor = actor_from_request(request)
        return qs.filter(Q(organisation=actor.organisation) | Q(organisation__in=reviewed_organisations(actor)))

    def may_review(self, request, obj) -> bool:
        raise NotImplementedError

    def review(self, request, obj, conclusion: str, note: str) -> None:
        raise NotImplementedError

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return self.scope(qs, request) if acting_for(request) else qs.none()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        """Only while unreviewed, and only for the organisation's administrator (the service's rule)."""
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or (obj.reviewed_at is None and self.may_review(request, obj))

    def save_model(self, request, obj, form, change):
        self.review(request, obj, form.cleaned_data["conclusion"], form.cleaned_data["review_note"])

    def get_form(self, request, obj=None, change=False, **kwargs):
        """The conclusion and the note are required (the service's rule, shown on the form)."""
        form = super().get_form(request, obj, change=change, **kwargs)
        for name in ("conclusion", "review_note"):
            if name in form.base_fields:
                form.base_fields[name].required = True
        return form


@admin.register(BreakGlassAccess)
class BreakGlassAccessAdmin(ReviewListAdmin):
    """Reviewed by an administrator of the organisation whose member broke the glass."""

    list_display = [
        "started_at",
        "user",
        "organisation",
        "citizen",
        "expires_at",
        "reviewed_at",
        "reviewed_by",
        "conclusion",
    ]
    list_select_related = ["user", "organisation", "citizen", "reviewed_by"]
    date_hierarchy = "started_at"
    fields = ["user", "organisation", "citizen", "reason", "started_at", "expires_at", "reviewed_at", "reviewed_by"]
    fields += ["conclusion", "review_note"]
    readonly_fields = fields[:-2]

    def may_review(self, request, obj) -> bool:
        return may_review(actor_from_request(request), obj.organisation_id)

    def review(self, request, obj, conclusion: str, note: str) -> None:
        break_glass_review(actor=actor_from_request(request), grant=obj, conclusion=conclusion, note=note)


@admin.register(AccessReviewItem)
class AccessReviewItemAdmin(ReviewListAdmin):
    """Admissions without an earlier relationship and deaths, reviewed like break-the-glass, by an
    administrator of the department or of its region."""

    list_display = ["at", "kind", "user", "organisation", "citizen", "reviewed_at", "reviewed_by", "conclusion"]
    list_filter = [ReviewedFilter, "conclusion", "kind"]
    list_select_related = ["user", "organisation", "citizen", "reviewed_by"]
    date_hierarchy = "at"
    fields = ["kind", "user", "organisation", "region", "citizen", "reason", "at", "reviewed_at", "reviewed_by"]
    fields += ["conclusion", "review_note"]
    readonly_fields = fields[:-2]

    def scope(self, qs, request):
        actor = actor_from_request(request)
        return super().scope(qs, request) | qs.filter(region=actor.organisation)

    def may_review(self, request, obj) -> bool:
        return may_review(actor_from_request(request), obj.organisation_id, obj.region_id)

    def review(self, request, obj, conclusion: str, note: str) -> None:
        access_review_done(actor=actor_from_request(request), item=obj, conclusion=conclusion, note=note)


# --- the access log -------------------------------------------------------------------------------


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(GatedAdmin):
    """Append-only: nobody adds, changes or deletes entries, superusers included."""

    list_display = ["at", "user_name", "organisation_name", "role", "citizen", "action", "reason", "detail"]
    list_filter = ["action", "reason", "organisation"]
    list_select_related = ["citizen"]
    date_hierarchy = "at"
    actions = None
