"""Inbox, thread and compose pages (being built)."""

from django.http import HttpResponse


def inbox(request):
    return HttpResponse(status=501)


thread = inbox
