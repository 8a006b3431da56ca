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

from citizens.generate import RowWriter
from citizens.models import Condition
from sectors.choices import OrganisationKind
from sectors.models import Organisation, User

from .choices import (
    ActivityStatus,
    AlertKind,
    AlertSeverity,
    CarePlanStatus,
    CareTeamRole,
    GoalAchievement,
    GoalLifecycleStatus,
    HandoffStatus,
    ObservationCode,
    ObservationSource,
    ThresholdCode,
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
HISTORY_DAYS = 90
OPEN_DAYS = 3  # alerts of the last days are still open
ALERT_DAYS = 30  # older alerts were acknowledged; none before this
ALARM = {"red": 0.015, "yellow": 0.04}  # share of series whose latest reading is outside the limits
STOPPED_SHARE = 0.01  # series whose citizen stopped measuring
SYSTEM_EMAIL = "synthetic.region@smartcare.invalid"
RECEIVED_AFTER = datetime.timedelta(minutes=3)
UNITS = {code: m.unit for code, m in MEASUREMENTS.items()}
COMPONENT = {
    ObservationCode.BLOOD_PRESSURE: ThresholdCode.SYSTOLIC,
    ObservationCode.BODY_WEIGHT: ThresholdCode.BODY_WEIGHT,
    ObservationCode.SPO2: ThresholdCode.SPO2,
}

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
THRESHOLD_COLUMNS = [
    "id", "citizen", "code", "unit", "red_low", "yellow_low", "yellow_high", "red_high", "reason", "version",
    "set_by", "set_by_organisation", "valid_from", "valid_to",
]  # fmt: skip
SCHEDULE_COLUMNS = [
    "id", "citizen", "care_plan", "code", "every_hours", "grace_hours", "monitoring_organisation", "starts_at",
    "ends_at",
]  # fmt: skip
OBSERVATION_COLUMNS = [
    "id", "citizen", "code", "value", "value_2", "unit", "effective_at", "source", "status", "replaces",
    "entered_by", "entered_by_organisation", "entered_at", "device_id", "external_id", "note",
]  # fmt: skip
ALERT_COLUMNS = [
    "citizen", "organisation", "kind", "severity", "code", "observation", "threshold", "schedule", "message",
    "created_at", "acknowledged_at", "acknowledged_by", "acknowledgement_note",
]  # fmt: skip

# Citizen rows from citizens.generate.CITIZEN_COLUMNS.
C_ID, C_MUNICIPALITY, C_CLINIC, C_HOME_CARE = 0, 11, 12, 13


class _Series:
    """One citizen's simulated measurements of one kind and the limits the GP set for them."""

    __slots__ = ("code", "baseline", "trend", "noise", "limits", "alarm", "stopped", "threshold_id", "schedule_id")

    def __init__(self, rng: random.Random, code: str):
        self.code = code
        self.alarm = None
        draw = rng.random()
        if draw < ALARM["red"]:
            self.alarm = "red"
        elif draw < ALARM["red"] + ALARM["yellow"]:
            self.alarm = "yellow"
        self.stopped = self.alarm is None and rng.random() < STOPPED_SHARE
        if code == ObservationCode.BLOOD_PRESSURE:
            self.baseline, self.trend, self.noise = rng.uniform(124, 160), rng.choice((-12, -6, -3, 0, 4, 8)), 7.0
            high = max(150, round(self.baseline + 15))
            self.limits = (90, 100, high, high + 25)
        elif code == ObservationCode.BODY_WEIGHT:
            self.baseline, self.trend, self.noise = rng.uniform(58, 118), rng.choice((-2.0, -1.0, 0.0, 0.5, 1.0)), 0.6
            dry = round(self.baseline, 1)
            self.limits = (round(dry - 5, 1), round(dry - 3, 1), round(dry + 2, 1), round(dry + 3.5, 1))
        else:
            self.baseline, self.trend, self.noise = rng.uniform(91.5, 96), rng.choice((-1.0, 0.0, 0.5)), 1.0
            low = 90 if self.baseline > 93 else 88
            self.limits = (low - 2, low, None, None)
        self.threshold_id = self.schedule_id = 0

    def severity(self, value: float) -> str | None:
        red_low, yellow_low, yellow_high, red_high = self.limits
        if (red_low is not None and value < red_low) or (red_high is not None and value > red_high):
            return AlertSeverity.RED
        if (yellow_low is not None and value < yellow_low) or (yellow_high is not None and value > yellow_high):
            return AlertSeverity.YELLOW
        return None

    def inside(self, value: float) -> float:
        red_low, yellow_low, yellow_high, red_high = self.limits
        if yellow_low is not None:
            value = max(value, yellow_low + 1)
        if yellow_high is not None:
            value = min(value, yellow_high - 1)
        return value

    def alarm_value(self, rng: random.Random) -> float:
        red_low, yellow_low, yellow_high, red_high = self.limits
        if yellow_high is None:  # SpO2: too low
            return red_low - rng.randint(1, 2) if self.alarm == "red" else yellow_low - 1
        if self.alarm == "red":
            return red_high + (rng.uniform(0.2, 1.2) if self.code == ObservationCode.BODY_WEIGHT else rng.uniform(1, 9))
        return (yellow_high + red_high) / 2


def _reason(code: str) -> str:
    return {
        ThresholdCode.SYSTOLIC: "Individuelle grænser ud fra borgerens vanlige blodtryk.",
        ThresholdCode.DIASTOLIC: "Behandlingsmål diastolisk < 90 mmHg.",
        ThresholdCode.BODY_WEIGHT: "Stigning over 2 kg fra tørvægt tyder på væskeophobning.",
        ThresholdCode.SPO2: "KOL: under den vanlige iltmætning kontaktes lægen.",
    }[code]


def _format(code: str, value: float) -> str:
    if code == ObservationCode.BODY_WEIGHT:
        return f"{value:.1f}"
    if code == ObservationCode.SPO2:
        return str(min(100, int(value + 0.5)))
    return str(int(value + 0.5))


class CarePlanGenerator:
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
            "team": RowWriter(
                CareTeamParticipant,
                ["care_plan", "organisation", "role", "period_start", "period_end", "beyond_own_list"],
            ),
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
        # The clinic and the municipality are the citizen's own: the team is not their way in.
        self.rows["team"].append((plan_id, clinic, CareTeamRole.COORDINATOR, start, None, False))
        self.rows["team"].append((plan_id, municipality, CareTeamRole.HOME_CARE, start, end, False))
        if self.department_ids and rng.random() < 0.03:
            department = rng.choice(self.department_ids)
            self.rows["team"].append((plan_id, department, CareTeamRole.HOSPITAL, start, end, True))
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

    # --- home monitoring ---------------------------------------------------------------------------

    def _series(self, citizen_id, plan_id, code, clinic, monitor, home_care, made, observations) -> None:
        rng, now = self.rng, self.now
        series = _Series(rng, code)
        component = COMPONENT[code]
        series.threshold_id = self._id(Threshold)
        red_low, yellow_low, yellow_high, red_high = series.limits
        self.rows["thresholds"].append(
            (
                series.threshold_id, citizen_id, component, UNITS[code], red_low, yellow_low, yellow_high, red_high,
                _reason(component), 1, self.user_id, clinic, made, None,
            )
        )  # fmt: skip
        self.counts["thresholds"] += 1
        if code == ObservationCode.BLOOD_PRESSURE:
            self.rows["thresholds"].append(
                (
                    self._id(Threshold), citizen_id, ThresholdCode.DIASTOLIC, UNITS[code], None, None, 95, 110,
                    _reason(ThresholdCode.DIASTOLIC), 1, self.user_id, clinic, made, None,
                )
            )  # fmt: skip
            self.counts["thresholds"] += 1
        every = 48 if code == ObservationCode.BODY_WEIGHT else 72
        series.schedule_id = self._id(MonitoringSchedule)
        self.rows["schedules"].append((series.schedule_id, citizen_id, plan_id, code, every, 24, monitor, made, None))
        self.counts["monitoring schedules"] += 1

        # Readings at a morning hour, about evenly spread over the 90 days.
        count = max(2, int(observations * rng.uniform(0.7, 1.3) + 0.5))
        step = HISTORY_DAYS * 86400 / count
        first = now - datetime.timedelta(days=HISTORY_DAYS)
        stop_at = now - datetime.timedelta(days=rng.randint(5, 10)) if series.stopped else now
        source = ObservationSource.HOME_CARE if home_care else ObservationSource.DEVICE
        unit = UNITS[code]
        open_since, alert_since = now - datetime.timedelta(days=OPEN_DAYS), now - datetime.timedelta(days=ALERT_DAYS)
        readings = []
        offset = rng.uniform(0, step)
        while offset < HISTORY_DAYS * 86400:
            at = first + datetime.timedelta(seconds=offset)
            at = at.replace(hour=5 + rng.randint(0, 4), minute=rng.randint(0, 59), second=0, microsecond=0)
            if at >= stop_at:
                break
            progress = offset / (HISTORY_DAYS * 86400)
            value = series.baseline + series.trend * progress + rng.gauss(0, series.noise)
            readings.append([at, value])
            offset += step * rng.uniform(0.6, 1.4)
        recent = [r for r in readings if r[0] >= open_since]
        for reading in recent:
            reading[1] = series.inside(reading[1])
        if series.alarm and recent:
            recent[-1][1] = series.alarm_value(rng)
        lines = self.rows["observations"]
        bp = code == ObservationCode.BLOOD_PRESSURE
        for at, value in readings:
            observation_id = self._uuid()
            text = _format(code, value)
            diastolic = None
            if bp:
                diastolic = str(int(min(max(0.52 * value + 12 + rng.gauss(0, 4), 50), min(value - 25, 94)) + 0.5))
            if self.pg:
                stamp = at.strftime("%Y-%m-%d %H:%M:%S+00")
                lines.append(
                    f"{observation_id}\t{citizen_id}\t{code}\t{text}\t{diastolic or chr(92) + 'N'}\t{unit}\t{stamp}\t"
                    f"{source}\tfinal\t\\N\t{self.user_id}\t{monitor}\t{stamp}\t\t\t\n"
                )
            else:
                lines.append(
                    (
                        observation_id, citizen_id, code, Decimal(text), diastolic and Decimal(diastolic), unit, at,
                        source, "final", None, self.user_id, monitor, at, "", "", "",
                    )
                )  # fmt: skip
            if at >= alert_since:
                severity = series.severity(float(text))
                if severity:
                    self._alert(series, citizen_id, clinic, monitor, observation_id, at, text, severity, open_since)
        self.counts["observations"] += len(readings)
        if series.stopped and readings:
            last = readings[-1][0]
            due = last + datetime.timedelta(hours=every + 24)
            if due < now:
                label, hours = self.messages[code][1], every
                message = self.missing % {
                    "measurement": label,
                    "hours": hours,
                    "since": f"{timezone.localtime(last):%d.%m.%Y %H:%M}",  # Danish, as the text
                }
                self.rows["alerts"].append(
                    (
                        citizen_id, monitor, AlertKind.MISSING, AlertSeverity.YELLOW, code, None, None,
                        series.schedule_id, message[:300], due, None, None, "",
                    )
                )  # fmt: skip
                self.counts["alerts open"] += 1

    def _alert(self, series, citizen_id, clinic, monitor, observation_id, at, text, severity, open_since) -> None:
        template, label, unit = self.messages[series.code]
        values = f"{self.labels[series.code]} {text.replace('.', ',')}"  # the Danish decimal comma
        message = template % {"measurement": label, "values": values, "unit": unit}
        raised = at + RECEIVED_AFTER
        still_open = at >= open_since
        acknowledged = None if still_open else raised + datetime.timedelta(minutes=self.rng.randint(10, 1200))
        for organisation in {clinic, monitor}:
            self.rows["alerts"].append(
                (
                    citizen_id, organisation, AlertKind.THRESHOLD, severity, series.code, observation_id,
                    series.threshold_id, None, message[:300], raised, acknowledged,
                    None if still_open else self.user_id, "" if still_open else "Set.",
                )
            )  # fmt: skip
            self.counts["alerts open" if still_open else "alerts acknowledged"] += 1

    # --- the end -----------------------------------------------------------------------------------

    def finish(self) -> dict[str, int]:
        if self.pg:
            with connection.cursor() as cursor:
                for model in (Goal, Activity, Threshold, MonitoringSchedule):
                    table = model._meta.db_table
                    sql = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                    cursor.execute(sql, [table])
                for writer in self.writers.values():  # fresh statistics for the planner
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(writer.model._meta.db_table)}")
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
