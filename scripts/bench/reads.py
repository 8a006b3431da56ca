"""The read benchmark: each case probed once (status, queries, slowest statement) and then driven
by wrk at a fixed number of connections for a fixed time; the portal and the ceiling run side by
side for the whole run."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .cases import Case
from .config import Config
from .probe import probe
from .report import Row, ratio
from .servers import settle
from .wrk import wrk_run


def case_run(case: Case, config: Config, say=print) -> Row:
    row = Row(case=case.name, title=case.title, organisation=case.organisation)
    if not case.paths:
        row.note = "nothing to read at this size"
        return row
    port = config.ceiling_port if case.on_ceiling else config.port
    url = f"http://127.0.0.1:{port}"
    if not case.on_ceiling:
        found = probe(case)
        row.status, row.queries = found.status, found.queries
        row.slowest_sql, row.slowest_ms, row.plan = found.slowest_sql, found.slowest_ms, found.plan
    headers = case.headers or [{}]
    idle = f"{url}/cpr/0/" if case.on_ceiling else f"{url}/health/"
    if config.warmup:
        wrk_run(url, case.paths, headers, seconds=config.warmup, connections=config.connections)
        settle(idle, config.workers)
    result = wrk_run(url, case.paths, headers, seconds=config.seconds, connections=config.connections)
    settle(idle, config.workers)
    row.rps, row.p50_ms, row.p95_ms = result.rps, result.p50_ms, result.p95_ms
    if not result.requests:  # no latency to speak of
        row.p50_ms = row.p95_ms = math.nan
    row.errors = result.non_2xx + result.socket_errors
    say(
        f"  {case.name:<30} {row.rps:8.1f} req/s  p50 {row.p50_ms:7.1f} ms  p95 {row.p95_ms:7.1f} ms"
        f"  queries {row.queries if row.queries is not None else '-'}  errors {row.errors}"
    )
    return row


def reads_run(cases: Sequence[Case], config: Config, say=print) -> list[Row]:
    rows: list[Row] = []
    ceilings: dict[str, float] = {}
    for case in cases:
        row = case_run(case, config, say)
        if case.on_ceiling:
            ceilings[case.key] = row.rps
        elif case.ceiling:
            row.ratio = ratio(row.rps, ceilings.get(case.ceiling, math.nan))
        rows.append(row)
    return rows
