"""The suite's one cast of organisations and people, one meaning per fixture name.

- ``clinic``, ``other_clinic``: GP clinics (organisations).
- ``gp``, ``colleague``, ``outsider``: users; the GP and a practice nurse of ``clinic``, a GP of
  ``other_clinic`` (the insider, the colleague and the outsider of the access tests).
- ``superuser``: a user, staff and superuser.
- ``gp_client``, ``outsider_client``: the test client signed in as ``gp`` / ``outsider``; ``api_client``:
  a DRF client, signed in as nobody.
- ``world``: the small world of the access tests (``tests.cast.World``), built around the same
  ``clinic``, ``gp``, ``colleague``, ``other_clinic`` and ``outsider``: ``world.users["gp_a"]`` is ``gp``.
- Actors (what the services take) end in ``_actor``: ``gp_actor`` is ``gp`` acting for ``clinic``,
  ``homecare_actor`` the home-care nurse of the citizen's municipality; ``actor("name")`` is any user
  of the world, by name.
- ``token("name")``: a world user's API token; ``post``: a FHIR message posted as a world user.
- ``english``: read messages in English; the apps whose tests read English use it for every test.
- ``deliver(call, ...)``: call a service and run what it enqueues on commit.

Plain code (``World``, ``actor_for``) is in ``tests/cast.py``.
"""

import json
import os

import pytest

from citizens.tests.factories import CitizenFactory
from sectors.choices import MembershipRole
from sectors.tests.factories import (
    GPClinicFactory,
    HospitalDepartmentFactory,
    HospitalUnitFactory,
    MembershipFactory,
    UserFactory,
)
from tests.cast import World, actor_for

PASSWORD = "correct horse battery staple"  # noqa: S105 - test accounts only


@pytest.fixture(autouse=True)
def identity_cache_cleared():
    """Every test starts with an empty identity cache (sectors.identity): no test sees another's users."""
    from django.core.cache import caches

    caches["identity"].clear()


@pytest.fixture(autouse=True)
def token_uses_forgotten():
    """Every test records a token's first use afresh (sectors.tokens.token_used): counts do not
    depend on the tests before."""
    from sectors.tokens import token_use_forget

    token_use_forget()


# --- organisations and people ------------------------------------------------------------------------


@pytest.fixture
def clinic(db):
    return GPClinicFactory()


@pytest.fixture
def other_clinic(db):
    return GPClinicFactory()


@pytest.fixture
def gp(clinic):
    return MembershipFactory(organisation=clinic, role=MembershipRole.GP).user


@pytest.fixture
def colleague(clinic):
    return MembershipFactory(organisation=clinic, role=MembershipRole.PRACTICE_NURSE).user


@pytest.fixture
def outsider(other_clinic):
    return MembershipFactory(organisation=other_clinic, role=MembershipRole.GP).user


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def world(clinic, other_clinic, gp, colleague, outsider) -> World:
    """Clinic A is ``clinic`` and clinic B ``other_clinic``; each clinic's municipality is the
    municipality of its letter."""
    municipality_a, municipality_b = clinic.municipality, other_clinic.municipality
    unit = HospitalUnitFactory()
    department = HospitalDepartmentFactory(parent=unit)
    other_department = HospitalDepartmentFactory()
    citizen = CitizenFactory(municipality=municipality_a, gp_clinic=clinic)
    roles = {
        "homecare_a": (municipality_a, MembershipRole.HOME_CARE_NURSE),
        "assistant_a": (municipality_a, MembershipRole.HOME_CARE_ASSISTANT),
        "homecare_b": (municipality_b, MembershipRole.HOME_CARE_NURSE),
        "hospital_nurse": (department, MembershipRole.HOSPITAL_NURSE),
        "unit_physician": (unit, MembershipRole.HOSPITAL_PHYSICIAN),
        "other_hospital": (other_department, MembershipRole.HOSPITAL_PHYSICIAN),
        "admin_b": (other_clinic, MembershipRole.ORGANISATION_ADMIN),
    }
    users = {"gp_a": gp, "nurse_a": colleague, "gp_b": outsider}
    users.update({name: MembershipFactory(organisation=org, role=role).user for name, (org, role) in roles.items()})
    return World(
        municipality_a, municipality_b, clinic, other_clinic, unit, department, other_department, citizen, users
    )


# --- actors: a user acting for an organisation, as the services take them ------------------------------


@pytest.fixture
def actor(world):
    return lambda name: actor_for(world.users[name])


@pytest.fixture
def gp_actor(gp):
    return actor_for(gp)


@pytest.fixture
def homecare_actor(actor):
    return actor("homecare_a")


# --- clients and tokens ----------------------------------------------------------------------------------


@pytest.fixture
def gp_client(client, gp):
    client.force_login(gp)
    return client


@pytest.fixture
def outsider_client(client, outsider):
    client.force_login(outsider)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def token(world):
    from rest_framework.authtoken.models import Token

    return lambda name: Token.objects.get_or_create(user=world.users[name])[0].key


@pytest.fixture
def post(client, token, django_capture_on_commit_callbacks):
    """Post a FHIR message to the endpoint as a world user (its on-commit work runs)."""
    from messaging.tests import fixtures_fhir as fx
    from messaging.tests.fhir_post import FHIR_JSON, FHIR_XML, URL

    def _post(bundle, *, as_user="gp_a", fmt="json", raw: bytes | None = None, auth=True):
        body = raw if raw is not None else (fx.as_xml(bundle) if fmt == "xml" else json.dumps(bundle).encode())
        headers = {"HTTP_AUTHORIZATION": f"Token {token(as_user)}"} if auth else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, data=body, content_type=FHIR_XML if fmt == "xml" else FHIR_JSON, **headers)

    return _post


# --- language and background work ---------------------------------------------------------------------


@pytest.fixture
def english(request):
    """Messages read in English; Danish (the default) is tested on its own."""
    from django.conf import settings
    from django.utils import translation

    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run what the services enqueue on commit (Celery is eager): messages reach the inboxes and
    the acknowledgements come back."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's chromium; skip them without it unless CI requires them."""
    if os.path.exists("/usr/bin/chromium") or os.environ.get("SMARTCARE_REQUIRE_SYSTEM_TOOLS") == "1":
        return
    skip = pytest.mark.skip(reason="/usr/bin/chromium is not installed (make test installs it as root)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
