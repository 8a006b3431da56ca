"""Synthetic care plans for the synthetic region: ``generate_region`` calls ``CarePlanGenerator``
for each batch of citizens it writes (``settings.SMARTCARE_REGION_EXTENSIONS``).

About a quarter of the citizens get a plan: those with a chronic condition of a programme
(``careplans.programmes``), drawn so that the share comes out at 25 %. A plan is coordinated by the
citizen's GP clinic, with the clinic and the municipality on the team (and, for 3 %, a hospital
department's outpatient clinic, which then sees the citizen through the team alone); 2-4 goals; 2-5 activities
(one-off controls at the clinic, recurring visits and courses for the municipality, most hand-offs
accepted and the visits made until lately, a few still awaiting an answer); thresholds and
monitoring schedules for the measurements of the programmes; and home measurements over the last
90 days, about 10 million at the region's full size (8.3 per citizen generated, so the volume
scales with ``--citizens``). Readings outside the thresholds in the last 30 days have alerts for
the coordinating and the monitoring organisation: acknowledged, except those of the last three
days; a few citizens stopped measuring and have an open "missing measurement" alert.

Rows are written like the citizens: COPY on PostgreSQL (observations as ready-made COPY lines, the
largest table by far), ``bulk_create`` elsewhere, with ids assigned here so rows can point at each
other (the sequences are moved past them at the end). The services are bypassed for speed: there
are no access-log entries or outbox events, and the history holds only each plan's creation,
written by one inactive "synthetic data" user. Foreign keys are checked per statement (not at
commit) so the transaction's pending checks stay small. Never runs in production (generate_region
refuses first).

The home-monitoring rows (thresholds, schedules, observations, alerts) are written by
``careplans.generate_monitoring.MonitoringRows``, a base of ``CarePlanGenerator``.
"""

from __future__ import annotations

import datetime
import json
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db import connection
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext

from citizens.models import Condition
from citizens.rowwriter import RowWriter, settle_tables
from sectors.choices import OrganisationKind
from sectors.models import Organisation, User

from .choices import ActivityStatus, CarePlanStatus, CareTeamRole, GoalAchievement, GoalLifecycleStatus, HandoffStatus
from .generate_monitoring import (
    ALERT_COLUMNS,
    COMPONENT,
    OBSERVATION_COLUMNS,
    SCHEDULE_COLUMNS,
    THRESHOLD_COLUMNS,
    MonitoringRows,
)
from .measurements import MEASUREMENTS
from .models import (
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
from .programmes import ANNUAL, GENERIC_GOAL, GP, HOME_BP, MEDICINE, MUNICIPALITY, PROGRAMMES, plan_title
from .recurrence import WEEKDAY_INDEX, next_occurrence

PLAN_SHARE = 0.25
OBSERVATIONS_AT_FULL_SIZE, FULL_SIZE = 10_000_000, 1_200_000
OBSERVATIONS_PER_CITIZEN = OBSERVATIONS_AT_FULL_SIZE / FULL_SIZE
SYSTEM_EMAIL = "synthetic.region@smartcare.invalid"

# Column order of the rows below (foreign keys by id).
PLAN_COLUMNS = [
    "id", "citizen", "title", "status", "intent", "period_start", "period_end", "coordinating_organisation",
    "coordinator", "description", "created_by", "created_by_organisation", "created_at", "updated_at",
]  # fmt: skip
GOAL_COLUMNS = [
    "id", "care_plan", "description", "responsible_organisation", "handoff_status", "due_date", "created_at",
    "updated_at", "target_code", "target_comparator", "target_value", "target_unit", "target_text",
    "lifecycle_status", "achievement",
]  # fmt: skip
ACTIVITY_COLUMNS = [
    "id", "care_plan", "description", "responsible_organisation", "handoff_status", "due_date", "created_at",
    "updated_at", "status", "weekdays", "interval_weeks", "starts_on", "ends_on", "outcome_note", "last_done_on",
    "next_due_on",
]  # fmt: skip
HANDOFF_COLUMNS = [
    "goal", "activity", "care_plan", "from_organisation", "to_organisation", "status", "requested_by",
    "requested_at", "answered_by", "answered_at", "reason",
]  # fmt: skip
CHANGE_COLUMNS = [
    "care_plan", "at", "by", "organisation", "target_type", "target_id", "target_label", "action", "changes",
    "comment",
]  # fmt: skip

# Citizen rows from citizens.generate.CITIZEN_COLUMNS.
C_ID, C_MUNICIPALITY, C_CLINIC, C_HOME_CARE = 0, 11, 12, 13


class CarePlanGenerator(MonitoringRows):
    """A ``citizens.generate.RegionExtension``: care plans and home monitoring for each batch."""

    name = "care plans"

    def __init__(self, *, rng: random.Random, now: datetime.datetime, progress: Callable[[str], None] | None = None):
        self.rng = rng
        self.now = now
        self.today = timezone.localdate(now)
        self.say = progress or (lambda message: None)
        self.pg = connection.vendor == "postgresql"
        if self.pg:  # check foreign keys per COPY, not millions of them at commit
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.user_id = self._system_user()
        self.condition_ids = dict(Condition.objects.values_list("icd10_code", "pk"))
        self.codes_by_condition = {pk: code for code, pk in self.condition_ids.items()}
        self.programme_codes = {p.code for p in PROGRAMMES}
        self.department_ids = list(
            Organisation.objects.filter(kind=OrganisationKind.HOSPITAL_DEPARTMENT)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.next_id = {
            model: (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
            for model in (Goal, Activity, Threshold, MonitoringSchedule)
        }
        bits = [rng.getrandbits(n) for n in (32, 16, 12, 12)]
        self.uuid_head = f"{bits[0]:08x}-{bits[1]:04x}-4{bits[2]:03x}-8{bits[3]:03x}-"
        self.uuid_count = 0
        self.counts: Counter = Counter()
        with translation.override("da"):  # stored texts are in the portal's language
            self.messages = {
                code: (gettext("%(measurement)s outside the limits: %(values)s %(unit)s"), str(m.label), m.unit_display)
                for code, m in MEASUREMENTS.items()
            }
            self.labels = {code: str(MEASUREMENTS[code].components[0].label) for code in COMPONENT}
            self.missing = gettext("%(measurement)s expected every %(hours)d hours; none since %(since)s")
        self.writers = {
            "plans": RowWriter(CarePlan, PLAN_COLUMNS),
            "conditions": RowWriter(CarePlan.conditions.through, ["careplan", "condition"]),
            "team": RowWriter(CareTeamParticipant, ["care_plan", "organisation", "role", "period_start", "period_end"]),
            "goals": RowWriter(Goal, GOAL_COLUMNS),
            "activities": RowWriter(Activity, ACTIVITY_COLUMNS),
            "handoffs": RowWriter(Handoff, HANDOFF_COLUMNS),
            "changes": RowWriter(PlanChange, CHANGE_COLUMNS),
            "thresholds": RowWriter(Threshold, THRESHOLD_COLUMNS),
            "schedules": RowWriter(MonitoringSchedule, SCHEDULE_COLUMNS),
            "observations": RowWriter(Observation, OBSERVATION_COLUMNS),
            "alerts": RowWriter(Alert, ALERT_COLUMNS),
        }
        self.rows: dict[str, list] = {key: [] for key in self.writers}
        self.started = datetime.datetime.now()

    @staticmethod
    def _system_user() -> int:
        user = User.objects.filter(email=SYSTEM_EMAIL).first()
        if user is None:
            user = User(email=SYSTEM_EMAIL, first_name="Syntetiske", last_name="data", is_active=False)
            user.set_unusable_password()
            user.save()
        return user.pk

    def _uuid(self) -> str:
        """Ascending within a run, so the primary-key index grows at its right edge."""
        self.uuid_count += 1
        return f"{self.uuid_head}{self.uuid_count:012x}"

    def _id(self, model) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    # --- per batch ---------------------------------------------------------------------------------

    def add(self, citizens: list[tuple], conditions: list[tuple]) -> None:
        codes: dict = defaultdict(set)
        for citizen_id, condition_id, _onset in conditions:
            code = self.codes_by_condition.get(condition_id)
            if code in self.programme_codes:
                codes[citizen_id].add(code)
        candidates = [row for row in citizens if row[C_ID] in codes]
        if not candidates:
            return
        share = min(1.0, PLAN_SHARE * len(citizens) / len(candidates))
        series: list[tuple] = []
        for row in candidates:
            if self.rng.random() < share:
                series += self._plan(row, codes[row[C_ID]])
        # The batch's share of the observations, spread over the series its plans monitor.
        per_series = OBSERVATIONS_PER_CITIZEN * len(citizens) / max(1, len(series))
        for args in series:
            self._series(*args, per_series)
        self._flush()
        elapsed = (datetime.datetime.now() - self.started).total_seconds()
        self.say(
            f"  care plans: {self.counts['care plans']:,} plans, {self.counts['observations']:,} observations "
            f"({elapsed:.0f} s)"
        )

    def _flush(self) -> None:
        for key, writer in self.writers.items():
            rows = self.rows[key]
            if key == "observations" and self.pg:
                writer.copy_text("".join(rows))
            else:
                writer.write(rows)
            self.rows[key] = []

    # --- one plan ----------------------------------------------------------------------------------

    def _plan(self, row: tuple, codes: set[str]) -> list[tuple]:
        """The plan's rows; returns the measurement series to simulate (arguments of ``_series``)."""
        rng, today = self.rng, self.today
        citizen_id, municipality, clinic = row[C_ID], row[C_MUNICIPALITY], row[C_CLINIC]
        home_care = row[C_HOME_CARE]
        programmes = [p for p in PROGRAMMES if p.code in codes][:3]
        plan_id = self._uuid()
        start = today - datetime.timedelta(days=rng.randint(30, 900))
        made = datetime.datetime.combine(start, datetime.time(9, rng.randint(0, 59)), tzinfo=datetime.UTC)
        status, end = CarePlanStatus.ACTIVE, None
        draw = rng.random()
        if draw < 0.04 and start < today - datetime.timedelta(days=60):
            status, end = CarePlanStatus.COMPLETED, today - datetime.timedelta(days=rng.randint(1, 29))
        elif draw < 0.07:
            status = CarePlanStatus.ON_HOLD
        title = plan_title(programmes)
        self.rows["plans"].append(
            (
                plan_id, citizen_id, title, status, "plan", start, end, clinic, None,
                "Fælles plan for egen læge og kommunen efter forløbsprogrammet.", self.user_id, clinic, made, made,
            )
        )  # fmt: skip
        for programme in programmes:
            self.rows["conditions"].append((plan_id, self.condition_ids[programme.code]))
        # The clinic and the municipality are the citizen's own: their care-team rows add no access.
        self.rows["team"].append((plan_id, clinic, CareTeamRole.COORDINATOR, start, None))
        self.rows["team"].append((plan_id, municipality, CareTeamRole.HOME_CARE, start, end))
        if self.department_ids and rng.random() < 0.03:
            department = rng.choice(self.department_ids)
            self.rows["team"].append((plan_id, department, CareTeamRole.HOSPITAL, start, end))
        changes = {"title": [None, title], "status": [None, CarePlanStatus.ACTIVE]}
        self.rows["changes"].append(
            (
                plan_id, made, self.user_id, clinic, "careplan", plan_id, title[:200], "created",
                json.dumps(changes, ensure_ascii=False) if self.pg else changes, "",
            )
        )  # fmt: skip
        self.counts["care plans"] += 1
        self.counts[f"plans {status}"] += 1
        asked_at = made + datetime.timedelta(hours=2)
        self._goals(plan_id, programmes, clinic, municipality, status, start, made, asked_at)
        self._activities(plan_id, programmes, clinic, municipality, status, start, made, asked_at, home_care)
        if status == CarePlanStatus.COMPLETED:
            return []
        measures = []
        for programme in programmes:
            for code in programme.measures:
                if code not in measures:
                    measures.append(code)
        monitor = municipality if home_care or rng.random() < 0.6 else clinic
        return [(citizen_id, plan_id, code, clinic, monitor, home_care, made) for code in measures[:2]]

    def _handoff(self, plan_id, *, goal=None, activity=None, clinic, municipality, asked_at, pending) -> str:
        if pending:
            asked_at = self.now - datetime.timedelta(hours=self.rng.randint(2, 240))
            status, answered_by, answered_at = HandoffStatus.REQUESTED, None, None
        else:
            status, answered_by = HandoffStatus.ACCEPTED, self.user_id
            answered_at = asked_at + datetime.timedelta(hours=self.rng.randint(2, 60))
        self.rows["handoffs"].append(
            (
                goal,
                activity,
                plan_id,
                clinic,
                municipality,
                status,
                self.user_id,
                asked_at,
                answered_by,
                answered_at,
                "",
            )
        )
        self.counts[f"hand-offs {status}"] += 1
        return status

    def _goals(self, plan_id, programmes, clinic, municipality, status, start, made, asked_at) -> None:
        rng = self.rng
        specs = {}
        for programme in programmes:
            for spec in programme.goals:
                specs.setdefault(spec.description, spec)
        chosen = list(specs.values())[: rng.randint(2, 4)]
        if len(chosen) < 2:
            chosen.append(GENERIC_GOAL)
        lifecycle = GoalLifecycleStatus.COMPLETED if status == CarePlanStatus.COMPLETED else GoalLifecycleStatus.ACTIVE
        for spec in chosen:
            goal_id = self._id(Goal)
            owner, handoff = clinic, ""
            if spec.owner == MUNICIPALITY:
                owner = municipality
                handoff = self._handoff(
                    plan_id, goal=goal_id, clinic=clinic, municipality=municipality, asked_at=asked_at, pending=False
                )
            code = comparator = unit = ""
            value = None
            if spec.target:
                code, comparator, raw, unit = spec.target
                value = Decimal(raw)
            achievement = rng.choice(
                (GoalAchievement.IN_PROGRESS, GoalAchievement.IMPROVING, GoalAchievement.NO_CHANGE)
                if lifecycle == GoalLifecycleStatus.ACTIVE
                else (GoalAchievement.ACHIEVED, GoalAchievement.NOT_ACHIEVED)
            )
            self.rows["goals"].append(
                (
                    goal_id, plan_id, spec.description, owner, handoff, start + datetime.timedelta(days=365), made,
                    made, code, comparator, value, unit, spec.target_text, lifecycle, achievement,
                )
            )  # fmt: skip
            self.counts["goals"] += 1

    def _activities(self, plan_id, programmes, clinic, municipality, status, start, made, asked_at, home_care):
        rng, today = self.rng, self.today
        specs = {}
        if home_care:
            specs[MEDICINE.description] = MEDICINE
        for programme in programmes:
            for spec in programme.activities:
                specs.setdefault(spec.description, spec)
        chosen = list(specs.values())[: rng.randint(2, 5)]
        if not any(spec.owner == MUNICIPALITY for spec in chosen):  # the municipality always has a part
            chosen = chosen[:4] + [HOME_BP]
        if len(chosen) < 2:
            chosen.append(ANNUAL)
        for spec in chosen:
            activity_id = self._id(Activity)
            if spec.owner == GP:
                due = today + datetime.timedelta(days=rng.randint(*spec.due_in))
                done = status == CarePlanStatus.COMPLETED
                if done:  # done already, so not on a day still to come
                    due = min(due, today)
                self.rows["activities"].append(
                    (
                        activity_id, plan_id, spec.description, clinic, "", due, made, made,
                        ActivityStatus.COMPLETED if done else ActivityStatus.SCHEDULED, "", 1, None, None, "",
                        due if done else None, None if done else due,
                    )
                )  # fmt: skip
            else:
                self._recurring(activity_id, plan_id, spec, clinic, municipality, status, start, made, asked_at)
            self.counts["activities"] += 1

    def _recurring(self, activity_id, plan_id, spec, clinic, municipality, status, start, made, asked_at) -> None:
        rng, today = self.rng, self.today
        pending = status == CarePlanStatus.ACTIVE and rng.random() < 0.03
        if pending:
            starts_on = today + datetime.timedelta(days=rng.randint(-2, 10))
        elif spec.weeks:  # a course, running now (or ended with the plan)
            starts_on = max(start, today - datetime.timedelta(days=rng.randint(7, spec.weeks * 7 - 3)))
        else:
            starts_on = start + datetime.timedelta(days=rng.randint(3, 10))
        ends_on = starts_on + datetime.timedelta(weeks=spec.weeks) if spec.weeks else None
        handoff = self._handoff(
            plan_id,
            activity=activity_id,
            clinic=clinic,
            municipality=municipality,
            asked_at=asked_at,
            pending=pending,
        )
        weekdays = spec.weekdays.split(",")
        last_done = next_due = None
        if pending:
            activity_status = ActivityStatus.NOT_STARTED
            next_due = next_occurrence(
                weekdays=weekdays, interval_weeks=1, starts_on=starts_on, ends_on=ends_on, on_or_after=starts_on
            )
        elif status == CarePlanStatus.COMPLETED:
            activity_status = ActivityStatus.COMPLETED
            last_done = _previous(weekdays, starts_on, min(ends_on or today, today))
        else:
            # Visits made until lately; now and then the latest was missed and is overdue.
            last_done = _previous(weekdays, starts_on, today)
            if last_done is not None and rng.random() < 0.1:
                last_done = _previous(weekdays, starts_on, last_done) or last_done
            after = last_done + datetime.timedelta(days=1) if last_done else starts_on
            next_due = next_occurrence(
                weekdays=weekdays, interval_weeks=1, starts_on=starts_on, ends_on=ends_on, on_or_after=after
            )
            if status == CarePlanStatus.ON_HOLD:
                activity_status = ActivityStatus.ON_HOLD
            elif next_due is None:
                activity_status = ActivityStatus.COMPLETED
            else:
                activity_status = ActivityStatus.IN_PROGRESS if last_done else ActivityStatus.SCHEDULED
        self.rows["activities"].append(
            (
                activity_id, plan_id, spec.description, municipality, handoff, None, made, made, activity_status,
                spec.weekdays, 1, starts_on, ends_on, "", last_done, next_due,
            )
        )  # fmt: skip

    # --- the end -----------------------------------------------------------------------------------

    def finish(self) -> dict[str, int]:
        if self.pg:
            settle_tables(
                numbered=(Goal, Activity, Threshold, MonitoringSchedule),
                written=[w.model for w in self.writers.values()],
            )
        return dict(sorted(self.counts.items()))


def _previous(weekdays: list[str], starts_on: datetime.date, before: datetime.date) -> datetime.date | None:
    """The last occurrence (weekly) strictly before ``before``, not before ``starts_on``."""
    days = {WEEKDAY_INDEX[d] for d in weekdays}
    day = before - datetime.timedelta(days=1)
    for _ in range(7):
        if day < starts_on:
            return None
        if day.weekday() in days:
            return day
        day -= datetime.timedelta(days=1)
    return None
