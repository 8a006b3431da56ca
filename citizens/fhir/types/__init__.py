"""The resource types the ``citizens`` app owns (and Organization, whose app is below it)."""

from __future__ import annotations


def register_types() -> None:
    from ..registry import register
    from .organization import ORGANIZATION
    from .patient import PATIENT

    for resource_type in (PATIENT, ORGANIZATION):
        register(resource_type)
