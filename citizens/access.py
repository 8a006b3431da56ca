"""The access policy: the one place that decides which citizens a user may see.

A user acting for organisation O may see citizen C while O has a care relationship with C, a
row of ``CareRelationship`` valid now: O is C's GP clinic; O is C's municipality of residence;
O is a hospital department (or its hospital) where C has a current stay or had one within
``CITIZEN_ACCESS_HOSPITAL_DAYS`` days; O sits on a care team of an open plan for C; or O
received a message about C within ``MESSAGE_RELATIONSHIP_DAYS`` days of the thread's last message. The rows are written
from the facts (``citizens.relationships``). An objection against O or O's sector removes that
access, except for a hospital during a current stay (treatment in progress). A clinician may
also break the glass for a limited time with a stated reason (a row for that user only).

Everything that reaches citizens — pages, API, search, exports, tasks and the admin for
non-superusers — starts from ``visible_citizens`` or ``access_reason``; a citizen outside them
answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.lookups import IsNull
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from sectors.acting import Acting, acting_for
from sectors.adapters import client_ip
from sectors.choices import SECTOR_OF_KIND, MembershipRole, OrganisationKind
from sectors.models import Organisation, User
from smartcare.prepared import fetch_all

from .choices import AccessReason, ObjectionTarget, RelationshipKind
from .models import BreakGlassAccess, CareRelationship, Citizen, Objection

# Licensed clinicians may break the glass; assistants, coordinators and administrators may not.
BREAK_THE_GLASS_ROLES = frozenset(
    {
        MembershipRole.GP,
        MembershipRole.PRACTICE_NURSE,
        MembershipRole.HOSPITAL_PHYSICIAN,
        MembershipRole.HOSPITAL_NURSE,
        MembershipRole.HOME_CARE_NURSE,
    }
)


@dataclass(frozen=True)
class Actor:
    """Who is reading or writing, for whom, and from where (for the access log)."""

    user: User
    acting: Acting
    ip_address: str | None = None
    user_agent: str = ""

    @property
    def organisation(self) -> Organisation | None:
        return self.acting.organisation

    @property
    def acting_organisation(self) -> Organisation:
        """The organisation acted for, where one is needed: an actor without one is refused (403), not a crash."""
        if self.acting.organisation is None:
            raise PermissionDenied(_("You act for no organisation, so you cannot do this."))
        return self.acting.organisation

    @property
    def role(self) -> str:
        return self.acting.primary_role or ""


def actor_from_request(request: HttpRequest) -> Actor:
    return Actor(
        user=request.user,  # type: ignore[arg-type]  # built only in login-required views and the IsAuthenticated API
        acting=acting_for(request),
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
    )


# --- relationships ---------------------------------------------------------------------------
# The reasons in order of precedence: the first row that holds for a citizen names the reason.
# A row of a discharged stay is "recent"; the others give their own kind.
PRECEDENCE = [
    AccessReason.HOSPITAL_STAY,
    AccessReason.HOSPITAL_RECENT,
    AccessReason.GP_CLINIC,
    AccessReason.MUNICIPALITY,
    AccessReason.CARE_TEAM,
    AccessReason.RECEIVED_MESSAGE,
    AccessReason.BREAK_THE_GLASS,
]
_RANK = {str(reason): rank for rank, reason in enumerate(PRECEDENCE)}


def _reason_of(kind: str, current: bool) -> str:
    if kind == RelationshipKind.HOSPITAL_STAY and not current:
        return AccessReason.HOSPITAL_RECENT
    return kind


_REASON = Case(
    When(kind=RelationshipKind.HOSPITAL_STAY, current=False, then=Value(str(AccessReason.HOSPITAL_RECENT))),
    default=F("kind"),
)
_ORDER = Case(
    When(kind=RelationshipKind.HOSPITAL_STAY, current=True, then=Value(0)),
    When(kind=RelationshipKind.HOSPITAL_STAY, then=Value(_RANK[AccessReason.HOSPITAL_RECENT])),
    *(When(kind=reason, then=Value(rank)) for reason, rank in _RANK.items() if rank > 1),
    default=Value(len(PRECEDENCE)),
)


def _objection_targets(org: Organisation) -> Q:
    """The objections that remove O's access: against O's sector, O itself, or a department's hospital."""
    sector = SECTOR_OF_KIND[OrganisationKind(org.kind)]
    targets = Q(target=ObjectionTarget.SECTOR, sector=sector) | Q(target=ObjectionTarget.ORGANISATION, organisation=org)
    if org.parent_id and org.kind == OrganisationKind.HOSPITAL_DEPARTMENT:
        targets |= Q(target=ObjectionTarget.ORGANISATION, organisation_id=org.parent_id)
    return targets


def _rows(org: Organisation, user: User | None, now: datetime) -> QuerySet[CareRelationship]:
    """The rows that let O (and the user acting for O) see citizens now: valid now, the user's own
    grants, not objected (a current stay excepted: treatment in progress). A hospital sees the
    stays at its departments too; a department does not inherit its hospital's relationships."""
    return _standing_rows(org, user).filter(_valid_at(now))


def _valid_at(now: datetime) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=now)) & (Q(valid_to__isnull=True) | Q(valid_to__gt=now))


# (organisation, kind, parent, user, part) → the rows before their validity is applied, built once
# per process: building them cost more than looking them up. Only copies of them are evaluated.
_standing: dict[tuple[int, str, int | None, int | None, str], QuerySet[CareRelationship]] = {}
STANDING_MAX = 512  # about 16 KiB each


def _standing_rows(org: Organisation, user: User | None) -> QuerySet[CareRelationship]:
    """The part of ``_rows`` that does not depend on the time: what it depends on is the key it is
    kept under (the objections and a hospital's departments are subqueries, read when it runs)."""
    key = (org.pk, org.kind, org.parent_id, None if user is None else user.pk, "rows")
    rows = _standing.get(key)
    if rows is None:
        mine = Q(organisation_id=org.pk)
        if org.kind == OrganisationKind.HOSPITAL_UNIT:
            mine |= Q(
                organisation_id__in=Organisation.objects.filter(parent_id=org.pk).values("pk"),
                kind=RelationshipKind.HOSPITAL_STAY,
            )
        objected = Exists(
            Objection.objects.filter(
                _objection_targets(org), citizen_id=OuterRef("citizen_id"), withdrawn_at__isnull=True
            )
        )
        personal = Q(user__isnull=True) if user is None else Q(user__isnull=True) | Q(user_id=user.pk)
        rows = _keep(key, CareRelationship.objects.filter(mine, personal).filter(Q(current=True) | ~Q(objected)))
    return rows.all()


def _standing_best(org: Organisation, user: User) -> QuerySet[CareRelationship]:
    """A citizen's standing rows, best first (``visible_citizens`` with the reason)."""
    key = (org.pk, org.kind, org.parent_id, user.pk, "best")
    best = _standing.get(key)
    if best is None:
        best = _standing_rows(org, user).filter(citizen_id=OuterRef("pk")).annotate(rank=_ORDER, reason=_REASON)
        best = _keep(key, best.order_by("rank"))
    return best.all()


def _keep(key: tuple[int, str, int | None, int | None, str], rows: QuerySet[CareRelationship]) -> QuerySet:
    if len(_standing) >= STANDING_MAX:
        _standing.clear()
    _standing[key] = rows
    return rows


def visible_citizens(
    acting: Acting, user: User, *, now: datetime | None = None, with_reason: bool = False
) -> QuerySet[Citizen]:
    """Every citizen the acting organisation may see now; nothing without an organisation.

    With ``with_reason`` each row carries ``access_via``, the relationship that grants access,
    so list pages can log why every row was shown without a query per row.
    """
    if acting.organisation is None or not getattr(user, "is_authenticated", False):
        qs = Citizen.objects.none()
        return qs.annotate(access_via=Value("")) if with_reason else qs
    valid = _valid_at(now or timezone.now())
    qs = Citizen.objects.filter(pk__in=_standing_rows(acting.organisation, user).filter(valid).values("citizen_id"))
    if with_reason:
        best = _standing_best(acting.organisation, user).filter(valid)
        reason = best.values("reason")  # type: ignore[misc]  # annotated in _standing_best; the stub type cannot say so
        qs = qs.annotate(access_via=Subquery(reason[:1]))
    return qs


def citizen_visible(acting: Acting, user: User, citizen: str = "citizen_id", *, now: datetime | None = None) -> Any:
    """``visible_citizens`` as a condition on rows that point at a citizen (a received message, a
    hand-off, an alert), for lists already scoped to the organisation, where nearly every row
    passes: the gate is asked for each row read, on its index, and the list stops at its LIMIT.

    It is written as "the first granting row is not NULL" (a scalar subquery with LIMIT 1) on
    purpose. PostgreSQL turns an ``IN`` or ``EXISTS`` into a join or a hashed set, and at region
    scale it chose to gather everyone Odense Kommune may see (265,000 rows) before counting its
    unread messages (1.2 s on every page), or before its sent box; for a GP clinic it misjudged
    how many rows pass and sorted the whole inbox. A scalar subquery is always a per-row probe
    (each list: 1-2 ms)."""
    if acting.organisation is None or not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    rows = _standing_rows(acting.organisation, user).filter(_valid_at(now or timezone.now()))
    first = Subquery(rows.filter(citizen_id=OuterRef(citizen)).order_by().values("pk")[:1])
    return IsNull(first, False)


def access_reason(actor: Actor, citizen: Citizen, *, now: datetime | None = None) -> tuple[str, str] | None:
    """Why the actor may see this citizen (reason code, stated text), or None: one indexed lookup."""
    if actor.organisation is None or not getattr(actor.user, "is_authenticated", False):
        return None
    best = _granting_rows(actor.organisation, actor.user, [citizen.pk], now or timezone.now()).get(citizen.pk)
    if best is None:
        return None
    kind, current, source_id = best
    text = ""
    if kind == RelationshipKind.BREAK_THE_GLASS:
        text = BreakGlassAccess.objects.filter(pk=source_id).values_list("reason", flat=True).first() or ""
    return _reason_of(kind, current), text


def access_reasons(actor: Actor, citizen_ids: Iterable[Any], *, now: datetime | None = None) -> dict[Any, str]:
    """Why the actor may see each of these citizens (by id; the ones it may not see are left out),
    in one indexed lookup however many: for logging the rows a list showed."""
    ids = list(dict.fromkeys(citizen_ids))
    if not ids or actor.organisation is None or not getattr(actor.user, "is_authenticated", False):
        return {}
    granting = _granting_rows(actor.organisation, actor.user, ids, now or timezone.now())
    return {pk: _reason_of(kind, current) for pk, (kind, current, _source) in granting.items()}


_GRANTING_COLUMNS = ("citizen_id", "kind", "current", "source_id", "valid_from")


def access_reasons_for_cpr(actor: Actor, cpr: str, *, now: datetime | None = None) -> dict[Any, str]:
    """Why the actor may see the citizen with this CPR number (10 digits), by the citizen's id;
    empty when it may not, exactly as when there is no such citizen: for an exact search, which
    then reads only a citizen it may see. One lookup of the relationships joined by CPR."""
    if actor.organisation is None or not getattr(actor.user, "is_authenticated", False):
        return {}
    now = now or timezone.now()
    found = _one_citizen_rows(actor.organisation, actor.user, cpr, now, by=BY_CPR)
    if found is None:
        found = list(
            _rows(actor.organisation, actor.user, now).filter(citizen__cpr=cpr).values_list(*_GRANTING_COLUMNS)
        )
    return {pk: _reason_of(kind, current) for pk, (kind, current, _source) in _best_rows(found).items()}


def access_reasons_for_replacement(actor: Actor, value: str, *, now: datetime | None = None) -> dict[Any, str]:
    """``access_reasons_for_cpr`` for a replacement number (exactly as written, any issuer): the
    citizens it names that the actor may see, by id; empty exactly as when nobody has it."""
    if actor.organisation is None or not getattr(actor.user, "is_authenticated", False):
        return {}
    rows = _rows(actor.organisation, actor.user, now or timezone.now()).filter(citizen__identifiers__value=value)
    found = list(rows.values_list(*_GRANTING_COLUMNS))
    return {pk: _reason_of(kind, current) for pk, (kind, current, _source) in _best_rows(found).items()}


def _granting_rows(
    org: Organisation, user: User, citizen_ids: list[Any], now: datetime
) -> dict[Any, tuple[str, bool, Any]]:
    """Each citizen's row that grants the access (kind, current, source id), chosen as ``_ORDER``
    then the latest ``valid_from`` (PostgreSQL's order: none first) would choose it. The rows of one
    citizen are few, so they are ranked here rather than by a CASE in SQL, which cost more to
    build and compile than the lookup itself. One citizen's rows (every detail read) are read with
    the statement ``_one_citizen_rows`` compiles once per organisation and user."""
    found: Iterable[tuple[Any, ...]] | None = None
    if len(citizen_ids) == 1:
        found = _one_citizen_rows(org, user, citizen_ids[0], now)
    if found is None:
        rows = _rows(org, user, now)
        if len(citizen_ids) == 1:
            rows = rows.filter(citizen_id=citizen_ids[0])
        else:
            rows = rows.filter(citizen_id__in=citizen_ids)
        found = rows.values_list(*_GRANTING_COLUMNS)
    return _best_rows(found)


def _best_rows(found: Iterable[tuple[Any, ...]]) -> dict[Any, tuple[str, bool, Any]]:
    """Each citizen's best row (kind, current, source id) of the rows read."""
    best: dict[Any, tuple[tuple[int, bool, float], tuple[str, bool, Any]]] = {}
    for citizen_id, kind, current, source_id, valid_from in found:
        key = (_rank_of(kind, current), valid_from is not None, -valid_from.timestamp() if valid_from else 0.0)
        if citizen_id not in best or key < best[citizen_id][0]:
            best[citizen_id] = (key, (kind, current, source_id))
    return {citizen_id: row for citizen_id, (_key, row) in best.items()}


# --- one citizen's rows, compiled once ------------------------------------------------------------
# Compiling the ORM's statement for one citizen's rows cost more than running it. The statement
# depends on the time and the citizen only through three parameters, so it is compiled once per
# organisation, user, database and the way the citizen is named (its id, or its CPR number for an
# exact search: the rows are then joined to the citizen), with stand-in values, twice more with
# others to find where they go, and run with the real values in their place. Whatever cannot be
# prepared so takes the ORM's way.

BY_ID, BY_CPR = "citizen_id", "citizen__cpr"


@dataclass(frozen=True)
class _Prepared:
    sql: str
    params: tuple[Any, ...]
    now_at: tuple[int, ...]  # the positions of the time in params
    citizen_at: tuple[int, ...]  # and of the citizen
    prepare_now: Callable[[datetime], Any]
    prepare_citizen: Callable[[Any], Any]
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]  # (column, functions, expression)


_NOW_STAND_INS = (datetime(1901, 2, 3, 4, 5, 6, 7, tzinfo=UTC), datetime(1902, 3, 4, 5, 6, 7, 8, tzinfo=UTC))
_CITIZEN_STAND_INS: dict[str, tuple[Any, Any]] = {
    BY_ID: (uuid.UUID(int=1), uuid.UUID(int=2)),
    BY_CPR: ("0000000001", "0000000002"),
}
_prepared: dict[tuple[int, str, int | None, int | None, str, str], _Prepared | None] = {}


def _one_citizen_rows(
    org: Organisation, user: User, citizen: Any, now: datetime, *, by: str = BY_ID
) -> list[tuple[Any, ...]] | None:
    """One citizen's rows (named by its id, or ``by=BY_CPR`` its CPR number) as
    ``_rows(...).filter(<by>=citizen).values_list(*_GRANTING_COLUMNS)`` would read them, or None
    when the statement could not be prepared."""
    alias = router.db_for_read(CareRelationship)
    key = (org.pk, org.kind, org.parent_id, user.pk, alias, by)
    if key in _prepared:
        prepared = _prepared[key]
    else:
        if len(_prepared) >= STANDING_MAX:
            _prepared.clear()
        prepared = _prepared[key] = _prepare(org, user, alias, by)
    if prepared is None:
        return None
    connection = connections[alias]
    params = list(prepared.params)
    now_value, citizen_value = prepared.prepare_now(now), prepared.prepare_citizen(citizen)
    for position in prepared.now_at:
        params[position] = now_value
    for position in prepared.citizen_at:
        params[position] = citizen_value
    rows = [list(row) for row in fetch_all(alias, prepared.sql, params)]
    for row in rows:
        for column, functions, expression in prepared.converters:
            for function in functions:
                row[column] = function(row[column], expression, connection)
    return [tuple(row) for row in rows]


def _prepare(org: Organisation, user: User, alias: str, by: str) -> _Prepared | None:
    connection = connections[alias]
    someone, someone_else = _CITIZEN_STAND_INS[by]

    def compiled(now: datetime, citizen: Any):
        rows = _rows(org, user, now).filter(**{by: citizen}).values_list(*_GRANTING_COLUMNS)
        compiler = rows.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        return compiler, sql, tuple(params)

    (compiler, sql, params), (_c, sql_now, params_now), (_d, sql_citizen, params_citizen) = (
        compiled(_NOW_STAND_INS[0], someone),
        compiled(_NOW_STAND_INS[1], someone),
        compiled(_NOW_STAND_INS[0], someone_else),
    )
    if not sql == sql_now == sql_citizen or not len(params) == len(params_now) == len(params_citizen):
        return None
    now_at = tuple(i for i, (a, b) in enumerate(zip(params, params_now, strict=True)) if a != b)
    citizen_at = tuple(i for i, (a, b) in enumerate(zip(params, params_citizen, strict=True)) if a != b)
    valid_from = CareRelationship._meta.get_field("valid_from")
    citizen_field = CareRelationship._meta.get_field("citizen") if by == BY_ID else Citizen._meta.get_field("cpr")

    def prepare_now(value: datetime) -> Any:
        return valid_from.get_db_prep_value(value, connection)

    def prepare_citizen(value: Any) -> Any:
        return citizen_field.get_db_prep_value(value, connection)

    # The values prepared here must be those the ORM put in the statement, at exactly those places.
    for moment, values in zip(_NOW_STAND_INS, (params, params_now), strict=True):
        if len(now_at) != 2 or any(values[i] != prepare_now(moment) for i in now_at):
            return None
    for stand_in, values in zip((someone, someone_else), (params, params_citizen), strict=True):
        if len(citizen_at) != 1 or values[citizen_at[0]] != prepare_citizen(stand_in):
            return None
    fields = [column[0] for column in compiler.select[: compiler.col_count]]
    converters = tuple(
        (column, tuple(functions), expression)
        for column, (functions, expression) in compiler.get_converters(fields).items()
    )
    return _Prepared(sql, params, now_at, citizen_at, prepare_now, prepare_citizen, converters)


def _rank_of(kind: str, current: bool) -> int:
    """The rank ``_ORDER`` gives a row in SQL: a current stay first, a discharged one (its 30 days
    after discharge) second, then the other kinds in ``PRECEDENCE``."""
    if kind == RelationshipKind.HOSPITAL_STAY:
        return 0 if current else _RANK[AccessReason.HOSPITAL_RECENT]
    return _RANK.get(kind, len(PRECEDENCE))


def organisation_sees(
    org: Organisation, citizen: Citizen, *, now: datetime | None = None, include_messages: bool = False
) -> bool:
    """Whether the organisation itself has a relationship with the citizen (a person's
    break-the-glass does not count, nor, unless ``include_messages``, a message it received): who
    may receive messages about the citizen, since a receiver gains no access through a message it
    would not otherwise have."""
    rows = _rows(org, None, now or timezone.now())
    if not include_messages:
        rows = rows.exclude(kind=RelationshipKind.RECEIVED_MESSAGE)
    return rows.filter(citizen_id=citizen.pk).exists()


def organisations_seeing(
    citizen: Citizen, organisations: Iterable[Organisation], *, now: datetime | None = None
) -> set[int]:
    """The ids of those organisations that ``organisation_sees`` the citizen, in two queries
    whatever their number (the citizen's rows, the citizen's objections): for pages that offer a
    choice of organisations."""
    now = now or timezone.now()
    orgs = {org.pk: org for org in organisations}
    if not orgs:
        return set()
    rows = list(
        CareRelationship.objects.filter(
            Q(organisation_id__in=orgs) | Q(organisation__parent_id__in=orgs, kind=RelationshipKind.HOSPITAL_STAY),
            Q(valid_from__isnull=True) | Q(valid_from__lte=now),
            Q(valid_to__isnull=True) | Q(valid_to__gt=now),
            citizen_id=citizen.pk,
            user__isnull=True,
        )
        .exclude(kind=RelationshipKind.RECEIVED_MESSAGE)
        .values_list("organisation_id", "organisation__parent_id", "kind", "current")
    )
    objections = list(
        Objection.objects.filter(citizen_id=citizen.pk, withdrawn_at__isnull=True).values_list(
            "target", "sector", "organisation_id"
        )
    )

    def objected(org: Organisation) -> bool:
        sector = SECTOR_OF_KIND[OrganisationKind(org.kind)]
        hospital = org.parent_id if org.kind == OrganisationKind.HOSPITAL_DEPARTMENT else None
        return any(
            (target == ObjectionTarget.SECTOR and objected_sector == sector)
            or (target == ObjectionTarget.ORGANISATION and objected_org in (org.pk, hospital))
            for target, objected_sector, objected_org in objections
        )

    seeing: set[int] = set()
    for organisation_id, parent_id, kind, current in rows:
        # A hospital sees its departments' stays as its own (``_rows``).
        inherited = parent_id if kind == RelationshipKind.HOSPITAL_STAY else None
        for org in (orgs.get(organisation_id), orgs.get(inherited) if inherited else None):
            if org is None or (org.pk == inherited and org.kind != OrganisationKind.HOSPITAL_UNIT):
                continue
            if current or not objected(org):
                seeing.add(org.pk)
    return seeing
