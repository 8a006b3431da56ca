"""Care-plan tests use the citizens' small world (two clinics, two municipalities, a hospital)."""

import pytest

from careplans.tests.helpers import active_plan
from citizens.tests import conftest as shared

world, actor, english = shared.world, shared.actor, shared.english


@pytest.fixture
def gp(actor):
    """The citizen's GP (clinic A), who makes most plans in these tests (a file may name its own)."""
    return actor("gp_a")


@pytest.fixture
def plan(world, gp):
    return active_plan(world, gp)
