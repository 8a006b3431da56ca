"""The citizen pages: the fixed cast (the citizen's GP, a colleague, an outsider from another
clinic) on every page, plus forms, the access log and query counts."""

import csv
import datetime
import io
import itertools
import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citizens.access import Actor
from citizens.choices import AccessAction, ObjectionTarget
from citizens.models import AccessLogEntry, BreakGlassAccess, Citizen, Condition, Objection
from citizens.services import (
    ConditionItem,
    ContactItem,
    break_glass_open,
    citizen_create,
    hospital_stay_start,
    objection_record,
)
from sectors.acting import resolve
from sectors.choices import MembershipRole, Sector
from sectors.tests.factories import HospitalDepartmentFactory, MembershipFactory

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


def synthetic_cpr() -> str:
    """Distinct, obviously synthetic CPR numbers born in 1955 (7th digit 9)."""
    n = next(_serial)
    return f"{n % 28 + 1:02d}{n // 28 % 12 + 1:02d}559{n % 1000:03d}"


def actor_for(user) -> Actor:
    return Actor(user=user, acting=resolve(user, None))


def make_citizen(user, **fields) -> Citizen:
    """A citizen registered through the service by ``user`` (a GP: listed at their clinic)."""
    actor = actor_for(user)
    clinic = actor.organisation
    cpr = fields.pop("cpr", None) or synthetic_cpr()
    defaults = {
        "first_name": "Testa",
        "last_name": f"Borger{next(_serial)}",
        "municipality": clinic.municipality,
        "gp_clinic": clinic,
    }
    defaults.update(fields)
    return citizen_create(actor=actor, cpr=cpr, **defaults)


@pytest.fixture
def citizen(gp):
    copd = Condition.objects.get(icd10_code="J44")
    return make_citizen(
        gp,
        first_name="Karen",
        last_name="Testesen",
        street="Testvej 1",
        postal_code="5000",
        city="Odense C",
        phone="+45 11 22 33 44",
        conditions=[ConditionItem(condition=copd, onset_date=datetime.date(2015, 3, 1))],
        contact_persons=[ContactItem(name="Ib Testesen", phone="22 33 44 55", relation="søn", is_primary=True)],
    )


@pytest.fixture
def physician(db):
    """A hospital physician without any relationship to the citizen."""
    return MembershipFactory(organisation=HospitalDepartmentFactory(), role=MembershipRole.HOSPITAL_PHYSICIAN).user


def log_count(citizen, action=None) -> int:
    qs = AccessLogEntry.objects.filter(citizen=citizen)
    return (qs.filter(action=action) if action else qs).count()


CITIZEN_PAGES = ["citizens:detail", "citizens:edit", "citizens:consent", "citizens:access_report"]


# --- the fixed cast ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*CITIZEN_PAGES, "citizens:access_report_csv"])
def test_citizen_pages_open_for_the_gp(gp_client, citizen, name):
    response = gp_client.get(reverse(name, args=[citizen.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("name", CITIZEN_PAGES)
def test_colleague_sees_the_same_pages(client, colleague, citizen, name):
    client.force_login(colleague)
    assert client.get(reverse(name, args=[citizen.pk])).status_code == 200


@pytest.mark.parametrize("name", ["citizens:list", "citizens:search", "citizens:create"])
def test_general_pages_open_for_the_gp(gp_client, name):
    assert gp_client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", [*CITIZEN_PAGES, "citizens:access_report_csv"])
def test_outsider_gets_404_like_for_a_missing_citizen(outsider_client, citizen, name):
    before = AccessLogEntry.objects.count()
    response = outsider_client.get(reverse(name, args=[citizen.pk]))
    missing = outsider_client.get(reverse(name, args=[uuid.uuid4()]))
    assert response.status_code == missing.status_code == 404
    assert citizen.full_name not in response.content.decode()
    assert AccessLogEntry.objects.count() == before


def test_outsider_cannot_post_consent_or_withdraw_objections(outsider_client, citizen, gp):
    objection = objection_record(
        actor=actor_for(gp), citizen=citizen, target=ObjectionTarget.SECTOR, sector=Sector.HOSPITAL
    )
    response = outsider_client.post(
        reverse("citizens:consent", args=[citizen.pk]), {"action": "consent", "consent": "no"}
    )
    assert response.status_code == 404
    url = reverse("citizens:objection_withdraw", args=[citizen.pk, objection.pk])
    assert outsider_client.post(url).status_code == 404
    citizen.refresh_from_db()
    objection.refresh_from_db()
    assert citizen.consent_to_share is None
    assert objection.withdrawn_at is None


def test_pages_require_sign_in(client, citizen):
    response = client.get(reverse("citizens:detail", args=[citizen.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- list and search -------------------------------------------------------------------------------


def test_list_shows_only_own_citizens(gp_client, gp, outsider, citizen):
    foreign = make_citizen(outsider, first_name="Fremmed", last_name="Borgersen")
    response = gp_client.get(reverse("citizens:list"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Testesen" in content and citizen.cpr_formatted in content
    assert "Borgersen" not in content and foreign.cpr_formatted not in content
    assert "J44" in content
    assert log_count(citizen, AccessAction.LIST) == 1
    assert log_count(foreign, AccessAction.LIST) == 0


def test_list_filters_and_htmx_returns_the_results_only(gp_client, gp, citizen):
    make_citizen(gp, first_name="Anders", last_name="Andersen")
    response = gp_client.get(reverse("citizens:list"), {"condition": "J44"}, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert "<html" not in content
    assert "Testesen" in content and "Andersen" not in content
    response = gp_client.get(reverse("citizens:list"), {"search": "Anders"})
    assert "Andersen" in response.content.decode() and "Testesen" not in response.content.decode()


def test_list_shows_the_current_stay(gp_client, citizen):
    department = HospitalDepartmentFactory(name="Lungemedicinsk afdeling")
    hospital_stay_start(citizen=citizen, department=department, admitted_at=timezone.now())
    content = gp_client.get(reverse("citizens:list")).content.decode()
    assert "Lungemedicinsk afdeling" in content


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("citizens:list")).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_the_page(gp_client, gp, django_assert_num_queries):
    copd = Condition.objects.get(icd10_code="J44")
    diabetes = Condition.objects.get(icd10_code="E11")
    department = HospitalDepartmentFactory()

    def add(n):
        for _i in range(n):
            c = make_citizen(gp, conditions=[ConditionItem(condition=copd), ConditionItem(condition=diabetes)])
            hospital_stay_start(citizen=c, department=department, admitted_at=timezone.now())

    add(3)
    gp_client.get(reverse("citizens:list"))  # renews the session; the next request within a minute does not
    queries_for_3 = _list_queries(gp_client)
    add(17)
    with django_assert_num_queries(queries_for_3):
        response = gp_client.get(reverse("citizens:list"))
    assert len(response.context["page"].object_list) == 20


def test_search_finds_own_citizen_by_cpr_with_and_without_dash(gp_client, citizen):
    for query in (citizen.cpr, citizen.cpr_formatted):
        response = gp_client.get(reverse("citizens:search"), {"q": query})
        assert response.status_code == 302, query
        assert response["Location"] == reverse("citizens:detail", args=[citizen.pk])
    for query in (citizen.cpr[:6], "Karen Teste"):
        content = gp_client.get(reverse("citizens:search"), {"q": query}).content.decode()
        assert "Testesen" in content, query
    assert log_count(citizen, AccessAction.SEARCH) == 4


def _no_hit_text(response, cpr: str) -> str:
    content = response.content.decode()
    block = re.search(r'data-testid="no-hit">(.*?)</div>', content, re.S)
    assert block, "the no-hit message is missing"
    return block.group(1).replace(cpr, "CPR")


def test_search_does_not_reveal_a_cpr_outside_the_scope(outsider_client, citizen):
    unregistered = "0101559999"
    assert not Citizen.objects.filter(cpr=unregistered).exists()
    hidden = outsider_client.get(reverse("citizens:search"), {"q": citizen.cpr})
    missing = outsider_client.get(reverse("citizens:search"), {"q": unregistered})
    assert hidden.status_code == missing.status_code == 200
    assert "Testesen" not in hidden.content.decode()
    assert _no_hit_text(hidden, citizen.cpr) == _no_hit_text(missing, unregistered)
    assert log_count(citizen) == 1  # only the registration


def test_search_offers_break_the_glass_to_clinicians_only(client, citizen, physician):
    admin = MembershipFactory(role=MembershipRole.ORGANISATION_ADMIN).user
    client.force_login(physician)
    content = client.get(reverse("citizens:search"), {"q": citizen.cpr_formatted}).content.decode()
    assert 'data-testid="break-glass-link"' in content
    assert f"?cpr={citizen.cpr}" in content
    client.force_login(admin)
    content = client.get(reverse("citizens:search"), {"q": citizen.cpr}).content.decode()
    assert 'data-testid="break-glass-link"' not in content


# --- the overview ------------------------------------------------------------------------------------


def test_overview_shows_identity_sectors_and_access(gp_client, citizen, clinic):
    response = gp_client.get(reverse("citizens:detail", args=[citizen.pk]))
    content = response.content.decode()
    for text in (citizen.cpr_formatted, "Testvej 1", "Ib Testesen", "J44", clinic.name, clinic.municipality.name):
        assert text in content, text
    assert 'data-testid="break-glass-banner"' not in content
    assert reverse("citizens:edit", args=[citizen.pk]) in content
    assert log_count(citizen, AccessAction.VIEW) == 1


def test_overview_hides_edit_for_hospitals(client, citizen):
    department = HospitalDepartmentFactory()
    nurse = MembershipFactory(organisation=department, role=MembershipRole.HOSPITAL_NURSE).user
    hospital_stay_start(citizen=citizen, department=department, admitted_at=timezone.now())
    client.force_login(nurse)
    content = client.get(reverse("citizens:detail", args=[citizen.pk])).content.decode()
    assert department.name in content
    assert reverse("citizens:edit", args=[citizen.pk]) not in content
    assert client.get(reverse("citizens:edit", args=[citizen.pk])).status_code == 403
    assert client.get(reverse("citizens:create")).status_code == 403


# --- register and edit -----------------------------------------------------------------------------


def _citizen_post(clinic, **overrides) -> dict:
    data = {
        "cpr": "",
        "first_name": "Ny",
        "last_name": "Borger",
        "street": "",
        "postal_code": "",
        "city": "",
        "phone": "",
        "municipality": clinic.municipality_id,
        "gp_clinic": clinic.pk,
        "conditions-TOTAL_FORMS": "1",
        "conditions-INITIAL_FORMS": "0",
        "conditions-0-condition": "",
        "conditions-0-onset_date": "",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-0-name": "",
        "contacts-0-relation": "",
        "contacts-0-phone": "",
    }
    data.update(overrides)
    return data


def test_create_prefills_the_own_clinic(gp_client, clinic):
    form = gp_client.get(reverse("citizens:create")).context["form"]
    assert form.initial["gp_clinic"] == clinic
    assert form.initial["municipality"] == clinic.municipality_id


def test_create_registers_with_conditions_and_contacts(gp_client, clinic):
    copd = Condition.objects.get(icd10_code="J44")
    data = _citizen_post(
        clinic,
        **{
            "cpr": "010155-9123",
            "conditions-0-condition": copd.pk,
            "conditions-0-onset_date": "2020-05-01",
            "contacts-0-name": "Pia Borger",
            "contacts-0-phone": "12345678",
            "contacts-0-is_primary": "on",
        },
    )
    response = gp_client.post(reverse("citizens:create"), data)
    citizen = Citizen.objects.get(cpr="0101559123")
    assert response.status_code == 302
    assert response["Location"] == reverse("citizens:detail", args=[citizen.pk])
    assert [c.condition.icd10_code for c in citizen.conditions.all()] == ["J44"]
    assert citizen.contact_persons.get().is_primary
    assert log_count(citizen, AccessAction.CREATE) == 1


def test_create_with_a_duplicate_cpr_is_a_field_error(gp_client, clinic, citizen):
    before = Citizen.objects.count()
    response = gp_client.post(reverse("citizens:create"), _citizen_post(clinic, cpr=citizen.cpr_formatted))
    assert response.status_code == 400
    assert "A citizen with this CPR number is already registered in your organisation" in response.content.decode()
    assert response.context["form"].has_error("cpr")
    assert response.context["existing"] == citizen.pk  # in the clinic's care: linked
    assert Citizen.objects.count() == before


@pytest.mark.parametrize(
    ("cpr", "message"),
    [
        ("310255-9123", "does not start with a real date"),
        ("12345", "A CPR number has 10 digits"),
        ("abcdefghij", "A CPR number has 10 digits"),
    ],
)
def test_create_with_an_invalid_cpr_is_a_field_error(gp_client, clinic, cpr, message):
    response = gp_client.post(reverse("citizens:create"), _citizen_post(clinic, cpr=cpr))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Citizen.objects.exists()


def test_create_for_another_clinic_is_refused_with_a_message(gp_client, clinic, other_clinic):
    data = _citizen_post(clinic, cpr="0101559124", gp_clinic=other_clinic.pk, municipality=other_clinic.municipality_id)
    response = gp_client.post(reverse("citizens:create"), data)
    assert response.status_code == 400
    assert "Register the citizen with your own clinic" in response.content.decode()
    assert not Citizen.objects.exists()


def test_create_rejects_a_condition_listed_twice(gp_client, clinic):
    copd = Condition.objects.get(icd10_code="J44")
    data = _citizen_post(
        clinic,
        **{
            "cpr": "0101559125",
            "conditions-TOTAL_FORMS": "2",
            "conditions-0-condition": copd.pk,
            "conditions-1-condition": copd.pk,
        },
    )
    response = gp_client.post(reverse("citizens:create"), data)
    assert response.status_code == 400
    assert "A condition is listed twice." in response.content.decode()
    assert not Citizen.objects.exists()


def test_edit_changes_fields_and_keeps_unchanged_conditions(gp_client, citizen, clinic):
    copd = Condition.objects.get(icd10_code="J44")
    form = gp_client.get(reverse("citizens:edit", args=[citizen.pk])).context["form"]
    assert "cpr" not in form.fields
    data = _citizen_post(
        clinic,
        **{
            "first_name": "Karin",
            "last_name": "Testesen",
            "conditions-TOTAL_FORMS": "2",
            "conditions-INITIAL_FORMS": "1",
            "conditions-0-condition": copd.pk,
            "conditions-0-onset_date": "2015-03-01",
            "conditions-1-condition": "",
            "contacts-INITIAL_FORMS": "1",
            "contacts-0-name": "Ib Testesen",
            "contacts-0-phone": "22 33 44 55",
            "contacts-0-DELETE": "on",
        },
    )
    data.pop("cpr")
    response = gp_client.post(reverse("citizens:edit", args=[citizen.pk]), data)
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.first_name == "Karin"
    assert [c.condition_id for c in citizen.conditions.all()] == [copd.pk]
    assert not citizen.contact_persons.exists()
    assert log_count(citizen, AccessAction.UPDATE) == 1


def test_outsider_cannot_post_an_edit(outsider_client, citizen, other_clinic):
    data = _citizen_post(other_clinic, first_name="Hacked")
    response = outsider_client.post(reverse("citizens:edit", args=[citizen.pk]), data)
    assert response.status_code == 404
    citizen.refresh_from_db()
    assert citizen.first_name == "Karen"


# --- consent and objections ----------------------------------------------------------------------


def test_consent_is_recorded_and_shown_in_the_history(gp_client, citizen, gp):
    url = reverse("citizens:consent", args=[citizen.pk])
    response = gp_client.post(url, {"action": "consent", "consent": "yes", "note": "Spurgt ved konsultation"})
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.consent_to_share is True
    assert citizen.consent_recorded_by == gp
    content = gp_client.get(url).content.decode()
    assert "Spurgt ved konsultation" in content
    assert log_count(citizen, AccessAction.CONSENT) == 1


def test_consent_without_an_answer_is_a_form_error(gp_client, citizen):
    response = gp_client.post(reverse("citizens:consent", args=[citizen.pk]), {"action": "consent"})
    assert response.status_code == 400
    assert response.context["consent_form"].has_error("consent")


def test_objection_against_a_sector_and_withdrawal(gp_client, citizen):
    url = reverse("citizens:consent", args=[citizen.pk])
    response = gp_client.post(url, {"action": "objection", "target": "sector", "sector": "hospital"})
    assert response.status_code == 302
    objection = Objection.objects.get(citizen=citizen)
    assert objection.sector == Sector.HOSPITAL and objection.is_active
    withdraw = reverse("citizens:objection_withdraw", args=[citizen.pk, objection.pk])
    assert gp_client.post(withdraw).status_code == 302
    objection.refresh_from_db()
    assert not objection.is_active
    again = gp_client.post(withdraw)
    assert again.status_code == 400
    assert "already been withdrawn" in again.content.decode()


def test_objection_against_an_organisation(gp_client, citizen, other_clinic):
    url = reverse("citizens:consent", args=[citizen.pk])
    response = gp_client.post(url, {"action": "objection", "target": "organisation", "organisation": other_clinic.pk})
    assert response.status_code == 302
    assert Objection.objects.get(citizen=citizen).organisation == other_clinic


def test_objection_without_its_sector_is_a_form_error(gp_client, citizen):
    url = reverse("citizens:consent", args=[citizen.pk])
    response = gp_client.post(url, {"action": "objection", "target": "sector"})
    assert response.status_code == 400
    assert response.context["objection_form"].has_error("sector")
    assert not Objection.objects.exists()


def test_withdrawing_an_objection_of_another_citizen_is_404(gp_client, gp, citizen):
    other = make_citizen(gp)
    objection = objection_record(actor=actor_for(gp), citizen=other, target=ObjectionTarget.SECTOR, sector="hospital")
    url = reverse("citizens:objection_withdraw", args=[citizen.pk, objection.pk])
    assert gp_client.post(url).status_code == 404


# --- break the glass -------------------------------------------------------------------------------


def test_break_the_glass_opens_the_citizen_with_a_banner(client, physician, citizen):
    client.force_login(physician)
    assert client.get(reverse("citizens:detail", args=[citizen.pk])).status_code == 404
    page = client.get(reverse("citizens:break_glass"), {"cpr": citizen.cpr})
    assert page.status_code == 200
    assert page.context["form"].initial["cpr"] == citizen.cpr
    reason = "Bevidstløs i skadestuen, behøver medicinliste"
    response = client.post(reverse("citizens:break_glass"), {"cpr": citizen.cpr_formatted, "reason": reason})
    assert response.status_code == 302
    assert response["Location"] == reverse("citizens:detail", args=[citizen.pk])
    detail = client.get(response["Location"])
    content = detail.content.decode()
    assert 'data-testid="break-glass-banner"' in content
    assert reason in content
    assert log_count(citizen, AccessAction.BREAK_THE_GLASS) == 1


def test_break_the_glass_needs_a_reason(client, physician, citizen):
    client.force_login(physician)
    response = client.post(reverse("citizens:break_glass"), {"cpr": citizen.cpr, "reason": "kort"})
    assert response.status_code == 400
    assert response.context["form"].has_error("reason")
    assert not BreakGlassAccess.objects.exists()


def test_break_the_glass_is_for_clinicians_only(client):
    admin = MembershipFactory(role=MembershipRole.ORGANISATION_ADMIN).user
    client.force_login(admin)
    assert client.get(reverse("citizens:break_glass")).status_code == 403
    assert client.post(reverse("citizens:break_glass"), {"cpr": "0101559999", "reason": "x" * 20}).status_code == 403


def test_review_lists_grants_without_cpr_and_marks_them_reviewed(client, physician, citizen):
    department = physician.memberships.get().organisation
    admin = MembershipFactory(organisation=department, role=MembershipRole.ORGANISATION_ADMIN).user
    grant_citizen = break_glass_open(actor=actor_for(physician), cpr=citizen.cpr, reason="Akut indlagt, bevidstløs")
    grant = BreakGlassAccess.objects.get(citizen=grant_citizen)
    client.force_login(admin)
    response = client.get(reverse("citizens:break_glass_review"))
    content = response.content.decode()
    assert response.status_code == 200
    assert "K.T." in content and "Akut indlagt" in content
    assert citizen.cpr not in content and citizen.cpr_formatted not in content and "Testesen" not in content
    assert 'data-testid="nav-break-glass-review"' in content
    done = reverse("citizens:break_glass_review_done", args=[grant.pk])
    assert client.post(done, {"note": ""}).status_code == 400
    assert client.post(done, {"conclusion": "justified", "note": "Begrundet"}).status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == admin and grant.review_note == "Begrundet"
    assert "Akut indlagt" not in client.get(reverse("citizens:break_glass_review")).content.decode()
    assert "Akut indlagt" in client.get(reverse("citizens:break_glass_review"), {"all": "1"}).content.decode()


def test_review_is_for_administrators_only(client, physician, citizen):
    break_glass_open(actor=actor_for(physician), cpr=citizen.cpr, reason="Akut indlagt, bevidstløs")
    grant = BreakGlassAccess.objects.get()
    client.force_login(physician)
    assert client.get(reverse("citizens:break_glass_review")).status_code == 403
    assert (
        client.post(
            reverse("citizens:break_glass_review_done", args=[grant.pk]), {"conclusion": "justified", "note": "ok"}
        ).status_code
        == 403
    )
    other_admin = MembershipFactory(role=MembershipRole.ORGANISATION_ADMIN).user
    client.force_login(other_admin)
    assert "Akut indlagt" not in client.get(reverse("citizens:break_glass_review")).content.decode()
    assert (
        client.post(
            reverse("citizens:break_glass_review_done", args=[grant.pk]), {"conclusion": "justified", "note": "ok"}
        ).status_code
        == 404
    )


# --- who has seen the data -------------------------------------------------------------------------


def test_access_report_lists_every_access_and_logs_itself(gp_client, citizen):
    gp_client.get(reverse("citizens:detail", args=[citizen.pk]))
    response = gp_client.get(reverse("citizens:access_report", args=[citizen.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "Registered" in content or "Registreret" in content
    assert log_count(citizen, AccessAction.ACCESS_REPORT) == 1
    assert response.context["total"] == 3  # create, view, this report
    assert response.context["page"].paginator.count == 1  # one organisation on one day


@pytest.mark.parametrize(
    "params",
    [{"since": "2024-13-45"}, {"until": "not a date"}, {"since": "2025-02-01", "until": "2025-01-01"}],
)
def test_access_report_with_bad_dates_shows_form_errors(gp_client, citizen, params):
    response = gp_client.get(reverse("citizens:access_report", args=[citizen.pk]), params)
    assert response.status_code == 400
    assert response.context["form"].errors
    csv_response = gp_client.get(reverse("citizens:access_report_csv", args=[citizen.pk]), params)
    assert csv_response.status_code == 400


def test_access_report_period_filter(gp_client, citizen):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = gp_client.get(reverse("citizens:access_report", args=[citizen.pk]), {"since": tomorrow.isoformat()})
    assert response.status_code == 200
    assert response.context["total"] == response.context["page"].paginator.count == 0


def test_access_report_csv(gp_client, citizen):
    gp_client.get(reverse("citizens:detail", args=[citizen.pk]))
    response = gp_client.get(reverse("citizens:access_report_csv", args=[citizen.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert citizen.birth_date.isoformat() in disposition
    assert citizen.cpr not in disposition
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows[0]) == 9  # the last column: what the log stores
    assert len(rows) == 1 + 3  # header; create, view, the report itself
    times = [datetime.datetime.fromisoformat(row[0]) for row in rows[1:]]
    assert all(t.utcoffset() is not None for t in times)
    assert {row[4] for row in rows[1:]} >= {str(AccessAction.CREATE.label), str(AccessAction.VIEW.label)}


def test_csv_neutralises_spreadsheet_formulas(client, physician, citizen):
    break_glass_open(actor=actor_for(physician), cpr=citizen.cpr, reason='=HYPERLINK("http://evil") akut')
    client.force_login(physician)
    text = b"".join(client.get(reverse("citizens:access_report_csv", args=[citizen.pk])).streaming_content)
    assert b"'=HYPERLINK" in text


# --- every read is logged ------------------------------------------------------------------------


def test_each_page_read_adds_access_log_entries(gp_client, citizen):
    pages = [
        reverse("citizens:list"),
        reverse("citizens:search") + f"?q={citizen.cpr}",
        reverse("citizens:detail", args=[citizen.pk]),
        reverse("citizens:edit", args=[citizen.pk]),
        reverse("citizens:consent", args=[citizen.pk]),
        reverse("citizens:access_report", args=[citizen.pk]),
        reverse("citizens:access_report_csv", args=[citizen.pk]),
    ]
    for url in pages:
        before = log_count(citizen)
        response = gp_client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        assert log_count(citizen) == before + 1, url


def test_nav_links_for_members(gp_client):
    content = gp_client.get(reverse("dashboard")).content.decode()
    assert reverse("citizens:list") in content
    assert reverse("citizens:search") in content
    assert 'data-testid="nav-break-glass-review"' not in content
