"""The "who has seen my data" page, readable: the access log of one citizen grouped by day and
organisation, with counts, so a day of list views (a home-care group opening its Today list ten
times) is one line and not a screenful; each group opens to its entries. Counted and grouped in
the database, so the page costs the same few queries however many entries there are. The CSV
download stays complete, one row per entry.

The entries come from ``selectors.citizen_access_report``, which went through the gate and
logged the reading."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Max, Min, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate

from sectors.choices import MembershipRole

from .accesslabels import detail_label
from .choices import AccessAction, AccessReason
from .models import AccessLogEntry

LIST_ACTIONS = (AccessAction.LIST, AccessAction.SEARCH)
CHANGE_ACTIONS = (AccessAction.CREATE, AccessAction.UPDATE, AccessAction.CONSENT, AccessAction.REGISTER_ATTEMPT)
GROUP_KEY = ("day", "organisation_id", "organisation_name")
ROLE_LABELS = dict(MembershipRole.choices)


@dataclass
class AccessGroup:
    """One organisation's accesses on one day (Danish time)."""

    day: datetime.date
    organisation_name: str
    total: int
    lists: int
    changes: int
    break_glass: int
    people: int
    first: datetime.datetime
    last: datetime.datetime
    entries: list[AccessLogEntry] = field(default_factory=list)

    @property
    def lookups(self) -> int:
        """Everything that is neither a list row nor a change: overviews, API reads, exports."""
        return self.total - self.lists - self.changes

    @property
    def hidden(self) -> int:
        """Entries of the group not shown on the page (they are in the CSV)."""
        return self.total - len(self.entries)


def access_report_groups(entries: QuerySet[AccessLogEntry]) -> QuerySet:
    """The entries grouped by day and organisation, newest day first, then the latest group."""
    return (
        entries.order_by()
        .annotate(day=TruncDate("at"))
        .values(*GROUP_KEY)
        .annotate(
            total=Count("pk"),
            lists=Count("pk", filter=Q(action__in=LIST_ACTIONS)),
            changes=Count("pk", filter=Q(action__in=CHANGE_ACTIONS)),
            break_glass=Count("pk", filter=Q(reason=AccessReason.BREAK_THE_GLASS)),
            people=Count("user_id", distinct=True),
            first=Min("at"),
            last=Max("at"),
        )
        .order_by("-day", "-last", "organisation_name")
    )


def access_report_group_entries(
    entries: QuerySet[AccessLogEntry], rows: list[dict], *, per_group: int
) -> list[AccessGroup]:
    """The groups of one page with their newest ``per_group`` entries each, in one query."""
    groups = {
        (row["day"], row["organisation_id"], row["organisation_name"]): AccessGroup(
            **{name: row[name] for name in AccessGroup.__dataclass_fields__ if name in row}
        )
        for row in rows
    }
    if not groups:
        return []
    wanted = Q()
    for day, organisation_id, organisation_name in groups:
        wanted |= Q(at__date=day, organisation_id=organisation_id, organisation_name=organisation_name)
    ranked = (
        entries.filter(wanted)
        .annotate(
            day=TruncDate("at"),
            rank=Window(
                RowNumber(),
                partition_by=[TruncDate("at"), F("organisation_id"), F("organisation_name")],
                order_by=[F("at").desc(), F("pk").desc()],
            ),
        )
        .filter(rank__lte=per_group)
        .order_by("-at", "-pk")
    )
    for entry in ranked:
        label_entry(entry)
        groups[(entry.day, entry.organisation_id, entry.organisation_name)].entries.append(entry)
    return list(groups.values())


def label_entry(entry: AccessLogEntry) -> AccessLogEntry:
    """The entry's role and "what" in the reader's language (the log stores codes)."""
    entry.role_label = str(ROLE_LABELS.get(entry.role, entry.role))
    entry.detail_label = detail_label(entry.detail)
    return entry
