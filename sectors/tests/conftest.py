import uuid

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """A private in-memory cache per test.

    allauth keeps its sign-in rate limits and used TOTP codes in the cache; with REDIS_URL set
    that cache is a Redis database other test runs share, so failed sign-ins here must neither
    see nor leave counters there.
    """
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def region(db):
    """The region the single-sign-on tests' identity provider signs in for."""
    from .factories import RegionFactory

    return RegionFactory()


@pytest.fixture
def department(region):
    """A hospital department of that region: the organisation a claimed membership names."""
    from .factories import HospitalDepartmentFactory, HospitalUnitFactory

    return HospitalDepartmentFactory(parent=HospitalUnitFactory(parent=region))
