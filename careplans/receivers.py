"""Keeps the care-team access rule's denormalised flag in step with the citizen."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from citizens.models import Citizen

from .services import careteam_coverage_refresh

# The columns that make a citizen an organisation's own (``careplans.access_rules``).
OWN_LIST_FIELDS = {"municipality", "gp_clinic", "municipality_id", "gp_clinic_id"}


@receiver(post_save, sender=Citizen, dispatch_uid="careplans.citizen_saved")
def citizen_saved(sender: type[Citizen], instance: Citizen, created: bool, update_fields=None, **kwargs: Any) -> None:
    """A move or a new GP clinic changes which memberships are the organisation's only way to
    the citizen. Any save may have changed them (the admin, the services, a shell), so every save
    that could have refreshes the citizen's teams: one indexed UPDATE."""
    if created or (update_fields is not None and not OWN_LIST_FIELDS & set(update_fields)):
        return
    careteam_coverage_refresh(citizen_ids=[instance.pk])
