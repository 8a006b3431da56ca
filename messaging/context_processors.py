"""The unread count next to "Messages" in the navigation, on every page."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from citizens.access import actor_from_request

from .selectors import unread_count, unread_label


def message_counts(request):
    """Lazily, like the care plans' counts: one query, only when a template shows it, and only
    for a signed-in user acting for an organisation. A count is no citizen data: nothing to log."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def counts() -> dict:
        actor = actor_from_request(request)
        unread = unread_count(actor=actor) if actor.acting else 0
        return {"unread": unread, "label": unread_label(unread)}

    return {"messaging_nav": SimpleLazyObject(counts)}
