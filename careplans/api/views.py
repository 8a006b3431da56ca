"""``/api/v1/careplans/``, ``goals/``, ``activities/``, ``observations/``, ``thresholds/`` and ``alerts/``.

Every read goes through ``careplans.selectors`` (the access policy plus the access log, action
api_read, for the citizens whose data is returned) and every write through ``careplans.services``
or ``careplans.monitoring``; these views only parse the request and shape the answer. A record of
a citizen outside the acting organisation's relationships answers 404, exactly like a missing
one, and lists leave such citizens out. A citizen or plan named in a request body that the
organisation may not see is "No such citizen" / "No such care plan", like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from citizens.access import Actor
from citizens.accesslog import citizens_read_log
from citizens.api.views import api_actor
from citizens.choices import AccessAction
from citizens.models import Citizen
from sectors.choices import TokenUse

from .. import monitoring, services
from ..filtersets import (
    ActivityFilterSet,
    AlertFilterSet,
    CarePlanFilterSet,
    GoalFilterSet,
    ObservationFilterSet,
    ThresholdFilterSet,
)
from ..models import Activity, Alert, CarePlan, Goal, Observation, Threshold
from ..selectors import (
    activity_list,
    alert_list,
    careplan_list,
    citizen_for_write,
    goal_list,
    observation_list,
    record_get,
    threshold_list,
)
from .observations import ObservationSerializer
from .schema import (
    ACTIVITY_DOCS,
    ALERT_DOCS,
    CAREPLAN_DOCS,
    GOAL_DOCS,
    INVALID_TRANSITION,
    OBSERVATION_DOCS,
    THRESHOLD_DOCS,
)
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
    InputSerializer,
    ObservationCorrectSerializer,
    ObservationCreateSerializer,
    ReassignSerializer,
    ThresholdCreateSerializer,
    ThresholdSerializer,
)

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"
INT_PATTERN = "[0-9]+"

S = TypeVar("S", bound=InputSerializer)

# --- helpers -------------------------------------------------------------------------------------


def _parsed(serializer_class: type[S], request: Request) -> S:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer


def _refuse_fields(request: Request, fields: dict[str, str]) -> None:
    """Fields that change through an action of their own are refused, not silently ignored."""
    data = request.data if isinstance(request.data, dict) else {}
    errors = {name: [message] for name, message in fields.items() if name in data}
    if errors:
        raise ValidationError(errors)


def _transition(call: Callable[[], Any], *, field: str = "status") -> Any:
    """Run a status change; a transition the lifecycle refuses answers 400 with its code."""
    try:
        return call()
    except DjangoValidationError as exc:
        codes = {error.code for errors in getattr(exc, "error_dict", {}).values() for error in errors}
        if INVALID_TRANSITION not in codes:
            raise
        detail: dict[str, Any] = {(field if key == "status" else key): msgs for key, msgs in exc.message_dict.items()}
        detail["code"] = INVALID_TRANSITION
        raise ValidationError(detail) from None


def _citizen(actor: Actor, pk: Any) -> Citizen:
    citizen = citizen_for_write(actor=actor, pk=pk)
    if citizen is None:
        raise ValidationError({"citizen": [_("No such citizen.")]})
    return citizen


def _plan(actor: Actor, pk: Any) -> CarePlan:
    try:
        return record_get(actor=actor, model=CarePlan, pk=pk)
    except Http404:
        raise ValidationError({"care_plan": [_("No such care plan.")]}) from None


class GatedViewSet(viewsets.GenericViewSet):
    """Lists and records through the access policy, logged as api_read.

    ``queryset`` is for the schema generator only (model, id type, filters); every read goes
    through the selectors."""

    parser_classes = [JSONParser]
    list_selector: Callable[..., Any]
    detail_serializer_class: type[Serializer] | None = None

    def citizen_of(self, record: Model) -> Citizen:
        return record.citizen

    def get_serializer_class(self):
        if self.action != "list" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return super().get_serializer_class()

    def list(self, request: Request, *args, **kwargs) -> Response:
        filters = self.filterset_class(request.query_params, queryset=self.queryset)
        if not filters.is_valid():
            raise ValidationError(filters.errors)
        actor = api_actor(request)
        rows = self.paginate_queryset(type(self).list_selector(actor=actor, filters=request.query_params))
        citizens_read_log(
            actor=actor, citizens=[self.citizen_of(row) for row in rows], detail=f"api {self.basename} list"
        )
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        record = record_get(
            actor=api_actor(request),
            model=self.queryset.model,
            pk=kwargs["pk"],
            action=AccessAction.API_READ,
            detail=f"api {self.basename} detail",
        )
        return Response(self.get_serializer(record).data)

    def _record(self, actor: Actor) -> Any:
        """The record of a write, through the access policy (404 outside it); not logged as a
        read: the service logs the change."""
        return record_get(actor=actor, model=self.queryset.model, pk=self.kwargs["pk"])

    def _answer(self, actor: Actor, pk: Any, *, http_status: int = status.HTTP_200_OK) -> Response:
        """The record after a write (not logged as a read either), or 204 when the actor can no
        longer see it."""
        try:
            record = record_get(actor=actor, model=self.queryset.model, pk=pk)
        except Http404:
            return Response(status=status.HTTP_204_NO_CONTENT)
        serializer_class = self.detail_serializer_class or self.serializer_class
        return Response(serializer_class(record).data, status=http_status)


# --- care plans ----------------------------------------------------------------------------------


@CAREPLAN_DOCS
@extend_schema(tags=["care plans"])
class CarePlanViewSet(GatedViewSet):
    queryset = CarePlan.objects.none()
    serializer_class = CarePlanSerializer
    scope_resource_type = "CarePlan"
    detail_serializer_class = CarePlanDetailSerializer
    filterset_class = CarePlanFilterSet
    list_selector = staticmethod(careplan_list)
    lookup_value_regex = UUID_PATTERN

    def create(self, request: Request) -> Response:
        arguments = _parsed(CarePlanCreateSerializer, request).service_arguments()
        actor = api_actor(request)
        citizen = _citizen(actor, arguments.pop("citizen"))
        plan = services.careplan_create(actor=actor, citizen=citizen, **arguments)
        return self._answer(actor, plan.pk, http_status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        plan = self._record(actor)
        _refuse_fields(request, {"status": _("Change the status with POST /api/v1/careplans/{id}/status/.")})
        services.careplan_update(
            actor=actor, plan=plan, **_parsed(CarePlanUpdateSerializer, request).service_arguments()
        )
        return self._answer(actor, plan.pk)

    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        plan = self._record(actor)
        arguments = _parsed(CarePlanStatusSerializer, request).service_arguments()
        _transition(lambda: services.careplan_set_status(actor=actor, plan=plan, **arguments))
        return self._answer(actor, plan.pk)

    @action(detail=True, methods=["post"])
    def team(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        plan = self._record(actor)
        participant = services.careteam_add(
            actor=actor, plan=plan, **_parsed(CareTeamAddSerializer, request).service_arguments()
        )
        return Response(CareTeamParticipantSerializer(participant).data, status=status.HTTP_201_CREATED)


# --- goals and activities ------------------------------------------------------------------------


class AssignableItemViewSet(GatedViewSet):
    """Goals and activities: owned by a responsible organisation, which accepts a hand-off."""

    lookup_value_regex = INT_PATTERN

    def citizen_of(self, record: Goal | Activity) -> Citizen:
        return record.care_plan.citizen

    def _create(self, request: Request, serializer_class, service) -> Response:
        arguments = _parsed(serializer_class, request).service_arguments()
        actor = api_actor(request)
        plan = _plan(actor, arguments.pop("care_plan"))
        item = service(actor=actor, plan=plan, **arguments)
        return self._answer(actor, item.pk, http_status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        item = self._record(actor)
        services.item_handoff_accept(actor=actor, item=item, **_parsed(HandoffAcceptSerializer, request).validated_data)
        return self._answer(actor, item.pk)

    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        item = self._record(actor)
        reason = _parsed(HandoffRejectSerializer, request).validated_data.get("reason", "")
        services.item_handoff_reject(actor=actor, item=item, reason=reason)
        return self._answer(actor, item.pk)

    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        item = self._record(actor)
        services.item_reassign(actor=actor, item=item, **_parsed(ReassignSerializer, request).service_arguments())
        return self._answer(actor, item.pk)


@GOAL_DOCS
@extend_schema(tags=["goals"])
class GoalViewSet(AssignableItemViewSet):
    queryset = Goal.objects.none()
    scope_resource_type = "Goal"
    serializer_class = GoalSerializer
    filterset_class = GoalFilterSet
    list_selector = staticmethod(goal_list)

    def create(self, request: Request) -> Response:
        return self._create(request, GoalCreateSerializer, services.goal_create)

    def partial_update(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        goal = self._record(actor)
        _refuse_fields(
            request,
            {
                "lifecycle_status": _("Change the status with POST /api/v1/goals/{id}/status/."),
                "achievement": _("Change the achievement with POST /api/v1/goals/{id}/status/."),
            },
        )
        services.goal_update(actor=actor, goal=goal, **_parsed(GoalUpdateSerializer, request).service_arguments())
        return self._answer(actor, goal.pk)

    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        goal = self._record(actor)
        arguments = _parsed(GoalStatusSerializer, request).service_arguments()
        _transition(lambda: services.goal_set_status(actor=actor, goal=goal, **arguments), field="lifecycle_status")
        return self._answer(actor, goal.pk)


@ACTIVITY_DOCS
@extend_schema(tags=["activities"])
class ActivityViewSet(AssignableItemViewSet):
    queryset = Activity.objects.none()
    scope_resource_type = "CarePlan"  # FHIR's CarePlan.activity
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    list_selector = staticmethod(activity_list)

    def create(self, request: Request) -> Response:
        return self._create(request, ActivityCreateSerializer, services.activity_create)

    def partial_update(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        activity = self._record(actor)
        _refuse_fields(request, {"status": _("Change the status with POST /api/v1/activities/{id}/status/.")})
        services.activity_update(
            actor=actor, activity=activity, **_parsed(ActivityUpdateSerializer, request).service_arguments()
        )
        return self._answer(actor, activity.pk)

    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def set_status(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        activity = self._record(actor)
        arguments = _parsed(ActivityStatusSerializer, request).service_arguments()
        _transition(lambda: services.activity_set_status(actor=actor, activity=activity, **arguments))
        return self._answer(actor, activity.pk)

    @action(detail=True, methods=["post"])
    def done(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        activity = self._record(actor)
        arguments = _parsed(ActivityDoneSerializer, request).service_arguments()
        _transition(lambda: services.activity_mark_done(actor=actor, activity=activity, **arguments))
        return self._answer(actor, activity.pk)


# --- home monitoring -----------------------------------------------------------------------------


@OBSERVATION_DOCS
@extend_schema(tags=["measurements"])
class ObservationViewSet(GatedViewSet):
    queryset = Observation.objects.none()
    serializer_class = ObservationSerializer
    scope_resource_type = "Observation"
    # A token limited to writing observations may record them, one or many (not correct them).
    scope_write_uses = {"create": TokenUse.WRITE_OBSERVATIONS, "bulk": TokenUse.WRITE_OBSERVATIONS}
    filterset_class = ObservationFilterSet
    list_selector = staticmethod(observation_list)
    lookup_value_regex = UUID_PATTERN

    def citizen_of(self, record: Observation) -> Citizen:
        """The list reads no citizen rows (the answer names the citizen by id): the access log
        needs only the id, and the gate's answer when the selector carried it on the rows."""
        known: dict[Any, Citizen] = self.__dict__.setdefault("_citizens", {})  # a page is mostly one citizen's
        citizen = known.get(record.citizen_id)
        if citizen is None:
            citizen = known[record.citizen_id] = Citizen(pk=record.citizen_id)
            if hasattr(record, "access_via"):
                citizen.access_via = record.access_via  # type: ignore[attr-defined]
        return citizen

    def create(self, request: Request) -> Response:
        serializer = _parsed(ObservationCreateSerializer, request)
        actor = api_actor(request)
        citizen = _citizen(actor, serializer.validated_data["citizen"])
        observation = monitoring.observation_record(actor=actor, citizen=citizen, reading=serializer.reading())
        return self._answer(actor, observation.pk, http_status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        observation = self._record(actor)
        serializer = _parsed(ObservationCorrectSerializer, request)
        reading = serializer.reading(observation)
        result = monitoring.observation_correct(
            actor=actor, observation=observation, reading=reading, note=serializer.validated_data.get("note", "")
        )
        return self._answer(
            actor, result.pk, http_status=status.HTTP_200_OK if reading is None else status.HTTP_201_CREATED
        )

    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        items = request.data.get("items") if isinstance(request.data, dict) else None
        if not isinstance(items, list):
            raise ValidationError({"items": [_("Send the readings as a list under “items”.")]})
        monitoring.check_bulk_size(len(items))
        actor = api_actor(request)
        parsed: list[monitoring.BulkItem | None] = []
        errors: dict[int, Any] = {}
        for index, item in enumerate(items):
            serializer = ObservationCreateSerializer(data=item)
            if serializer.is_valid():
                parsed.append(
                    monitoring.BulkItem(citizen_id=serializer.validated_data["citizen"], reading=serializer.reading())
                )
            else:
                parsed.append(None)
                errors[index] = serializer.errors
        try:
            if errors:  # report the service's findings on the well-formed readings too
                well_formed = [index for index, item in enumerate(parsed) if item is not None]
                if well_formed:
                    found = monitoring.observation_bulk_validate(actor=actor, items=[parsed[i] for i in well_formed])
                    errors.update({well_formed[position]: fields for position, fields in found.items()})
                raise monitoring.BulkValidationError(errors)
            stored = monitoring.observation_bulk_record(actor=actor, items=parsed)
        except monitoring.BulkValidationError as exc:
            raise ValidationError({"items": {str(index): fields for index, fields in sorted(exc.item_errors.items())}})
        return Response(BulkResultSerializer({"ids": [o.pk for o in stored]}).data, status=status.HTTP_201_CREATED)


@THRESHOLD_DOCS
@extend_schema(tags=["measurements"])
class ThresholdViewSet(GatedViewSet):
    queryset = Threshold.objects.none()
    serializer_class = ThresholdSerializer
    filterset_class = ThresholdFilterSet
    list_selector = staticmethod(threshold_list)
    lookup_value_regex = INT_PATTERN

    def create(self, request: Request) -> Response:
        arguments = _parsed(ThresholdCreateSerializer, request).service_arguments()
        actor = api_actor(request)
        citizen = _citizen(actor, arguments.pop("citizen"))
        threshold = monitoring.threshold_set(actor=actor, citizen=citizen, **arguments)
        return Response(ThresholdSerializer(threshold).data, status=status.HTTP_201_CREATED)


@ALERT_DOCS
@extend_schema(tags=["measurements"])
class AlertViewSet(GatedViewSet):
    queryset = Alert.objects.none()
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    list_selector = staticmethod(alert_list)
    lookup_value_regex = INT_PATTERN

    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        alert = self._record(actor)
        monitoring.alert_acknowledge(
            actor=actor, alert=alert, **_parsed(AlertAcknowledgeSerializer, request).validated_data
        )
        return self._answer(actor, alert.pk)

    @action(detail=False, methods=["post"], url_path="acknowledge-yellow", url_name="acknowledge-yellow")
    def acknowledge_yellow(self, request: Request) -> Response:
        arguments = _parsed(AcknowledgeYellowSerializer, request).service_arguments()
        actor = api_actor(request)
        citizen = _citizen(actor, arguments.pop("citizen"))
        count = monitoring.alerts_acknowledge_yellow(actor=actor, citizen=citizen, **arguments)
        return Response(AcknowledgedCountSerializer({"acknowledged": count}).data)
