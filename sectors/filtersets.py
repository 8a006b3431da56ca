import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smartcare.filters import BooleanFilter

from .choices import OrganisationKind
from .models import LocationNumber, Organisation


class OrganisationFilterSet(django_filters.FilterSet):
    """One filter set for the directory page and ``/api/v1/organisations/``."""

    search = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        help_text=_("Name, SOR code, GLN/EAN number, municipality code or ydernummer."),
    )
    kind = django_filters.ChoiceFilter(choices=OrganisationKind.choices, label=_("Kind"))
    municipality = django_filters.ModelChoiceFilter(
        queryset=Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY).order_by("is_external", "name"),
        method="filter_municipality",
        label=_("Municipality"),
    )
    is_active = BooleanFilter(label=_("Active"))
    is_external = BooleanFilter(label=_("External directory entry"))

    class Meta:
        model = Organisation
        fields = ["search", "kind", "municipality", "is_active", "is_external"]

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
                | Q(pk__in=LocationNumber.objects.filter(gln__startswith=digits).values("organisation_id"))
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
