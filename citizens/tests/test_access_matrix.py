"""The access matrix: every relationship against every surface.

For each relationship the citizen is either visible on every surface (overview page, API
detail, API list, search page) with an access-log entry per read, or invisible on every
surface: 404 exactly like a citizen that does not exist, absent from lists and search, and
nothing logged.
"""

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from citizens.choices import ObjectionTarget
from citizens.models import AccessLogEntry, BreakGlassAccess, Objection
from citizens.tests.factories import HospitalStayFactory
from sectors.choices import Sector

pytestmark = pytest.mark.django_db
MISSING = "00000000-0000-0000-0000-000000000000"


def _stay(world, *, days_ago_discharged=None):
    now = timezone.now()
    if days_ago_discharged is None:
        HospitalStayFactory(citizen=world.citizen, department=world.department, admitted_at=now)
    else:
        HospitalStayFactory(
            citizen=world.citizen,
            department=world.department,
            admitted_at=now - datetime.timedelta(days=days_ago_discharged + 3),
            discharged_at=now - datetime.timedelta(days=days_ago_discharged),
        )


def _objection(world, sector):
    Objection.objects.create(
        citizen=world.citizen, target=ObjectionTarget.SECTOR, sector=sector, recorded_by=world.users["gp_a"]
    )


def _break_glass(world, who):
    now = timezone.now()
    BreakGlassAccess.objects.create(
        user=world.users[who],
        organisation=world.clinic_b,
        citizen=world.citizen,
        reason="Akut henvendelse i vagten",
        started_at=now,
        expires_at=now + datetime.timedelta(hours=4),
    )


# (case, who, setup, visible)
CASES = [
    ("own GP clinic", "gp_a", None, True),
    ("colleague in the own clinic", "nurse_a", None, True),
    ("other GP clinic", "gp_b", None, False),
    ("own municipality", "homecare_a", None, True),
    ("other municipality", "homecare_b", None, False),
    ("hospital with a current stay", "hospital_nurse", lambda w: _stay(w), True),
    ("hospital unit of the department", "unit_physician", lambda w: _stay(w), True),
    ("another hospital", "other_hospital", lambda w: _stay(w), False),
    ("hospital, discharged within the window", "hospital_nurse", lambda w: _stay(w, days_ago_discharged=5), True),
    ("hospital, discharged past the window", "hospital_nurse", lambda w: _stay(w, days_ago_discharged=45), False),
    ("hospital, no stay", "hospital_nurse", None, False),
    ("objection against general practice", "gp_a", lambda w: _objection(w, Sector.GENERAL_PRACTICE), False),
    ("objection against municipalities", "homecare_a", lambda w: _objection(w, Sector.MUNICIPALITY), False),
    (
        "objection against hospitals, current stay",
        "hospital_nurse",
        lambda w: (_objection(w, Sector.HOSPITAL), _stay(w)),
        True,
    ),
    (
        "objection against hospitals, after discharge",
        "hospital_nurse",
        lambda w: (_objection(w, Sector.HOSPITAL), _stay(w, days_ago_discharged=2)),
        False,
    ),
    ("break-the-glass", "gp_b", lambda w: _break_glass(w, "gp_b"), True),
    ("break-the-glass is personal", "admin_b", lambda w: _break_glass(w, "gp_b"), False),
]


def _normalised(response, query: str) -> str:
    body = response.content.decode().replace(query, "QUERY").replace(query.replace("-", ""), "QUERY")
    # The token differs per response, and the session's seconds left by the second it was read.
    return re.sub(r'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": "|data-session-timeout=")[^"]+', r"\1", body)


@pytest.fixture
def clients(world):
    def make(who):
        page_client = Client()
        page_client.force_login(world.users[who])
        api = APIClient()
        api.force_authenticate(world.users[who])
        return page_client, api

    return make


@pytest.mark.parametrize(("case", "who", "setup", "visible"), CASES, ids=[c[0] for c in CASES])
def test_access_matrix(world, clients, case, who, setup, visible):
    if setup:
        setup(world)
    page, api = clients(who)
    citizen = world.citizen
    before = AccessLogEntry.objects.count()

    detail_page = page.get(f"/citizens/{citizen.pk}/")
    missing_page = page.get(f"/citizens/{MISSING}/")
    assert missing_page.status_code == 404
    api_detail = api.get(f"/api/v1/citizens/{citizen.pk}/")
    api_list = api.get("/api/v1/citizens/")
    api_search = api.get("/api/v1/citizens/", {"search": citizen.cpr})
    search_page = page.get("/citizens/search/", {"q": citizen.cpr_formatted})
    list_page = page.get("/citizens/")

    listed = [row["id"] for row in api_list.json()["results"]]
    found = [row["id"] for row in api_search.json()["results"]]
    if visible:
        assert detail_page.status_code == 200
        assert citizen.cpr_formatted in detail_page.content.decode()
        assert api_detail.status_code == 200
        assert api_detail.json()["cpr"] == citizen.cpr
        assert listed == [str(citizen.pk)]
        assert found == [str(citizen.pk)]
        # A whole CPR number opens the citizen it finds.
        assert (search_page.status_code, search_page["Location"]) == (302, f"/citizens/{citizen.pk}/")
        assert citizen.full_name in list_page.content.decode()
        logged = AccessLogEntry.objects.filter(citizen=citizen, user=world.users[who])
        assert logged.count() == AccessLogEntry.objects.count() - before
        assert {e.action for e in logged} >= {"view", "api_read", "search", "list"}
        assert all(e.reason for e in logged)
    else:
        assert detail_page.status_code == 404
        assert api_detail.status_code == 404
        assert api_detail.json() == api.get(f"/api/v1/citizens/{MISSING}/").json()
        assert listed == [] and found == []
        assert search_page.status_code == 200
        assert citizen.full_name not in search_page.content.decode()
        # The answer for an out-of-scope CPR is the same page as for a CPR nobody has.
        unknown = page.get("/citizens/search/", {"q": "010101-9999"})
        assert _normalised(search_page, citizen.cpr_formatted) == _normalised(unknown, "010101-9999")
        assert citizen.full_name not in list_page.content.decode()
        assert AccessLogEntry.objects.count() == before
