"""Shared fixtures: the fixed cast of the access tests (an insider, a colleague, an outsider)."""

import os

import pytest

from sectors.choices import MembershipRole
from sectors.tests.factories import GPClinicFactory, MembershipFactory

PASSWORD = "correct horse battery staple"  # noqa: S105 - test accounts only


@pytest.fixture(autouse=True)
def identity_cache_cleared():
    """Every test starts with an empty identity cache (sectors.identity): no test sees another's users."""
    from django.core.cache import caches

    caches["identity"].clear()


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
def gp_client(client, gp):
    client.force_login(gp)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


def pytest_collection_modifyitems(config, items):
    """Browser tests need Debian's chromium; skip them without it unless CI requires them."""
    if os.path.exists("/usr/bin/chromium") or os.environ.get("SMARTCARE_REQUIRE_SYSTEM_TOOLS") == "1":
        return
    skip = pytest.mark.skip(reason="/usr/bin/chromium is not installed (make test installs it as root)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
