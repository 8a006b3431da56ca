"""The read cases: what each one requests, for which organisation, signed in how.

A case's paths go through the organisation's citizens (or plans) in turn, so no two requests in a
row read the same row. API cases send an API token and ``X-Acting-Organisation``; page cases send a
session cookie, as a signed-in browser does. Pure, for the tests: the region's rows come in as
``Side`` objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

TOKEN, SESSION, ANONYMOUS = "token", "session", "anonymous"
CEILING_CPR, CEILING_ID = "ceiling-cpr", "ceiling-citizen"


@dataclass(frozen=True)
class Identity:
    """One benchmark user: its API token and a signed-in session (the cookie's value)."""

    user_id: int
    token: str
    session: str


@dataclass
class Side:
    """One organisation the reads are made for, with what it reads."""

    kind: str  # "gp", "municipality", "department"
    organisation: Any  # sectors.models.Organisation
    identities: list[Identity] = field(default_factory=list)
    citizens: list[tuple[str, str]] = field(default_factory=list)  # (id, cpr)
    plans: list[str] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)  # citizens with home measurements
    series: list[tuple[str, str]] = field(default_factory=list)  # (citizen id, LOINC code) measured

    @property
    def label(self) -> str:
        return {"gp": "GP clinic", "municipality": "Odense Kommune", "department": "OUH department"}[self.kind]


@dataclass(frozen=True)
class Case:
    key: str  # e.g. "api-search"; with the side, "api-search:gp"
    title: str
    auth: str
    paths: list[str]
    side: Side | None = None
    ceiling: str | None = None  # the ceiling case this one is compared with
    on_ceiling: bool = False  # sent to the ceiling app, not the portal
    headers: list[dict[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.key}:{self.side.kind}" if self.side else self.key

    @property
    def organisation(self) -> str:
        return self.side.label if self.side else ""


Paths = Callable[[Side], list[str]]


def _search(side: Side) -> list[str]:
    return [f"/api/v1/citizens/?search={cpr}" for _, cpr in side.citizens]


def _fhir_search(side: Side) -> list[str]:
    return [f"/fhir/Patient?identifier=urn:oid:1.2.208.176.1.2%7C{cpr}" for _, cpr in side.citizens]


def _each_citizen(template: str) -> Paths:
    return lambda side: [template.format(pk) for pk, _ in side.citizens]


def _each_plan(template: str) -> Paths:
    return lambda side: [template.format(pk) for pk in side.plans]


def _each_measured(template: str) -> Paths:
    return lambda side: [template.format(pk) for pk in side.measured]


def _each_series(template: str) -> Paths:
    return lambda side: [template.format(pk, code) for pk, code in side.series]


def _only(path: str) -> Paths:
    return lambda side: [path]


READS: list[tuple[str, str, str, str, Paths]] = [
    ("api-search", "API: search by CPR", TOKEN, CEILING_CPR, _search),
    ("api-citizen", "API: citizen detail", TOKEN, CEILING_ID, _each_citizen("/api/v1/citizens/{}/")),
    ("api-plan", "API: care plan detail", TOKEN, CEILING_ID, _each_plan("/api/v1/careplans/{}/")),
    (
        "api-observations",
        "API: observation list",
        TOKEN,
        CEILING_ID,
        _each_measured("/api/v1/observations/?citizen={}"),
    ),
    ("fhir-patient-search", "FHIR: Patient by identifier", TOKEN, CEILING_CPR, _fhir_search),
    ("fhir-patient", "FHIR: Patient read", TOKEN, CEILING_ID, _each_citizen("/fhir/Patient/{}")),
    ("fhir-careplans", "FHIR: CarePlan by patient", TOKEN, CEILING_ID, _each_citizen("/fhir/CarePlan?patient={}")),
    (
        "fhir-observations",
        "FHIR: Observation by patient and code, last 10",
        TOKEN,
        CEILING_ID,
        _each_series("/fhir/Observation?patient={}&code=http://loinc.org%7C{}&_sort=-date&_count=10"),
    ),
    ("page-citizen", "page: citizen overview", SESSION, CEILING_ID, _each_citizen("/citizens/{}/")),
    ("page-plan", "page: plan", SESSION, CEILING_ID, _each_plan("/care/plans/{}/")),
    ("page-my-citizens", "page: my citizens", SESSION, CEILING_ID, _only("/citizens/")),
    ("page-today", "page: Today", SESSION, CEILING_ID, _only("/care/today/")),
    ("page-alerts", "page: alert list", SESSION, CEILING_ID, _only("/care/alerts/")),
    ("page-inbox", "page: inbox", SESSION, CEILING_ID, _only("/messages/")),
]


def identity_headers(side: Side, identity: Identity, auth: str, session_cookie: str) -> dict[str, str]:
    if auth == TOKEN:
        return {"Authorization": f"Token {identity.token}", "X-Acting-Organisation": str(side.organisation.pk)}
    if auth == SESSION:
        return {"Cookie": f"{session_cookie}={identity.session}"}
    return {}


def _case(key, title, auth, ceiling, paths, side: Side, session_cookie: str) -> Case:
    headers = [identity_headers(side, identity, auth, session_cookie) for identity in side.identities]
    return Case(key, title, auth, paths, side=side, ceiling=ceiling, headers=headers)


def read_cases(sides: Sequence[Side], session_cookie: str) -> list[Case]:
    """The ceiling first (the others are compared with it), then each side's reads, then the
    fixed cost of a request: ``/api/v1/me/`` with a token, ``/health/`` without."""
    cprs = [cpr for side in sides for _, cpr in side.citizens]
    ids = [pk for side in sides for pk, _ in side.citizens]
    cases = [
        Case(CEILING_CPR, "ceiling: CPR lookup, raw SQL", ANONYMOUS, [f"/cpr/{c}/" for c in cprs], on_ceiling=True),
        Case(
            CEILING_ID, "ceiling: citizen by id, raw SQL", ANONYMOUS, [f"/citizen/{i}/" for i in ids], on_ceiling=True
        ),
    ]
    for side in sides:
        for key, title, auth, ceiling, paths in READS:
            cases.append(_case(key, title, auth, ceiling, paths(side), side, session_cookie))
    first = sides[0]
    cases.append(_case("api-me", "API: /api/v1/me/", TOKEN, CEILING_ID, ["/api/v1/me/"], first, session_cookie))
    cases.append(Case("health", "/health/", ANONYMOUS, ["/health/"], ceiling=CEILING_ID))
    return cases


def selected(cases: Sequence[Case], wanted: str) -> list[Case]:
    """``reads`` is every case; otherwise a comma-separated list of case names or their beginnings
    (``api-search``, ``page-:gp``, ``page-inbox:municipality``). The ceiling always runs."""
    if wanted.strip() in ("", "reads"):
        return list(cases)
    prefixes = [w.strip() for w in wanted.split(",") if w.strip()]

    def matches(case: Case) -> bool:
        for prefix in prefixes:
            key, _, side = prefix.partition(":")
            if case.key.startswith(key) and (not side or (case.side is not None and case.side.kind == side)):
                return True
        return False

    return [case for case in cases if case.on_ceiling or matches(case)]
