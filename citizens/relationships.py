"""Care relationships as data: the rows the access gate reads, kept in step with the facts.

Each app registers a *fact source* per kind of object that gives an organisation a relationship
(a citizen's GP clinic and municipality, a hospital stay, a break-the-glass grant here; a
care-team participation in careplans; a received message in messaging). A source computes the
rows its objects should have; ``relationships_sync`` writes them when an object changes (the
apps' receivers call it on every save and delete, whichever path saved), and
``relationships_check`` recomputes every row to prove the table matches the facts. The same
functions fill the table after bulk loads and in the backfill.

The apps above citizens write their rows only through this module, so the layers stay upward-free.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .choices import RelationshipKind
from .models import BreakGlassAccess, CareRelationship, Citizen, HospitalStay

CHUNK = 2000


@dataclass(frozen=True)
class Expected:
    """One row as the facts say it should be."""

    citizen_id: Any
    organisation_id: int
    kind: str
    source_id: str
    valid_from: datetime.datetime | None = None
    valid_to: datetime.datetime | None = None
    current: bool = False
    user_id: int | None = None
    created_by_id: int | None = None

    @property
    def key(self) -> tuple:
        return (self.kind, self.source_id, self.organisation_id, self.user_id)


@dataclass(frozen=True)
class FactSource:
    """``expected(ids)`` gives the rows for those source objects (ids as text); ``ids()`` every
    source object's id; ``via`` names the change in ``created_via``."""

    source_type: str
    expected: Callable[[list[str]], Iterable[Expected]]
    ids: Callable[[], Iterator[Any]]
    via: str


_SOURCES: dict[str, FactSource] = {}


def register_fact_source(source: FactSource) -> FactSource:
    _SOURCES[source.source_type] = source
    return source


def fact_sources() -> dict[str, FactSource]:
    return dict(_SOURCES)


def hospital_window() -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, "CITIZEN_ACCESS_HOSPITAL_DAYS", 30))


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The start of a local day: date periods (care teams) become moments checked at read time."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def live(now: datetime.datetime) -> Q:
    """Rows that have not ended yet (current or still to come)."""
    return Q(valid_to__isnull=True) | Q(valid_to__gt=now)


def _is_live(valid_to: datetime.datetime | None, now: datetime.datetime) -> bool:
    return valid_to is None or valid_to > now


def _key(row: CareRelationship) -> tuple:
    return (row.kind, row.source_id, row.organisation_id, row.user_id)


def _differs(row: CareRelationship, want: Expected) -> bool:
    return (row.citizen_id, row.valid_from, row.valid_to, row.current) != (
        want.citizen_id,
        want.valid_from,
        want.valid_to,
        want.current,
    )


@dataclass
class Differences:
    """What a recomputation found: rows missing, rows no fact justifies, rows with another validity."""

    missing: list[Expected] = field(default_factory=list)
    extra: list[CareRelationship] = field(default_factory=list)
    wrong: list[tuple[CareRelationship, Expected]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.wrong)

    def add(self, other: Differences) -> None:
        self.missing += other.missing
        self.extra += other.extra
        self.wrong += other.wrong


def _compare(expected: Iterable[Expected], actual: Iterable[CareRelationship], now: datetime.datetime) -> Differences:
    """Only rows that still matter (not ended) are compared: ended rows are history."""
    want = {e.key: e for e in expected}
    have = {_key(r): r for r in actual}
    found = Differences()
    for key, e in want.items():
        row = have.get(key)
        if row is None:
            if _is_live(e.valid_to, now):
                found.missing.append(e)
        elif (_is_live(e.valid_to, now) or _is_live(row.valid_to, now)) and _differs(row, e):
            found.wrong.append((row, e))
    found.extra += [r for key, r in have.items() if key not in want and _is_live(r.valid_to, now)]
    return found


def _repair(source_type: str, found: Differences, now: datetime.datetime, via: str) -> None:
    """Write what ``_compare`` found: create, correct, and end rows without a fact (a row that
    had not started yet is deleted, an ongoing one ends now and stays as history)."""
    CareRelationship.objects.bulk_create(
        [
            CareRelationship(
                citizen_id=e.citizen_id,
                organisation_id=e.organisation_id,
                kind=e.kind,
                user_id=e.user_id,
                source_type=source_type,
                source_id=e.source_id,
                valid_from=e.valid_from,
                valid_to=e.valid_to,
                current=e.current,
                created_by_id=e.created_by_id,
                created_via=via,
                created_at=now,
            )
            for e in found.missing
        ],
        batch_size=CHUNK,
    )
    for row, e in found.wrong:
        row.citizen_id, row.valid_from, row.valid_to, row.current = e.citizen_id, e.valid_from, e.valid_to, e.current
    CareRelationship.objects.bulk_update(
        [row for row, _ in found.wrong], ["citizen_id", "valid_from", "valid_to", "current"], batch_size=CHUNK
    )
    not_started = {r.pk for r in found.extra if r.valid_from is not None and r.valid_from >= now}
    CareRelationship.objects.filter(pk__in=not_started).delete()
    CareRelationship.objects.filter(pk__in=[r.pk for r in found.extra if r.pk not in not_started]).update(
        valid_to=now, current=False
    )


def relationships_sync(source_type: str, ids: Iterable[Any], *, via: str = "") -> None:
    """Bring the rows of some source objects in line with their facts (after a save or delete)."""
    source = _SOURCES[source_type]
    keys = [str(pk) for pk in ids]
    if not keys:
        return
    now = timezone.now()
    actual = CareRelationship.objects.filter(source_type=source_type, source_id__in=keys)
    found = _compare(source.expected(keys), actual, now)
    if found:
        _repair(source_type, found, now, via or source.via)


def _chunks(values: Iterator[Any]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for value in values:
        chunk.append(str(value))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def relationships_recompute(*, fix: bool = False, source_types: Iterable[str] | None = None) -> Differences:
    """Recompute every row from the facts, chunk by chunk (the region has millions): the
    differences, repaired when ``fix``. Also what bulk loaders call (with ``fix``) after writing
    facts without the receivers."""
    now = timezone.now()
    found = Differences()
    for source_type in source_types or list(_SOURCES):
        source = _SOURCES[source_type]
        seen: set[str] = set()
        for keys in _chunks(source.ids()):
            seen.update(keys)
            actual = CareRelationship.objects.filter(source_type=source_type, source_id__in=keys)
            chunk = _compare(source.expected(keys), actual, now)
            if fix and chunk:
                _repair(source_type, chunk, now, "check")
            found.add(chunk)
        # Rows whose object is gone (deleted without its receiver).
        orphans = (
            CareRelationship.objects.filter(live(now), source_type=source_type).order_by().iterator(chunk_size=CHUNK)
        )
        gone = [row for row in orphans if row.source_id not in seen]
        if fix and gone:
            _repair(source_type, Differences(extra=gone), now, "check")
        found.extra += gone
    return found


# --- the citizens app's own facts -----------------------------------------------------------


def _citizen_rows(ids: list[str]) -> Iterator[Expected]:
    """A registration merged into another (``citizens.merge``) gives no organisation access any more."""
    for pk, municipality_id, gp_clinic_id in Citizen.objects.filter(pk__in=ids, merged_into=None).values_list(
        "pk", "municipality_id", "gp_clinic_id"
    ):
        yield Expected(pk, municipality_id, RelationshipKind.MUNICIPALITY, str(pk))
        if gp_clinic_id is not None:
            yield Expected(pk, gp_clinic_id, RelationshipKind.GP_CLINIC, str(pk))


def _stay_rows(ids: list[str]) -> Iterator[Expected]:
    window = hospital_window()
    for pk, citizen_id, department_id, admitted_at, discharged_at in HospitalStay.objects.filter(
        pk__in=ids
    ).values_list("pk", "citizen_id", "department_id", "admitted_at", "discharged_at"):
        yield Expected(
            citizen_id,
            department_id,
            RelationshipKind.HOSPITAL_STAY,
            str(pk),
            valid_from=admitted_at,
            valid_to=None if discharged_at is None else discharged_at + window,
            current=discharged_at is None,
        )


def _grant_rows(ids: list[str]) -> Iterator[Expected]:
    for pk, citizen_id, organisation_id, user_id, started_at, expires_at in BreakGlassAccess.objects.filter(
        pk__in=ids
    ).values_list("pk", "citizen_id", "organisation_id", "user_id", "started_at", "expires_at"):
        yield Expected(
            citizen_id,
            organisation_id,
            RelationshipKind.BREAK_THE_GLASS,
            str(pk),
            valid_from=started_at,
            valid_to=expires_at,
            user_id=user_id,
            created_by_id=user_id,
        )


def _all(model: Any) -> Callable[[], Iterator[Any]]:
    return lambda: model.objects.order_by().values_list("pk", flat=True).iterator(chunk_size=CHUNK)


register_fact_source(FactSource("citizen", _citizen_rows, _all(Citizen), "registration"))
register_fact_source(FactSource("stay", _stay_rows, _all(HospitalStay), "admission"))
register_fact_source(FactSource("grant", _grant_rows, _all(BreakGlassAccess), "grant"))
