"""A schemathesis run over the whole OpenAPI schema, as the demo's GP (who has plans, messages
and alerts to read and change): no answer may be a server error, an undocumented status or a
body that breaks the documented schema. Valid and invalid requests alike, a bounded number per
operation, derandomized so every run sends the same requests."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings

from careplans.demo import careplan_demo_load
from citizens.demo import citizen_demo_load
from messaging.demo import messaging_demo_load
from sectors.demo import demo_data_load
from sectors.models import User
from sectors.reference import reference_data_load

from .openapi import CHECKS, load_schema, token_header, wsgi_app

schema = load_schema()


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo, loaded once for the module in a transaction rolled back at the end; each
    operation's run is rolled back to it."""
    with django_db_blocker.unblock(), transaction.atomic():
        reference_data_load()
        demo_data_load()
        citizen_demo_load()
        careplan_demo_load()
        messaging_demo_load()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def app(demo, db):
    with wsgi_app() as handler:
        yield handler


@pytest.fixture
def auth(app):
    return token_header(User.objects.get(email="gp@smartcare.example"))


@schema.parametrize()
@settings(max_examples=10, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented(case, app, auth):
    case.call_and_validate(app=app, headers=auth, checks=CHECKS)
