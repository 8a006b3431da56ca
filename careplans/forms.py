"""Forms for the care-plan pages. They parse input only; the services validate and write.

The organisation and person selects offer a short list (the plan's ``Directory``): the care
team, the citizen's GP clinic, municipality and current hospital department, and the acting
organisation. Any other organisation is found with the search box next to the select
(``careplans:organisation_search``); the field itself accepts every active organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Q
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens.access import Actor
from citizens.models import Citizen, CitizenCondition, Condition
from sectors.choices import OrganisationKind
from sectors.models import Membership, Organisation, User
from smartcare.forms import DateInput

from .choices import (
    ActivityStatus,
    CarePlanIntent,
    CarePlanStatus,
    CareTeamRole,
    GoalAchievement,
    GoalLifecycleStatus,
    Weekday,
)
from .models import Activity, CarePlan, Goal


def _model_field(model, name: str, **kwargs) -> forms.Field:
    """A form field with the model field's label, length and required-ness (one translation)."""
    return model._meta.get_field(name).formfield(**kwargs)


# --- the organisations and people offered -----------------------------------------------------


@dataclass(frozen=True)
class Directory:
    """The organisations (in labelled groups) and their members a plan's selects offer."""

    groups: list[tuple[str, list[Organisation]]]
    members: list[Membership]

    def organisation_choices(self) -> list[tuple[Any, Any]]:
        return [("", "---------")] + [
            (label, [(org.pk, org.name) for org in organisations]) for label, organisations in self.groups
        ]

    def person_choices(self) -> list[tuple[Any, str]]:
        choices: dict[int, str] = {}
        for membership in self.members:
            user = membership.user
            choices.setdefault(user.pk, f"{user.get_full_name() or user.email} ({membership.get_role_display()})")
        return [("", "---------"), *choices.items()]

    def organisations_of(self) -> dict[str, list[str]]:
        """For each person, the organisations they are a member of (the select filters on it)."""
        result: dict[str, list[str]] = {}
        for membership in self.members:
            result.setdefault(str(membership.user_id), []).append(str(membership.organisation_id))
        return result


def directory_for(*, actor: Actor, citizen: Citizen, plan: CarePlan | None = None) -> Directory:
    """Organisations and staff are no health data; the citizen and the plan were read (and
    logged) by the caller through ``citizen_get`` or ``careplan_get``."""
    seen: set[int] = set()

    def fresh(organisations) -> list[Organisation]:
        result = []
        for org in organisations:
            if org is not None and org.pk not in seen:
                seen.add(org.pk)
                result.append(org)
        return result

    groups: list[tuple[str, list[Organisation]]] = []
    if plan is not None:
        team = fresh(p.organisation for p in plan.participants.all() if p.is_active_on())
        if team:
            groups.append((str(_("Care team")), team))
    stay = citizen.current_stay
    own = fresh([citizen.gp_clinic, citizen.municipality, stay.department if stay else None])
    if own:
        groups.append((str(_("The citizen's GP, municipality and hospital")), own))
    acting = fresh([actor.organisation])
    if acting:
        groups.append((str(_("Your organisation")), acting))
    members = list(
        Membership.objects.active()
        .filter(organisation_id__in=seen)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__email", "pk")
    )
    return Directory(groups=groups, members=members)


class OrganisationSelect(forms.Select):
    """Offers the directory's organisations; one chosen through the search box that is not
    among them is added back when the form is shown again."""

    def optgroups(self, name, value, attrs=None):
        offered = set()
        for option_value, option_label in self.choices:
            if isinstance(option_label, list | tuple):
                offered.update(str(v) for v, _label in option_label)
            else:
                offered.add(str(option_value))
        missing = [v for v in value if v and str(v) not in offered and str(v).isdigit()]
        if missing:
            found = [(o.pk, o.name) for o in Organisation.objects.filter(pk__in=missing)]
            if found:
                self.choices = [*self.choices, (str(_("Chosen")), found)]
        return super().optgroups(name, value, attrs)


class OrganisationField(forms.ModelChoiceField):
    widget = OrganisationSelect

    def __init__(self, **kwargs):
        organisations = Organisation.objects.active().in_portal().exclude(kind=OrganisationKind.REGION)
        super().__init__(queryset=organisations, **kwargs)

    def label_from_instance(self, obj) -> str:
        return obj.name


class PersonSelect(forms.Select):
    """Each option names the organisations the person belongs to (``data-organisations``), so
    the page offers only members of the organisation chosen next to it."""

    organisations_of: dict[str, list[str]] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        organisations = self.organisations_of.get(str(value))
        if organisations:
            option["attrs"]["data-organisations"] = " ".join(organisations)
        return option


class PersonField(forms.ModelChoiceField):
    widget = PersonSelect

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(queryset=User.objects.filter(is_active=True), **kwargs)


class _PlanForm(forms.Form):
    """Forms on the plan page: their own element ids, and the directory's choices."""

    id_prefix = ""
    organisation_fields: tuple[str, ...] = ()
    person_fields: dict[str, str] = {}  # person field: the organisation field it belongs to

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        for person, organisation in self.person_fields.items():
            self.fields[person].widget.attrs["data-person-for"] = self[organisation].auto_id

    def offer(self, directory: Directory) -> None:
        for name in self.organisation_fields:
            if name in self.fields:
                self.fields[name].widget.choices = directory.organisation_choices()
        for name in self.person_fields:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.choices = directory.person_choices()
                widget.organisations_of = directory.organisations_of()

    def check_member(self, person_field: str, organisation_field: str) -> None:
        """The person chosen must work in the organisation chosen next to them."""
        person = self.cleaned_data.get(person_field)
        organisation = self.cleaned_data.get(organisation_field)
        if person is None or organisation is None:
            return
        if not Membership.objects.active().filter(user=person, organisation=organisation).exists():
            self.add_error(
                person_field,
                _("%(person)s is not a member of %(organisation)s.")
                % {"person": person.get_full_name() or person.email, "organisation": organisation.name},
            )


# --- plans -------------------------------------------------------------------------------------


class CarePlanForm(_PlanForm):
    """Creating a plan (with its first status) and editing its fields (with a comment)."""

    id_prefix = "plan"
    organisation_fields = ("coordinating_organisation",)
    person_fields = {"coordinator": "coordinating_organisation"}

    title = _model_field(CarePlan, "title")
    conditions = forms.ModelMultipleChoiceField(
        label=_("Conditions addressed"),
        queryset=Condition.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    intent = forms.ChoiceField(label=_("Intent"), choices=CarePlanIntent.choices, initial=CarePlanIntent.PLAN)
    period_start = forms.DateField(label=_("Start"), initial=timezone.localdate, widget=DateInput())
    period_end = forms.DateField(label=_("End"), required=False, widget=DateInput())
    coordinating_organisation = OrganisationField(label=_("Coordinating organisation"))
    coordinator = PersonField(
        label=_("Coordinator (tovholder)"), help_text=_("Optional; a member of the coordinating organisation.")
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    status = forms.ChoiceField(
        label=_("Start the plan as"),
        choices=[(CarePlanStatus.DRAFT, CarePlanStatus.DRAFT.label), (CarePlanStatus.ACTIVE, _("Active now"))],
        initial=CarePlanStatus.DRAFT,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    comment = forms.CharField(label=_("Why the change (optional)"), required=False, max_length=2000)

    def __init__(self, *args, citizen: Citizen, plan: CarePlan | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The citizen's conditions, and any the plan already addresses (even if no longer listed).
        addressed = Q(pk__in=CitizenCondition.objects.filter(citizen=citizen).values("condition_id"))
        if plan is not None:
            addressed |= Q(pk__in=[c.pk for c in plan.conditions.all()])
            del self.fields["status"]
        else:
            del self.fields["comment"]
        self.fields["conditions"].queryset = Condition.objects.filter(addressed).order_by("icd10_code")

    @classmethod
    def initial_for(cls, plan: CarePlan) -> dict:
        return model_to_dict(plan, fields=list(cls.base_fields))

    def clean(self):
        data = super().clean()
        self.check_member("coordinator", "coordinating_organisation")
        return data


def _confirmed() -> forms.BooleanField:
    """Set by the confirmation step of a change that cannot be undone (``careplans.views_status``)."""
    return forms.BooleanField(required=False, widget=forms.HiddenInput)


class PlanStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=CarePlanStatus.choices)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)
    confirmed = _confirmed()


# --- care team ---------------------------------------------------------------------------------


class TeamForm(_PlanForm):
    id_prefix = "team"
    organisation_fields = ("organisation",)
    person_fields = {"person": "organisation"}

    organisation = OrganisationField(label=_("Organisation"))
    role = forms.ChoiceField(label=_("Role"), choices=CareTeamRole.choices, initial=CareTeamRole.OTHER)
    person = PersonField(label=_("Person"), help_text=_("Optional; a member of the organisation."))
    period_start = forms.DateField(label=_("From"), initial=timezone.localdate, widget=DateInput())
    period_end = forms.DateField(label=_("Until"), required=False, widget=DateInput())
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        self.check_member("person", "organisation")
        return data


class TeamEndForm(forms.Form):
    end_date = forms.DateField(label=_("Last day"), required=False, widget=DateInput())
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)


# --- goals and activities ------------------------------------------------------------------


class GoalForm(_PlanForm):
    id_prefix = "goal"
    organisation_fields = ("responsible_organisation",)

    description = forms.CharField(label=_("Goal"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    responsible_organisation = OrganisationField(label=_("Responsible organisation"))
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput())
    target_text = _model_field(Goal, "target_text")
    target_code = _model_field(Goal, "target_code")
    target_comparator = _model_field(Goal, "target_comparator")
    target_value = _model_field(Goal, "target_value")
    target_unit = _model_field(Goal, "target_unit")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # careplans.js fills in the unit of the measurement chosen.
        self.fields["target_code"].widget.attrs["data-fills-unit"] = self["target_unit"].auto_id


class GoalStatusForm(forms.Form):
    lifecycle_status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Keep"))] + GoalLifecycleStatus.choices, required=False
    )
    achievement = forms.ChoiceField(
        label=_("Achievement"), choices=[("", _("Keep"))] + GoalAchievement.choices, required=False
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)
    confirmed = _confirmed()

    def clean(self):
        data = super().clean()
        if not data.get("lifecycle_status") and not data.get("achievement"):
            raise forms.ValidationError(_("Choose a new status or achievement."))
        return data

    def status_fields(self) -> dict:
        return {
            "lifecycle_status": self.cleaned_data["lifecycle_status"] or None,
            "achievement": self.cleaned_data["achievement"] or None,
            "comment": self.cleaned_data["comment"],
        }


class ActivityForm(_PlanForm):
    """A one-off activity (a due date) or a recurring one (weekdays every N weeks)."""

    id_prefix = "activity"
    organisation_fields = ("responsible_organisation",)
    person_fields = {"responsible_person": "responsible_organisation"}

    description = forms.CharField(label=_("Activity"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    responsible_organisation = OrganisationField(label=_("Responsible organisation"))
    responsible_person = PersonField(label=_("Responsible person"), help_text=_("Optional."))
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput())
    weekdays = forms.MultipleChoiceField(
        label=_("Repeat on"),
        choices=Weekday.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "btn-check"}),
    )
    interval_weeks = forms.IntegerField(label=_("Every … weeks"), min_value=1, max_value=52, initial=1)
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=DateInput())
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=DateInput())


class ActivityStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActivityStatus.choices)
    outcome_note = forms.CharField(
        label=Activity._meta.get_field("outcome_note").verbose_name,
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)
    confirmed = _confirmed()


class ReassignForm(forms.Form):
    organisation = OrganisationField(label=_("New responsible organisation"))
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)


class OrganisationSearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False)
