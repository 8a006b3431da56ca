#!/usr/bin/env python
"""Where does a page's time go? Renders the six pages staff open all day, in this process, and
prints for each the mean and median milliseconds, the process's CPU milliseconds, the queries it
runs and (``--profile``) where
the Python time goes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pagespeed REDIS_URL=redis://127.0.0.1:6379/11 \\
        .venv/bin/python manage.py generate_region --citizens 30000         # once
    DATABASE_URL=... REDIS_URL=... .venv/bin/python scripts/profile_pages.py -n 50
    DATABASE_URL=... REDIS_URL=... .venv/bin/python scripts/profile_pages.py --as gp \\
        --pages my-citizens --profile --top 40

The pages are those of ``make bench`` (scripts/bench/cases.py): the citizen overview, the plan
page, "my citizens", Today, the alert list and the inbox. They are read through
``django.test.Client`` (the whole middleware stack, the context processors and the templates,
without a server or a socket) by a signed-in benchmark user of the generated region's largest
Odense GP clinic (``--as gp``, the default) and of Odense Kommune (``--as municipality``), chosen
as the benchmark chooses them (scripts/bench/region.py). The overview and the plan page go
through the organisation's citizens and plans in turn, so no two requests in a row read the same
row. DEBUG is off, as in production; the queries are counted on one extra request per page.
Set REDIS_URL to use the Redis cache as production does (the identity cache, sessions); without
it the process uses its own memory.

Use a database of its own: the script adds benchmark users and writes access-log entries.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "smartcare.settings"
os.environ["DEBUG"] = "false"
os.environ.setdefault("LOG_LEVEL", "WARNING")


@dataclass
class Result:
    page: str
    side: str
    status: int
    mean_ms: float
    p50_ms: float
    cpu_ms: float  # this process's CPU time: the Python side, less disturbed by other load than the clock
    queries: int
    size: int


PAGES: dict[str, Callable] = {
    "citizen": lambda side: [f"/citizens/{pk}/" for pk, _ in side.citizens],
    "plan": lambda side: [f"/care/plans/{pk}/" for pk in side.plans],
    "my-citizens": lambda side: ["/citizens/"],
    "today": lambda side: ["/care/today/"],
    "alerts": lambda side: ["/care/alerts/"],
    "inbox": lambda side: ["/messages/"],
}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument(
        "--as", dest="sides", default="gp", help="gp, municipality or both, comma-separated (default gp)"
    )
    parser.add_argument("--pages", default=",".join(PAGES), help=f"comma-separated, of {', '.join(PAGES)}")
    parser.add_argument("--targets", type=int, default=50, help="citizens and plans read in turn (default 50)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile top list per page")
    parser.add_argument("--top", type=int, default=25, help="rows of the cProfile list (default 25)")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (default cumulative)")
    parser.add_argument("--sql", action="store_true", help="print each page's queries (one request)")
    return parser.parse_args()


def signed_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def count_queries(client, path: str, show: bool) -> tuple[int, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    if show:
        for query in ctx.captured_queries:
            print(f"    {query['time']}s  {query['sql'][:400]}")
    return len(ctx), response.status_code, len(response.content)


def measure(client, page: str, side, args: argparse.Namespace) -> Result:
    paths = PAGES[page](side)
    if not paths:
        raise SystemExit(f"{side.kind}: nothing to read for {page}")
    for path in paths[:3]:  # warm-up: connections, templates, the process's caches
        client.get(path)
    if args.sql:
        print(f"-- {page} as {side.kind}: {paths[0]}")
    queries, status, size = count_queries(client, paths[0], args.sql)
    profiler = cProfile.Profile() if args.profile else None
    timings = []
    cpu_started = time.process_time()
    for i in range(args.n):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        client.get(path)
        if profiler is not None:
            profiler.disable()
        timings.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / args.n
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(args.sort).print_stats(args.top)
        print(f"== cProfile: {page} as {side.kind}, {args.n} requests ==")
        print(out.getvalue())
    mean, p50 = statistics.fmean(timings), statistics.median(timings)
    return Result(page, side.kind, status, mean, p50, cpu_ms, queries, size)


def main() -> int:
    args = arguments()
    import django

    django.setup()
    from django.conf import settings

    from scripts.bench.region import organisations, side_prepare

    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in pages if p not in PAGES]
    if unknown:
        raise SystemExit(f"unknown pages: {', '.join(unknown)}")
    kinds = ["gp", "municipality"] if args.sides == "both" else [s.strip() for s in args.sides.split(",")]
    found = organisations()
    database = settings.DATABASES["default"]
    print(
        f"database {database['ENGINE'].rsplit('.', 1)[-1]} {database['NAME']}, DEBUG={settings.DEBUG}, "
        f"session engine {settings.SESSION_ENGINE}, {args.n} requests per page"
    )
    results = []
    for kind in kinds:
        side = side_prepare(kind, found[kind], users=1, targets=args.targets)
        from sectors.models import User

        client = signed_in(User.objects.get(pk=side.identities[0].user_id))
        print(f"{kind}: {side.organisation.name} ({len(side.citizens)} citizens, {len(side.plans)} plans read)")
        for page in pages:
            results.append(measure(client, page, side, args))
    print(f"\n{'page':<14}{'as':<14}{'status':>7}{'mean ms':>10}{'p50 ms':>9}{'cpu ms':>9}{'queries':>9}{'KiB':>7}")
    for r in results:
        kib = r.size / 1024
        print(
            f"{r.page:<14}{r.side:<14}{r.status:>7}{r.mean_ms:>10.1f}{r.p50_ms:>9.1f}{r.cpu_ms:>9.1f}{r.queries:>9}"
            f"{kib:>7.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
