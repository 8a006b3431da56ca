"""Keeps the care relationships (``citizens.relationships``) in step with the citizens' facts.

Every save or delete of a citizen, a hospital stay or a break-the-glass grant re-syncs that
object's rows, whichever path saved it (the services, the hospital events, the admin, a shell):
the gate trusts the table, so no path may skip it. Bulk loaders bypass receivers and call
``relationships_recompute(fix=True)`` themselves."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import BreakGlassAccess, Citizen, HospitalStay
from .relationships import relationships_sync

# The columns a citizen's relationships come from.
RELATIONSHIP_FIELDS = {"municipality", "gp_clinic", "municipality_id", "gp_clinic_id"}


@receiver(post_save, sender=Citizen, dispatch_uid="citizens.relationships.citizen_saved")
def citizen_saved(sender: type[Citizen], instance: Citizen, created: bool, update_fields=None, **kwargs: Any) -> None:
    if update_fields is not None and not RELATIONSHIP_FIELDS & set(update_fields):
        return
    relationships_sync("citizen", [instance.pk], via="registration" if created else "move")


@receiver(post_save, sender=HospitalStay, dispatch_uid="citizens.relationships.stay_saved")
def stay_saved(sender: type[HospitalStay], instance: HospitalStay, **kwargs: Any) -> None:
    relationships_sync("stay", [instance.pk], via="admission" if instance.discharged_at is None else "discharge")


@receiver(post_save, sender=BreakGlassAccess, dispatch_uid="citizens.relationships.grant_saved")
def grant_saved(sender: type[BreakGlassAccess], instance: BreakGlassAccess, **kwargs: Any) -> None:
    relationships_sync("grant", [instance.pk], via="grant")


@receiver(post_delete, sender=HospitalStay, dispatch_uid="citizens.relationships.stay_deleted")
@receiver(post_delete, sender=BreakGlassAccess, dispatch_uid="citizens.relationships.grant_deleted")
def fact_deleted(sender: type, instance: Any, **kwargs: Any) -> None:
    relationships_sync("stay" if sender is HospitalStay else "grant", [instance.pk], via="delete")
