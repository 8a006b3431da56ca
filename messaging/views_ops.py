"""Hospital events, the operations page and notification settings (being built)."""

from django.http import HttpResponse


def operations(request):
    return HttpResponse(status=501)
