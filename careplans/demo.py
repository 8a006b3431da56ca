"""Demo care plans for ``make run``: most demo citizens (``citizens.demo``) get an active plan for
their chronic conditions, coordinated by their GP clinic, with goals, activities for the clinic
and the municipality, thresholds, monitoring schedules, 90 days of home measurements and a few
open alerts.

Everything that carries history goes through the services, acting as the demo staff: plans,
goals, activities, hand-offs (most accepted by the municipality, some still awaiting an answer),
visits marked done, thresholds and schedules. The story is told as if it had happened over the
past months: after each step the rows it wrote (plan history, hand-off times, outbox events,
threshold and schedule start) are dated back to when the step happened in the story. The access
log is append-only and keeps the real time of loading.

Measurements (``careplans.demo_measurements``): 90 days of them are bulk-created directly (fast,
and evaluating old readings would only raise alerts nobody acts on any more); the last three days
go through ``monitoring.observation_bulk_record``, so the open alerts are raised by the real
thresholds and recipients. Two citizens stopped measuring a few days ago, and
``missing_measurements_check`` flags them.

Deterministic (fixed seeds) and idempotent: a citizen who already has a care plan is left alone,
so a second run creates nothing. Refuses to run in production.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from citizens.access import Actor
from citizens.models import Citizen
from citizens.relationships import relationships_sync
from sectors.acting import resolve
from sectors.choices import MembershipRole, OrganisationKind
from sectors.demo import DEMO_DOMAIN
from sectors.models import Membership, Organisation
from sectors.reference import department_at

from .choices import CarePlanStatus, GoalLifecycleStatus, HandoffStatus, ObservationCode, ThresholdCode
from .demo_measurements import measurements_load, monitoring_set_up, series_for, simulate
from .models import (
    Activity,
    Alert,
    CareEvent,
    CarePlan,
    CareTeamParticipant,
    Goal,
    Handoff,
    MonitoringSchedule,
    PlanChange,
    Threshold,
)
from .monitoring import missing_measurements_check
from .programmes import GP, HEART_CLINIC, MEDICINE, MUNICIPALITY, PROGRAMMES, ActivitySpec, GoalSpec, plan_title
from .recurrence import next_occurrence
from .services import activity_create, activity_mark_done, careplan_create, goal_create, handoff_accept

SEED = 20261201
PLAN_SHARE = 0.85  # most citizens with a chronic condition have a plan
MAX_GOALS, MAX_ACTIVITIES = 3, 3  # per plan (plus a request to the hospital for a few)
# The personas of the demo (sectors.demo) act for their organisations; other organisations'
# demo staff act for theirs.
PERSONAS = {
    "gp@smartcare.example",
    "gp2@smartcare.example",
    "homecare.odense@smartcare.example",
    "homecare.svendborg@smartcare.example",
}


# --- the loader ----------------------------------------------------------------------------------------


def _actor(organisation: Organisation, role: str) -> Actor:
    memberships = Membership.objects.active().filter(organisation=organisation, role=role).select_related("user")
    chosen = next((m for m in memberships if m.user.email in PERSONAS), None) or memberships.order_by("pk").first()
    if chosen is None:
        raise ImproperlyConfigured(f"No demo {role} at {organisation}: load sectors.demo first.")
    return Actor(user=chosen.user, acting=resolve(chosen.user, organisation.pk), user_agent="careplans.demo")


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=timezone.get_current_timezone())


# The time each model's rows are dated by.
DATED = {
    CareTeamParticipant: "period_start",
    PlanChange: "at",
    CareEvent: "created_at",
    Handoff: "requested_at",
    Goal: "created_at",
    Activity: "created_at",
    Threshold: "valid_from",
    MonitoringSchedule: "starts_at",
}


@contextmanager
def _as_of(when: datetime.datetime, *models, answered: bool = False) -> Iterator[None]:
    """Date the rows of ``models`` that the services write inside the block (and, with
    ``answered``, the hand-offs they answer) back to ``when`` in the demo's story (a date field
    takes its date)."""
    started = timezone.now()
    marks = {model: model.objects.aggregate(top=Max("pk"))["top"] or 0 for model in models}
    yield
    for model, mark in marks.items():
        model.objects.filter(pk__gt=mark).update(**{DATED[model]: when})
    if CareTeamParticipant in marks:  # the update passes the receivers by: re-date the team's rows
        redated = CareTeamParticipant.objects.filter(pk__gt=marks[CareTeamParticipant]).values_list("pk", flat=True)
        relationships_sync("participant", list(redated), via="demo")
    if answered:
        Handoff.objects.filter(answered_at__gte=started).update(answered_at=when)


EVERYTHING = tuple(DATED)


class _Loader:
    def __init__(self, counter: Counter):
        self.counter = counter
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.actors: dict[tuple[int, str], Actor] = {}
        self.heart_clinic = department_at("Odense Universitetshospital", "Odense")
        self.heart_clinic_used = 0
        persona = Membership.objects.filter(user__email="gp@smartcare.example").select_related("organisation").first()
        self.odense_clinic = persona.organisation if persona else None
        self.stopped = 0
        self.citizens: list = []  # those given a plan in this run

    def actor(self, organisation: Organisation) -> Actor:
        role = {
            OrganisationKind.GP_CLINIC: MembershipRole.GP,
            OrganisationKind.MUNICIPALITY: MembershipRole.HOME_CARE_NURSE,
            OrganisationKind.HOSPITAL_DEPARTMENT: MembershipRole.HOSPITAL_PHYSICIAN,
        }[organisation.kind]
        key = (organisation.pk, role)
        if key not in self.actors:
            self.actors[key] = _actor(organisation, role)
        return self.actors[key]

    def plan_for(self, citizen: Citizen, serial: int) -> None:
        rng = random.Random(f"{SEED}:{citizen.cpr}")  # one stream per citizen: the same plan every time
        conditions = {cc.condition.icd10_code: cc.condition for cc in citizen.conditions.select_related("condition")}
        programmes = [p for p in PROGRAMMES if p.code in conditions][:3]
        if not programmes or rng.random() > PLAN_SHARE:
            return
        gp, municipality = self.actor(citizen.gp_clinic), self.actor(citizen.municipality)
        started = self.today - datetime.timedelta(days=rng.randint(95, 420))
        series = series_for(rng, programmes, serial)
        monitor = municipality if citizen.receives_home_care or rng.random() < 0.5 else gp

        # The GP makes the plan with the citizen: goals, activities, thresholds, schedules.
        made = _at(started, 10, rng.randint(0, 50))
        with _as_of(made, *EVERYTHING):
            plan = careplan_create(
                actor=gp,
                citizen=citizen,
                title=plan_title(programmes),
                coordinating_organisation=citizen.gp_clinic,
                conditions=[conditions[p.code] for p in programmes],
                status=CarePlanStatus.ACTIVE,
                coordinator=gp.user,
                period_start=started,
                description="Fælles plan for egen læge og kommunen efter forløbsprogrammet.",
                comment="Aftalt med borgeren ved årskontrollen.",
            )
            asked = self._goals(plan, programmes, series, gp, municipality, started)
            specs = self._activity_specs(rng, citizen, programmes)
            pending = specs.pop() if specs[-1].owner == MUNICIPALITY and rng.random() < 0.2 else None
            recurring = []
            for spec in specs:
                if spec.owner == GP:
                    self._gp_activity(rng, plan, spec, gp)
                elif spec.owner == MUNICIPALITY:
                    activity = self._municipality_activity(rng, plan, spec, gp, municipality, started)
                    asked.append(activity)
                    recurring.append(activity)
            monitoring_set_up(citizen=citizen, plan=plan, series=series, gp=gp, monitor=monitor, counter=self.counter)
        CarePlan.objects.filter(pk=plan.pk).update(created_at=made)
        self.counter["care plans"] += 1
        self.citizens.append(citizen.pk)

        # A day or two later the municipality accepts what it was asked to do ...
        with _as_of(made + datetime.timedelta(days=rng.randint(1, 3), hours=3), PlanChange, CareEvent, answered=True):
            for item in asked:
                handoff = item.handoffs.get(status=HandoffStatus.REQUESTED)
                handoff_accept(actor=municipality, handoff=handoff, comment="Indgår i vores tilbud.")
                self.counter["hand-offs accepted"] += 1
        # ... and has made the visits since (now and then the latest one was missed: overdue).
        for activity in recurring:
            self._visits(rng, activity, municipality)
        # Lately the GP asked OUH to see some of the heart-failure patients ...
        if HEART_CLINIC in specs:
            self._hospital_activity(rng, plan, HEART_CLINIC, gp)
        # ... and added one more activity nobody has answered yet (some of them overdue).
        if pending is not None:
            self._pending(rng, plan, pending, gp, municipality)
        if series:
            stop = 0
            if serial % 11 == 4 and self.stopped < 2:  # two citizens stopped measuring a few days ago
                stop, self.stopped = 5, self.stopped + 1
            for one in series:
                simulate(rng, one, now=self.now, stop_days_ago=stop)
            measurements_load(citizen=citizen, series=series, monitor=monitor, now=self.now, counter=self.counter)

    # goals --------------------------------------------------------------------------------------------

    def _goals(self, plan, programmes, series, gp, municipality, started) -> list[Goal]:
        """The plan's goals; returns those asked of the municipality."""
        specs: dict[str, GoalSpec] = {}
        for programme in programmes:
            for spec in programme.goals:
                specs.setdefault(spec.description, spec)
        weight = next((s for s in series if s.code == ObservationCode.BODY_WEIGHT), None)
        asked = []
        for spec in list(specs.values())[:MAX_GOALS]:
            fields = {"description": spec.description, "target_text": spec.target_text}
            if spec.target:
                code, comparator, value, unit = spec.target
                fields |= {"target_code": code, "target_comparator": comparator, "target_value": Decimal(value)}
                fields["target_unit"] = unit
            if spec.description.startswith("Stabil vægt") and weight is not None:
                fields |= {"target_code": ThresholdCode.BODY_WEIGHT, "target_comparator": "<", "target_unit": "kg"}
                fields |= {"target_value": Decimal(round(weight.baseline + 2)), "target_text": ""}
            due = started + datetime.timedelta(days=365)
            if spec.owner == GP:
                goal_create(
                    actor=gp,
                    plan=plan,
                    responsible_organisation=plan.coordinating_organisation,
                    due_date=due,
                    lifecycle_status=GoalLifecycleStatus.ACTIVE,
                    **fields,
                )
            else:
                goal = goal_create(
                    actor=gp, plan=plan, responsible_organisation=municipality.organisation, due_date=due, **fields
                )
                asked.append(goal)
            self.counter["goals"] += 1
        return asked

    # activities ---------------------------------------------------------------------------------------

    def _activity_specs(self, rng, citizen, programmes) -> list[ActivitySpec]:
        specs: dict[str, ActivitySpec] = {}
        if citizen.receives_home_care:
            specs[MEDICINE.description] = MEDICINE
        for programme in programmes:
            for spec in programme.activities:
                specs.setdefault(spec.description, spec)
        chosen = list(specs.values())[:MAX_ACTIVITIES]
        heart_failure = "I50" in {p.code for p in programmes}
        if heart_failure and self.heart_clinic_used < 2 and citizen.gp_clinic == self.odense_clinic:
            chosen.insert(0, HEART_CLINIC)  # OUH's heart-failure clinic is asked to see two of them
        return chosen

    def _gp_activity(self, rng, plan, spec, gp) -> None:
        activity_create(
            actor=gp,
            plan=plan,
            description=spec.description,
            responsible_organisation=plan.coordinating_organisation,
            due_date=self.today + datetime.timedelta(days=rng.randint(*spec.due_in)),
        )
        self.counter["activities"] += 1

    def _hospital_activity(self, rng, plan, spec, gp) -> None:
        """Asked of OUH a few days ago: the first accepted, the second still unanswered."""
        self.heart_clinic_used += 1
        asked = self.now - datetime.timedelta(days=rng.randint(2, 5), hours=rng.randint(0, 6))
        with _as_of(asked, CareTeamParticipant, PlanChange, CareEvent, Handoff, Activity):
            activity = activity_create(
                actor=gp,
                plan=plan,
                description=spec.description,
                responsible_organisation=self.heart_clinic,
                due_date=self.today + datetime.timedelta(days=rng.randint(*spec.due_in)),
                comment="Tiltagende åndenød trods behandling; ønsker vurdering.",
            )
        self.counter["activities"] += 1
        if self.heart_clinic_used == 1:
            with _as_of(asked + datetime.timedelta(hours=20), PlanChange, CareEvent, answered=True):
                handoff_accept(
                    actor=self.actor(self.heart_clinic), handoff=activity.handoffs.get(), comment="Indkaldes."
                )
            self.counter["hand-offs accepted"] += 1
        else:
            self.counter["hand-offs awaiting an answer"] += 1

    def _municipality_activity(self, rng, plan, spec, gp, municipality, started) -> Activity:
        if spec.weeks:  # a course: it started a few weeks ago and is still running
            starts_on = self.today - datetime.timedelta(days=rng.randint(7, spec.weeks * 7 - 10))
        else:  # ongoing since shortly after the plan was made
            starts_on = started + datetime.timedelta(days=rng.randint(3, 10))
        return self._recurring(plan, spec, gp, municipality, starts_on)

    def _recurring(self, plan, spec, gp, municipality, starts_on) -> Activity:
        self.counter["activities"] += 1
        return activity_create(
            actor=gp,
            plan=plan,
            description=spec.description,
            responsible_organisation=municipality.organisation,
            weekdays=spec.weekdays,
            starts_on=starts_on,
            ends_on=starts_on + datetime.timedelta(weeks=spec.weeks) if spec.weeks else None,
        )

    def _pending(self, rng, plan, spec, gp, municipality) -> None:
        asked = self.now - datetime.timedelta(days=rng.randint(1, 6), hours=rng.randint(0, 8))
        starts_on = timezone.localdate(asked) + datetime.timedelta(days=rng.randint(3, 10))
        with _as_of(asked, PlanChange, CareEvent, Handoff, Activity):
            self._recurring(plan, spec, gp, municipality, starts_on)
        self.counter["hand-offs awaiting an answer"] += 1

    def _visits(self, rng, activity: Activity, municipality: Actor) -> None:
        occurrences = self._occurrences(activity, before=self.today)
        if not occurrences:
            return
        missed = rng.random() < 0.2 and len(occurrences) > 1
        done_on = occurrences[-2] if missed else occurrences[-1]
        activity.refresh_from_db()
        with _as_of(_at(done_on, 9 + rng.randint(0, 6), rng.randint(0, 59)), PlanChange):
            activity_mark_done(actor=municipality, activity=activity, on=done_on)

    @staticmethod
    def _occurrences(activity: Activity, *, before: datetime.date) -> list[datetime.date]:
        """The last few occurrences before ``before``."""
        found, day = [], max(activity.starts_on, before - datetime.timedelta(days=28))
        while True:
            day = next_occurrence(
                weekdays=activity.weekday_list,
                interval_weeks=activity.interval_weeks,
                starts_on=activity.starts_on,
                ends_on=activity.ends_on,
                on_or_after=day,
            )
            if day is None or day >= before:
                return found[-3:]
            found.append(day)
            day += datetime.timedelta(days=1)


@transaction.atomic
def careplan_demo_load() -> Counter:
    if settings.IS_PRODUCTION:
        raise ImproperlyConfigured("Demo data is never loaded in production.")
    counter: Counter = Counter()
    loader = _Loader(counter)
    # The demo citizens (citizens.demo): demo CPR numbers, listed at a clinic with demo staff.
    demo_clinics = Organisation.objects.filter(
        kind=OrganisationKind.GP_CLINIC, memberships__user__email__endswith=f"@{DEMO_DOMAIN}"
    ).values("pk")
    citizens = (
        Citizen.objects.filter(cpr__regex=r"^[0-9]{6}9[0-9]{3}$", gp_clinic__in=demo_clinics, deceased_at=None)
        .select_related("gp_clinic", "municipality")
        .order_by("created_at", "cpr")
    )
    with_plans = set(CarePlan.objects.values_list("citizen_id", flat=True).distinct())
    for serial, citizen in enumerate(citizens):
        if citizen.pk not in with_plans:
            loader.plan_for(citizen, serial)
    if counter["care plans"]:
        before = Alert.objects.count()
        missing_measurements_check()
        counter["alerts"] += Alert.objects.count() - before
        # Events of the story's past were delivered back then; only the last day's wait in the outbox.
        CareEvent.objects.filter(
            citizen_id__in=loader.citizens, processed_at=None, created_at__lt=loader.now - datetime.timedelta(days=1)
        ).update(processed_at=F("created_at") + datetime.timedelta(minutes=1))
    return counter
