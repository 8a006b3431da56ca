"""Writing, sealing and verifying the access log.

A request appends its entries with one INSERT and takes no lock, so logged reads never queue
behind one another. The entries are then *unsealed*: stored and shown like any other, not yet
chained. The sealer (``access_log_seal``, a beat task every few seconds) is the only code that
locks the single ``AccessLogHead`` row. It gives each unsealed entry, in id order, its place in the
chain (``seq``), the previous entry's hash and its own hash, which covers its content and that
previous hash. An entry whose request commits after a later-numbered entry was sealed joins the
chain in the next run, so the chain's order is the order of sealing, not of ids.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, connections, router, transaction
from django.utils import timezone

from smartcare.prepared import fetch_all

from .access import Actor, access_reasons
from .choices import AccessAction
from .models import AccessLogEntry, AccessLogHead, Citizen

GENESIS = "0" * 64
_FIELDS = (
    "at",
    "user_id",
    "user_name",
    "organisation_id",
    "organisation_name",
    "role",
    "citizen_id",
    "action",
    "detail",
    "reason",
    "reason_text",
    "ip_address",
    "user_agent",
)


def entry_digest(entry: AccessLogEntry, prev_hash: str) -> str:
    payload = {}
    for name in _FIELDS:
        value = getattr(entry, name)
        if name == "at":
            value = value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif value is not None:
            value = str(value)
        payload[name] = value
    blob = prev_hash + json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def access_log_record(
    *,
    actor: Actor,
    citizens: Citizen | Iterable[Citizen],
    action: str,
    detail: str = "",
    reason: str = "",
    reason_text: str = "",
    reasons: Mapping[Any, str] | None = None,
) -> list[AccessLogEntry]:
    """Append one entry per citizen, all in one INSERT, taking no lock: a list page whose rows were
    allowed by different relationships passes each row's reason in ``reasons`` (by citizen pk) and
    still writes once. Part of the caller's transaction when there is one, so a change and its log
    entry are committed together. The sealer chains the entries later."""
    if isinstance(citizens, Citizen):
        citizens = [citizens]
    citizens = list(citizens)
    if not citizens:
        return []
    user = actor.user
    organisation = actor.organisation
    now = timezone.now()
    entries = [
        AccessLogEntry(
            at=now,
            user=user,
            user_name=(user.get_full_name() or user.email)[:300],
            organisation=organisation,
            organisation_name=organisation.name if organisation else "",
            role=actor.role,
            citizen=citizen,
            action=action,
            detail=detail[:300],
            reason=reasons.get(citizen.pk, reason) if reasons is not None else reason,
            reason_text=reason_text,
            ip_address=actor.ip_address,
            user_agent=actor.user_agent[:300],
        )
        for citizen in citizens
    ]
    _insert(entries)
    return entries


_INSERT_ROWS = 1000  # rows per statement: 16 parameters each, well under any database's limit


def _insert(entries: list[AccessLogEntry]) -> None:
    """One hand-written INSERT per thousand entries, ids returned into them. Every logged read
    ends here: the ORM's ``save`` and ``bulk_create`` built and compiled the statement each time
    (about a millisecond, the most expensive part of a citizen detail read after the gate), and
    ``bulk_create`` wrapped it in BEGIN and COMMIT of its own. Nothing listens to the model's signals."""
    alias = router.db_for_write(AccessLogEntry)
    db = connections[alias]
    meta = AccessLogEntry._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    columns = ", ".join(db.ops.quote_name(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    for start in range(0, len(entries), _INSERT_ROWS):
        chunk = entries[start : start + _INSERT_ROWS]
        # The one-row statement of a detail read is the same every time: prepared on the server.
        inserted = fetch_all(
            alias,
            f"INSERT INTO {db.ops.quote_name(meta.db_table)} ({columns}) VALUES "  # noqa: S608 - model's names
            f"{', '.join([row] * len(chunk))} RETURNING {db.ops.quote_name(meta.pk.column)}",
            [field.get_db_prep_save(getattr(entry, field.attname), db) for entry in chunk for field in fields],
        )
        for entry, (pk,) in zip(chunk, inserted, strict=True):
            entry.pk = pk
            entry._state.adding, entry._state.db = False, alias


def citizens_read_log(
    *, actor: Actor, citizens: Iterable[Citizen], detail: str, action: str = AccessAction.API_READ
) -> None:
    """Log that these citizens' data was shown, each with the relationship that allowed it: one
    query for the reasons (none when every citizen carries the gate's answer as ``access_via``,
    as the selectors annotate it) and one INSERT, however many rows were shown."""
    by_pk = {c.pk: c for c in citizens}
    if not by_pk:
        return
    carried: dict[Any, str] = {pk: getattr(citizen, "access_via", "") or "" for pk, citizen in by_pk.items()}
    reasons = carried if all(carried.values()) else access_reasons(actor, by_pk)
    access_log_record(actor=actor, citizens=by_pk.values(), action=action, detail=detail[:300], reasons=reasons)


# --- sealing ----------------------------------------------------------------------------------------


def access_log_seal(*, batch_size: int | None = None, limit: int | None = None) -> int:
    """Chain the unsealed entries, oldest id first, ``batch_size`` per transaction, until none are
    left or ``limit`` were sealed in this run (the next run goes on); returns how many. Safe to run
    twice at once: a second sealer finds the head locked and returns at once, it never waits."""
    batch_size = batch_size or settings.ACCESS_LOG_SEAL_BATCH
    limit = limit or settings.ACCESS_LOG_SEAL_LIMIT
    sealed = 0
    while sealed < limit:
        size = min(batch_size, limit - sealed)
        done = _seal_batch(size)
        if done is None:  # another sealer is at work
            break
        sealed += done
        if done < size:  # caught up
            break
    return sealed


def _seal_batch(size: int) -> int | None:
    with transaction.atomic():
        head = _lock_head()
        if head is None:
            return None
        entries = list(AccessLogEntry.objects.filter(seq__isnull=True).order_by("pk")[:size])
        if not entries:
            return 0
        prev, seq = head.last_hash, head.count
        for entry in entries:
            seq += 1
            entry.seq, entry.prev_hash = seq, prev
            entry.hash = prev = entry_digest(entry, prev)
        _write_seals(entries)
        AccessLogHead.objects.filter(id=1).update(last_hash=prev, count=seq)
    return len(entries)


def _lock_head() -> AccessLogHead | None:
    """The head, locked until the transaction ends, or None while another sealer holds it."""
    head = AccessLogHead.objects.select_for_update(skip_locked=True).filter(id=1).first()
    if head is None and not AccessLogHead.objects.filter(id=1).exists():  # a test flush removed it
        AccessLogHead.objects.get_or_create(id=1)
        head = AccessLogHead.objects.select_for_update(skip_locked=True).filter(id=1).first()
    return head


def _write_seals(entries: list[AccessLogEntry]) -> None:
    """One UPDATE for the batch, and only of rows still unsealed: the one change the log allows
    (``AppendOnlyQuerySet`` refuses ``update``; on PostgreSQL the trigger of migration 0006 lets
    exactly this through)."""
    table = connection.ops.quote_name(AccessLogEntry._meta.db_table)
    rows = ", ".join(["(CAST(%s AS bigint), CAST(%s AS bigint), %s, %s)"] * len(entries))
    params = [value for e in entries for value in (e.pk, e.seq, e.prev_hash, e.hash)]
    # VALUES names its columns column1..4 on both engines; the statement starts with UPDATE, or
    # SQLite's driver reports no rowcount. Only placeholders and the model's table name go in.
    sql = (
        f"UPDATE {table} SET seq = sealed.column2, prev_hash = sealed.column3, hash = sealed.column4 "  # noqa: S608
        f"FROM (VALUES {rows}) AS sealed WHERE {table}.id = sealed.column1 AND {table}.seq IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount != len(entries):  # cannot happen under the head's lock; never chain a gap
            raise RuntimeError(f"sealed {cursor.rowcount} access-log entries of {len(entries)}")


# --- verifying --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    problem: str = ""
    unsealed: int = 0


def access_log_verify(*, batch_size: int = 5000) -> ChainReport:
    """Walk the sealed entries in chain order and report the first broken link. Unsealed entries
    are counted, not judged: they are not in the chain yet. Safe while the sealer runs: the head is
    read before the walk (the chain must reach it) and again after it (the chain must not pass it)."""
    head = AccessLogHead.objects.filter(id=1).first()
    anchor = (head.count, head.last_hash) if head is not None else (0, GENESIS)
    prev, checked = GENESIS, 0
    while True:
        batch = list(AccessLogEntry.objects.filter(seq__gt=checked).order_by("seq")[:batch_size])
        if not batch:
            break
        for entry in batch:
            problem = _link_problem(entry, prev, checked + 1, anchor)
            if problem:
                return ChainReport(False, checked, entry.pk, problem)
            prev = entry.hash or ""
            checked += 1
    if checked < anchor[0]:
        return ChainReport(False, checked, None, "the newest entries were removed")
    head = AccessLogHead.objects.filter(id=1).first()
    end = head.count if head is not None else 0  # every run of the sealer moves the head with its entries
    if checked > end:
        extra = AccessLogEntry.objects.filter(seq=end + 1).values_list("pk", flat=True).first()
        return ChainReport(False, end, extra, "this entry was added past the head of the chain")
    return ChainReport(True, checked, unsealed=AccessLogEntry.objects.filter(seq__isnull=True).count())


def _link_problem(entry: AccessLogEntry, prev: str, seq: int, anchor: tuple[int, str]) -> str:
    if entry.prev_hash != prev:
        return "an earlier entry was removed, altered or inserted"
    if entry_digest(entry, prev) != entry.hash:
        return "this entry was altered"
    if entry.seq != seq:
        return "the chain skips a place before this entry"
    if seq == anchor[0] and entry.hash != anchor[1]:
        return "the head of the chain does not match this entry"
    return ""
