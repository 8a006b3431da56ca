"""Forms for the citizen pages. They parse input only; the services validate and write."""

from __future__ import annotations

import datetime
from itertools import groupby

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sectors.choices import OrganisationKind, Sector
from sectors.models import Organisation
from smartcare.forms import DateInput

from .choices import ObjectionTarget, ReviewConclusion
from .cpr import parse_cpr, validate_cpr
from .models import Citizen, ContactPerson
from .selectors import conditions_list
from .services import ConditionItem, ContactItem


def _model_field(model, name: str, **kwargs) -> forms.Field:
    """A form field with the model field's label, length and required-ness (one translation)."""
    return model._meta.get_field(name).formfield(**kwargs)


def _cpr_digits(value: str) -> str:
    validate_cpr(value)  # raises ValidationError with a readable message
    return parse_cpr(value).digits


class GroupedClinicIterator(ModelChoiceIterator):
    """GP clinics grouped by the municipality they are located in, so a long list stays usable."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for municipality, clinics in groupby(
            self.queryset, key=lambda o: o.municipality.name if o.municipality else ""
        ):
            yield (municipality or _("Other"), [self.choice(clinic) for clinic in clinics])


class GPClinicChoiceField(forms.ModelChoiceField):
    iterator = GroupedClinicIterator


def gp_clinics():
    return (
        Organisation.objects.active()
        .in_portal()
        .filter(kind=OrganisationKind.GP_CLINIC)
        .select_related("municipality")
        .order_by("municipality__name", "name", "pk")
    )


def municipalities():
    return Organisation.objects.active().in_portal().filter(kind=OrganisationKind.MUNICIPALITY).order_by("name")


class CitizenForm(forms.Form):
    """Registration and edit of a citizen's identity, address and relationships."""

    cpr = forms.CharField(
        label=_("CPR number"),
        max_length=20,
        help_text=_("DDMMYY-SSSS, with or without the dash."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": _("DDMMYY-SSSS")}),
    )
    first_name = _model_field(Citizen, "first_name")
    # Only a message registers a person whose family name is unknown; here it is always given.
    last_name = _model_field(Citizen, "last_name", required=True)
    street = _model_field(Citizen, "street")
    postal_code = _model_field(
        Citizen, "postal_code", widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"})
    )
    city = _model_field(Citizen, "city")
    phone = _model_field(Citizen, "phone", widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    municipality = forms.ModelChoiceField(queryset=municipalities(), label=_("Municipality of residence"))
    gp_clinic = GPClinicChoiceField(
        queryset=gp_clinics(),
        label=_("GP clinic"),
        required=False,
        empty_label=_("No GP clinic"),
        help_text=_("Grouped by the municipality the clinic is in."),
    )
    receives_home_care = _model_field(Citizen, "receives_home_care")

    def __init__(self, *args, with_cpr: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_cpr:
            del self.fields["cpr"]
        else:
            self.fields["cpr"].widget.attrs["autofocus"] = True

    @classmethod
    def initial_for(cls, citizen: Citizen) -> dict:
        return {name: getattr(citizen, name) for name in cls.base_fields if name != "cpr"}

    def clean_cpr(self) -> str:
        return _cpr_digits(self.cleaned_data["cpr"])

    def birth_date(self) -> datetime.date | None:
        """The birth date the CPR number gives, once it is valid."""
        cpr = self.cleaned_data.get("cpr")
        return parse_cpr(cpr).birth_date if cpr else None


class ConditionItemForm(forms.Form):
    condition = forms.ModelChoiceField(queryset=conditions_list(), label=_("Condition"))
    onset_date = forms.DateField(label=_("Onset date"), required=False, widget=DateInput())

    def clean_onset_date(self) -> datetime.date | None:
        value = self.cleaned_data["onset_date"]
        if value and value > timezone.localdate():
            raise ValidationError(_("The onset date cannot be in the future."))
        return value


class ContactItemForm(forms.Form):
    name = _model_field(ContactPerson, "name")
    relation = _model_field(ContactPerson, "relation")
    phone = _model_field(ContactPerson, "phone", widget=forms.TextInput(attrs={"type": "tel"}))
    is_primary = _model_field(ContactPerson, "is_primary")


class _ItemFormSet(forms.BaseFormSet):
    def kept_forms(self) -> list[forms.Form]:
        """Existing rows unless ticked for removal, plus new rows that were filled in."""
        initial = self.initial_form_count()
        return [
            form
            for i, form in enumerate(self.forms)
            if (i < initial or form.has_changed())
            and not (self.can_delete and self._should_delete_form(form))
            and form.cleaned_data
        ]


class ConditionFormSet(_ItemFormSet):
    """A condition listed twice is the service's error, shown with the others at once."""

    def items(self) -> list[ConditionItem]:
        return [
            ConditionItem(condition=f.cleaned_data["condition"], onset_date=f.cleaned_data.get("onset_date"))
            for f in self.kept_forms()
        ]

    @staticmethod
    def initial_for(citizen: Citizen) -> list[dict]:
        return [{"condition": cc.condition, "onset_date": cc.onset_date} for cc in citizen.conditions.all()]


class ContactFormSet(_ItemFormSet):
    """Two primary contacts is the service's error, shown with the others at once."""

    def items(self) -> list[ContactItem]:
        return [
            ContactItem(
                name=f.cleaned_data["name"],
                phone=f.cleaned_data["phone"],
                relation=f.cleaned_data.get("relation", ""),
                is_primary=f.cleaned_data.get("is_primary", False),
            )
            for f in self.kept_forms()
        ]

    @staticmethod
    def initial_for(citizen: Citizen) -> list[dict]:
        return [
            {"name": c.name, "relation": c.relation, "phone": c.phone, "is_primary": c.is_primary}
            for c in citizen.contact_persons.all()
        ]


ConditionFormSetFactory = forms.formset_factory(
    ConditionItemForm, formset=ConditionFormSet, extra=1, can_delete=True, max_num=50, validate_max=True
)
ContactFormSetFactory = forms.formset_factory(
    ContactItemForm, formset=ContactFormSet, extra=1, can_delete=True, max_num=20, validate_max=True
)


class _OwnIdsForm(forms.Form):
    """Several forms share the consent page: keep their element ids apart."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ConsentForm(_OwnIdsForm):
    id_prefix = "consent"
    consent = forms.TypedChoiceField(
        label=_("Does the citizen consent to sharing health data across sectors?"),
        choices=[("yes", _("Consents")), ("no", _("Refuses"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


# The three care sectors; the region is not a sector a citizen objects to.
OBJECTION_SECTORS = [(s.value, s.label) for s in (Sector.GENERAL_PRACTICE, Sector.HOSPITAL, Sector.MUNICIPALITY)]


class ObjectionForm(_OwnIdsForm):
    id_prefix = "objection"
    target = forms.ChoiceField(
        label=_("The citizen objects to"),
        choices=ObjectionTarget.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    sector = forms.ChoiceField(label=_("Sector"), choices=[("", "---------"), *OBJECTION_SECTORS], required=False)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.active().in_portal().exclude(kind=OrganisationKind.REGION).order_by("name"),
        required=False,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        target = data.get("target")
        if target == ObjectionTarget.SECTOR and not data.get("sector"):
            self.add_error("sector", _("Choose the sector."))
        if target == ObjectionTarget.ORGANISATION and not data.get("organisation"):
            self.add_error("organisation", _("Choose the organisation."))
        return data


class ObjectionWithdrawForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class BreakGlassForm(forms.Form):
    cpr = forms.CharField(
        label=_("CPR number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": _("DDMMYY-SSSS"), "autofocus": True}
        ),
    )
    reason = forms.CharField(
        label=_("Why do you need access now?"),
        max_length=2000,
        help_text=_("Describe the current treatment situation. Your administrators will read this."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_cpr(self) -> str:
        return _cpr_digits(self.cleaned_data["cpr"])


class BreakGlassReviewForm(forms.Form):
    conclusion = forms.ChoiceField(
        label=_("Conclusion"), choices=[("", "---------"), *ReviewConclusion.choices], required=False
    )
    note = forms.CharField(
        label=_("Review note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class ReviewFilterForm(forms.Form):
    """The review list's filters: which organisation (for a region's administrators) and whether
    reviewed. An invalid value is shown as an error and lists nothing."""

    UNREVIEWED, REVIEWED, ALL = "unreviewed", "reviewed", "all"
    status = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[(UNREVIEWED, _("To review")), (REVIEWED, _("Reviewed")), (ALL, _("All"))],
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none(), required=False, empty_label=_("All")
    )

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = (
            organisations if organisations is not None else Organisation.objects.none()
        )

    def filters(self) -> dict | None:
        """The arguments of ``selectors.access_review_page``, or None when a value is invalid."""
        if not self.is_valid():
            return None
        status = self.cleaned_data["status"] or (self.ALL if self.data.get("all") == "1" else self.UNREVIEWED)
        organisation = self.cleaned_data["organisation"]
        return {
            "include_reviewed": status != self.UNREVIEWED,
            "only_reviewed": status == self.REVIEWED,
            "organisation_id": organisation.pk if organisation else None,
        }


class AccessReportFilterForm(forms.Form):
    since = forms.DateField(label=_("From"), required=False, widget=DateInput())
    until = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the period must not be before its start."))
        return data
