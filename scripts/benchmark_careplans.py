#!/usr/bin/env python
"""How fast are the care-plan pages' reads at the size of the region?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smartcare_bench \\
        .venv/bin/python scripts/benchmark_careplans.py --citizens 1200000

Migrates the database and fills it with ``generate_region`` up to the requested number of
citizens (care plans for a quarter of them and about 10 million home measurements at full size),
then times, through ``careplans.selectors`` with real actors (so the access gate and the
access-log writes are included):

- the plan page: ``careplan_get`` plus ``observation_series`` for the last 90 days of each
  measurement the plan monitors, for the GP clinic that coordinates it and for Odense Kommune's
  home care (on the team); a different plan of an Odense citizen in each run;
- the "Today" list of Odense Kommune's home-care nurse (``today_list``);
- the alert work list (``alerts_worklist``) of Odense Kommune and of the Odense GP clinic with the
  most citizens.

Prints the median and 95th percentile over ``--runs`` runs, the number of queries, the slowest
statement, and EXPLAIN ANALYZE of the slowest statement of the slowest case (of every case with
``--explain-all``). It asserts nothing about timings. Use a database of its own: it writes
synthetic data, benchmark users and access-log entries.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_citizens import Result, bench_actor, measure, prepare  # noqa: E402 - sets Django up
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from careplans.choices import CarePlanStatus  # noqa: E402
from careplans.models import Activity, Alert, CarePlan, MonitoringSchedule, Observation  # noqa: E402
from careplans.selectors import alerts_worklist, careplan_get, observation_series, today_list  # noqa: E402
from citizens.models import Citizen  # noqa: E402
from sectors.choices import MembershipRole  # noqa: E402

ODENSE = "0461"
PLANS_TO_CYCLE = 40


def plan_page(actor, plans: list) -> callable:
    """Each call reads the next plan: the page with its team, goals and activities, and 90 days of
    each series it monitors."""
    state = {"i": 0}

    def run() -> int:
        pk, codes = plans[state["i"] % len(plans)]
        state["i"] += 1
        plan = careplan_get(actor=actor, pk=pk)
        since = timezone.now() - datetime.timedelta(days=90)
        rows = len(plan.goals.all()) + len(plan.activitys.all()) + len(plan.participants.all())
        for code in codes:
            rows += len(list(observation_series(citizen=plan.citizen, code=code, since=since)))
        return rows

    return run


def main() -> int:
    prepared = prepare(__doc__)
    if prepared is None:
        return 2
    args, generate_seconds, municipality, clinic = prepared
    gp = bench_actor("bench.gp@bench.example", clinic, MembershipRole.GP)
    nurse = bench_actor("bench.municipality@bench.example", municipality, MembershipRole.HOME_CARE_NURSE)

    schedules = (
        MonitoringSchedule.objects.filter(
            care_plan__status=CarePlanStatus.ACTIVE,
            care_plan__coordinating_organisation=clinic,
            citizen__municipality=municipality,
        )
        .order_by("care_plan_id")
        .values_list("care_plan_id", "code")[: PLANS_TO_CYCLE * 2]
    )
    by_plan: dict = {}
    for plan_id, code in schedules:
        by_plan.setdefault(plan_id, []).append(code)
    plans = list(by_plan.items())[:PLANS_TO_CYCLE]
    today = timezone.localdate()
    municipal = Activity.objects.filter(responsible_organisation=municipality)
    print(
        f"citizens: {Citizen.objects.count():,}; care plans {CarePlan.objects.count():,}; observations "
        f"{Observation.objects.count():,}; open alerts {Alert.objects.filter(acknowledged_at=None).count():,}\n"
        f"Odense Kommune: {municipal.count():,} activities, {municipal.filter(next_due_on__lte=today).count():,} "
        f"due by today; {Alert.objects.filter(organisation=municipality, acknowledged_at=None).count():,} open "
        f"alerts\n{clinic.name}: {CarePlan.objects.filter(coordinating_organisation=clinic).count():,} plans, "
        f"{Alert.objects.filter(organisation=clinic, acknowledged_at=None).count():,} open alerts; "
        f"{len(plans)} of its plans of Odense citizens with measurements read in turn"
    )

    results: list[Result] = [
        measure("plan page: GP clinic (coordinator)", plan_page(gp, plans), args.runs),
        measure("plan page: Odense Kommune (on the team)", plan_page(nurse, plans), args.runs),
        measure("today list: Odense Kommune home care", lambda: len(today_list(actor=nurse)), args.runs),
        measure("alert work list: Odense Kommune", lambda: len(alerts_worklist(actor=nurse)), args.runs),
        measure("alert work list: GP clinic", lambda: len(alerts_worklist(actor=gp)), args.runs),
    ]

    print(f"\n{'case':<50} {'rows':>5} {'queries':>7} {'median ms':>10} {'p95 ms':>9} {'slowest SQL ms':>15}")
    for r in results:
        print(f"{r.name:<50} {r.rows:>5} {r.queries:>7} {r.median:>10.1f} {r.p95:>9.1f} {r.slowest_sql_ms:>15.1f}")
    if generate_seconds is not None:
        print(f"\ngenerate_region: {generate_seconds:.1f} s")

    slowest = max(results, key=lambda r: r.median)
    for r in results if args.explain_all else [slowest]:
        print(f"\n=== EXPLAIN ANALYZE of the slowest statement of: {r.name} ({r.slowest_sql_ms:.1f} ms) ===")
        print(r.slowest_sql)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + r.slowest_sql)
                print("\n".join(row[0] for row in cursor.fetchall()))
        else:
            print("(EXPLAIN ANALYZE needs PostgreSQL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
