"""The resource types the ``citizens`` app owns (and Organization, whose app is below it)."""

from __future__ import annotations


def register_types() -> None:
    from ..registry import register
    from .audit import AUDIT_EVENT
    from .clinical import clinical_types
    from .organization import ORGANIZATION
    from .patient import PATIENT
    from .staff import PRACTITIONER, PRACTITIONER_ROLE

    for resource_type in (PATIENT, ORGANIZATION, PRACTITIONER, PRACTITIONER_ROLE, AUDIT_EVENT, *clinical_types()):
        register(resource_type)
