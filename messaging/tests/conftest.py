import json

import pytest
from rest_framework.authtoken.models import Token

from citizens.tests.conftest import actor, english, world  # noqa: F401 - the shared cast

from . import fixtures_fhir as fx
from .fhir_post import FHIR_JSON, FHIR_XML, URL


@pytest.fixture
def token(world):  # noqa: F811 - the shared cast's fixture
    return lambda name: Token.objects.get_or_create(user=world.users[name])[0].key


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run what the services enqueue on commit (Celery is eager): messages reach the inboxes."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


@pytest.fixture
def post(client, token, django_capture_on_commit_callbacks):
    def _post(bundle, *, as_user="gp_a", fmt="json", raw: bytes | None = None, auth=True):
        body = raw if raw is not None else (fx.as_xml(bundle) if fmt == "xml" else json.dumps(bundle).encode())
        headers = {"HTTP_AUTHORIZATION": f"Token {token(as_user)}"} if auth else {}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, data=body, content_type=FHIR_XML if fmt == "xml" else FHIR_JSON, **headers)

    return _post
