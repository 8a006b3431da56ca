#!/usr/bin/env python
"""What an API read costs in this process: milliseconds and queries per request, and where the
Python time goes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/apispeed REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python scripts/profile_api.py --generate 30000 --requests 300 [--profile]

Issues the reads of ``make bench`` (``scripts/bench/cases.py``) through Django's test client, in
this process, on the production settings (DEBUG off, the Redis cache and the identity cache,
throwaway secrets, the throttle raised so that it never refuses but still counts): search by CPR,
citizen detail, care plan detail, observation list, each with an API token and
``X-Acting-Organisation``, and ``/api/v1/me/``. Every request takes the whole way (middleware,
DRF, token authentication, the access gate, the access-log insert); only the network and the WSGI
server are left out, so the figures show the Python cost of a request that ``make bench`` measures
under load.

For each case it sends ``--warmup`` requests, then ``--requests`` timed ones going through the
organisation's citizens (or plans) in turn, in ``--rounds`` rounds in which the cases take turns.
It prints, for each case's round with the least CPU time (the machine is shared: that round was
the least disturbed), the mean and median milliseconds (wall clock), the mean CPU milliseconds of
this process (the Python cost, which other processes and the database's own work change little),
the queries of one request (counted on a separate request: counting slows the timed ones) and
the status (``--sql`` prints those statements). ``--profile`` runs the timed requests under
cProfile and prints each case's top ``--top`` functions by own time and by cumulative time.
``--kind`` picks the organisation (``gp``, ``municipality`` or ``department``, as in the bench),
``--cases`` some of the cases.

``--generate N`` creates the database when it is missing, migrates it and fills it with
``generate_region`` until it holds N citizens (as ``make bench`` does, in child processes). Use a
database and a Redis database of your own: it writes benchmark users, tokens and access-log
entries. It asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench.config import Config  # noqa: E402 - before Django is set up

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/apispeed"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
CASES = ("api-search", "api-citizen", "api-plan", "api-observations", "api-me")


@dataclass
class Result:
    title: str
    queries: int
    status: int
    rounds: list[tuple[float, float, float]] = field(default_factory=list)  # mean, median, CPU ms


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of timed requests; the best is shown")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per case first (default 20)")
    parser.add_argument("--kind", choices=("gp", "municipality", "department"), default="gp")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names (default all)")
    parser.add_argument("--profile", action="store_true", help="run the timed requests under cProfile")
    parser.add_argument("--top", type=int, default=30, help="functions listed per profile (default 30)")
    parser.add_argument("--targets", type=int, default=50, help="citizens (plans) gone through in turn")
    parser.add_argument("--generate", type=int, default=0, help="fill the database up to N citizens first")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request per case")
    return parser.parse_args()


def config() -> Config:
    return Config(
        database_url=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        redis_url=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL,
    )


def main() -> int:
    args = arguments()
    settings_config = config()
    if args.generate:
        from dataclasses import replace

        from scripts.bench.database import region_prepare

        region_prepare(replace(settings_config, citizens=args.generate))
    os.environ.update(settings_config.production_environment())
    import django

    django.setup()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from scripts.bench.cases import read_cases
    from scripts.bench.region import organisations, side_prepare
    from scripts.bench.wrk import COMMON_HEADERS

    organisation = organisations()[args.kind]
    side = side_prepare(args.kind, organisation, users=1, targets=args.targets)
    wanted = [name.strip() for name in args.cases.split(",") if name.strip()]
    cases = {case.key: case for case in read_cases([side], "sessionid") if case.key in wanted}
    print(
        f"{side.label}: {organisation.name} (id {organisation.pk}); {args.requests} requests per case "
        f"after {args.warmup} untimed; database {connection.vendor}, DEBUG off"
    )

    def meta(headers: dict[str, str]) -> dict[str, str]:
        both = {**COMMON_HEADERS, **headers}
        return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in both.items()}

    senders, results = {}, {}
    for key in wanted:
        case = cases.get(key)
        if case is None or not case.paths:
            print(f"{key}: nothing to request (unknown case, or no rows for this organisation)")
            continue
        client = Client(raise_request_exception=True)
        headers = {**meta(case.headers[0]), "HTTP_HOST": "127.0.0.1"}

        def send(n: int, client=client, headers=headers, paths=case.paths) -> int:
            return client.get(paths[n % len(paths)], secure=True, **headers).status_code

        for n in range(args.warmup):
            send(n)
        with CaptureQueriesContext(connection) as captured:
            status = send(args.warmup)
        senders[key] = send
        if args.sql:
            print(f"\n--- {case.title}: {len(captured.captured_queries)} statements ---")
            for query in captured.captured_queries:
                print(f"[{query['time']}] {query['sql']}")
        results[key] = Result(case.title, len(captured.captured_queries), status)
    profilers = {key: cProfile.Profile() for key in senders} if args.profile else {}
    for _round in range(args.rounds):
        for key, send in senders.items():  # the cases take turns, so a busy moment is shared
            profiler = profilers.get(key)
            timings, cpu = [], []
            for n in range(args.requests):
                started, started_cpu = time.perf_counter(), time.process_time()
                if profiler is not None:
                    profiler.enable()
                send(n)
                if profiler is not None:
                    profiler.disable()
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            results[key].rounds.append((statistics.mean(timings), statistics.median(timings), statistics.mean(cpu)))
    for key, profiler in profilers.items():
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(f"\n--- {results[key].title}: top {args.top} by {order} ---")
            print(out.getvalue().split("\n", 4)[-1].rstrip())
    print(f"\nbest of {args.rounds} rounds (the round with the least CPU), load average {os.getloadavg()[0]:.1f}:")
    print(f"{'read':<28} {'mean ms':>8} {'median ms':>10} {'CPU ms':>7} {'queries':>8} {'status':>7}")
    for result in results.values():
        mean, median, cpu_mean = min(result.rounds, key=lambda r: r[2])
        print(
            f"{result.title:<28} {mean:>8.2f} {median:>10.2f} {cpu_mean:>7.2f} {result.queries:>8} {result.status:>7}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
