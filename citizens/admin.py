"""The admin for citizens' data.

Superusers see every citizen; everybody else sees only what the access gate lets the
organisation they act for see, on every page here (citizens, stays, objections, consent changes,
the access log). Citizens' data is changed in the portal, through the services that check the
gate and write the access log, so these pages are read-only; the exceptions are the list of
conditions, which administrators maintain, and the review of break-the-glass accesses and of the
other accesses to review (admissions without an earlier relationship, deaths). Looking
at a citizen here is written to the access log like anywhere else.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from sectors.acting import acting_for
from sectors.choices import OrganisationKind
from sectors.models import Organisation

from .access import Actor, access_reason, actor_from_request, visible_citizens
from .accesslog import access_log_record
from .choices import AccessAction
from .filtersets import search_citizens
from .models import (
    AccessLogEntry,
    AccessReviewItem,
    BreakGlassAccess,
    Citizen,
    CitizenCondition,
    Condition,
    ConsentEvent,
    ContactPerson,
    HospitalStay,
    Objection,
)
from .services import access_review_done, break_glass_review, may_review


def gated_citizens(request: HttpRequest, *, with_reason: bool = False) -> QuerySet[Citizen]:
    """The citizens this admin user may see: all for superusers, the access gate for the rest."""
    if request.user.is_superuser:
        return Citizen.objects.all()
    return visible_citizens(acting_for(request), request.user, with_reason=with_reason)


class ReadOnlyMixin:
    """Shown, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CitizenSearchMixin:
    """Rows that belong to a citizen, found by the citizen's CPR number (whole or the first six
    digits or more) or name, as in the portal."""

    show_full_result_count = False  # no second COUNT over a large table
    search_fields = ["citizen__cpr"]  # shows the search box; get_search_results does the work
    search_help_text = _("The citizen's CPR number (whole or the first six digits or more) or part of the name.")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        hits = search_citizens(Citizen.objects.all(), search_term)
        return queryset.filter(citizen__in=hits.values("pk")), False


class GatedByCitizenMixin(CitizenSearchMixin):
    """Non-superusers see rows only for citizens inside the access gate."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(citizen__in=gated_citizens(request).values("pk"))


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


class ContactPersonInline(ReadOnlyMixin, admin.TabularInline):
    model = ContactPerson
    fields = ["name", "relation", "phone", "is_primary"]
    extra = 0


class CitizenConditionInline(ReadOnlyMixin, admin.TabularInline):
    model = CitizenCondition
    fields = ["condition", "onset_date"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("condition")


class HospitalStayInline(ReadOnlyMixin, admin.TabularInline):
    model = HospitalStay
    fields = ["department", "kind", "admitted_at", "on_leave", "discharged_at"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("department")


@admin.register(Citizen)
class CitizenAdmin(ReadOnlyMixin, admin.ModelAdmin):
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
    ]
    list_select_related = ["municipality", "gp_clinic"]
    search_fields = ["cpr", "search_name"]  # see get_search_results
    search_help_text = _("CPR number (whole or the first six digits or more) or part of the name.")
    show_full_result_count = False
    inlines = [ContactPersonInline, CitizenConditionInline, HospitalStayInline]
    fieldsets = [
        (None, {"fields": ["cpr_display", "birth_date", "sex", "first_name", "last_name"]}),
        (_("Address"), {"fields": ["street", "postal_code", "city", "phone"]}),
        (_("Care"), {"fields": ["municipality", "gp_clinic", "receives_home_care", "deceased_at"]}),
        (_("Consent"), {"fields": ["consent_to_share", "consent_recorded_at", "consent_recorded_by"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]
    readonly_fields = ["cpr_display", "birth_date", "sex", "created_at", "updated_at"]

    @admin.display(description=_("CPR number"), ordering="cpr")
    def cpr_display(self, obj: Citizen) -> str:
        return obj.cpr_formatted

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super().get_queryset(request)
        qs = gated_citizens(request, with_reason=True)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def get_search_results(self, request, queryset, search_term):
        return search_citizens(queryset, search_term), False

    # Every citizen shown is in the access log, here as in the portal.

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.result_list = rows = list(changelist.result_list)
        actor = actor_from_request(request)
        by_reason: dict[str, list[Citizen]] = {}
        for citizen in rows:
            by_reason.setdefault(getattr(citizen, "access_via", ""), []).append(citizen)
        for reason, citizens in by_reason.items():
            access_log_record(actor=actor, citizens=citizens, action=AccessAction.LIST, detail="admin", reason=reason)
        return changelist

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            actor = actor_from_request(request)
            reason, text = self._reason(actor, request, obj)
            access_log_record(
                actor=actor, citizens=obj, action=AccessAction.VIEW, detail="admin", reason=reason, reason_text=text
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    @staticmethod
    def _reason(actor: Actor, request: HttpRequest, citizen: Citizen) -> tuple[str, str]:
        """The relationship behind the look-up; a superuser may have none (blank, so it stands out)."""
        if request.user.is_superuser and not actor.acting:
            return "", ""
        return access_reason(actor, citizen) or ("", "")


# --- stays, objections, consent ---------------------------------------------------------------------


@admin.register(HospitalStay)
class HospitalStayAdmin(ReadOnlyMixin, GatedByCitizenMixin, admin.ModelAdmin):
    list_display = ["citizen", "department", "kind", "admitted_at", "on_leave", "discharged_at"]
    list_filter = [DepartmentFilter, "kind", "on_leave"]
    list_select_related = ["citizen", "department"]
    date_hierarchy = "admitted_at"


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyMixin, GatedByCitizenMixin, admin.ModelAdmin):
    list_display = ["citizen", "target", "sector", "organisation", "recorded_at", "withdrawn_at"]
    list_filter = ["target", "sector"]
    list_select_related = ["citizen", "organisation"]
    date_hierarchy = "recorded_at"


@admin.register(ConsentEvent)
class ConsentEventAdmin(ReadOnlyMixin, GatedByCitizenMixin, admin.ModelAdmin):
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


class ReviewListAdmin(CitizenSearchMixin, admin.ModelAdmin):
    """Rows of the review list: fixed but for the review, which the organisation's administrator
    (``may_review``) gives once through ``review`` (the service). Non-superusers see the rows of
    the organisation they act for (``scope``)."""

    list_filter = [ReviewedFilter]

    def scope(self, qs, organisation):
        return qs.filter(organisation=organisation)

    def may_review(self, request, obj) -> bool:
        raise NotImplementedError

    def review(self, request, obj, note: str) -> None:
        raise NotImplementedError

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        acting = acting_for(request)
        return self.scope(qs, acting.organisation) if acting else qs.none()

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
        self.review(request, obj, form.cleaned_data["review_note"])


@admin.register(BreakGlassAccess)
class BreakGlassAccessAdmin(ReviewListAdmin):
    """Reviewed by an administrator of the organisation whose member broke the glass."""

    list_display = ["started_at", "user", "organisation", "citizen", "expires_at", "reviewed_at", "reviewed_by"]
    list_select_related = ["user", "organisation", "citizen", "reviewed_by"]
    date_hierarchy = "started_at"
    fields = ["user", "organisation", "citizen", "reason", "started_at", "expires_at", "reviewed_at", "reviewed_by"]
    fields += ["review_note"]
    readonly_fields = fields[:-1]

    def may_review(self, request, obj) -> bool:
        acting = acting_for(request)
        return bool(acting) and acting.organisation.pk == obj.organisation_id and acting.is_organisation_admin

    def review(self, request, obj, note: str) -> None:
        break_glass_review(actor=actor_from_request(request), grant=obj, note=note)


@admin.register(AccessReviewItem)
class AccessReviewItemAdmin(ReviewListAdmin):
    """Admissions without an earlier relationship and deaths, reviewed like break-the-glass, by an
    administrator of the department or of its region."""

    list_display = ["at", "kind", "user", "organisation", "citizen", "reviewed_at", "reviewed_by"]
    list_filter = [ReviewedFilter, "kind"]
    list_select_related = ["user", "organisation", "citizen", "reviewed_by"]
    date_hierarchy = "at"
    fields = ["kind", "user", "organisation", "region", "citizen", "reason", "at", "reviewed_at", "reviewed_by"]
    fields += ["review_note"]
    readonly_fields = fields[:-1]

    def scope(self, qs, organisation):
        return qs.filter(Q(organisation=organisation) | Q(region=organisation))

    def may_review(self, request, obj) -> bool:
        return may_review(actor_from_request(request), obj.organisation_id, obj.region_id)

    def review(self, request, obj, note: str) -> None:
        access_review_done(actor=actor_from_request(request), item=obj, note=note)


# --- the access log -------------------------------------------------------------------------------


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(ReadOnlyMixin, GatedByCitizenMixin, admin.ModelAdmin):
    """Append-only: nobody adds, changes or deletes entries, superusers included."""

    list_display = ["at", "user_name", "organisation_name", "role", "citizen", "action", "reason", "detail"]
    list_filter = ["action", "reason", "organisation"]
    list_select_related = ["citizen"]
    date_hierarchy = "at"
    actions = None
