"""Django's 404 and 500 pages, except under ``/api/``, where clients get the API's JSON error body."""

from django.views import defaults

from .api.exceptions import api_not_found, api_server_error

API_PREFIX = "/api/"


def page_not_found(request, exception):
    if request.path.startswith(API_PREFIX):
        return api_not_found(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return api_server_error(request)
    return defaults.server_error(request)
