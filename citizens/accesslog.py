"""Writing and verifying the access log.

Entries are appended under a lock on the single ``AccessLogHead`` row, so they form one chain
even with many web processes: each hash covers the entry's content and the previous hash.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from .access import Actor, visible_citizens
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
) -> list[AccessLogEntry]:
    """Append one entry per citizen. Part of the caller's transaction when there is one, so a
    change and its log entry are committed together."""
    if isinstance(citizens, Citizen):
        citizens = [citizens]
    citizens = list(citizens)
    if not citizens:
        return []
    user = actor.user
    organisation = actor.organisation
    now = timezone.now()
    with transaction.atomic():
        head = AccessLogHead.objects.select_for_update().filter(id=1).first()  # created by the migration
        if head is None:  # a test flush removed it; an empty chain starts again
            AccessLogHead.objects.get_or_create(id=1)
            head = AccessLogHead.objects.select_for_update().get(id=1)
        prev = head.last_hash
        entries = []
        for citizen in citizens:
            entry = AccessLogEntry(
                at=now,
                user=user,
                user_name=(user.get_full_name() or user.email)[:300],
                organisation=organisation,
                organisation_name=organisation.name if organisation else "",
                role=actor.role,
                citizen=citizen,
                action=action,
                detail=detail[:300],
                reason=reason,
                reason_text=reason_text,
                ip_address=actor.ip_address,
                user_agent=actor.user_agent[:300],
                prev_hash=prev,
            )
            entry.hash = entry_digest(entry, prev)
            prev = entry.hash
            entries.append(entry)
        AccessLogEntry.objects.bulk_create(entries)
        AccessLogHead.objects.filter(id=1).update(last_hash=prev, count=head.count + len(entries))
    return entries


def citizens_read_log(
    *, actor: Actor, citizens: Iterable[Citizen], detail: str, action: str = AccessAction.API_READ
) -> None:
    """Log that these citizens' data was shown, each with the relationship that allowed it: one
    query for the reasons and one append per reason, however many rows were shown."""
    by_pk = {c.pk: c for c in citizens}
    if not by_pk:
        return
    reasons = dict(
        visible_citizens(actor.acting, actor.user, with_reason=True)
        .filter(pk__in=list(by_pk))
        .values_list("pk", "access_via")  # type: ignore[misc]  # annotated with_reason; the stub type cannot say so
    )
    groups: dict[str, list[Citizen]] = {}
    for pk, citizen in by_pk.items():
        groups.setdefault(reasons.get(pk, ""), []).append(citizen)
    for reason, group in groups.items():
        access_log_record(actor=actor, citizens=group, action=action, detail=detail[:300], reason=reason)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    problem: str = ""


def access_log_verify(*, batch_size: int = 5000) -> ChainReport:
    """Walk the chain in insertion order and report the first broken link."""
    prev = GENESIS
    checked = 0
    qs = AccessLogEntry.objects.order_by("pk")
    last_pk = 0
    while True:
        batch = list(qs.filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            break
        for entry in batch:
            if entry.prev_hash != prev:
                return ChainReport(False, checked, entry.pk, "an earlier entry was removed or altered")
            if entry_digest(entry, prev) != entry.hash:
                return ChainReport(False, checked, entry.pk, "this entry was altered")
            prev = entry.hash
            checked += 1
            last_pk = entry.pk
    head = AccessLogHead.objects.filter(id=1).first()
    if head is not None and (head.last_hash != prev or head.count != checked):
        return ChainReport(False, checked, None, "the newest entries were removed")
    return ChainReport(True, checked)
