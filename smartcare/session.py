"""The session's keep-alive: the page's "stay signed in" button pings it to renew the session."""

from django.http import HttpResponse
from django.views.decorators.http import require_POST


@require_POST
def session_keepalive(request):
    """204 renews the session (it is saved on every request); 401 when it has already ended, so
    the page can say so instead of receiving the sign-in page."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    return HttpResponse(status=204)
