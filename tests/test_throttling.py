"""The API's per-user rate limit (smartcare.api.throttling): two counters per user, in the cache
the portal runs with (Redis in production, memory here unless REDIS_URL is set)."""

import uuid
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache

from smartcare.api.throttling import UserRateThrottle
from smartcare.cache import RedisCache


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def caches_to_test():
    yield pytest.param(lambda: LocMemCache(uuid.uuid4().hex, {}), id="memory")
    url = getattr(settings, "REDIS_URL", "")
    yield pytest.param(
        lambda: RedisCache(url, {"KEY_PREFIX": f"throttle-test-{uuid.uuid4().hex}"}),
        id="redis",
        marks=pytest.mark.skipif(not url, reason="REDIS_URL is not set"),
    )


@pytest.fixture(params=list(caches_to_test()))
def throttle_class(request):
    """Three requests a minute, on a clock of the test's own, at the start of a window."""
    clock = Clock(600.0)
    cls = type("Throttle", (UserRateThrottle,), {"rate": "3/min", "cache": request.param(), "timer": clock})
    cls.clock = clock
    return cls


def ask(throttle_class, user_pk: int = 1) -> tuple[bool, float | None]:
    throttle = throttle_class()
    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=user_pk), META={})
    allowed = throttle.allow_request(request, view=None)
    return allowed, None if allowed else throttle.wait()


def test_the_limit_holds_within_a_window_and_per_user(throttle_class):
    assert [ask(throttle_class)[0] for _ in range(3)] == [True, True, True]
    allowed, wait = ask(throttle_class)
    assert not allowed
    assert wait == pytest.approx(80)  # the window's 60 s, then a third of the next for its count to fade
    assert ask(throttle_class, user_pk=2)[0]


def test_a_refused_request_is_not_counted(throttle_class):
    for _ in range(3):
        ask(throttle_class)
    for _ in range(5):
        assert not ask(throttle_class)[0]
    # Half way into the next window, half of the last one still counts: 1.5, room for one more.
    throttle_class.clock.now += 90
    assert [ask(throttle_class)[0] for _ in range(2)] == [True, False]


def test_the_previous_window_fades_out(throttle_class):
    for _ in range(3):
        ask(throttle_class)
    throttle_class.clock.now += 60  # the start of the next window: the last one counts in full
    allowed, wait = ask(throttle_class)
    assert not allowed
    assert wait == pytest.approx(20)  # then two thirds of it are left, room for one more
    throttle_class.clock.now += 20.5
    assert ask(throttle_class)[0]


def test_the_wait_after_a_full_window_reaches_into_the_next(throttle_class):
    for _ in range(3):
        ask(throttle_class)
    throttle_class.clock.now += 30
    allowed, wait = ask(throttle_class)
    assert not allowed
    assert wait == pytest.approx(50)  # the window's end, then a third of the next


@pytest.mark.django_db
def test_the_api_answers_429_with_retry_after(api_client, gp, monkeypatch, settings):
    from rest_framework.authtoken.models import Token

    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
    }
    monkeypatch.setattr(UserRateThrottle, "rate", "2/min", raising=False)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=gp).key}")
    assert [api_client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled"
