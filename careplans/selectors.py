"""Reads of care plans, hand-offs, measurements and alerts: through the citizen access policy,
with access-log entries for every citizen whose data is shown."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Case, Count, F, IntegerField, Model, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from citizens.access import Actor, access_reason, access_reasons, citizen_visible, visible_citizens
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import Citizen
from citizens.permissions import monitoring_organisations
from sectors.models import Organisation
from smartcare.pagination import capped_label

from .admissions import stay_note, with_stay
from .choices import ActivityStatus, AlertSeverity, HandoffStatus, ObservationStatus
from .filtersets import (
    ActivityFilterSet,
    AlertFilterSet,
    CarePlanFilterSet,
    GoalFilterSet,
    ObservationFilterSet,
    ThresholdFilterSet,
)
from .models import (
    OPEN_PLAN_STATUSES,
    Activity,
    Alert,
    CarePlan,
    CareTeamParticipant,
    Goal,
    Handoff,
    MonitoringSchedule,
    Observation,
    PlanChange,
    Threshold,
)
from .plan_detail import careplan_read

DONE_STATUSES = (
    ActivityStatus.COMPLETED,
    ActivityStatus.CANCELLED,
    ActivityStatus.STOPPED,
    ActivityStatus.ENTERED_IN_ERROR,
)


def _log(actor: Actor, citizens, detail: str, action: str = AccessAction.VIEW) -> None:
    citizens = list({c.pk: c for c in citizens}.values())
    if citizens:
        access_log_record(actor=actor, citizens=citizens, action=action, detail=detail)


def _plan_queryset() -> QuerySet[CarePlan]:
    return CarePlan.objects.select_related(
        "citizen", "citizen__municipality", "citizen__gp_clinic", "coordinating_organisation", "coordinator"
    ).prefetch_related(
        "conditions",
        Prefetch("participants", queryset=CareTeamParticipant.objects.select_related("organisation", "person")),
        Prefetch("goals", queryset=Goal.objects.select_related("responsible_organisation").order_by("due_date", "pk")),
        Prefetch(
            "activitys",
            queryset=Activity.objects.select_related("responsible_organisation", "responsible_person").order_by(
                "responsible_organisation__name", "next_due_on", "pk"
            ),
        ),
    )


def careplan_get(*, actor: Actor, pk: Any, detail: str = "care plan") -> CarePlan:
    """One plan with its team, goals and activities, or 404 (missing or outside the policy)."""
    plan = careplan_read(pk)
    if plan is None:
        raise Http404
    reason = access_reason(actor, plan.citizen)
    if reason is None:
        raise Http404
    access_log_record(
        actor=actor,
        citizens=plan.citizen,
        action=AccessAction.VIEW,
        detail=detail[:300],
        reason=reason[0],
        reason_text=reason[1],
    )
    return plan


def careplans_for_citizen(*, citizen: Citizen, open_only: bool = False) -> QuerySet[CarePlan]:
    """Plans of a citizen the caller already got through ``citizen_get`` (checked and logged)."""
    qs = _plan_queryset().filter(citizen=citizen)
    if open_only:
        qs = qs.filter(status__in=OPEN_PLAN_STATUSES)
    return qs.order_by(
        Case(When(status="active", then=Value(0)), default=Value(1), output_field=IntegerField()), "-period_start"
    )


def careplan_history(*, plan: CarePlan) -> QuerySet[PlanChange]:
    return plan.changes.select_related("by", "organisation").order_by("-at", "-pk")


def _incoming_handoffs(actor: Actor, *, include_answered: bool = False) -> QuerySet[Handoff]:
    """Requests to the acting organisation about citizens it may see: the list and its badge."""
    qs = Handoff.objects.filter(to_organisation=actor.organisation).filter(
        citizen_visible(actor.acting, actor.user, "care_plan__citizen_id")
    )
    return qs if include_answered else qs.filter(status=HandoffStatus.REQUESTED)


def _organisation_alerts(actor: Actor, *, include_acknowledged: bool = False) -> QuerySet[Alert]:
    """The acting organisation's alerts about citizens it may see: the work list and its badge."""
    qs = Alert.objects.filter(organisation=actor.organisation).filter(citizen_visible(actor.acting, actor.user))
    return qs if include_acknowledged else qs.filter(acknowledged_at__isnull=True)


# What a hand-off card shows of the item and its plan, so the receiver does not accept blind.
HANDOFF_CARD = (
    "care_plan__citizen",
    "care_plan__coordinator",
    "care_plan__coordinating_organisation",
    "goal",
    "activity__responsible_person",
)


def handoffs_incoming(*, actor: Actor, include_answered: bool = False) -> list[Handoff]:
    """Requests to the acting organisation; overdue ones first."""
    if not actor.acting:
        return []
    qs = _incoming_handoffs(actor, include_answered=include_answered).select_related(
        *HANDOFF_CARD, "from_organisation", "requested_by"
    )
    rows = list(qs.order_by("requested_at")[:500])
    _log(actor, [h.care_plan.citizen for h in rows], "hand-off requests", AccessAction.LIST)
    return rows


def handoffs_sent(*, actor: Actor) -> list[Handoff]:
    if not actor.acting:
        return []
    rows = list(
        Handoff.objects.filter(from_organisation=actor.organisation)
        .filter(citizen_visible(actor.acting, actor.user, "care_plan__citizen_id"))
        .select_related(*HANDOFF_CARD, "to_organisation", "answered_by")
        .order_by("-requested_at")[:200]
    )
    _log(actor, [h.care_plan.citizen for h in rows], "hand-offs sent", AccessAction.LIST)
    return rows


def handoff_get(*, actor: Actor, pk: Any) -> Handoff:
    try:
        handoff = Handoff.objects.select_related("care_plan__citizen", "goal", "activity").get(pk=pk)
    except (Handoff.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if actor.organisation is None or actor.organisation.pk not in (
        handoff.to_organisation_id,
        handoff.from_organisation_id,
    ):
        raise Http404
    if access_reason(actor, handoff.care_plan.citizen) is None:
        raise Http404
    return handoff


class Limited(list):
    """The rows of a work list cut at a limit, never counted: ``more`` says whether the list
    left rows out (one row more than the limit was fetched to know)."""

    more: bool = False


def _limited(rows: list, limit: int) -> Limited:
    cut = Limited(rows[:limit])
    cut.more = len(rows) > limit
    return cut


ALERTS_LIMIT = 500  # one citizen's alerts on the overview
ALERTS_PAGE_SIZE = 50  # the alert page, paginated: Odense Kommune has about 1,850 open alerts


def _alert_rows(actor: Actor, *, include_acknowledged: bool, citizen: Citizen | None) -> QuerySet[Alert]:
    qs = _organisation_alerts(actor, include_acknowledged=include_acknowledged)
    if citizen is not None:
        qs = qs.filter(citizen=citizen)
    return (
        qs.select_related("citizen", "observation", "acknowledged_by")
        .annotate(
            rank=Case(When(severity=AlertSeverity.RED, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("rank", "created_at", "pk")
    )


def alerts_worklist(*, actor: Actor, include_acknowledged: bool = False, citizen: Citizen | None = None) -> Limited:
    """Open alerts for the acting organisation: red before yellow, oldest first; at most
    ``ALERTS_LIMIT`` (``more`` says whether there are others)."""
    if not actor.acting:
        return Limited()
    rows = _limited(
        list(_alert_rows(actor, include_acknowledged=include_acknowledged, citizen=citizen)[: ALERTS_LIMIT + 1]),
        ALERTS_LIMIT,
    )
    if citizen is None:
        alerts_listed(actor=actor, alerts=rows)
    return rows


def alerts_page_rows(
    *, actor: Actor, include_acknowledged: bool = False, citizen: Citizen | None = None
) -> QuerySet[Alert]:
    """The alert page's rows in ``alerts_worklist``'s order, not yet read: the page cuts one page
    of them (``smartcare.pagination.CappedPaginator``) and logs those with ``alerts_listed``."""
    if not actor.acting:
        return Alert.objects.none()
    return _alert_rows(actor, include_acknowledged=include_acknowledged, citizen=citizen)


def alerts_listed(*, actor: Actor, alerts: Iterable[Alert]) -> None:
    """Log the citizens of the alerts shown in a list, each once."""
    _log(actor, [a.citizen for a in alerts], "alert list", AccessAction.LIST)


TODAY_LIMIT = 300


def today_list(*, actor: Actor, day: datetime.date | None = None, log: bool = True) -> Limited:
    """Home-care "Today": activities due today or overdue, owned by the acting organisation or
    assigned to the user, for citizens the organisation serves, in visiting order by address;
    each with ``open_alerts``, the organisation's open alerts for the citizen, and ``stay``, the
    citizen's hospital stay when it pauses the visit or it ended lately (``careplans.admissions``).

    At most ``TODAY_LIMIT``, the most overdue first when there are more. They are chosen by due
    date, which the (organisation, next due) index yields in order, and put in address order
    here: ordering a large municipality's thousands of due visits by address in the database,
    with an alert count joined to each, took most of a second (scripts/benchmark_careplans.py).
    ``more`` says whether due activities were left out; nothing is counted to know it."""
    if not actor.acting:
        return Limited()
    day = day or timezone.localdate()
    organisation = actor.organisation
    visible = visible_citizens(actor.acting, actor.user).values("pk")
    due = with_stay(
        Activity.objects.filter(
            next_due_on__lte=day, care_plan__status__in=OPEN_PLAN_STATUSES, care_plan__citizen_id__in=visible
        )
        .exclude(status__in=(*DONE_STATUSES, ActivityStatus.ON_HOLD))  # on hold: paused, no visit
        .exclude(handoff_status__in=[HandoffStatus.REQUESTED, HandoffStatus.REJECTED])
        .select_related("care_plan__citizen", "responsible_person")
        .order_by("next_due_on", "pk"),
        citizen="care_plan__citizen_id",
        now=timezone.now(),
    )
    # The organisation's first due activities in due-date order come straight from the index; the
    # plan and gate checks then run for those only (joined to all of them at once, PostgreSQL
    # misjudges the gate and checks every due activity before sorting). If too many of them fail
    # the checks, the complete query decides.
    candidates = list(
        Activity.objects.filter(responsible_organisation=organisation, next_due_on__lte=day)
        .exclude(status__in=(*DONE_STATUSES, ActivityStatus.ON_HOLD))
        .exclude(handoff_status__in=[HandoffStatus.REQUESTED, HandoffStatus.REJECTED])
        .order_by("next_due_on", "pk")
        .values_list("pk", flat=True)[: 2 * TODAY_LIMIT]
    )
    rows = list(due.filter(pk__in=candidates))
    if len(rows) <= TODAY_LIMIT and len(candidates) == 2 * TODAY_LIMIT:  # others may follow the candidates
        rows = list(due.filter(responsible_organisation=organisation)[: TODAY_LIMIT + 1])
    # Assigned to the user by name in another organisation: a query of its own, not an OR.
    rows += due.filter(responsible_person=actor.user).exclude(responsible_organisation=organisation)[: TODAY_LIMIT + 1]
    rows = _limited(sorted(rows, key=lambda a: (a.next_due_on, a.pk)), TODAY_LIMIT)
    citizen_ids = {a.care_plan.citizen_id for a in rows}
    open_alerts = dict(
        Alert.objects.filter(organisation=organisation, acknowledged_at__isnull=True, citizen_id__in=citizen_ids)
        .values("citizen_id")
        .annotate(n=Count("pk"))
        .values_list("citizen_id", "n")
        .order_by()
    )
    for activity in rows:
        activity.open_alerts = open_alerts.get(activity.care_plan.citizen_id, 0)
        activity.stay = stay_note(activity, activity.care_plan.citizen)
    rows.sort(
        key=lambda a: (
            a.care_plan.citizen.postal_code,
            a.care_plan.citizen.street,
            a.care_plan.citizen.last_name,
            a.next_due_on,
            a.pk,
        )
    )
    if log:  # the dashboard and the Today page show some of the rows and log those themselves
        today_listed(actor=actor, citizens=[a.care_plan.citizen for a in rows])
    return rows


def today_listed(*, actor: Actor, citizens: Iterable[Citizen]) -> None:
    """Log the citizens shown on the Today list, each once."""
    _log(actor, citizens, "today list", AccessAction.LIST)


def observation_series(*, citizen: Citizen, code: str, since: datetime.datetime | None = None) -> QuerySet[Observation]:
    """Measurements of a citizen the caller already got through the policy, oldest first."""
    qs = Observation.objects.filter(citizen=citizen, code=code).exclude(status=ObservationStatus.ENTERED_IN_ERROR)
    if since:
        qs = qs.filter(effective_at__gte=since)
    return qs.exclude(status=ObservationStatus.AMENDED).order_by("effective_at")


def latest_observations(*, citizen: Citizen) -> list[Observation]:
    """The newest valid measurement of each type."""
    latest: dict[str, Observation] = {}
    qs = (
        Observation.objects.filter(citizen=citizen, status=ObservationStatus.FINAL)
        .order_by("code", "-effective_at")
        .distinct()
    )
    for obs in qs[:200]:
        latest.setdefault(obs.code, obs)
    return list(latest.values())


def current_thresholds(*, citizen: Citizen) -> dict[str, Threshold]:
    return {t.code: t for t in Threshold.objects.filter(citizen=citizen, valid_to__isnull=True)}


def threshold_history(*, citizen: Citizen) -> QuerySet[Threshold]:
    return Threshold.objects.filter(citizen=citizen).select_related("set_by", "set_by_organisation")


# The badges show "99+" beyond this, like the unread messages: counting Odense Kommune's 1,700
# hand-offs and 1,850 alerts through the gate on every page cost more than the numbers are worth.
BADGE_CAP = 99


def navigation_counts(*, actor: Actor, cap: int | None = None) -> dict[str, Any]:
    """Counts for the navigation badges: what the hand-off and alert lists show, counted through
    the same gated querysets (a citizen that left the gate leaves the badge too) up to ``cap`` + 1,
    with their labels ("99+"); ``cap`` is ``BADGE_CAP`` unless given. No citizen data, so nothing
    to log."""
    cap = BADGE_CAP if cap is None else cap
    if not actor.acting:
        counts = {"handoffs": 0, "alerts": 0, "red_alerts": 0}
    else:
        handoffs = _incoming_handoffs(actor).order_by()[: cap + 1].count()
        # Open alerts come red first from the worklist index ("red" sorts before "yellow"), so
        # the first cap + 1 of them hold every red one up to the cap.
        alerts = (
            _organisation_alerts(actor)
            .order_by("severity")[: cap + 1]
            .aggregate(total=Count("pk"), red=Count("pk", filter=Q(severity=AlertSeverity.RED)))
        )
        counts = {"handoffs": handoffs, "alerts": alerts["total"], "red_alerts": alerts["red"]}
    labels = {f"{name}_label": capped_label(count, cap) for name, count in counts.items()}
    return {**counts, **labels}


# --- worklists: single rows for the Today, alerts and thresholds pages -------------------------


def activity_get(*, actor: Actor, pk: Any) -> Activity:
    """One activity for a write (marking it done), or 404 when missing or outside the policy.
    Not logged: the service that changes it logs the write."""
    try:
        activity = Activity.objects.select_related("care_plan__citizen", "responsible_person").get(pk=pk)
    except (Activity.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not actor.acting or access_reason(actor, activity.care_plan.citizen) is None:
        raise Http404
    return activity


def alert_get(*, actor: Actor, pk: Any) -> Alert:
    """One of the acting organisation's alerts, or 404 (another organisation's alert answers
    exactly like a missing one). Not logged: acknowledging it is the write that is logged."""
    if not actor.acting:
        raise Http404
    try:
        alert = Alert.objects.select_related("citizen").get(pk=pk, organisation=actor.organisation)
    except (Alert.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if access_reason(actor, alert.citizen) is None:
        raise Http404
    return alert


def monitoring_schedules(*, citizen: Citizen) -> QuerySet[MonitoringSchedule]:
    """The current and future schedules of a citizen the caller got through ``citizen_get``."""
    now = timezone.now()
    return (
        MonitoringSchedule.objects.filter(citizen=citizen)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("monitoring_organisation")
        .order_by("code", "starts_at")
    )


def monitoring_organisation_choices(*, actor: Actor, citizen: Citizen) -> QuerySet[Organisation]:
    """Who may be asked to watch a measurement: of the citizen's GP clinic and municipality, the
    organisations on the citizen's open care teams and the acting organisation, those that may
    monitor the citizen (``citizens.permissions.may_monitor``: a care relationship, no objection)."""
    ids = {pk for pk in (citizen.gp_clinic_id, citizen.municipality_id, actor.acting_organisation.pk) if pk}
    today = timezone.localdate()
    ids.update(
        CareTeamParticipant.objects.filter(
            care_plan__citizen=citizen, care_plan__status__in=OPEN_PLAN_STATUSES, period_start__lte=today
        )
        .filter(Q(period_end__isnull=True) | Q(period_end__gte=today))
        .values_list("organisation_id", flat=True)
    )
    allowed = monitoring_organisations(list(Organisation.objects.filter(pk__in=ids)), citizen)
    return Organisation.objects.filter(pk__in=allowed).order_by("name")


# --- the API: gated lists and records, each citizen shown logged as read --------------------------

M = TypeVar("M", bound=Model)


def _visible_ids(actor: Actor) -> QuerySet:
    return visible_citizens(actor.acting, actor.user).values("pk")


def _filtered(queryset: QuerySet[M], filterset_class, filters: Mapping[str, Any] | None) -> QuerySet[M]:
    if filters is None:
        return queryset
    filterset = filterset_class(filters, queryset=queryset)
    if not filterset.is_valid():
        return queryset.none()
    return filterset.qs


def careplan_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[CarePlan]:
    """Plans of the citizens the actor may see, filtered; logged when rows are shown."""
    qs = (
        CarePlan.objects.filter(citizen_id__in=_visible_ids(actor))
        .select_related("citizen", "coordinating_organisation", "coordinator")
        .prefetch_related("conditions")
    )
    return _filtered(qs, CarePlanFilterSet, filters).order_by("-period_start", "title", "pk")


def goal_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Goal]:
    qs = Goal.objects.filter(care_plan__citizen_id__in=_visible_ids(actor)).select_related(
        "care_plan__citizen", "responsible_organisation"
    )
    return _filtered(qs, GoalFilterSet, filters).order_by("due_date", "pk")


def activity_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Activity]:
    qs = Activity.objects.filter(care_plan__citizen_id__in=_visible_ids(actor)).select_related(
        "care_plan__citizen", "responsible_organisation", "responsible_person"
    )
    return _filtered(qs, ActivityFilterSet, filters).order_by("next_due_on", "pk")


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None  # the filter set refuses it


def observation_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Observation]:
    """Every version of the measurements (amended and entered-in-error ones say so), newest first.
    The citizen is not read with them: the API names it by id. For one citizen (the ``citizen``
    filter) the gate is asked about that citizen first, one prepared lookup, rather than being a
    subquery of both the count and the page."""
    citizen_id = _uuid((filters or {}).get("citizen"))
    if citizen_id is None:
        qs = Observation.objects.filter(citizen_id__in=_visible_ids(actor))
    elif reason := access_reasons(actor, [citizen_id]).get(citizen_id):
        # The rows carry the gate's answer, so logging them asks the gate no second time.
        qs = Observation.objects.filter(citizen_id=citizen_id).annotate(access_via=Value(reason))
    else:
        qs = Observation.objects.none()
    # Only the id of the correcting observation is shown: a column, not a model instance per row.
    qs = qs.select_related("entered_by_organisation").annotate(replaced_by_pk=F("replaced_by__pk"))
    return _filtered(qs, ObservationFilterSet, filters).order_by("-effective_at", "pk")


def threshold_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Threshold]:
    """Current thresholds (every version with ``history``), by citizen and quantity."""
    qs = Threshold.objects.filter(citizen_id__in=_visible_ids(actor)).select_related(
        "citizen", "set_by", "set_by_organisation"
    )
    return _filtered(qs, ThresholdFilterSet, filters if filters is not None else {}).order_by(
        "citizen_id", "code", "-version"
    )


def alert_list(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Alert]:
    """The acting organisation's alerts (open and acknowledged), newest first."""
    if not actor.acting:
        return Alert.objects.none()
    qs = Alert.objects.filter(organisation=actor.organisation, citizen_id__in=_visible_ids(actor)).select_related(
        "citizen", "acknowledged_by"
    )
    return _filtered(qs, AlertFilterSet, filters).order_by("-created_at", "-pk")


def _records(model: type[Model], actor: Actor) -> tuple[QuerySet, Callable[[Any], Citizen]]:
    if model is CarePlan:
        return _plan_queryset(), lambda plan: plan.citizen
    if model is Goal:
        return (
            Goal.objects.select_related("care_plan__citizen", "responsible_organisation"),
            lambda goal: goal.care_plan.citizen,
        )
    if model is Activity:
        return (
            Activity.objects.select_related("care_plan__citizen", "responsible_organisation", "responsible_person"),
            lambda a: a.care_plan.citizen,
        )
    if model is Observation:
        return Observation.objects.select_related(
            "citizen", "entered_by_organisation", "replaced_by"
        ), lambda o: o.citizen
    if model is Threshold:
        thresholds = Threshold.objects.select_related("citizen", "set_by", "set_by_organisation")
        return thresholds, lambda threshold: threshold.citizen
    if model is Alert:
        alerts = Alert.objects.filter(organisation=actor.organisation) if actor.organisation else Alert.objects.none()
        return alerts.select_related("citizen", "acknowledged_by"), lambda a: a.citizen
    raise TypeError(f"Not a care-plan record: {model.__name__}")


def record_get(*, actor: Actor, model: type[M], pk: Any, action: str | None = None, detail: str = "") -> M:
    """One plan, goal, activity, observation, threshold or (the acting organisation's) alert, or 404 when it
    is missing or its citizen is outside the access policy: the two answer alike. Logged as a read
    when ``action`` is given; a write passes none, as the service logs the change itself."""
    queryset, citizen_of = _records(model, actor)
    try:
        record: Any = careplan_read(pk) if model is CarePlan else queryset.get(pk=pk)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc
    if record is None:
        raise Http404
    citizen = citizen_of(record)
    reason = access_reason(actor, citizen)
    if reason is None:
        raise Http404
    if action:
        access_log_record(
            actor=actor, citizens=citizen, action=action, detail=detail[:300], reason=reason[0], reason_text=reason[1]
        )
    return record


def citizen_for_write(*, actor: Actor, pk: Any) -> Citizen | None:
    """A citizen named in a request body, through the access policy; None when missing or outside
    it (the caller answers both alike). Not logged: the write that follows is."""
    try:
        return visible_citizens(actor.acting, actor.user).filter(pk=pk).first()
    except (ValidationError, ValueError, TypeError):
        return None
