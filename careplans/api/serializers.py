"""Shapes of the care-plan and home-monitoring endpoints under ``/api/v1/``.

Responses and requests use different serializers: a response names organisations and people with
their id and name, a request names them by id. The request serializers only parse input; the
services decide (lifecycles, hand-offs, plausible values, thresholds, duplicates).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from citizens.api.serializers import OrganisationNameSerializer
from citizens.selectors import conditions_list
from sectors.models import Organisation, User
from smartcare.api.fields import BlankChoicesAsNull, DateTimeField

from ..choices import (
    ActivityStatus,
    CarePlanIntent,
    CarePlanStatus,
    CareTeamRole,
    GoalAchievement,
    GoalLifecycleStatus,
    ObservationCode,
    ObservationSource,
    ThresholdCode,
    Weekday,
)
from ..models import Activity, Alert, CarePlan, CareTeamParticipant, Goal, Observation, Threshold
from ..monitoring import Reading

COMPARATORS = [("<", "<"), ("<=", "≤"), (">", ">"), (">=", "≥")]


def _organisations():
    return Organisation.objects.active().in_portal()


def _users():
    return User.objects.filter(is_active=True)


# --- responses ---------------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(help_text=_("Full name, or the e-mail address without one."))

    class Meta:
        model = User
        fields = ["id", "name"]
        extra_kwargs = {"id": {"help_text": _("User id.")}}

    def get_name(self, user: User) -> str:
        return str(user)


class CareTeamParticipantSerializer(serializers.ModelSerializer):
    organisation = OrganisationNameSerializer(read_only=True)
    person = PersonSerializer(read_only=True, allow_null=True, help_text=_("A named person, if any."))
    active = serializers.SerializerMethodField(help_text=_("On the team today."))

    class Meta:
        model = CareTeamParticipant
        fields = ["id", "organisation", "person", "role", "period_start", "period_end", "active"]
        read_only_fields = fields

    def get_active(self, participant: CareTeamParticipant) -> bool:
        return participant.is_active_on()


ASSIGNABLE_FIELDS = [
    "id",
    "care_plan",
    "citizen",
    "description",
    "responsible_organisation",
    "handoff_status",
    "due_date",
    "created_at",
    "updated_at",
]


class GoalSerializer(BlankChoicesAsNull, serializers.ModelSerializer):
    citizen = serializers.UUIDField(source="care_plan.citizen_id", read_only=True, help_text=_("The citizen's id."))
    responsible_organisation = OrganisationNameSerializer(read_only=True)
    target_display = serializers.CharField(read_only=True, help_text=_("The target as one line of text."))

    class Meta:
        model = Goal
        fields = [
            *ASSIGNABLE_FIELDS,
            "lifecycle_status",
            "achievement",
            "target_code",
            "target_comparator",
            "target_value",
            "target_unit",
            "target_text",
            "target_display",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "handoff_status": {"help_text": _("Null when the responsible organisation created the goal itself.")},
            "target_code": {"help_text": _("LOINC code of the measured quantity, if the target is measurable.")},
        }


class ActivitySerializer(BlankChoicesAsNull, serializers.ModelSerializer):
    citizen = serializers.UUIDField(source="care_plan.citizen_id", read_only=True, help_text=_("The citizen's id."))
    responsible_organisation = OrganisationNameSerializer(read_only=True)
    responsible_person = PersonSerializer(read_only=True, allow_null=True)
    weekdays = serializers.ListField(
        source="weekday_list",
        child=serializers.ChoiceField(choices=Weekday.choices),
        read_only=True,
        help_text=_("Weekdays of a recurring activity (MO…SU); empty for a one-off due on due_date."),
    )
    recurrence = serializers.CharField(source="recurrence_display", read_only=True)

    class Meta:
        model = Activity
        fields = [
            *ASSIGNABLE_FIELDS,
            "responsible_person",
            "status",
            "weekdays",
            "interval_weeks",
            "starts_on",
            "ends_on",
            "recurrence",
            "next_due_on",
            "last_done_on",
            "completed_at",
            "outcome_note",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "next_due_on": {"help_text": _("The next date the activity is due; null when none.")},
            "handoff_status": {"help_text": _("Null when the responsible organisation created the activity itself.")},
        }


class CarePlanSerializer(serializers.ModelSerializer):
    """A plan in a list: without its team, goals and activities."""

    citizen = serializers.UUIDField(source="citizen_id", read_only=True, help_text=_("The citizen's id."))
    coordinating_organisation = OrganisationNameSerializer(read_only=True)
    coordinator = PersonSerializer(read_only=True, allow_null=True, help_text=_("The coordinator (tovholder)."))
    conditions = serializers.SlugRelatedField(
        slug_field="icd10_code", many=True, read_only=True, help_text=_("ICD-10 codes of the conditions addressed.")
    )

    class Meta:
        model = CarePlan
        fields = [
            "id",
            "citizen",
            "title",
            "status",
            "intent",
            "period_start",
            "period_end",
            "coordinating_organisation",
            "coordinator",
            "conditions",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CarePlanDetailSerializer(CarePlanSerializer):
    """One plan with its care team, goals and activities (expects the selector's prefetches)."""

    care_team = CareTeamParticipantSerializer(source="participants", many=True, read_only=True)
    goals = GoalSerializer(many=True, read_only=True)
    activities = ActivitySerializer(source="activitys", many=True, read_only=True)

    class Meta(CarePlanSerializer.Meta):
        fields = [*CarePlanSerializer.Meta.fields, "care_team", "goals", "activities"]
        read_only_fields = fields


class ThresholdSerializer(serializers.ModelSerializer):
    citizen = serializers.UUIDField(source="citizen_id", read_only=True, help_text=_("The citizen's id."))
    set_by = PersonSerializer(read_only=True)
    set_by_organisation = OrganisationNameSerializer(read_only=True)
    is_current = serializers.SerializerMethodField(help_text=_("The version in force now."))

    class Meta:
        model = Threshold
        fields = [
            "id",
            "citizen",
            "code",
            "unit",
            "red_low",
            "yellow_low",
            "yellow_high",
            "red_high",
            "reason",
            "version",
            "set_by",
            "set_by_organisation",
            "valid_from",
            "valid_to",
            "is_current",
        ]
        read_only_fields = fields

    def get_is_current(self, threshold: Threshold) -> bool:
        return threshold.valid_to is None


class AlertSerializer(serializers.ModelSerializer):
    citizen = serializers.UUIDField(source="citizen_id", read_only=True, help_text=_("The citizen's id."))
    observation = serializers.UUIDField(source="observation_id", read_only=True, allow_null=True)
    threshold = serializers.IntegerField(source="threshold_id", read_only=True, allow_null=True)
    acknowledged_by = PersonSerializer(read_only=True, allow_null=True)
    is_open = serializers.BooleanField(read_only=True, help_text=_("Not acknowledged yet."))

    class Meta:
        model = Alert
        fields = [
            "id",
            "citizen",
            "kind",
            "severity",
            "code",
            "message",
            "observation",
            "threshold",
            "created_at",
            "is_open",
            "acknowledged_at",
            "acknowledged_by",
            "acknowledgement_note",
        ]
        read_only_fields = fields


class BulkResultSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(),
        help_text=_(
            "The observation ids in the order the readings were sent; a reading whose external_id was "
            "received before has the id of the earlier observation."
        ),
    )


class AcknowledgedCountSerializer(serializers.Serializer):
    acknowledged = serializers.IntegerField(help_text=_("How many open yellow alerts were acknowledged."))


# --- requests ----------------------------------------------------------------------------------


def _comment():
    return serializers.CharField(
        required=False, allow_blank=True, help_text=_("Why: kept in the plan's history with the change.")
    )


def _reason():
    return serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_(
            "Why: kept in the plan's history with the change. Required for a change that cannot be undone "
            "(revoked, cancelled, stopped, rejected, entered-in-error): without it the answer is 400 on comment."
        ),
    )


class InputSerializer(serializers.Serializer):
    def service_arguments(self) -> dict[str, Any]:
        """The validated input as keyword arguments for the service."""
        return dict(self.validated_data)


class CarePlanUpdateSerializer(InputSerializer):
    """Every field is optional; a ``conditions`` list that is sent replaces the current one."""

    title = serializers.CharField(max_length=200, required=False)
    intent = serializers.ChoiceField(choices=CarePlanIntent.choices, required=False)
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False, allow_null=True)
    coordinating_organisation = serializers.PrimaryKeyRelatedField(
        queryset=_organisations(), required=False, help_text=_("Organisation id; it joins the care team.")
    )
    coordinator = serializers.PrimaryKeyRelatedField(
        queryset=_users(), required=False, allow_null=True, help_text=_("User id of the coordinator (tovholder).")
    )
    description = serializers.CharField(required=False, allow_blank=True)
    conditions = serializers.SlugRelatedField(
        slug_field="icd10_code",
        queryset=conditions_list(),
        many=True,
        required=False,
        help_text=_("ICD-10 codes from /api/v1/conditions/."),
    )
    comment = _comment()


class CarePlanCreateSerializer(CarePlanUpdateSerializer):
    citizen = serializers.UUIDField(help_text=_("The citizen's id."))
    title = serializers.CharField(max_length=200)
    coordinating_organisation = serializers.PrimaryKeyRelatedField(
        queryset=_organisations(), help_text=_("Organisation id of the coordinating organisation.")
    )
    status = serializers.ChoiceField(
        choices=CarePlanStatus.choices,
        required=False,
        help_text=_("A new plan is a draft (default) or active."),
    )


class CarePlanStatusSerializer(InputSerializer):
    status = serializers.ChoiceField(choices=CarePlanStatus.choices, help_text=_("The new FHIR CarePlan.status."))
    comment = _reason()


class CareTeamAddSerializer(InputSerializer):
    organisation = serializers.PrimaryKeyRelatedField(queryset=_organisations(), help_text=_("Organisation id."))
    role = serializers.ChoiceField(choices=CareTeamRole.choices)
    person = serializers.PrimaryKeyRelatedField(
        queryset=_users(), required=False, allow_null=True, help_text=_("User id of a named person, if any.")
    )
    period_start = serializers.DateField(required=False, help_text=_("Default: today."))
    period_end = serializers.DateField(required=False, allow_null=True)
    comment = _comment()


class GoalUpdateSerializer(InputSerializer):
    description = serializers.CharField(required=False)
    responsible_organisation = serializers.PrimaryKeyRelatedField(
        queryset=_organisations(),
        required=False,
        help_text=_("Organisation id. Another organisation than yours is asked to accept (a hand-off)."),
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    target_code = serializers.ChoiceField(choices=ThresholdCode.choices, required=False, allow_blank=True)
    target_comparator = serializers.ChoiceField(choices=COMPARATORS, required=False, allow_blank=True)
    target_value = serializers.DecimalField(max_digits=8, decimal_places=2, required=False, allow_null=True)
    target_unit = serializers.CharField(max_length=20, required=False, allow_blank=True)
    target_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    comment = _comment()


class GoalCreateSerializer(GoalUpdateSerializer):
    care_plan = serializers.UUIDField(help_text=_("The care plan's id."))
    description = serializers.CharField()
    responsible_organisation = serializers.PrimaryKeyRelatedField(
        queryset=_organisations(),
        help_text=_("Organisation id. Another organisation than yours is asked to accept (a hand-off)."),
    )
    lifecycle_status = serializers.ChoiceField(
        choices=GoalLifecycleStatus.choices, required=False, help_text=_("Default: proposed.")
    )


class GoalStatusSerializer(InputSerializer):
    lifecycle_status = serializers.ChoiceField(choices=GoalLifecycleStatus.choices, required=False)
    achievement = serializers.ChoiceField(choices=GoalAchievement.choices, required=False)
    comment = _reason()

    def validate(self, attrs):
        if "lifecycle_status" not in attrs and "achievement" not in attrs:
            raise serializers.ValidationError(_("Give a lifecycle_status, an achievement or both."))
        return attrs


class ActivityUpdateSerializer(InputSerializer):
    description = serializers.CharField(required=False)
    responsible_organisation = serializers.PrimaryKeyRelatedField(
        queryset=_organisations(),
        required=False,
        help_text=_("Organisation id. Another organisation than yours is asked to accept (a hand-off)."),
    )
    responsible_person = serializers.PrimaryKeyRelatedField(
        queryset=_users(),
        required=False,
        allow_null=True,
        help_text=_("User id; a member of the responsible organisation."),
    )
    due_date = serializers.DateField(required=False, allow_null=True, help_text=_("For a one-off activity."))
    weekdays = serializers.ListField(
        child=serializers.ChoiceField(choices=Weekday.choices),
        required=False,
        help_text=_('For a recurring activity: the weekdays, e.g. ["MO", "TH"].'),
    )
    interval_weeks = serializers.IntegerField(min_value=1, max_value=52, required=False)
    starts_on = serializers.DateField(required=False, allow_null=True)
    ends_on = serializers.DateField(required=False, allow_null=True)
    comment = _comment()


class ActivityCreateSerializer(ActivityUpdateSerializer):
    care_plan = serializers.UUIDField(help_text=_("The care plan's id."))
    description = serializers.CharField()
    responsible_organisation = serializers.PrimaryKeyRelatedField(
        queryset=_organisations(),
        help_text=_("Organisation id. Another organisation than yours is asked to accept (a hand-off)."),
    )


class ActivityStatusSerializer(InputSerializer):
    status = serializers.ChoiceField(choices=ActivityStatus.choices)
    outcome_note = serializers.CharField(required=False, allow_blank=True)
    comment = _reason()


class ActivityDoneSerializer(InputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, help_text=_("What was done, if worth noting."))


class HandoffAcceptSerializer(InputSerializer):
    comment = serializers.CharField(required=False, allow_blank=True)


class HandoffRejectSerializer(InputSerializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text=_("Required: why the organisation does not take it.")
    )


class ReassignSerializer(InputSerializer):
    organisation = serializers.PrimaryKeyRelatedField(
        queryset=_organisations(), help_text=_("Organisation id of the new responsible organisation.")
    )
    comment = _comment()


class ReadingSerializer(InputSerializer):
    """One measurement as sent. Plausible ranges, units and pairs are checked by the service."""

    code = serializers.ChoiceField(choices=ObservationCode.choices, help_text=_("LOINC code of the measurement."))
    value = serializers.DecimalField(
        max_digits=7, decimal_places=2, help_text=_("The value; the systolic pressure of a blood pressure.")
    )
    value_2 = serializers.DecimalField(
        max_digits=7,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=_("The diastolic pressure of a blood pressure; absent for other measurements."),
    )
    unit = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        help_text=_("UCUM unit: mm[Hg], /min, %, kg, mmol/L or L, as the measurement requires."),
    )
    effective_at = DateTimeField(help_text=_("When it was measured (ISO 8601 with time zone)."))
    source = serializers.ChoiceField(
        choices=ObservationSource.choices, required=False, help_text=_("Who measured; default: device.")
    )
    device_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    external_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text=_("The sender's id for the reading; a repeated id is not stored twice."),
    )
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)

    def reading(self) -> Reading:
        data = self.validated_data
        return Reading(
            code=data["code"],
            value=data["value"],
            value_2=data.get("value_2"),
            unit=data.get("unit", ""),
            effective_at=data["effective_at"],
            source=data.get("source") or ObservationSource.DEVICE,
            device_id=data.get("device_id", ""),
            external_id=data.get("external_id", ""),
            note=data.get("note", ""),
        )


class ObservationCreateSerializer(ReadingSerializer):
    citizen = serializers.UUIDField(help_text=_("The citizen's id."))


class ObservationBulkSerializer(serializers.Serializer):
    """For the documentation: the view parses the items one by one, so errors name their index."""

    items = ObservationCreateSerializer(many=True, help_text=_("Between 1 and 1,000 readings."))


class ObservationCorrectSerializer(InputSerializer):
    """Either new values (the observation becomes amended and a new one replaces it) or
    ``entered_in_error: true`` (it is withdrawn)."""

    entered_in_error = serializers.BooleanField(
        required=False, default=False, help_text=_("Withdraw the observation instead of correcting its values.")
    )
    value = serializers.DecimalField(max_digits=7, decimal_places=2, required=False)
    value_2 = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True)
    unit = serializers.CharField(max_length=20, required=False, allow_blank=True, help_text=_("Default: as before."))
    effective_at = DateTimeField(required=False, help_text=_("Default: as before."))
    source = serializers.ChoiceField(choices=ObservationSource.choices, required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs.get("entered_in_error") and "value" not in attrs:
            raise serializers.ValidationError({"value": [_("Give the corrected value, or entered_in_error: true.")]})
        return attrs

    def reading(self, original: Observation) -> Reading | None:
        data = self.validated_data
        if data.get("entered_in_error"):
            return None
        return Reading(
            code=original.code,
            value=data["value"],
            value_2=data.get("value_2"),
            unit=data.get("unit") or original.unit,
            effective_at=data.get("effective_at") or original.effective_at,
            source=data.get("source") or original.source,
            device_id=original.device_id,
            note=data.get("note", ""),
        )


class ThresholdCreateSerializer(InputSerializer):
    citizen = serializers.UUIDField(help_text=_("The citizen's id."))
    code = serializers.ChoiceField(
        choices=ThresholdCode.choices, help_text=_("LOINC code of the quantity; blood pressure has one per component.")
    )
    reason = serializers.CharField(help_text=_("The clinical reason for these limits."))
    red_low = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True)
    yellow_low = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True)
    yellow_high = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True)
    red_high = serializers.DecimalField(max_digits=7, decimal_places=2, required=False, allow_null=True)


class AlertAcknowledgeSerializer(InputSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AcknowledgeYellowSerializer(AlertAcknowledgeSerializer):
    citizen = serializers.UUIDField(help_text=_("The citizen's id."))
