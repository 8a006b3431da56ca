"""Keeps the care-team relationships (``careplans.relationships``) in step with the teams and
the plans' status, whichever path saved them (the services, the admin, a shell)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from citizens.relationships import relationships_sync

from .models import CarePlan, CareTeamParticipant


@receiver(post_save, sender=CareTeamParticipant, dispatch_uid="careplans.relationships.participant_saved")
@receiver(post_delete, sender=CareTeamParticipant, dispatch_uid="careplans.relationships.participant_deleted")
def participant_changed(sender: type[CareTeamParticipant], instance: CareTeamParticipant, **kwargs: Any) -> None:
    relationships_sync("participant", [instance.pk], via="care-team")


@receiver(post_save, sender=CarePlan, dispatch_uid="careplans.relationships.plan_saved")
def plan_saved(sender: type[CarePlan], instance: CarePlan, created: bool, update_fields=None, **kwargs: Any) -> None:
    """A plan that closes (or reopens) takes its team's rows with it."""
    if created or (update_fields is not None and "status" not in update_fields):
        return
    relationships_sync(
        "participant", instance.participants.values_list("pk", flat=True), via=f"plan-{instance.status}"[:20]
    )
