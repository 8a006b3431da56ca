"""``/launch``: an EPJ opens the portal on a citizen by CPR number or Patient id. The cast: the
citizen's GP opens the overview (logged as a search hit); an outsider gets exactly the page an
unknown number gets; anonymous users sign in first and come back to the same link."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from citizens.choices import AccessAction, AccessReason
from citizens.merge import citizen_merge
from citizens.models import AccessLogEntry, Citizen, CitizenIdentifier
from citizens.selectors import citizen_launch
from citizens.tests.factories import CitizenFactory
from sectors.choices import MembershipRole
from sectors.tests.factories import MembershipFactory
from tests.cast import actor_for

from .test_views import make_citizen

pytestmark = pytest.mark.django_db

UNREGISTERED = "0101559999"
LAUNCH = "/launch"


@pytest.fixture
def kirsten(gp):
    return make_citizen(gp, first_name="Kirsten", last_name="Hansen")


def _detail(pk) -> str:
    return reverse("citizens:detail", args=[pk])


def _launches(citizen: Citizen) -> list[AccessLogEntry]:
    return list(AccessLogEntry.objects.filter(citizen=citizen, detail="epj launch"))


def _page(response, *shown: str) -> str:
    """The page without what differs between two requests of one user (the CSRF tokens) and with the
    numbers the link gave replaced, so two answers can be compared as a whole."""
    html = response.content.decode()
    html = re.sub(r'(name="csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]+"', r'\1"TOKEN"', html)
    for value in shown:
        html = html.replace(f"{value[:6]}-{value[6:]}", "NUMBER").replace(value, "NUMBER")
    return html


def test_the_route_is_exactly_launch():
    assert reverse("launch") == LAUNCH


# --- signing in ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["cpr=010155-9999", "patient=6f1c2a8e-0000-4000-8000-000000000001"])
def test_anonymous_users_sign_in_and_come_back_to_the_same_link(client, query):
    response = client.get(f"{LAUNCH}?{query}")
    assert response.status_code == 302
    login = reverse(settings.LOGIN_URL)
    assert response["Location"] == f"{login}?next={quote(f'{LAUNCH}?{query}', safe='/')}"


# --- found -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["digits", "dash", "spaces"])
def test_the_gp_opens_the_overview_by_cpr_and_it_is_logged_as_a_search(gp_client, gp, clinic, kirsten, form):
    cpr = {"digits": kirsten.cpr, "dash": kirsten.cpr_formatted, "spaces": f" {kirsten.cpr_formatted} "}[form]
    response = gp_client.get(LAUNCH, {"cpr": cpr})
    assert response.status_code == 302
    assert response["Location"] == _detail(kirsten.pk)
    [entry] = _launches(kirsten)
    assert (entry.action, entry.reason) == (AccessAction.SEARCH, AccessReason.GP_CLINIC)
    assert (entry.user_id, entry.organisation_id, entry.role) == (gp.pk, clinic.pk, MembershipRole.GP)


def test_the_gp_opens_the_overview_by_patient_id(gp_client, kirsten):
    response = gp_client.get(LAUNCH, {"patient": str(kirsten.pk)})
    assert response.status_code == 302
    assert response["Location"] == _detail(kirsten.pk)
    [entry] = _launches(kirsten)
    assert (entry.action, entry.reason) == (AccessAction.SEARCH, AccessReason.GP_CLINIC)


def test_the_overview_opens_after_the_redirect(gp_client, kirsten):
    response = gp_client.get(LAUNCH, {"cpr": kirsten.cpr}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(_detail(kirsten.pk), 302)]
    assert "Kirsten" in response.content.decode()


def test_a_deceased_citizen_opens_like_any_other(gp_client, kirsten):
    Citizen.objects.filter(pk=kirsten.pk).update(deceased_at=timezone.now())
    response = gp_client.get(LAUNCH, {"cpr": kirsten.cpr})
    assert response.status_code == 302
    assert response["Location"] == _detail(kirsten.pk)


def test_a_launch_costs_a_bounded_number_of_queries(gp_client, kirsten, django_assert_max_num_queries):
    gp_client.get(LAUNCH, {"cpr": kirsten.cpr})  # the gate's statement is prepared once per process
    # The session, the gate (one lookup by CPR or id) and the log's one insert; nothing of the
    # citizen is read (the overview does that).
    for params in ({"cpr": kirsten.cpr}, {"patient": str(kirsten.pk)}):
        with django_assert_max_num_queries(3):
            response = gp_client.get(LAUNCH, params)
        assert response.status_code == 302
    # Not found: the gate, (for an id) whether it was merged away, and the layout's badges.
    for params in ({"cpr": UNREGISTERED}, {"patient": str(uuid.uuid4())}):
        with django_assert_max_num_queries(6):
            response = gp_client.get(LAUNCH, params)
        assert response.status_code == 404


# --- the organisation acted for -------------------------------------------------------------------------


def test_the_organisation_acted_for_decides(client, kirsten, clinic, other_clinic):
    both = MembershipFactory(organisation=clinic, role=MembershipRole.GP).user
    MembershipFactory(user=both, organisation=other_clinic, role=MembershipRole.GP)
    client.force_login(both)
    elsewhere = client.get(LAUNCH, {"cpr": kirsten.cpr}, headers={"X-Acting-Organisation": str(other_clinic.pk)})
    assert elsewhere.status_code == 404
    assert "You work for several organisations." in elsewhere.content.decode()
    here = client.get(LAUNCH, {"cpr": kirsten.cpr}, headers={"X-Acting-Organisation": str(clinic.pk)})
    assert here.status_code == 302
    [entry] = _launches(kirsten)
    assert entry.organisation_id == clinic.pk


def test_switching_organisation_on_the_not_found_page_opens_the_link_again(client, kirsten, clinic, other_clinic):
    both = MembershipFactory(organisation=other_clinic, role=MembershipRole.GP).user
    MembershipFactory(user=both, organisation=clinic, role=MembershipRole.GP)
    client.force_login(both)
    client.post(reverse("acting_switch"), {"organisation": other_clinic.pk})
    link = f"{LAUNCH}?cpr={kirsten.cpr_formatted}"
    page = client.get(link)
    assert page.status_code == 404
    assert f'name="next" value="{link}"' in page.content.decode()  # the switcher comes back here
    switched = client.post(reverse("acting_switch"), {"organisation": clinic.pk, "next": link})
    assert switched["Location"] == link
    assert client.get(link)["Location"] == _detail(kirsten.pk)


# --- not found: unknown and outside the gate are one answer -------------------------------------------------


def test_an_outsider_gets_the_page_an_unknown_cpr_gets(outsider_client, kirsten):
    assert not Citizen.objects.filter(cpr=UNREGISTERED).exists()
    hidden = outsider_client.get(LAUNCH, {"cpr": kirsten.cpr})
    missing = outsider_client.get(LAUNCH, {"cpr": UNREGISTERED})
    assert hidden.status_code == missing.status_code == 404
    assert 'data-testid="launch-failed"' in hidden.content.decode()
    assert kirsten.full_name not in hidden.content.decode()  # the user's own (random) name may share a word
    assert _page(hidden, kirsten.cpr) == _page(missing, UNREGISTERED)
    assert AccessLogEntry.objects.filter(citizen=kirsten).exclude(action=AccessAction.CREATE).count() == 0


def test_an_outsider_gets_the_page_an_unknown_patient_id_gets(outsider_client, kirsten):
    unknown = str(uuid.uuid4())
    hidden = outsider_client.get(LAUNCH, {"patient": str(kirsten.pk)})
    missing = outsider_client.get(LAUNCH, {"patient": unknown})
    assert hidden.status_code == missing.status_code == 404
    assert 'data-testid="launch-failed"' in hidden.content.decode()
    assert _page(hidden, str(kirsten.pk)) == _page(missing, unknown)
    assert AccessLogEntry.objects.filter(citizen=kirsten).exclude(action=AccessAction.CREATE).count() == 0


def test_the_not_found_page_links_to_the_search_and_offers_to_break_the_glass(outsider_client):
    html = outsider_client.get(LAUNCH, {"cpr": "010155-9999"}).content.decode()
    assert "No citizen found" in html
    assert "010155-9999" in html
    assert f'href="{reverse("citizens:search")}"' in html
    assert f'href="{reverse("citizens:break_glass")}?cpr={UNREGISTERED}"' in html


def test_a_user_who_may_not_break_the_glass_is_not_offered_it(client, clinic):
    client.force_login(MembershipFactory(organisation=clinic, role=MembershipRole.CARE_COORDINATOR).user)
    response = client.get(LAUNCH, {"cpr": UNREGISTERED})
    assert response.status_code == 404
    assert 'data-testid="launch-search-link"' in response.content.decode()
    assert 'data-testid="break-glass-link"' not in response.content.decode()


@pytest.mark.parametrize(
    "name,value",
    [
        ("cpr", "abc"),
        ("cpr", "12345"),
        ("cpr", "01015599991"),
        ("cpr", "0101559999x"),
        ("cpr", "٠١٠١٥٥٩٩٩٩"),  # Arabic-Indic digits are digits to Python, not to a CPR number
        ("cpr", "0101559999\x00"),
        ("cpr", "x" * 5000),
        ("patient", "not-a-uuid"),
        ("patient", "123"),
        ("patient", "\x00"),
        ("patient", "6f1c2a8e-0000-4000-8000-00000000000"),
        ("patient", "x" * 5000),
    ],
)
def test_malformed_values_get_the_not_found_page(gp_client, kirsten, name, value):
    response = gp_client.get(LAUNCH, {name: value})
    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-testid="launch-failed"' in html
    assert "No citizen found" in html
    assert not AccessLogEntry.objects.filter(detail="epj launch").exists()


@pytest.mark.parametrize(
    "query",
    ["", "cpr=", "patient=%20", "other=1", "cpr=0101559999&patient=6f1c2a8e-0000-4000-8000-000000000001",
     "cpr=0101559999&cpr=0101559999"],
)  # fmt: skip
def test_a_link_that_names_no_citizen_or_two_is_a_bad_request(gp_client, kirsten, query):
    response = gp_client.get(f"{LAUNCH}?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The link does not name a citizen" in html
    assert f'href="{reverse("citizens:search")}"' in html


def test_only_get(gp_client, kirsten):
    assert gp_client.post(LAUNCH, {"cpr": kirsten.cpr}).status_code == 405


def test_the_page_is_danish_for_danish_users(gp_client):
    gp_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "da"
    html = gp_client.get(LAUNCH, {"cpr": UNREGISTERED}).content.decode()
    assert "Ingen borger fundet" in html
    assert "Find en borger" in html


# --- merged registrations -------------------------------------------------------------------------------


@pytest.fixture
def merged(world, superuser):
    """The world's citizen, first registered by a replacement number, merged into one with a CPR number."""
    absorbed = world.citizen
    Citizen.objects.filter(pk=absorbed.pk).update(cpr=None)
    CitizenIdentifier.objects.create(citizen=absorbed, system="urn:oid:1.2.208.176.1.6.1.1", value="0703921VJ5")
    kept = CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a)
    citizen_merge(by=actor_for(superuser), keep=kept, absorb=Citizen.objects.get(pk=absorbed.pk))
    return absorbed, kept


def test_a_merged_away_patient_id_opens_the_registration_kept(gp_client, merged):
    absorbed, kept = merged
    response = gp_client.get(LAUNCH, {"patient": str(absorbed.pk)})
    assert response.status_code == 302
    assert response["Location"] == _detail(kept.pk)
    assert len(_launches(kept)) == 1
    assert _launches(absorbed) == []


def test_a_merged_away_patient_id_outside_the_gate_is_not_found(outsider_client, merged):
    absorbed, _kept = merged
    unknown = str(uuid.uuid4())
    hidden = outsider_client.get(LAUNCH, {"patient": str(absorbed.pk)})
    missing = outsider_client.get(LAUNCH, {"patient": unknown})
    assert hidden.status_code == missing.status_code == 404
    assert 'data-testid="launch-failed"' in hidden.content.decode()
    assert _page(hidden, str(absorbed.pk)) == _page(missing, unknown)


def test_a_chain_of_merges_is_followed(gp, merged, superuser, world):
    absorbed, kept = merged
    Citizen.objects.filter(pk=kept.pk).update(cpr=None)
    CitizenIdentifier.objects.create(citizen=kept, system="urn:oid:1.2.208.176.1.6.1.1", value="1111111AB1")
    last = CitizenFactory(municipality=world.municipality_a, gp_clinic=world.clinic_a)
    citizen_merge(by=actor_for(superuser), keep=last, absorb=Citizen.objects.get(pk=kept.pk))
    assert citizen_launch(actor=actor_for(gp), patient=str(absorbed.pk)) == last.pk


# --- the selector ------------------------------------------------------------------------------------------


def test_the_selector_takes_exactly_one_way_of_naming_the_citizen(gp, kirsten):
    with pytest.raises(ValueError):
        citizen_launch(actor=actor_for(gp))
    with pytest.raises(ValueError):
        citizen_launch(actor=actor_for(gp), cpr=kirsten.cpr, patient=str(kirsten.pk))
