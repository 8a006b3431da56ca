"""Every admin page that shows citizens' data is in the access log, superusers' included: a list
page with one entry per citizen shown, a change page with the citizen."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citizens.access import Actor
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction, AccessReason, ObjectionTarget
from citizens.models import AccessLogEntry, BreakGlassAccess, ConsentEvent, HospitalStay, Objection
from citizens.tests.factories import CitizenFactory, HospitalStayFactory
from sectors.acting import resolve
from sectors.tests.factories import HospitalDepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

MODELS = ["hospitalstay", "objection", "consentevent", "accesslogentry", "breakglassaccess"]


@pytest.fixture(autouse=True)
def no_mfa_for_admins(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = False


@pytest.fixture
def mine(clinic):
    return CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality)


@pytest.fixture
def theirs(other_clinic):
    return CitizenFactory(gp_clinic=other_clinic, municipality=other_clinic.municipality)


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_gp(gp):
    gp.is_staff = True
    gp.save()
    gp.user_permissions.add(*Permission.objects.filter(codename__in=[f"view_{model}" for model in MODELS]))
    return gp


def make_row(model: str, citizen, *, by) -> object:
    """A row of ``model`` about ``citizen``."""
    now = timezone.now()
    if model == "hospitalstay":
        admitted = now - datetime.timedelta(days=10 + HospitalStay.objects.filter(citizen=citizen).count())
        return HospitalStayFactory(citizen=citizen, admitted_at=admitted, discharged_at=admitted)
    if model == "objection":
        return Objection.objects.create(
            citizen=citizen,
            target=ObjectionTarget.ORGANISATION,
            organisation=HospitalDepartmentFactory(),
            recorded_by=by,
        )
    if model == "consentevent":
        return ConsentEvent.objects.create(citizen=citizen, by=by, description="Samtykke givet")
    if model == "accesslogentry":
        actor = Actor(user=by, acting=resolve(by, None))
        return access_log_record(actor=actor, citizens=citizen, action=AccessAction.VIEW)[0]
    return BreakGlassAccess.objects.create(
        user=by,
        organisation=by.memberships.get().organisation,
        citizen=citizen,
        reason="Akut",
        started_at=now,
        expires_at=now + datetime.timedelta(hours=4),
    )


def new_entries(since: int, user) -> list[tuple]:
    """(action, citizen, detail) of the user's entries since ``since``, sorted."""
    return sorted(
        (e.action, str(e.citizen_id), e.detail) for e in AccessLogEntry.objects.filter(pk__gt=since, user=user)
    )


def last_pk() -> int:
    return AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("model", MODELS)
def test_list_page_logs_each_citizen_shown_once(client, staff_gp, mine, model):
    make_row(model, mine, by=staff_gp)
    make_row(model, mine, by=staff_gp)  # two rows, one citizen
    client.force_login(staff_gp)
    before = last_pk()

    response = client.get(f"/admin/citizens/{model}/")

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 2
    assert new_entries(before, staff_gp) == [(AccessAction.LIST, str(mine.pk), f"admin {model} list")]


@pytest.mark.parametrize("model", MODELS)
def test_change_page_logs_the_citizen(client, staff_gp, mine, model):
    row = make_row(model, mine, by=staff_gp)
    client.force_login(staff_gp)
    before = last_pk()

    response = client.get(f"/admin/citizens/{model}/{row.pk}/change/")

    assert response.status_code == 200
    assert new_entries(before, staff_gp) == [(AccessAction.VIEW, str(mine.pk), f"admin {model}")]


@pytest.mark.parametrize("model", MODELS)
def test_superusers_are_logged_too(client, superuser, outsider, gp, mine, theirs, model):
    make_row(model, mine, by=gp)
    row = make_row(model, theirs, by=outsider)
    client.force_login(superuser)
    before = last_pk()

    client.get(f"/admin/citizens/{model}/")
    client.get(f"/admin/citizens/{model}/{row.pk}/change/")

    assert new_entries(before, superuser) == sorted(
        [
            (AccessAction.LIST, str(mine.pk), f"admin {model} list"),
            (AccessAction.LIST, str(theirs.pk), f"admin {model} list"),
            (AccessAction.VIEW, str(theirs.pk), f"admin {model}"),
        ]
    )


def test_the_relationship_is_logged_as_the_reason(client, staff_gp, mine):
    make_row("hospitalstay", mine, by=staff_gp)
    client.force_login(staff_gp)
    before = last_pk()

    client.get("/admin/citizens/hospitalstay/")

    assert list(AccessLogEntry.objects.filter(pk__gt=before).values_list("reason", flat=True)) == [
        AccessReason.GP_CLINIC
    ]


def test_a_list_page_logs_in_a_fixed_number_of_queries(client, superuser, clinic):
    client.force_login(superuser)

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/citizens/hospitalstay/").status_code == 200
        return len(queries)

    HospitalStayFactory(citizen=CitizenFactory(gp_clinic=clinic))
    one = queries_for_list()
    for _ in range(4):
        HospitalStayFactory(citizen=CitizenFactory(gp_clinic=clinic))
    five = queries_for_list()

    assert HospitalStay.objects.count() == 5
    assert five == one
