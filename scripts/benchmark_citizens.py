#!/usr/bin/env python
"""How fast are citizen searches and "my citizens" lists at the size of the region?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smartcare_bench \\
        .venv/bin/python scripts/benchmark_citizens.py --citizens 1200000

Migrates the database, fills it with ``generate_region`` up to the requested number of citizens,
then times the reads that staff do all day, each through ``citizens.selectors`` with a real actor
(so the access gate and the access-log writes are included): search by whole CPR number, by CPR
prefix and by part of a name, and the first page of "my citizens", for the Odense GP clinic with
the most citizens, for Odense Kommune and for OUH's department in Odense. Prints the median and
95th percentile over ``--runs`` warm runs, the number of queries, the slowest statement, and
EXPLAIN ANALYZE of the slowest statement of the slowest case. It asserts nothing about timings.

Use a database of its own: it writes synthetic citizens, benchmark users and access-log entries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "smartcare.settings"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from citizens.access import Actor  # noqa: E402
from citizens.models import Citizen, HospitalStay  # noqa: E402
from citizens.selectors import citizen_page, citizen_search  # noqa: E402
from scripts.bench.region import organisations  # noqa: E402
from sectors.acting import resolve  # noqa: E402
from sectors.choices import MembershipRole  # noqa: E402
from sectors.models import Membership, Organisation, User  # noqa: E402
from sectors.reference import department_at  # noqa: E402
from sectors.services import membership_create, user_create  # noqa: E402

ODENSE = "0461"
NAME_FRAGMENT = "holm"
PAGE_SIZE = 25


@dataclass
class Result:
    name: str
    rows: int = 0
    queries: int = 0
    timings: list[float] = field(default_factory=list)
    slowest_sql: str = ""
    slowest_sql_ms: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.timings)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.timings, n=20, method="inclusive")[18] if len(self.timings) > 1 else 0.0


def ensure_citizens(wanted: int, seed: int) -> float | None:
    have = Citizen.objects.count()
    if have >= wanted:
        print(f"{have:,} citizens in the database; nothing to generate.")
        return None
    print(f"{have:,} citizens in the database; generating {wanted - have:,} ...", flush=True)
    started = time.perf_counter()
    call_command("generate_region", citizens=wanted - have, seed=seed, verbosity=2)
    elapsed = time.perf_counter() - started
    print(f"generate_region took {elapsed:.1f} s", flush=True)
    return elapsed


def bench_actor(email: str, organisation: Organisation, role: str) -> Actor:
    user = User.objects.filter(email=email).first() or user_create(
        by=None, email=email, first_name="Benchmark", last_name=role
    )
    if not Membership.objects.filter(user=user, organisation=organisation, role=role).exists():
        membership_create(by=None, user=user, organisation=organisation, role=role)
    return Actor(user=user, acting=resolve(user, organisation.pk), user_agent="benchmark_citizens")


def measure(name: str, run: Callable[[], int], runs: int) -> Result:
    result = Result(name)
    run()  # warm the caches once
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result.rows = run()
            result.timings.append((time.perf_counter() - started) * 1000)
        result.queries = len(ctx.captured_queries)
        for query in ctx.captured_queries:
            ms = float(query["time"]) * 1000
            if ms >= result.slowest_sql_ms and query["sql"].lstrip().upper().startswith("SELECT"):
                result.slowest_sql_ms, result.slowest_sql = ms, query["sql"]
    print(f"  {name:<48} median {result.median:8.1f} ms   p95 {result.p95:8.1f} ms", flush=True)
    return result


def prepare(description: str | None):
    """Shared by the benchmarks: arguments, a migrated and filled database, Odense Kommune and
    its GP clinic with the most citizens. None when pointed at production."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=1_200_000, help="citizens wanted in the database")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per case")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain-all", action="store_true", help="EXPLAIN ANALYZE every case's slowest query")
    args = parser.parse_args()

    if settings.IS_PRODUCTION:
        print("Refusing to run against production.", file=sys.stderr)
        return None
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    generate_seconds = ensure_citizens(args.citizens, args.seed)
    chosen = organisations()  # as make bench chooses them
    return args, generate_seconds, chosen["municipality"], chosen["gp"]


def main() -> int:
    prepared = prepare(__doc__)
    if prepared is None:
        return 2
    args, generate_seconds, municipality, clinic = prepared
    department = department_at("Odense Universitetshospital", "Odense")
    actors = {
        f"GP clinic ({clinic.name})": bench_actor("bench.gp@bench.example", clinic, MembershipRole.GP),
        f"municipality ({municipality.name})": bench_actor(
            "bench.municipality@bench.example", municipality, MembershipRole.HOME_CARE_NURSE
        ),
        f"department ({department.name})": bench_actor(
            "bench.department@bench.example", department, MembershipRole.HOSPITAL_PHYSICIAN
        ),
    }
    scope = {
        "GP clinic": Citizen.objects.filter(gp_clinic=clinic),
        "municipality": Citizen.objects.filter(municipality=municipality),
        "department": Citizen.objects.filter(stays__department=department, stays__discharged_at__isnull=True),
    }
    print(
        f"citizens: {Citizen.objects.count():,}; in the clinic {scope['GP clinic'].count():,}; in the "
        f"municipality {scope['municipality'].count():,}; admitted at the department now "
        f"{scope['department'].count():,} (with recent stays "
        f"{HospitalStay.objects.filter(department=department).values('citizen').distinct().count():,} in all)"
    )

    results: list[Result] = []
    for label, actor in actors.items():
        kind = label.split(" (")[0]
        target = scope[kind].order_by("cpr").first()
        cpr = target.cpr_formatted
        print(f"\n{label}: search target {cpr[:6]}-xxxx")

        def search(query: str, actor: Actor = actor) -> Callable[[], int]:
            return lambda: len(citizen_search(actor=actor, query=query, limit=PAGE_SIZE))

        def first_page(actor: Actor = actor) -> int:
            return len(citizen_page(actor=actor, filters={}, page_number=1, page_size=PAGE_SIZE).object_list)

        results.append(measure(f"{kind}: search by full CPR", search(cpr), args.runs))
        results.append(measure(f"{kind}: search by CPR prefix (6 digits)", search(cpr[:6]), args.runs))
        results.append(measure(f"{kind}: search by name fragment '{NAME_FRAGMENT}'", search(NAME_FRAGMENT), args.runs))
        results.append(measure(f"{kind}: my citizens, first page", first_page, args.runs))

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
