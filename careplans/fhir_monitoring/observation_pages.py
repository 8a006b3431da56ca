"""``Observation?patient=<id>[&code=<LOINC>]``, the search a home-monitoring platform or an EPJ
repeats for every citizen and series ("the last ten blood pressures"), in one statement prepared
once per shape (with or without a code, order, offset, page size, count cap).

The general search read the page, counted the matches (a full page cannot tell the total) and read
the citizen's thresholds: three statements, each built and compiled again on every request. Here
the count and the thresholds are columns of the page's statement (``smartcare.jsonrows``), and
the rows come back as ``observation_rows()`` gives them, with the thresholds ``build`` would have
read. Other databases read the general way.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.db import connections, router
from django.db.models import QuerySet
from django.http import QueryDict

from citizens.fhir.codes import LOINC
from citizens.fhir.params import parse_token, token_codes
from citizens.fhir.registry import CitizenPage
from citizens.fhir.search import count_cap, plain_values
from smartcare.jsonrows import capped_count, from_json, json_rows
from smartcare.prepared import PreparedQuery

from ..choices import ObservationCode
from ..models import Observation, Threshold
from .observation import SEARCH_CODES, observation_rows

_SHAPES = 32  # statements kept per process
_CITIZENS = (uuid.UUID(int=1), uuid.UUID(int=2))
_CODES = (ObservationCode.values[0], ObservationCode.values[1])
# What interpreting a reading needs of a threshold version (``observation.interpretation_code``).
_THRESHOLD_FIELDS = ("id", "citizen_id", "code", "red_low", "yellow_low", "yellow_high", "red_high")
_THRESHOLD_TIMES = ("valid_from", "valid_to")


def _observations(citizen: Any, code: str | None, cap: int) -> QuerySet[Observation]:
    matching = Observation.objects.filter(citizen_id=citizen)
    if code is not None:
        matching = matching.filter(code=code)
    thresholds = Threshold.objects.filter(citizen_id=citizen)
    return (
        observation_rows()
        .filter(citizen_id=citizen, **({} if code is None else {"code": code}))
        .annotate(
            counted=capped_count(matching, cap),
            thresholds_json=json_rows(
                Threshold, thresholds, "citizen_id", _THRESHOLD_FIELDS + _THRESHOLD_TIMES, ["-valid_from"]
            ),
        )
    )


@functools.lru_cache(maxsize=_SHAPES)
def _page(coded: bool, order: tuple[str, ...], offset: int, limit: int, cap: int) -> PreparedQuery[Observation]:
    def build(citizen: Any, *code: str) -> QuerySet[Observation]:
        rows = _observations(citizen, code[0] if coded else None, cap)
        return rows.order_by(*order)[offset : offset + limit]

    return PreparedQuery(build, [_CITIZENS, _CODES] if coded else [_CITIZENS])


def _stored_code(raw: str | None) -> tuple[bool, str | None]:
    """(whether the shape can be read so, the one stored code the ``code`` value names)."""
    if raw is None:
        return True, None
    codes = token_codes(parse_token(raw), LOINC, SEARCH_CODES)
    return (True, codes[0]) if len(codes) == 1 else (False, None)


def observations_of_citizen(
    citizen: Any, query: QueryDict, order: list[str], offset: int, limit: int
) -> CitizenPage | None:
    """A page of the citizen's observations, of one code or all, with how many there are (up to
    the cap and one more); None for any other search, and on a database other than PostgreSQL."""
    values = plain_values(query, ("patient", "subject", "code"))
    if values is None or len(values.keys() & {"patient", "subject"}) != 1:  # both: they may differ
        return None
    readable, code = _stored_code(values.get("code"))
    alias = router.db_for_read(Observation)
    if not readable or connections[alias].vendor != "postgresql":
        return None
    prepared = _page(code is not None, tuple(order), offset, limit, count_cap())
    rows: list[Any] = prepared.rows(citizen, code) if code is not None else prepared.rows(citizen)
    if not rows:
        return CitizenPage([], None)  # past the last page: the general count tells the total
    versions: dict[str, list[Threshold]] = {}
    for threshold in from_json(Threshold, rows[0].thresholds_json, alias):
        versions.setdefault(threshold.code, []).append(threshold)
    for row in rows:
        row.thresholds_read = versions
    return CitizenPage(list(rows), rows[0].counted)
