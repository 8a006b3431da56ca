"""Pages: the dashboard, the organisation directory and detail, language, security headers and
signing in."""

import datetime
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from sectors import views
from sectors.choices import MembershipRole, OrganisationKind
from sectors.models import User
from sectors.validators import gs1_check_digit
from smartcare.session import RENEW_SECONDS

from .factories import (
    GPClinicFactory,
    HospitalDepartmentFactory,
    HospitalUnitFactory,
    MembershipFactory,
    MunicipalityFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # UserFactory's


def count_queries(client, url, **extra) -> int:
    client.get(url, **extra)  # warm-up: first-request work (session creation) is not what we measure
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(queries)


# --- Dashboard --------------------------------------------------------------------------------


def test_dashboard_requires_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/"


def test_dashboard_shows_the_acting_organisation_and_its_active_members(gp_client, gp, colleague, outsider, clinic):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    ended = MembershipFactory(
        organisation=clinic, role=MembershipRole.PRACTICE_NURSE, start_date=yesterday, end_date=yesterday
    ).user
    future = MembershipFactory(organisation=clinic, start_date=timezone.localdate() + datetime.timedelta(days=1)).user
    deactivated = MembershipFactory(organisation=clinic, user=UserFactory(is_active=False)).user

    response = gp_client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-testid="dashboard-organisation">{clinic.name}<' in html
    assert {m.user for m in response.context["members"]} == {gp, colleague}
    for shown in (gp, colleague):
        assert f'href="mailto:{shown.email}"' in html
    for hidden in (ended, future, deactivated, outsider):
        assert f'href="mailto:{hidden.email}"' not in html


def test_dashboard_without_membership_explains_what_is_missing(client):
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert not response.context["acting"]
    assert 'data-testid="members"' not in response.content.decode()


def test_dashboard_query_count_does_not_grow_with_members(gp_client, clinic, django_assert_max_num_queries):
    MembershipFactory.create_batch(2, organisation=clinic, role=MembershipRole.PRACTICE_NURSE)
    with_three = count_queries(gp_client, "/")
    MembershipFactory.create_batch(20, organisation=clinic, role=MembershipRole.PRACTICE_NURSE)
    with_twenty_three = count_queries(gp_client, "/")
    assert with_three == with_twenty_three
    # Session, user, acting organisation, members, the switcher's choices, session save, and the
    # navigation badges, each through the access policy like its list (the care-team and
    # break-the-glass look-ups, then the count): incoming hand-offs and open alerts share one
    # policy look-up, unread messages have their own (16); the work overview's cards, empty here
    # (13: see tests/test_dashboard.py).
    with django_assert_max_num_queries(29):
        assert len(gp_client.get("/").context["members"]) == 23


# --- Organisation directory -------------------------------------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory())
    return client


@pytest.fixture
def named():
    """Named organisations of two municipalities, for the searches and filters."""
    odense = MunicipalityFactory(name="Odense Kommune", municipality_code="0461")
    svendborg = MunicipalityFactory(name="Svendborg Kommune", municipality_code="0479")
    unit = HospitalUnitFactory(name="Odense Universitetshospital", municipality=odense)
    body = "579000123456"
    return {
        "odense": odense,
        "svendborg": svendborg,
        "clinic_odense": GPClinicFactory(name="Lægerne Vestergade", municipality=odense, sor_code="481901000016"),
        "clinic_svendborg": GPClinicFactory(name="Lægerne Havnegade", municipality=svendborg),
        "unit": unit,
        "department": HospitalDepartmentFactory(
            name="OUH Medicinsk afdeling Svendborg",
            parent=unit,
            municipality=svendborg,
            gln=body + str(gs1_check_digit(body)),
        ),
    }


def directory(client, **params):
    response = client.get("/organisations/", params)
    assert response.status_code == 200
    return response


def found(client, **params) -> set[str]:
    return {o.name for o in directory(client, **params).context["page"].object_list}


def names(named, *keys) -> set[str]:
    return {named[k].name for k in keys}


def test_directory_requires_sign_in(client):
    response = client.get("/organisations/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_directory_lists_every_organisation(staff_client, named):
    assert found(staff_client) == names(named, *named)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("vestergade", ["clinic_odense"]),
        ("ODENSE", ["odense", "unit"]),
        ("481901000016", ["clinic_odense"]),  # SOR
        ("4819010", ["clinic_odense"]),  # SOR prefix
        ("579000123", ["department"]),  # GLN prefix
        ("0461", ["odense", "clinic_odense", "unit"]),  # the municipality and what is located in it
        ("0479", ["svendborg", "clinic_svendborg", "department"]),
        ("no such place", []),
    ],
)
def test_directory_search(staff_client, named, search, expected):
    assert found(staff_client, search=search) == names(named, *expected)


def test_directory_search_by_full_gln(staff_client, named):
    assert found(staff_client, search=named["department"].gln) == names(named, "department")


def test_directory_filter_by_kind(staff_client, named):
    assert found(staff_client, kind=OrganisationKind.GP_CLINIC) == names(named, "clinic_odense", "clinic_svendborg")
    assert found(staff_client, kind=OrganisationKind.MUNICIPALITY) == names(named, "odense", "svendborg")


def test_directory_filter_by_municipality_includes_the_municipality_itself(staff_client, named):
    assert found(staff_client, municipality=named["odense"].pk) == names(named, "odense", "clinic_odense", "unit")
    assert found(staff_client, municipality=named["svendborg"].pk, kind=OrganisationKind.GP_CLINIC) == names(
        named, "clinic_svendborg"
    )


@pytest.mark.parametrize("params", [{"kind": "nonsense"}, {"municipality": "abc"}, {"municipality": "999999"}])
def test_directory_with_bad_filter_input_answers_without_error(staff_client, named, params):
    response = directory(staff_client, **params)
    assert response.context["filterset"].errors
    assert 'class="alert alert-warning"' in response.content.decode()


def test_directory_paginates_and_keeps_the_query(staff_client):
    HospitalUnitFactory.create_batch(views.DIRECTORY_PAGE_SIZE + 5)
    GPClinicFactory()
    first = directory(staff_client, kind=OrganisationKind.HOSPITAL_UNIT)
    page = first.context["page"]
    assert page.paginator.count == views.DIRECTORY_PAGE_SIZE + 5
    assert len(page.object_list) == views.DIRECTORY_PAGE_SIZE
    assert "?kind=hospital_unit&amp;page=2" in first.content.decode()

    second = directory(staff_client, kind=OrganisationKind.HOSPITAL_UNIT, page=2).context["page"]
    assert len(second.object_list) == 5
    assert not {o.pk for o in second.object_list} & {o.pk for o in page.object_list}


@pytest.mark.parametrize(("page", "shown"), [("99", 2), ("abc", 1), ("-1", 2)])
def test_directory_page_number_out_of_range_is_not_an_error(staff_client, page, shown):
    HospitalUnitFactory.create_batch(views.DIRECTORY_PAGE_SIZE + 1)
    assert directory(staff_client, page=page).context["page"].number == shown


def test_directory_htmx_request_returns_only_the_results(staff_client, named):
    response = staff_client.get("/organisations/", {"search": "vestergade"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "<form" not in html
    assert 'data-testid="result-count"' in html
    assert named["clinic_odense"].name in html
    assert named["clinic_svendborg"].name not in html


def test_directory_full_page_has_the_layout(staff_client, named):
    html = directory(staff_client).content.decode()
    assert "<html" in html and 'id="results"' in html


@pytest.mark.parametrize(("htmx", "limit"), [(False, 10), (True, 7)])
def test_directory_query_count_is_fixed_regardless_of_rows_and_page_size(
    staff_client, monkeypatch, django_assert_max_num_queries, htmx, limit
):
    headers = {"headers": {"HX-Request": "true"}} if htmx else {}
    unit = HospitalUnitFactory()
    HospitalDepartmentFactory.create_batch(3, parent=unit, municipality=MunicipalityFactory())
    few = count_queries(staff_client, "/organisations/", **headers)
    HospitalDepartmentFactory.create_batch(40, parent=unit, municipality=MunicipalityFactory())
    GPClinicFactory.create_batch(10)
    many = count_queries(staff_client, "/organisations/", **headers)
    monkeypatch.setattr(views, "DIRECTORY_PAGE_SIZE", 5)
    small_pages = count_queries(staff_client, "/organisations/", **headers)
    monkeypatch.setattr(views, "DIRECTORY_PAGE_SIZE", 100)
    one_big_page = count_queries(staff_client, "/organisations/", **headers)
    assert few == many == small_pages == one_big_page
    with django_assert_max_num_queries(limit):
        staff_client.get("/organisations/", **headers)


# --- Organisation detail ----------------------------------------------------------------------


def test_organisation_detail(staff_client, named):
    unit = named["unit"]
    response = staff_client.get(f"/organisations/{unit.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert unit.name in html and unit.sor_code in html and unit.gln in html
    assert named["department"].name in html  # its departments
    assert named["odense"].name in html  # where it is


def test_organisation_detail_of_unknown_id_is_404(staff_client):
    assert staff_client.get("/organisations/987654/").status_code == 404


def test_organisation_detail_requires_sign_in(client, named):
    response = client.get(f"/organisations/{named['unit'].pk}/")
    assert response.status_code == 302


# --- Language ---------------------------------------------------------------------------------


def test_danish_is_the_default_even_for_an_english_browser(staff_client):
    response = staff_client.get("/organisations/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    html = response.content.decode()
    assert '<html lang="da">' in html
    assert "Organisationer" in html
    assert response["Content-Language"] == "da"


def test_anonymous_sign_in_page_is_danish_for_an_english_browser(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="da">' in html
    assert "Log ind" in html


def test_language_switch_to_english(staff_client):
    response = staff_client.post("/i18n/setlang/", {"language": "en", "next": "/organisations/"})
    assert response.status_code == 302
    assert response.url == "/organisations/"
    html = staff_client.get("/organisations/").content.decode()
    assert '<html lang="en">' in html
    assert ">Organisations</a>" in html
    assert "Organisationer" not in html
    # And back again.
    staff_client.post("/i18n/setlang/", {"language": "da", "next": "/organisations/"})
    assert '<html lang="da">' in staff_client.get("/organisations/").content.decode()


# --- Content-Security-Policy ------------------------------------------------------------------

# Each page with the status it answers an anonymous visitor and a signed-in user: the portal's own pages send
# anonymous visitors to sign in, and the sign-in and sign-up pages send signed-in users on.
PAGES = [
    ("/accounts/login/", 200, 302),
    ("/accounts/password/reset/", 200, 200),
    ("/accounts/signup/", 200, 302),
    ("/", 302, 200),
    ("/organisations/", 302, 200),
    ("/organisations/{pk}/", 302, 200),
    ("/api/docs/", 200, 200),
    ("/admin/login/", 200, 200),
]


def csp_directives(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy header"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize(("path", "anonymous_status", "signed_in_status"), PAGES, ids=[page[0] for page in PAGES])
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_page_sends_a_strict_content_security_policy(
    client, gp, clinic, path, anonymous_status, signed_in_status, signed_in
):
    if signed_in:
        client.force_login(gp)
    response = client.get(path.format(pk=clinic.pk))
    assert response.status_code == (signed_in_status if signed_in else anonymous_status)
    directives = csp_directives(response)
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src == ["'self'"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/organisations/", "/organisations/{pk}/"])
def test_our_pages_need_no_inline_script(client, gp, clinic, path):
    """The policy forbids inline scripts, so a page that had one would silently break."""
    if path != "/accounts/login/":
        client.force_login(gp)
    html = client.get(path.format(pk=clinic.pk)).content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


# --- Signing in (allauth) ---------------------------------------------------------------------


def sign_in(client, login, password=PASSWORD):
    return client.post("/accounts/login/", {"login": login, "password": password})


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def test_sign_in_with_email_and_password(client, gp):
    response = sign_in(client, gp.email)
    assert response.status_code == 302
    assert response.url == "/"
    assert signed_in_user_id(client) == str(gp.pk)
    assert client.get("/").status_code == 200


def test_sign_in_email_is_case_insensitive(client, gp):
    sign_in(client, gp.email.upper())
    assert signed_in_user_id(client) == str(gp.pk)


def test_sign_in_with_wrong_password_fails(client, gp):
    response = sign_in(client, gp.email, "wrong password")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert signed_in_user_id(client) is None


def test_inactive_user_cannot_sign_in(client, gp):
    gp.is_active = False
    gp.save()
    sign_in(client, gp.email)
    assert signed_in_user_id(client) is None


def test_there_is_no_public_sign_up(client):
    before = User.objects.count()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    password = "xkcd correct horse battery"
    response = client.post(
        "/accounts/signup/", {"email": "someone@example.dk", "password1": password, "password2": password}
    )
    assert User.objects.count() == before
    assert not User.objects.filter(email="someone@example.dk").exists()
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    assert "the sign up is currently closed" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_sign_up_page_says_it_is_closed_in_danish(client):
    html = client.get("/accounts/signup/").content.decode()
    assert "lukket for oprettelse af nye konti" in html
    assert 'name="password1"' not in html


def login_failed_limit() -> int:
    """The smallest count in ACCOUNT_RATE_LIMITS['login_failed'] (e.g. '5/5m/ip,5/5m/key')."""
    return min(int(rule.split("/")[0]) for rule in settings.ACCOUNT_RATE_LIMITS["login_failed"].split(","))


def test_failed_sign_ins_below_the_limit_do_not_block(client, gp):
    for _ in range(login_failed_limit() - 1):
        sign_in(client, gp.email, "wrong password")
    sign_in(client, gp.email)
    assert signed_in_user_id(client) == str(gp.pk)


def test_failed_sign_ins_are_rate_limited(client, gp):
    for _ in range(login_failed_limit()):
        assert sign_in(client, gp.email, "wrong password").status_code == 200
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = sign_in(client, gp.email)
    assert signed_in_user_id(client) is None
    assert "Too many failed login attempts" in response.content.decode()


def test_session_lasts_thirty_idle_minutes_and_is_renewed_at_most_once_a_minute():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is False  # smartcare.session.SessionMiddleware renews it
    assert RENEW_SECONDS == 60


def test_idle_session_expires(client, gp):
    with freeze_time(timezone.now()) as frozen:
        sign_in(client, gp.email)
        assert client.get("/").context["acting"]
        # Active use keeps the session alive well beyond 30 minutes in total...
        for _ in range(3):
            frozen.tick(datetime.timedelta(minutes=29))
            assert client.get("/").status_code == 200
        # ...but 31 idle minutes end it.
        frozen.tick(datetime.timedelta(minutes=31))
        response = client.get("/")
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
