"""Fixtures several care-plan test modules share (a module that needs another GP or plan defines
its own)."""

import pytest
from django.utils import timezone

from careplans.services import activity_create

from .helpers import active_plan


@pytest.fixture
def plan(world, gp_actor):
    """An active plan of the citizen's GP clinic."""
    return active_plan(world, gp_actor)


@pytest.fixture
def due_today(world, gp_actor, plan):
    """A one-off activity of the GP's clinic, due today (no hand-off: the clinic planned it)."""
    return activity_create(
        actor=gp_actor,
        plan=plan,
        description="Årskontrol",
        responsible_organisation=world.clinic_a,
        due_date=timezone.localdate(),
    )
