"""The OpenAPI documentation of ``careplans.api.views``: the error answers, and each view set's
summaries, descriptions and responses (applied there with ``@CAREPLAN_DOCS`` and the like)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view

from sectors.api.views import ACTING_HEADER
from smartcare.api.schema import ERROR_REF, error_schema

from .observations import ObservationSerializer
from .serializers import (
    AcknowledgedCountSerializer,
    AcknowledgeYellowSerializer,
    ActivityCreateSerializer,
    ActivityDoneSerializer,
    ActivitySerializer,
    ActivityStatusSerializer,
    ActivityUpdateSerializer,
    AlertAcknowledgeSerializer,
    AlertSerializer,
    BulkResultSerializer,
    CarePlanCreateSerializer,
    CarePlanDetailSerializer,
    CarePlanSerializer,
    CarePlanStatusSerializer,
    CarePlanUpdateSerializer,
    CareTeamAddSerializer,
    CareTeamParticipantSerializer,
    GoalCreateSerializer,
    GoalSerializer,
    GoalStatusSerializer,
    GoalUpdateSerializer,
    HandoffAcceptSerializer,
    HandoffRejectSerializer,
    ObservationBulkSerializer,
    ObservationCorrectSerializer,
    ObservationCreateSerializer,
    ReassignSerializer,
    ThresholdCreateSerializer,
    ThresholdSerializer,
)

INVALID_TRANSITION = "invalid_transition"

# --- documentation of the errors -----------------------------------------------------------------

BAD_REQUEST = OpenApiResponse(
    error_schema({"period_end": ["The plan cannot end before it starts."]}),
    description=_(
        "Invalid input: the body maps each field to its messages; rules that span fields are under "
        "non_field_errors. A citizen or care plan the acting organisation may not see is reported like one "
        "that does not exist. Nothing is saved."
    ),
)
TRANSITION_REFUSED = OpenApiResponse(
    error_schema({"status": ["The status cannot change from “Draft” to “Completed”."], "code": INVALID_TRANSITION}),
    description=_(
        "Invalid input, or a transition the FHIR lifecycle does not allow: then the body also has "
        "`code: invalid_transition` beside the status field's message. Nothing is saved."
    ),
)
FORBIDDEN = OpenApiResponse(
    error_schema(),
    description=_(
        "Not signed in, or the acting organisation may not make this change: only organisations on the care "
        "team change a plan, only the responsible organisation changes a goal's or activity's status, only the "
        "receiving organisation answers a hand-off, and only the alert's organisation acknowledges it."
    ),
)
UNAUTHENTICATED = OpenApiResponse(
    error_schema(), description=_("Not signed in: send a session cookie or `Authorization: Token <key>`.")
)
NOT_FOUND = OpenApiResponse(
    error_schema(),
    description=_(
        "No such record, or one of a citizen the acting organisation has no relationship with: the two are "
        "indistinguishable on purpose."
    ),
)
NO_LONGER_VISIBLE = OpenApiResponse(
    description=_(
        "The change was saved, and the acting organisation no longer has a relationship with the citizen "
        "(e.g. the plan it was on the care team of was completed), so the record is not shown."
    )
)
BAD_FILTER = OpenApiResponse(
    error_schema({"status": ["Select a valid choice. x is not one of the available choices."]}),
    description=_("An invalid filter value: each filter maps to its messages."),
)
BULK_REFUSED = OpenApiResponse(
    {"allOf": [ERROR_REF, {"properties": {"items": {"oneOf": [{"type": "array"}, {"type": "object"}]}}}]},
    description=_(
        "Nothing was stored. Either `items` is a list of messages about the request as a whole (none, or more "
        "than 1,000 readings), or an object mapping the index of each wrong reading to its field errors, e.g. "
        '`{"items": {"3": {"value": ["Weight 900 kg is not plausible (20–350)."]}}}`.'
    ),
    examples=[
        OpenApiExample(
            "A wrong reading",
            value={"items": {"3": {"unit": ["Wrong unit lbs; expected kg."]}}},
        )
    ],
)


def _documented(summary, description: str = "", *, request=None, responses=None, **kwargs):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses=responses,
        parameters=[ACTING_HEADER, *kwargs.pop("parameters", [])],
        **kwargs,
    )


def _list_doc(summary, serializer, description: str):
    return _documented(
        summary,
        description,
        responses={200: serializer(many=True), 400: BAD_FILTER, 403: UNAUTHENTICATED},
    )


def _retrieve_doc(summary, serializer):
    return _documented(
        summary,
        _("Logged in the access log (action api_read)."),
        responses={200: serializer, 403: UNAUTHENTICATED, 404: NOT_FOUND},
    )


# --- the view sets' documentation ----------------------------------------------------------------


def _item_actions_docs(serializer, *, accept, reject, reassign) -> dict:
    return {
        "accept": _documented(
            accept,
            _("Only the organisation it was assigned to accepts; the requesting organisation is told."),
            request=HandoffAcceptSerializer,
            responses={200: serializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        ),
        "reject": _documented(
            reject,
            _("Only the organisation it was assigned to rejects, with a reason; the requesting organisation is told."),
            request=HandoffRejectSerializer,
            responses={200: serializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        ),
        "reassign": _documented(
            reassign,
            _(
                "An open request is withdrawn and the new organisation is asked to accept; the old and the new "
                "owner are told."
            ),
            request=ReassignSerializer,
            responses={200: serializer, 204: NO_LONGER_VISIBLE, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        ),
    }


CAREPLAN_DOCS = extend_schema_view(
    list=_list_doc(
        _("Care plans the acting organisation may see"),
        CarePlanSerializer,
        _(
            "A page of the care plans of the citizens the acting organisation may see, newest first, without "
            "their team, goals and activities. Every citizen on the page is logged (action api_read)."
        ),
    ),
    retrieve=_retrieve_doc(_("One care plan with its care team, goals and activities"), CarePlanDetailSerializer),
    create=_documented(
        _("Create a care plan"),
        _(
            "For a citizen the acting organisation may see. The coordinating organisation and the acting "
            "organisation join the care team. A new plan is a draft or active."
        ),
        request=CarePlanCreateSerializer,
        responses={201: CarePlanDetailSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=_documented(
        _("Change a care plan"),
        _(
            "Only organisations on the care team change the plan; every change is kept in its history. The "
            "status changes through POST …/status/."
        ),
        request=CarePlanUpdateSerializer,
        responses={
            200: CarePlanDetailSerializer,
            204: NO_LONGER_VISIBLE,
            400: BAD_REQUEST,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    ),
    set_status=_documented(
        _("Change the status of a care plan"),
        _(
            "Follows the FHIR CarePlan lifecycle: draft → active → on-hold/completed/revoked; any → "
            "entered-in-error. A transition it does not allow answers 400 with code invalid_transition."
        ),
        request=CarePlanStatusSerializer,
        responses={
            200: CarePlanDetailSerializer,
            204: NO_LONGER_VISIBLE,
            400: TRANSITION_REFUSED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    ),
    team=_documented(
        _("Add a participant to the care team"),
        _("An organisation (and optionally a named person) joins the team; being on it gives access to the citizen."),
        request=CareTeamAddSerializer,
        responses={201: CareTeamParticipantSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
)


GOAL_DOCS = extend_schema_view(
    list=_list_doc(
        _("Goals the acting organisation may see"),
        GoalSerializer,
        _("Goals of the care plans of the citizens the acting organisation may see; each citizen shown is logged."),
    ),
    retrieve=_retrieve_doc(_("One goal"), GoalSerializer),
    create=_documented(
        _("Add a goal to a care plan"),
        _(
            "By an organisation on the care team. A goal for another organisation than the acting one is a "
            "hand-off: that organisation joins the care team and is asked to accept (handoff_status requested)."
        ),
        request=GoalCreateSerializer,
        responses={201: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=_documented(
        _("Change a goal"),
        _("The status changes through POST …/status/, the owner through POST …/reassign/."),
        request=GoalUpdateSerializer,
        responses={200: GoalSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    set_status=_documented(
        _("Change a goal's lifecycle status or achievement"),
        _(
            "Only the responsible organisation, once it has accepted the goal. Follows the FHIR Goal "
            "lifecycle; a transition it does not allow answers 400 with code invalid_transition."
        ),
        request=GoalStatusSerializer,
        responses={200: GoalSerializer, 400: TRANSITION_REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    **_item_actions_docs(
        GoalSerializer,
        accept=_("Accept the hand-off of a goal"),
        reject=_("Reject the hand-off of a goal"),
        reassign=_("Give a goal to another organisation"),
    ),
)


ACTIVITY_DOCS = extend_schema_view(
    list=_list_doc(
        _("Activities the acting organisation may see"),
        ActivitySerializer,
        _(
            "Activities of the care plans of the citizens the acting organisation may see, by next due date; "
            "`due_before` gives those due on or before a date. Each citizen shown is logged."
        ),
    ),
    retrieve=_retrieve_doc(_("One activity"), ActivitySerializer),
    create=_documented(
        _("Add an activity to a care plan"),
        _(
            "A one-off activity has a due date, a recurring one weekdays (and an interval in weeks). An "
            "activity for another organisation than the acting one is a hand-off that it must accept."
        ),
        request=ActivityCreateSerializer,
        responses={201: ActivitySerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
    partial_update=_documented(
        _("Change an activity"),
        _("The status changes through POST …/status/ or …/done/, the owner through POST …/reassign/."),
        request=ActivityUpdateSerializer,
        responses={200: ActivitySerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    set_status=_documented(
        _("Change an activity's status"),
        _(
            "Only the responsible organisation, once it has accepted the activity. Follows the FHIR activity "
            "status lifecycle; a transition it does not allow answers 400 with code invalid_transition."
        ),
        request=ActivityStatusSerializer,
        responses={200: ActivitySerializer, 400: TRANSITION_REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    done=_documented(
        _("Mark an activity done today"),
        _("A one-off activity is completed; a recurring one moves on to its next date."),
        request=ActivityDoneSerializer,
        responses={200: ActivitySerializer, 400: TRANSITION_REFUSED, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    **_item_actions_docs(
        ActivitySerializer,
        accept=_("Accept the hand-off of an activity"),
        reject=_("Reject the hand-off of an activity"),
        reassign=_("Give an activity to another organisation"),
    ),
)


OBSERVATION_DOCS = extend_schema_view(
    list=_list_doc(
        _("Measurements the acting organisation may see"),
        ObservationSerializer,
        _(
            "Home measurements of the citizens the acting organisation may see, newest first, every version: a "
            "corrected one is amended (replaced_by names its correction), a withdrawn one entered-in-error. "
            "Each citizen shown is logged."
        ),
    ),
    retrieve=_retrieve_doc(_("One measurement"), ObservationSerializer),
    create=_documented(
        _("Record a measurement"),
        _(
            "One reading for a citizen the acting organisation may see. The unit must be the measurement's UCUM "
            "unit and the value physically plausible (a weight of 900 kg is refused). A value outside the "
            "citizen's thresholds raises a yellow or red alert. A reading whose external_id was received before "
            "is not stored twice: the earlier measurement is returned."
        ),
        request=ObservationCreateSerializer,
        responses={201: ObservationSerializer, 400: BAD_REQUEST, 403: UNAUTHENTICATED},
    ),
    correct=_documented(
        _("Correct a measurement"),
        _(
            "A measurement is never overwritten. With new values it becomes amended and a new one (201) "
            "replaces it; with entered_in_error: true it is withdrawn (200)."
        ),
        request=ObservationCorrectSerializer,
        responses={200: ObservationSerializer, 201: ObservationSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    ),
    bulk=_documented(
        _("Record up to 1,000 measurements at once (devices)"),
        _(
            "All or nothing: every reading is checked first, and if any is wrong nothing is stored and the "
            "errors come back by the reading's index in `items`. Readings whose external_id was received "
            "before (or earlier in the list) are not stored twice."
        ),
        request=ObservationBulkSerializer,
        responses={201: BulkResultSerializer, 400: BULK_REFUSED, 403: UNAUTHENTICATED},
    ),
)


THRESHOLD_DOCS = extend_schema_view(
    list=_list_doc(
        _("Thresholds the acting organisation may see"),
        ThresholdSerializer,
        _(
            "The yellow and red limits of the citizens the acting organisation may see: the current version of "
            "each, or with `history=true` every version. Each citizen shown is logged."
        ),
    ),
    create=_documented(
        _("Set a citizen's limits for one measured quantity"),
        _("A new version; the current one is closed and kept. Give the clinical reason and at least one limit."),
        request=ThresholdCreateSerializer,
        responses={201: ThresholdSerializer, 400: BAD_REQUEST, 403: UNAUTHENTICATED},
    ),
    retrieve=_retrieve_doc(_("One version of a threshold"), ThresholdSerializer),
)


ALERT_DOCS = extend_schema_view(
    list=_list_doc(
        _("Alerts of the acting organisation"),
        AlertSerializer,
        _(
            "The acting organisation's alerts, newest first; `open=true` gives those not acknowledged yet. "
            "Each citizen shown is logged."
        ),
    ),
    retrieve=_retrieve_doc(_("One of the acting organisation's alerts"), AlertSerializer),
    acknowledge=_documented(
        _("Acknowledge an alert"),
        _("Only the alert's organisation acknowledges it, once."),
        request=AlertAcknowledgeSerializer,
        responses={200: AlertSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    acknowledge_yellow=_documented(
        _("Acknowledge every open yellow alert of a citizen"),
        _("For the acting organisation; red alerts are acknowledged one by one."),
        request=AcknowledgeYellowSerializer,
        responses={200: AcknowledgedCountSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    ),
)
