"""The printed result: one row per case, then the workers' memory and each case's slowest
statement with its plan. Pure, for the tests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

SQL_SHOWN = 1500  # characters of a statement printed above its plan (an IN list can be long)
# The peer of the FHIR cases (issue #15): Medplum 5.0.10 as it ships, one Node process against the
# same PostgreSQL and Redis, with 100,000 Patients, measured on this machine with the same method.
# Figures of a run elsewhere would be another machine's; the ratio is only meaningful here.
PEER = "Medplum 5.0.10"
PEER_RPS = {"fhir-patient-search": 940.0, "fhir-patient": 1202.0}


@dataclass
class Row:
    case: str
    title: str
    organisation: str = ""
    rps: float = math.nan
    p50_ms: float = math.nan
    p95_ms: float = math.nan
    ratio: float | None = None  # of the ceiling's req/s
    queries: int | None = None
    status: int | None = None  # of the probe request
    errors: int = 0  # non-2xx/3xx answers and socket errors under load
    note: str = ""
    slowest_sql: str = ""
    slowest_ms: float = 0.0
    plan: list[str] = field(default_factory=list)


COLUMNS = [
    ("case", "<", 30),
    ("read", "<", 30),
    ("organisation", "<", 15),
    ("req/s", ">", 8),
    ("p50 ms", ">", 8),
    ("p95 ms", ">", 8),
    ("ceiling", ">", 8),
    ("queries", ">", 7),
    ("status", ">", 6),
    ("errors", ">", 6),
]


def _number(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _cells(row: Row) -> list[str]:
    ratio = "-" if row.ratio is None else f"{row.ratio * 100:.1f} %"
    return [
        row.case,
        row.title,
        row.organisation,
        _number(row.rps),
        _number(row.p50_ms),
        _number(row.p95_ms),
        ratio,
        "-" if row.queries is None else str(row.queries),
        "-" if row.status is None else str(row.status),
        str(row.errors),
    ]


def format_table(rows: Sequence[Row]) -> str:
    """A fixed-width table; a case that could not run says why on its own line."""
    header = " ".join(f"{name:{align}{width}}" for name, align, width in COLUMNS)
    lines = [header, "-" * len(header)]
    for row in rows:
        if row.note and math.isnan(row.rps):
            lines.append(f"{row.case:<30} {row.title:<30} {row.organisation:<15} ({row.note})")
            continue
        cells = _cells(row)
        lines.append(" ".join(f"{cell:{align}{width}}" for cell, (_, align, width) in zip(cells, COLUMNS, strict=True)))
    return "\n".join(lines)


def format_markdown(rows: Sequence[Row]) -> str:
    """The same table in Markdown, to paste into the README."""
    names = [name for name, _, _ in COLUMNS]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in rows:
        if row.note and math.isnan(row.rps):
            continue
        lines.append("| " + " | ".join(_cells(row)) + " |")
    return "\n".join(lines)


def format_memory(rss_mb: Sequence[float]) -> str:
    if not rss_mb:
        return "web workers' memory: not measured"
    each = ", ".join(f"{value:.0f} MB" for value in rss_mb)
    return f"web workers' memory (RSS after the run): {each}; largest {max(rss_mb):.0f} MB"


def format_plans(rows: Sequence[Row]) -> str:
    parts = []
    for row in rows:
        if not row.slowest_sql:
            continue
        sql = row.slowest_sql if len(row.slowest_sql) <= SQL_SHOWN else row.slowest_sql[:SQL_SHOWN] + " …"
        title = f"{row.case} ({row.organisation or 'no organisation'}): slowest statement, {row.slowest_ms:.1f} ms"
        parts.append(f"=== {title} ===\n{sql}\n" + "\n".join(row.plan))
    return "\n\n".join(parts)


def format_peer(rows: Sequence[Row]) -> str:
    """The FHIR cases against the peer's figures on this machine: the ratio the issue asks for."""
    lines = []
    for row in rows:
        peer = PEER_RPS.get(row.case.split(":")[0])
        if peer is None or math.isnan(row.rps):
            continue
        lines.append(
            f"{row.title} ({row.organisation}): {row.rps:,.1f} req/s, {row.rps / peer:.2f} × {PEER} ({peer:,.0f} req/s)"
        )
    return "\n".join([f"Compared with {PEER} on this machine:", *lines]) if lines else ""


def ratio(rps: float, ceiling_rps: float | None) -> float | None:
    if not ceiling_rps or math.isnan(rps) or math.isnan(ceiling_rps):
        return None
    return rps / ceiling_rps
