"""The sections of the citizen overview that the apps above ``citizens`` add.

The overview page (``views.citizen_detail``) belongs to ``citizens``, but care plans, home
measurements and messages live in the apps above it, which ``citizens`` must not import. So each
of those apps registers a section provider here from its ``AppConfig.ready()`` (as care teams
register an access relationship with ``citizens.access`` and the apps register dashboard cards
with ``smartcare.dashboard``), and the overview renders the registered sections in their order.

A provider takes the acting user and the citizen (already read and logged by ``citizen_get``)
and returns its section: the template to include and the variables it uses. It reads through
its app's gated selectors and makes a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .access import Actor
from .models import Citizen


@dataclass(frozen=True)
class Section:
    """One section of the overview: the template included and the variables it uses."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


SectionProvider = Callable[[Actor, Citizen], Section]
_PROVIDERS: dict[str, tuple[int, SectionProvider]] = {}


def register_section(name: str, order: int) -> Callable[[SectionProvider], SectionProvider]:
    """Register an app's section provider under a name, shown by ``order`` (lowest first).
    Registering the name again replaces it, so reloading a module in development does not
    double the section."""

    def decorator(func: SectionProvider) -> SectionProvider:
        _PROVIDERS[name] = (order, func)
        return func

    return decorator


def overview_sections(*, actor: Actor, citizen: Citizen) -> tuple[list[str], dict[str, Any]]:
    """The registered sections for this citizen, in page order: their templates, and the
    variables they use together (the page includes each template with the page's context). Two
    sections must not use the same variable name for different things."""
    templates: list[str] = []
    context: dict[str, Any] = {}
    for _order, name, provider in sorted((order, name, func) for name, (order, func) in _PROVIDERS.items()):
        section = provider(actor, citizen)
        clash = context.keys() & section.context.keys()
        if clash:
            raise ImproperlyConfigured(f"Overview section {name!r} reuses the name(s) {sorted(clash)}.")
        templates.append(section.template)
        context.update(section.context)
    return templates, context
