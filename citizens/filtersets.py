import datetime

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sectors.choices import OrganisationKind
from sectors.models import Organisation
from smartcare.filters import BooleanFilter

from .cpr import is_cpr_like, normalise_cpr
from .identifiers import exact_replacement
from .models import Citizen, CitizenCondition, CitizenIdentifier, Condition, HospitalStay

# "Admitted or discharged recently": the window of the dashboard's hospital card and its list.
RECENT_STAY_HOURS = 48


def search_citizens(queryset, value: str):
    """CPR (with or without the dash, whole or the first digits), a whole replacement number
    (exactly as written, any issuer) or name.

    A name matches when each word is part of it, in any order: "Hansen Kirs" finds Kirsten
    Hansen. Each word is one ``LIKE '%WORD%'`` on ``search_name``, which PostgreSQL answers from
    the trigram index (migration 0002) and combines with a bitmap AND."""
    value = (value or "").strip()
    if not value:
        return queryset
    if is_cpr_like(value):
        digits = normalise_cpr(value)
        return queryset.filter(cpr=digits) if len(digits) == 10 else queryset.filter(cpr__startswith=digits)
    if replacement := exact_replacement(value):
        return queryset.filter(Exists(CitizenIdentifier.objects.filter(citizen_id=OuterRef("pk"), value=replacement)))
    for word in dict.fromkeys(Citizen.make_search_name(value, "").split()):
        queryset = queryset.filter(search_name__contains=word)
    return queryset


class CitizenFilterSet(django_filters.FilterSet):
    """One filter set for the "my citizens" page and ``/api/v1/citizens/``. It narrows a
    queryset that already went through the access policy; it never widens it."""

    search = django_filters.CharFilter(method="filter_search", label=_("CPR or name"))
    condition = django_filters.ModelChoiceFilter(
        queryset=Condition.objects.filter(is_active=True),
        to_field_name="icd10_code",
        method="filter_condition",
        label=_("Condition"),
    )
    municipality = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.in_portal().filter(kind=OrganisationKind.MUNICIPALITY).order_by("name"),
        label=_("Municipality"),
    )
    gp_clinic = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.in_portal().filter(kind=OrganisationKind.GP_CLINIC).order_by("name"),
        label=_("GP clinic"),
    )
    admitted_now = BooleanFilter(method="filter_admitted_now", label=_("Admitted now"))
    receives_home_care = BooleanFilter(label=_("Receives home care"))
    recent_stay = BooleanFilter(method="filter_recent_stay", label=_("Admitted or discharged in the last 48 hours"))

    class Meta:
        model = Citizen
        fields = [
            "search",
            "condition",
            "municipality",
            "gp_clinic",
            "admitted_now",
            "receives_home_care",
            "recent_stay",
        ]

    def filter_search(self, queryset, name, value):
        return search_citizens(queryset, value)

    def filter_condition(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            Exists(CitizenCondition.objects.filter(citizen_id=OuterRef("pk"), condition_id=value.pk))
        )

    def filter_admitted_now(self, queryset, name, value):
        if value is None:
            return queryset
        current = Exists(HospitalStay.objects.filter(citizen_id=OuterRef("pk"), discharged_at__isnull=True))
        return queryset.filter(current if value else ~current)

    def filter_recent_stay(self, queryset, name, value):
        if value is None:
            return queryset
        since = timezone.now() - datetime.timedelta(hours=RECENT_STAY_HOURS)
        recent = Exists(
            HospitalStay.objects.filter(citizen_id=OuterRef("pk")).filter(
                Q(admitted_at__gte=since) | Q(discharged_at__gte=since)
            )
        )
        return queryset.filter(recent if value else ~recent)
