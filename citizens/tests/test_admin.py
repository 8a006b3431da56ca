"""The admin: superusers see every citizen, other staff only what the access gate allows; every
page that shows citizens' data is in the access log, superusers' look-ups included; the access log
cannot be changed or deleted by anybody."""

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
from citizens.cpr import parse_cpr
from citizens.models import (
    AccessLogEntry,
    BreakGlassAccess,
    Citizen,
    Condition,
    ConsentEvent,
    HospitalStay,
    Objection,
)
from citizens.tests.factories import CitizenFactory, HospitalStayFactory
from sectors.acting import resolve
from sectors.choices import MembershipRole
from sectors.tests.factories import HospitalDepartmentFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_mfa_for_admins(settings):
    settings.MFA_REQUIRED_FOR_ADMINS = False


def make_citizen(clinic, cpr: str, last_name: str) -> Citizen:
    parsed = parse_cpr(cpr)
    return Citizen.objects.create(
        cpr=parsed.digits,
        birth_date=parsed.birth_date,
        sex=parsed.sex,
        first_name="Test",
        last_name=last_name,
        municipality=clinic.municipality,
        gp_clinic=clinic,
    )


def staff(user, *codenames: str):
    user.is_staff = True
    user.save()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def mine(clinic):
    return make_citizen(clinic, "0101801235", "Insidersen")


@pytest.fixture
def theirs(other_clinic):
    return make_citizen(other_clinic, "0202751234", "Outsidersen")


@pytest.fixture
def staff_gp(gp):
    return staff(gp, "view_citizen", "view_accesslogentry", "view_hospitalstay", "view_contactperson")


def break_the_glass(user, citizen, reason: str = "Akut") -> BreakGlassAccess:
    now = timezone.now()
    return BreakGlassAccess.objects.create(
        user=user,
        organisation=user.memberships.get().organisation,
        citizen=citizen,
        reason=reason,
        started_at=now,
        expires_at=now + datetime.timedelta(hours=4),
    )


def log_read(user, citizen):
    actor = Actor(user=user, acting=resolve(user, None))
    access_log_record(actor=actor, citizens=citizen, action=AccessAction.VIEW, reason=AccessReason.GP_CLINIC)


# --- citizens ------------------------------------------------------------------------------------


def test_superuser_sees_every_citizen_with_formatted_cpr(client, superuser, mine, theirs):
    client.force_login(superuser)

    page = client.get("/admin/citizens/citizen/").content.decode()

    assert "010180-1235" in page and "Insidersen" in page
    assert "020275-1234" in page and "Outsidersen" in page
    assert client.get(f"/admin/citizens/citizen/{theirs.pk}/change/").status_code == 200


def test_staff_non_superuser_sees_only_citizens_inside_the_gate(client, staff_gp, mine, theirs):
    client.force_login(staff_gp)

    page = client.get("/admin/citizens/citizen/").content.decode()

    assert "010180-1235" in page
    assert "Outsidersen" not in page and "020275-1234" not in page
    assert client.get(f"/admin/citizens/citizen/{mine.pk}/change/").status_code == 200
    hidden = client.get(f"/admin/citizens/citizen/{theirs.pk}/change/")
    assert hidden.status_code == 302  # "does not exist", exactly like a missing id
    assert client.get("/admin/citizens/citizen/?q=020275-1234").content.decode().count("Outsidersen") == 0


def test_staff_without_an_organisation_sees_no_citizens(client, mine):
    user = staff(UserFactory(), "view_citizen")
    client.force_login(user)

    assert "010180-1235" not in client.get("/admin/citizens/citizen/").content.decode()


def test_search_by_cpr_with_or_without_dash_and_by_name(client, superuser, mine, theirs):
    client.force_login(superuser)

    for query in ("010180-1235", "0101801235", "010180", "insider"):
        page = client.get("/admin/citizens/citizen/", {"q": query}).content.decode()
        assert "Insidersen" in page and "Outsidersen" not in page, query


def test_citizens_are_read_only_in_the_admin(client, superuser, mine):
    client.force_login(superuser)

    assert client.get("/admin/citizens/citizen/add/").status_code == 403
    assert client.post(f"/admin/citizens/citizen/{mine.pk}/change/", {"first_name": "X"}).status_code == 403
    assert client.post(f"/admin/citizens/citizen/{mine.pk}/delete/", {"post": "yes"}).status_code == 403
    mine.refresh_from_db()
    assert mine.first_name == "Test"


def test_looking_at_citizens_in_the_admin_is_logged(client, staff_gp, clinic, mine):
    client.force_login(staff_gp)
    before = AccessLogEntry.objects.count()

    client.get("/admin/citizens/citizen/")
    client.get(f"/admin/citizens/citizen/{mine.pk}/change/")

    entries = list(AccessLogEntry.objects.order_by("pk")[before:])
    assert [(e.action, e.reason, e.citizen_id, e.organisation_id, e.detail) for e in entries] == [
        (AccessAction.LIST, AccessReason.GP_CLINIC, mine.pk, clinic.pk, "admin citizen list"),
        (AccessAction.VIEW, AccessReason.GP_CLINIC, mine.pk, clinic.pk, "admin citizen"),
    ]


def test_superuser_look_up_is_logged_without_a_reason(client, superuser, mine):
    client.force_login(superuser)

    client.get(f"/admin/citizens/citizen/{mine.pk}/change/")

    entry = AccessLogEntry.objects.order_by("-pk").first()
    assert (entry.user_id, entry.citizen_id, entry.action, entry.reason) == (
        superuser.pk,
        mine.pk,
        AccessAction.VIEW,
        "",
    )


# --- conditions ----------------------------------------------------------------------------------


def test_administrators_extend_the_list_of_conditions(client, superuser):
    client.force_login(superuser)

    added = client.post(
        "/admin/citizens/condition/add/",
        {"icd10_code": "G20", "name_da": "Parkinsons sygdom", "name_en": "Parkinson's disease", "is_active": "on"},
    )
    refused = client.post(
        "/admin/citizens/condition/add/", {"icd10_code": "not a code", "name_da": "x", "name_en": "x"}
    )

    assert added.status_code == 302
    assert Condition.objects.filter(icd10_code="G20", is_active=True).exists()
    assert refused.status_code == 200  # the form again, with the error
    assert not Condition.objects.filter(name_da="x").exists()
    assert "Parkinson" in client.get("/admin/citizens/condition/", {"q": "G20"}).content.decode()


# --- the access log ------------------------------------------------------------------------------


def test_access_log_cannot_be_added_changed_or_deleted_even_by_a_superuser(client, superuser, gp, mine):
    log_read(gp, mine)
    entry = AccessLogEntry.objects.get()
    client.force_login(superuser)

    assert client.get("/admin/citizens/accesslogentry/").status_code == 200
    assert client.get(f"/admin/citizens/accesslogentry/{entry.pk}/change/").status_code == 200
    assert client.get("/admin/citizens/accesslogentry/add/").status_code == 403
    assert client.post(f"/admin/citizens/accesslogentry/{entry.pk}/change/", {"detail": "x"}).status_code == 403
    assert client.get(f"/admin/citizens/accesslogentry/{entry.pk}/delete/").status_code == 403
    assert client.post(f"/admin/citizens/accesslogentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = client.post("/admin/citizens/accesslogentry/", {"action": "delete_selected", "_selected_action": [entry.pk]})
    assert bulk.status_code == 200  # the delete action is not offered: the list comes back with "No action selected"
    entry.refresh_from_db()  # still there, unchanged (looking at it added entries of its own)
    assert entry.detail == ""
    assert AccessLogEntry.objects.filter(citizen=mine, user=gp).count() == 1


def test_access_log_admin_offers_no_actions_and_has_the_filters(client, superuser, gp, mine):
    log_read(gp, mine)
    client.force_login(superuser)

    response = client.get("/admin/citizens/accesslogentry/")

    assert "delete_selected" not in response.content.decode()
    spec_titles = {str(spec.title) for spec in response.context["cl"].filter_specs}
    assert len(spec_titles) == 3  # action, reason, organisation
    assert client.get("/admin/citizens/accesslogentry/", {"action": "view"}).status_code == 200


def test_staff_see_only_log_entries_of_citizens_inside_their_gate(client, staff_gp, outsider, mine, theirs):
    log_read(outsider, theirs)
    log_read(staff_gp, mine)
    client.force_login(staff_gp)

    response = client.get("/admin/citizens/accesslogentry/")

    shown = {entry.citizen_id for entry in response.context["cl"].result_list}
    assert shown == {mine.pk}


def test_access_log_head_is_not_in_the_admin(client, superuser):
    client.force_login(superuser)

    assert client.get("/admin/citizens/accessloghead/").status_code == 404


# --- break-the-glass review ------------------------------------------------------------------------


def test_only_the_organisations_administrator_reviews_break_the_glass(client, clinic, outsider, mine):
    grant = break_the_glass(outsider, mine, "Akut indlæggelse, ingen journal tilgængelig")
    url = f"/admin/citizens/breakglassaccess/{grant.pk}/change/"
    admin_of_theirs = staff(
        MembershipFactory(organisation=grant.organisation, role=MembershipRole.ORGANISATION_ADMIN).user,
        "view_breakglassaccess",
        "change_breakglassaccess",
    )
    admin_of_mine = staff(
        MembershipFactory(organisation=clinic, role=MembershipRole.ORGANISATION_ADMIN).user,
        "view_breakglassaccess",
        "change_breakglassaccess",
    )

    client.force_login(admin_of_mine)
    assert (
        client.post(url, {"conclusion": "justified", "review_note": "ok"}).status_code == 302
    )  # not theirs: "does not exist"
    grant.refresh_from_db()
    assert grant.reviewed_at is None

    client.force_login(admin_of_theirs)
    assert client.post(url, {"conclusion": "justified", "review_note": "Berettiget"}).status_code == 302
    grant.refresh_from_db()
    assert (grant.reviewed_by, grant.review_note) == (admin_of_theirs, "Berettiget")
    assert grant.reason.startswith("Akut")
    assert client.post(url, {"conclusion": "justified", "review_note": "Ændret"}).status_code == 403  # reviewed once


# --- every page that shows citizens' data is logged -------------------------------------------------

MODELS = ["hospitalstay", "objection", "consentevent", "accesslogentry", "breakglassaccess"]


@pytest.fixture
def staff_viewer(gp):
    return staff(gp, *(f"view_{model}" for model in MODELS))


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
    return break_the_glass(by, citizen)


def new_entries(since: int, user) -> list[tuple]:
    """(action, citizen, detail) of the user's entries since ``since``, sorted."""
    return sorted(
        (e.action, str(e.citizen_id), e.detail) for e in AccessLogEntry.objects.filter(pk__gt=since, user=user)
    )


def last_pk() -> int:
    return AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.parametrize("model", MODELS)
def test_list_page_logs_each_citizen_shown_once(client, staff_viewer, mine, model):
    make_row(model, mine, by=staff_viewer)
    make_row(model, mine, by=staff_viewer)  # two rows, one citizen
    client.force_login(staff_viewer)
    before = last_pk()

    response = client.get(f"/admin/citizens/{model}/")

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 2
    assert new_entries(before, staff_viewer) == [(AccessAction.LIST, str(mine.pk), f"admin {model} list")]


@pytest.mark.parametrize("model", MODELS)
def test_change_page_logs_the_citizen(client, staff_viewer, mine, model):
    row = make_row(model, mine, by=staff_viewer)
    client.force_login(staff_viewer)
    before = last_pk()

    response = client.get(f"/admin/citizens/{model}/{row.pk}/change/")

    assert response.status_code == 200
    assert new_entries(before, staff_viewer) == [(AccessAction.VIEW, str(mine.pk), f"admin {model}")]


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


def test_the_relationship_is_logged_as_the_reason(client, staff_viewer, mine):
    make_row("hospitalstay", mine, by=staff_viewer)
    client.force_login(staff_viewer)
    before = last_pk()

    client.get("/admin/citizens/hospitalstay/")

    assert list(AccessLogEntry.objects.filter(pk__gt=before).values_list("reason", flat=True)) == [
        AccessReason.GP_CLINIC
    ]


def test_a_list_page_logs_in_a_fixed_number_of_queries(client, staff_viewer, clinic):
    client.force_login(staff_viewer)

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/citizens/hospitalstay/").status_code == 200
        return len(queries)

    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    HospitalStayFactory(citizen=CitizenFactory(gp_clinic=clinic))
    one = queries_for_list()
    for _ in range(4):
        HospitalStayFactory(citizen=CitizenFactory(gp_clinic=clinic))
    five = queries_for_list()

    assert HospitalStay.objects.count() == 5
    assert AccessLogEntry.objects.filter(action=AccessAction.LIST).count() == 1 + 5
    assert five == one
