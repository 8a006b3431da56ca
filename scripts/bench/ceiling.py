"""The ceiling: a bare Django app over the benchmark's tables, run under gunicorn beside the portal.

It answers the CPR lookup and the citizen by id with one raw SQL statement each: no ORM, no
middleware, no authentication, no acting organisation, no access log. Whatever the portal does
beyond that is what its requests cost above the ceiling (the "ratio" column of ``make bench``).

    DATABASE_URL=postgres://... gunicorn scripts.bench.ceiling:application
"""

from __future__ import annotations

import os

import environ
from django.conf import settings

if not settings.configured:
    database = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    database["CONN_MAX_AGE"] = None  # one connection per worker for its life, like the portal's pool
    database["OPTIONS"] = {"options": "-c jit=off"}
    settings.configure(
        DEBUG=False,
        SECRET_KEY="ceiling-has-no-secrets",  # noqa: S106 - nothing is signed
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={"default": database},
        USE_TZ=True,
    )

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import Http404, HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

CITIZEN = "SELECT id, cpr, first_name, last_name, birth_date, municipality_id, gp_clinic_id FROM citizens_citizen"
COLUMNS = ("id", "cpr", "first_name", "last_name", "birth_date", "municipality", "gp_clinic")


def _one(where: str, value: str) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(f"{CITIZEN} WHERE {where} = %s", [value])  # noqa: S608 - fixed column names
        row = cursor.fetchone()
    if row is None:
        raise Http404
    return JsonResponse({key: str(value) for key, value in zip(COLUMNS, row, strict=True)})


def by_cpr(request: HttpRequest, cpr: str) -> JsonResponse:
    return _one("cpr", cpr)


def by_id(request: HttpRequest, pk) -> JsonResponse:
    return _one("id", str(pk))


urlpatterns = [
    path("cpr/<str:cpr>/", by_cpr),
    path("citizen/<uuid:pk>/", by_id),
]

application = get_wsgi_application()
