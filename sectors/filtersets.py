import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smartcare.filters import BooleanFilter

from .choices import OrganisationKind
from .models import Organisation


class OrganisationFilterSet(django_filters.FilterSet):
    """One filter set for the directory page and ``/api/v1/organisations/``."""

    search = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        help_text=_("Name, SOR code, GLN/EAN number, municipality code or ydernummer."),
    )
    kind = django_filters.ChoiceFilter(choices=OrganisationKind.choices, label=_("Kind"))
    municipality = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.in_portal().filter(kind=OrganisationKind.MUNICIPALITY).order_by("name"),
        method="filter_municipality",
        label=_("Municipality"),
    )
    is_active = BooleanFilter(label=_("Active"))

    class Meta:
        model = Organisation
        fields = ["search", "kind", "municipality", "is_active"]

    def filter_search(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        q = Q(name__icontains=value)
        digits = value.replace(" ", "")
        if digits.isdigit():
            q |= (
                Q(sor_code__startswith=digits)
                | Q(gln__startswith=digits)
                | Q(municipality_code=digits)
                | Q(ydernummer=digits)
                | Q(municipality__municipality_code=digits)
            )
        return queryset.filter(q)

    def filter_municipality(self, queryset, name, value):
        if not value:
            return queryset
        # The municipality itself and everything located in it.
        return queryset.filter(Q(municipality=value) | Q(pk=value.pk))
