"""Counts for the navigation badges (incoming hand-offs, open alerts) on every page."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from citizens.access import actor_from_request
from sectors.choices import OrganisationKind

from .selectors import navigation_counts

NOTHING = {"handoffs": 0, "alerts": 0, "red_alerts": 0, "today": False}


def worklist_counts(request):
    """Lazily: the counts are fetched (two small queries, once per request) only when a template
    shows them, and only for a signed-in user acting for an organisation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def counts() -> dict:
        actor = actor_from_request(request)
        if not actor.acting:
            return dict(NOTHING)
        return {
            **navigation_counts(actor=actor),
            "today": actor.organisation.kind == OrganisationKind.MUNICIPALITY,
        }

    return {"worklist_nav": SimpleLazyObject(counts)}
