"""Fixtures several care-plan test modules share (a module that needs another GP or plan defines
its own)."""

import pytest
from django.utils import timezone

from careplans.services import activity_create

from .helpers import active_plan


@pytest.fixture
def plan(world, actor):
    """An active plan of the citizen's GP clinic (the root conftest's ``gp`` is a user, not an actor)."""
    return active_plan(world, actor("gp_a"))


@pytest.fixture
def due_today(world, actor, plan):
    """A one-off activity of the GP's clinic, due today (no hand-off: the clinic planned it)."""
    return activity_create(
        actor=actor("gp_a"),
        plan=plan,
        description="Årskontrol",
        responsible_organisation=world.clinic_a,
        due_date=timezone.localdate(),
    )
