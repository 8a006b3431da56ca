"""The database router: reads go to a replica only where the replica's lag cannot show.

The router's replica list is set with pytest-django's ``settings`` (no replica server is needed):
the requests pass through the real middleware to a view that asks the router where its reads and
writes go. The last test runs the whole portal in a fresh interpreter with a replica alias that is
the primary's own SQLite file, so every query really goes through the alias the router chose."""

import json

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import router, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from freezegun import freeze_time

from citizens.models import AccessLogEntry, Citizen
from smartcare import replicas

from .processes import python

PRIMARY = "default"
REPLICA = "replica1"


@pytest.fixture
def replica(settings):
    settings.DATABASE_REPLICAS = [REPLICA]
    settings.DATABASE_REPLICA_STICKY_SECONDS = 5
    return REPLICA


class Browser:
    """One client: sends requests through the middleware and keeps the cookies it is given."""

    def __init__(self):
        self.cookies = {}

    def visit(self, method="GET", *steps):
        """Run the steps (``read``, ``write``, a model to read, or a callable) and say where each
        read went."""
        request = RequestFactory().generic(method, "/")
        request.COOKIES.update(self.cookies)
        reads = []

        def view(request):
            for step in steps or ["read"]:
                if step == "write":
                    router.db_for_write(Citizen)
                elif step == "read":
                    reads.append(router.db_for_read(Citizen))
                elif callable(step) and not isinstance(step, type):
                    reads.append(step())
                else:
                    reads.append(router.db_for_read(step))
            return HttpResponse()

        response = replicas.ReplicaMiddleware(view)(request)
        self.cookies.update({name: morsel.value for name, morsel in response.cookies.items()})
        return reads


def test_without_replicas_everything_uses_the_primary(settings):
    settings.DATABASE_REPLICAS = []
    browser = Browser()
    assert browser.visit("GET", "read", "write", "read") == [PRIMARY, PRIMARY]
    assert browser.cookies == {}  # nothing to stick to
    assert router.db_for_write(Citizen) == PRIMARY


def test_a_get_reads_from_a_replica(replica):
    assert Browser().visit("GET", "read", "read") == [REPLICA, REPLICA]
    assert Browser().visit("HEAD") == [REPLICA]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_request_that_changes_something_reads_from_the_primary(replica, method):
    assert Browser().visit(method, "read", "write", "read") == [PRIMARY, PRIMARY]


def test_reads_after_a_write_in_the_same_request_use_the_primary(replica):
    assert Browser().visit("GET", "read", "write", "read") == [REPLICA, PRIMARY]


def test_the_writers_next_reads_use_the_primary_for_the_sticky_seconds(replica):
    browser, other = Browser(), Browser()
    with freeze_time("2026-03-02 10:00:00") as clock:
        browser.visit("POST", "write")
        assert replicas.COOKIE_NAME in browser.cookies
        clock.tick(4)
        assert browser.visit() == [PRIMARY]
        assert other.visit() == [REPLICA]  # another user's reads are not affected
        clock.tick(2)  # 6 seconds after the write
        assert browser.visit() == [REPLICA]


def test_the_sticky_time_counts_from_the_last_write(replica):
    browser = Browser()
    with freeze_time("2026-03-02 10:00:00") as clock:
        browser.visit("POST", "write")
        clock.tick(4)
        browser.visit("POST", "write")
        clock.tick(4)
        assert browser.visit() == [PRIMARY]


def test_a_request_that_wrote_nothing_pins_nothing(replica):
    browser = Browser()
    browser.visit("POST", "read")  # e.g. a form with an error
    assert browser.cookies == {}
    assert browser.visit() == [REPLICA]


def test_a_forged_cookie_pins_nothing(replica):
    browser = Browser()
    browser.cookies[replicas.COOKIE_NAME] = "1"
    assert browser.visit() == [REPLICA]


def test_no_sticky_seconds_no_cookie(replica, settings):
    settings.DATABASE_REPLICA_STICKY_SECONDS = 0
    browser = Browser()
    assert browser.visit("GET", "write", "read") == [PRIMARY]  # the request itself still reads its write
    assert browser.cookies == {}
    assert browser.visit() == [REPLICA]


def test_sessions_and_the_access_log_stay_on_the_primary_and_pin_nothing(replica):
    """Both are written on every request or logged read: they must not pin the user's other reads."""

    def bookkeeping():
        router.db_for_write(Session)
        router.db_for_write(AccessLogEntry)
        return router.db_for_read(Citizen)

    browser = Browser()
    assert browser.visit("GET", Session, AccessLogEntry, bookkeeping) == [PRIMARY, PRIMARY, REPLICA]
    assert browser.cookies == {}


def test_the_primary_models_exist(settings):
    """A renamed model would silently pin every request that logs a read."""
    for label in settings.DATABASE_PRIMARY_MODELS:
        assert apps.get_model(label)._meta.label_lower == label


def test_locks_use_the_primary_in_a_get(replica):
    def where():
        return [Citizen.objects.all().db, Citizen.objects.select_for_update().db]

    assert Browser().visit("GET", where) == [[REPLICA, PRIMARY]]


@pytest.mark.django_db(transaction=True)  # outside the test's own transaction
def test_reads_inside_a_transaction_use_the_primary(replica):
    def in_transaction():
        with transaction.atomic():
            return router.db_for_read(Citizen)

    assert Browser().visit("GET", "read", in_transaction, "read") == [REPLICA, PRIMARY, REPLICA]


def test_tasks_and_commands_read_from_the_primary_unless_they_opt_in(replica):
    assert router.db_for_read(Citizen) == PRIMARY
    with replicas.replica_reads():
        assert router.db_for_read(Citizen) == REPLICA
        assert router.db_for_read(Session) == PRIMARY
        assert Citizen.objects.select_for_update().db == PRIMARY
        assert router.db_for_write(Citizen) == PRIMARY
        assert router.db_for_read(Citizen) == PRIMARY  # after its own write
    assert router.db_for_read(Citizen) == PRIMARY


def test_opting_in_inside_a_request_keeps_the_requests_rules(replica):
    def opted_in():
        with replicas.replica_reads():
            return router.db_for_read(Citizen)

    assert Browser().visit("POST", opted_in) == [PRIMARY]


def test_opting_in_without_replicas_uses_the_primary(settings):
    settings.DATABASE_REPLICAS = []
    with replicas.replica_reads():
        assert router.db_for_read(Citizen) == PRIMARY


def test_reads_are_spread_over_the_replicas_one_replica_per_request(settings):
    settings.DATABASE_REPLICAS = ["replica1", "replica2"]
    seen = set()
    for _ in range(40):
        first, second = Browser().visit("GET", "read", "read")
        assert first == second  # the reads of one request agree with each other
        seen.add(first)
    assert seen == {"replica1", "replica2"}


def test_rows_of_the_primary_and_the_replicas_may_be_related(replica):
    def row(db):
        citizen = Citizen()
        citizen._state.db = db
        return citizen

    assert router.allow_relation(row(PRIMARY), row(REPLICA))
    assert router.allow_relation(row(REPLICA), row(REPLICA))
    assert router.allow_relation(row(REPLICA), row("elsewhere")) is False  # Django's default: same db only


def test_only_the_primary_is_migrated(replica):
    assert router.allow_migrate(PRIMARY, "citizens", model_name="citizen")
    assert not router.allow_migrate(REPLICA, "citizens", model_name="citizen")


# --- the settings, read in a fresh interpreter ----------------------------------------------------

READ_DATABASES = """
import json
from django.conf import settings
print(json.dumps({
    "replicas": settings.DATABASE_REPLICAS,
    "databases": {
        alias: {"NAME": str(db["NAME"]), "TEST": db.get("TEST", {})} for alias, db in settings.DATABASES.items()
    },
    "sticky": settings.DATABASE_REPLICA_STICKY_SECONDS,
}))
"""


def databases(env):
    result = python(READ_DATABASES, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_each_replica_url_is_a_database_that_tests_mirror_to_the_primary(development_env, tmp_path):
    development_env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'primary.sqlite3'}"
    development_env["DATABASE_REPLICA_URLS"] = f"sqlite:///{tmp_path / 'a.sqlite3'}, sqlite:///{tmp_path / 'b.sqlite3'}"
    found = databases(development_env)
    assert found["replicas"] == ["replica1", "replica2"]
    assert found["databases"]["replica1"] == {"NAME": str(tmp_path / "a.sqlite3"), "TEST": {"MIRROR": "default"}}
    assert found["databases"]["replica2"]["NAME"] == str(tmp_path / "b.sqlite3")
    assert found["sticky"] == 5


@pytest.mark.parametrize("unset", [None, "", " "])
def test_no_replica_urls_no_replicas(development_env, unset):
    if unset is not None:
        development_env["DATABASE_REPLICA_URLS"] = unset
    found = databases(development_env)
    assert found["replicas"] == []
    assert list(found["databases"]) == ["default"]


@pytest.mark.parametrize(
    ("urls", "problem"),
    [
        ("postgres//replica/smartcare", "URL 1 does not start with a database scheme"),
        ("postgress://u:secret@replica/smartcare", "URL 1 does not start with a database scheme ('postgress')"),
        ("sqlite:///a.sqlite3,,sqlite:///b.sqlite3", "URL 2 is empty"),
        ("sqlite:///a.sqlite3,", "URL 2 is empty"),
        ("postgres://u:secret@replica:port/smartcare", "URL 1 has a port that is not a number"),
        ("postgres://u:secret@replica", "URL 1 names no database"),
    ],
)
def test_a_malformed_replica_url_stops_start_up(development_env, urls, problem):
    development_env["DATABASE_REPLICA_URLS"] = urls
    result = python(READ_DATABASES, development_env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_REPLICA_URLS must be comma-separated database URLs" in result.stderr
    assert problem in result.stderr
    assert "secret" not in result.stderr  # the password is not written to the log


def test_a_replica_of_another_engine_stops_start_up(development_env):
    development_env["DATABASE_REPLICA_URLS"] = "postgres://replica:5432/smartcare"  # the primary is SQLite
    result = python(READ_DATABASES, development_env)
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URLS must use the same database engine as DATABASE_URL" in result.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [("5s", "must be a whole number, not '5s'"), ("-1", "must be 0 or more")],
)
def test_a_wrong_sticky_time_stops_start_up(development_env, value, message):
    development_env["DATABASE_REPLICA_STICKY_SECONDS"] = value
    result = python(READ_DATABASES, development_env)
    assert result.returncode != 0
    assert f"DATABASE_REPLICA_STICKY_SECONDS {message}" in result.stderr


# --- the whole portal, with a replica alias ----------------------------------------------------------

PORTAL_SCRIPT = """
import collections, json

import django

django.setup()
from django.core.management import call_command
from django.db import connections
from django.test import Client

call_command("migrate", verbosity=0)

from citizens.tests.factories import CitizenFactory
from sectors.choices import MembershipRole
from sectors.tests.factories import GPClinicFactory, MembershipFactory

clinic = GPClinicFactory()
gp = MembershipFactory(organisation=clinic, role=MembershipRole.GP).user
citizen = CitizenFactory(gp_clinic=clinic, municipality=clinic.municipality)
client = Client()
client.force_login(gp)

queries = collections.Counter()

def counted(alias):
    def wrapper(execute, sql, params, many, context):
        queries[alias] += 1
        return execute(sql, params, many, context)
    return wrapper

def visit(method, path, **data):
    queries.clear()
    with connections["default"].execute_wrapper(counted("default")):
        with connections["replica1"].execute_wrapper(counted("replica1")):
            response = getattr(client, method)(path, data)
    return [response.status_code, dict(queries)]

print(json.dumps({
    "overview": visit("get", f"/citizens/{citizen.pk}/"),
    "api": visit("get", f"/api/v1/citizens/{citizen.pk}/"),
    "language": visit("post", "/i18n/setlang/", language="en", next="/"),
    "write": visit("post", f"/citizens/{citizen.pk}/consent/", consent="yes"),
    "after": visit("get", f"/citizens/{citizen.pk}/"),
}))
"""


def test_the_portal_reads_through_the_replica_alias(development_env, tmp_path):
    """A replica that is the primary's own file: pages and the API work through the replica alias,
    sessions and the access log stay on the primary, and a write pins the next page to it."""
    url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    development_env.update({"DATABASE_URL": url, "DATABASE_REPLICA_URLS": url})
    result = python(PORTAL_SCRIPT, development_env)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    status, queries = found["overview"]
    assert status == 200
    assert queries["replica1"] > 0 and queries["default"] > 0  # the session and the access log
    assert found["api"][0] == 200 and found["api"][1]["replica1"] > 0
    assert found["language"][1].get("replica1", 0) == 0  # a POST reads from the primary
    assert found["write"][0] == 302 and found["write"][1].get("replica1", 0) == 0
    status, queries = found["after"]
    assert status == 200 and queries.get("replica1", 0) == 0
