"""The citizen's "who has seen my data" page: what was seen is said in words of the reader's
language (the log stores codes), a day of list views is one line per organisation with counts
that opens to its entries, the CSV keeps every entry, and the page's query count is fixed."""

from __future__ import annotations

import ast
import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from freezegun import freeze_time

from citizens.accesslabels import detail_label, has_detail_label
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import AccessLogEntry
from citizens.services import break_glass_open
from sectors.choices import MembershipRole
from sectors.tests.factories import HospitalDepartmentFactory, MembershipFactory
from tests.cast import actor_for

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def frozen():
    """Sunday 6 December 2026, 10:00 in Copenhagen."""
    with freeze_time("2026-12-06 09:00:00", tick=False) as frozen_time:
        yield frozen_time


@pytest.fixture
def busy_day(world, actor, frozen):
    """Yesterday home care listed the citizen twice; today 14 times and opened the overview 3
    times; the GP clinic changed the phone number."""
    homecare = actor("homecare_a")
    frozen.move_to("2026-12-05 12:00:00")
    for _ in range(2):
        access_log_record(actor=homecare, citizens=world.citizen, action=AccessAction.LIST, detail="today list")
    frozen.move_to("2026-12-06 07:00:00")
    for _ in range(14):
        access_log_record(actor=homecare, citizens=world.citizen, action=AccessAction.LIST, detail="today list")
        frozen.tick(datetime.timedelta(minutes=5))
    for _ in range(3):
        access_log_record(actor=homecare, citizens=world.citizen, action=AccessAction.VIEW, detail="overview")
    access_log_record(actor=actor("gp_a"), citizens=world.citizen, action=AccessAction.UPDATE, detail="phone")
    frozen.move_to("2026-12-06 09:00:00")


def _report(client, world, language="en", user="gp_a", url_name="citizens:access_report"):
    client.force_login(world.users[user])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(reverse(url_name, args=[world.citizen.pk]))


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_a_day_of_list_views_is_one_line_per_organisation_with_counts(client, world, busy_day):
    response = _report(client, world)
    assert response.status_code == 200
    groups = response.context["groups"]
    summary = [(g.day, g.organisation_name, g.lists, g.lookups, g.changes) for g in groups]
    today, yesterday = datetime.date(2026, 12, 6), datetime.date(2026, 12, 5)
    assert summary == [
        (today, world.clinic_a.name, 0, 1, 1),  # the phone change, and reading this report
        (today, world.municipality_a.name, 14, 3, 0),
        (yesterday, world.municipality_a.name, 2, 0, 0),
    ]
    assert response.context["total"] == 2 + 14 + 3 + 1 + 1
    html = response.content.decode()
    assert html.count('data-testid="access-group"') == 3
    assert "14 views in lists" in html and "3 look-ups" in html and "1 change" in html
    # each group opens to its entries: every entry is on the page
    assert html.count('data-testid="access-entry"') == 21


def test_what_was_seen_is_said_in_words_not_codes(client, world, busy_day):
    english = _report(client, world).content.decode()
    assert "the Today list" in english and "the overview" in english and "changed: phone" in english
    assert ">today list<" not in english
    danish = _report(client, world, "da").content.decode()
    with translation.override("da"):
        assert str(AccessAction.LIST.label) in danish  # "Vist i en liste"
        assert detail_label("today list") in danish


def test_a_group_shows_its_newest_entries_and_points_to_the_csv_for_the_rest(client, world, busy_day, monkeypatch):
    monkeypatch.setattr("citizens.views.ACCESS_REPORT_GROUP_ENTRIES", 5)
    html = _report(client, world).content.decode()
    municipality = next(g for g in _report(client, world).context["groups"] if g.lists == 14)
    assert len(municipality.entries) == 5 and municipality.hidden == 12
    assert [e.action for e in municipality.entries] == ["view"] * 3 + ["list"] * 2  # the newest
    assert "12 more in the CSV download" in html


def test_break_the_glass_is_flagged_and_its_group_open(client, world, busy_day):
    department = HospitalDepartmentFactory()
    physician = MembershipFactory(organisation=department, role=MembershipRole.HOSPITAL_PHYSICIAN).user

    break_glass_open(actor=actor_for(physician), cpr=world.citizen.cpr, reason="Bevidstløs, akut indlagt")
    response = _report(client, world)
    flagged = [g for g in response.context["groups"] if g.break_glass]
    assert [(g.organisation_name, g.break_glass) for g in flagged] == [(department.name, 1)]
    html = response.content.decode()
    opened = [tag for tag in re.findall(r"<details[^>]*>", html) if " open" in tag]
    assert len(opened) == 1  # only the break-the-glass group starts open
    assert "access until 6 Dec 2026" in html


def _page_queries(client, world) -> int:
    client.force_login(world.users["gp_a"])
    url = reverse("citizens:access_report", args=[world.citizen.pk])
    client.get(url)  # renews the session: the measured request, within the minute, does not save it
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_page_query_count_does_not_grow_with_entries_or_groups(client, world, actor, frozen, busy_day):
    few = _page_queries(client, world)
    others = [actor(name) for name in ("nurse_a", "assistant_a", "hospital_nurse", "unit_physician")]
    for day in range(1, 20):
        frozen.move_to(f"2026-11-{day:02d} 12:00:00")
        for other in others:
            for _ in range(3):
                access_log_record(actor=other, citizens=world.citizen, action=AccessAction.LIST, detail="citizen list")
    frozen.move_to("2026-12-06 09:00:00")
    many = _page_queries(client, world)
    assert many == few


def test_the_csv_keeps_every_entry_with_labels_and_the_stored_code(client, world, busy_day):
    rows = _csv(_report(client, world, url_name="citizens:access_report_csv"))
    header, body = rows[0], rows[1:]
    assert len(header) == 9
    assert len(body) == AccessLogEntry.objects.filter(citizen=world.citizen).count() == 2 + 14 + 3 + 1 + 1
    what = [(row[5], row[8]) for row in body]
    assert what.count(("the Today list", "today list")) == 16
    assert ("changed: phone", "phone") in what


def test_the_csv_speaks_the_ui_language(client, world, busy_day):
    rows = _csv(_report(client, world, "da", url_name="citizens:access_report_csv"))
    with translation.override("da"):
        assert rows[0][4] == translation.gettext("Action") == "Handling"
        assert {row[4] for row in rows[1:]} >= {str(AccessAction.LIST.label), str(AccessAction.VIEW.label)}
        assert detail_label("today list") in {row[5] for row in rows[1:]}


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("overview", "the overview"),
        ("today list", "the Today list"),
        ("threshold 8480-6 v2", "limits for Systolic blood pressure set (version 2)"),
        ("observation 29463-7", "measurement recorded: Body weight"),
        ("monitoring schedule 85354-9", "measurement schedule for Blood pressure"),
        ("care plan status draft -> active", "care plan status changed from Draft to Active"),
        ("care plan created: KOL-forløb", "care plan created: KOL-forløb"),
        ("admin careplan list", "administration: list of care plans"),
        ("admin citizen", "administration: citizen"),
        ("api goal list", "API: list of goals"),
        ("api hospital-event detail", "API: hospital event"),
        ("api message inbox", "API: the inbox"),
        ("hospital event STIN", "hospital event: Admitted"),
        ("hospital event correction", "hospital event revised: Correction"),
        ("until 2026-12-06 21:00", "access until 6 Dec 2026 22:00"),
        ("consent None -> True", "consent changed from not recorded to given"),
        ("objection against sector:hospital", "objection recorded (A whole sector)"),
        ("objection 12 withdrawn", "objection withdrawn"),
        ("phone, first_name, contact_persons", "changed: phone, first name, contact persons"),
        ("FHIR Observation search", "FHIR API: search for Observation"),
        ("FHIR Patient read", "FHIR API: Patient read"),
        ("FHIR Goal included", "FHIR API: Goal included in a search"),
        ("FHIR Nonsense read", "FHIR Nonsense read"),
        ("something we never wrote", "something we never wrote"),
        ("admin nosuchmodel list", "admin nosuchmodel list"),
    ],
)
def test_detail_labels(code, label):
    with translation.override("en"):
        assert detail_label(code) == label


def _strings(node: ast.AST) -> set[str]:
    """The string literals of an expression ("sent messages" if box == "sent" else "inbox")."""
    return {
        child.value
        for child in ast.walk(node)
        if isinstance(child, ast.Constant) and isinstance(child.value, str) and child not in _compared(node)
    }


def _compared(node: ast.AST) -> list[ast.AST]:
    return [c for child in ast.walk(node) if isinstance(child, ast.Compare) for c in ast.walk(child)]


def _constant_details() -> set[str]:
    """The access log codes written as literals anywhere in the apps: ``detail="..."`` and the
    helpers that take the code as their last positional argument."""
    helpers = {"_load", "_log_write", "_log"}
    found: set[str] = set()
    for app in ("citizens", "careplans", "messaging", "smartcare"):
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg == "detail" and not isinstance(keyword.value, ast.JoinedStr):
                            found |= _strings(keyword.value)
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    if name in helpers:
                        found |= {arg.value for arg in node.args if isinstance(arg, ast.Constant)}
                elif isinstance(node, ast.FunctionDef):
                    arguments = node.args.kwonlyargs
                    for argument, default in zip(arguments, node.args.kw_defaults, strict=True):
                        if argument.arg == "detail" and isinstance(default, ast.Constant) and default.value:
                            found.add(default.value)
    return {value for value in found if isinstance(value, str) and re.search(r"[a-z]", value)}


def test_every_code_the_apps_write_has_a_label():
    codes = _constant_details()
    assert {"overview", "today list", "inbox", "care plan: edit", "message sent"} <= codes
    assert sorted(code for code in codes if not has_detail_label(code)) == []
    assert not has_detail_label("something we never wrote")


def test_every_fhir_read_of_every_type_has_a_label_in_both_languages():
    """``citizens.fhir.search`` writes "FHIR <type> read|search|included" for each registered type."""
    from citizens.fhir import registry

    codes = [f"FHIR {kind.name} {how}" for kind in registry.all_types() for how in ("read", "search", "included")]
    assert len(codes) >= 3 * 15
    with translation.override("da"):
        assert all(detail_label(code).startswith("FHIR-API: ") for code in codes)
    with translation.override("en"):
        assert all(detail_label(code).startswith("FHIR API: ") for code in codes)
