"""Home visits pause while the citizen is in hospital.

A citizen with a current hospital stay (the hospital notifications keep ``HospitalStay``: an
admission opens it, the discharge closes it) is not at home, so the Today list shows their visits
as paused: not overdue, set apart, with where and since when the citizen is admitted. When the
stay ends the visits resume, and for ``TODAY_DISCHARGED_NOTICE_HOURS`` the card says when the
citizen was discharged; a visit missed during the stay counts as overdue from the discharge day
only. Nexus and Cura, the municipalities' care systems, pause visits on an admission the same way.

The stay is read with subqueries on the activities' own query, so a list asks nothing more per
row."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from citizens.models import HospitalStay


def discharged_notice() -> datetime.timedelta:
    return datetime.timedelta(hours=getattr(settings, "TODAY_DISCHARGED_NOTICE_HOURS", 48))


def with_stay(queryset: QuerySet, *, citizen: str, now: datetime.datetime) -> QuerySet:
    """``queryset`` with its citizen's current stay (``stay_admitted_at``, ``stay_department``)
    and, when there is none, the latest discharge within the notice (``stay_discharged_at``).
    ``citizen`` is the path from the rows to the citizen's id, e.g. ``care_plan__citizen_id``."""
    stays = HospitalStay.objects.filter(citizen_id=OuterRef(citizen)).order_by()
    current = stays.filter(discharged_at__isnull=True)
    recent = stays.filter(discharged_at__gte=now - discharged_notice()).order_by("-discharged_at")
    return queryset.annotate(
        stay_admitted_at=Subquery(current.values("admitted_at")[:1]),
        stay_department=Subquery(current.values("department__name")[:1]),
        stay_discharged_at=Subquery(recent.values("discharged_at")[:1]),
    )


@dataclass(frozen=True)
class StayNote:
    """What a visit card says about the citizen's hospital stay."""

    admitted_at: datetime.datetime | None = None
    department: str = ""
    discharged_at: datetime.datetime | None = None

    @property
    def paused(self) -> bool:
        return self.admitted_at is not None

    @property
    def resumed_on(self) -> datetime.date | None:
        """The day the visits resumed (the discharge day), while the card still says so."""
        return None if self.paused or self.discharged_at is None else timezone.localdate(self.discharged_at)


def stay_note(row, citizen) -> StayNote | None:
    """The note for a row annotated by ``with_stay``: admitted, recently discharged, or None.
    A citizen who died is not "discharged": the card says nothing of the stay."""
    admitted_at = getattr(row, "stay_admitted_at", None)
    if admitted_at is not None:
        return StayNote(admitted_at=admitted_at, department=row.stay_department or "")
    discharged_at = getattr(row, "stay_discharged_at", None)
    if discharged_at is not None and citizen.deceased_at is None:
        return StayNote(discharged_at=discharged_at)
    return None


def overdue_days(due_on: datetime.date, day: datetime.date, note: StayNote | None) -> int:
    """How many days a visit is overdue: none while it is paused, and after a discharge counted
    from the discharge day (the visits missed in hospital were not the nurse's to make)."""
    if note is not None and note.paused:
        return 0
    resumed_on = note.resumed_on if note is not None else None
    start = max(due_on, resumed_on) if resumed_on else due_on
    return max((day - start).days, 0)
