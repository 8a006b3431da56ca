"""Care-plan tests use the citizens' small world (two clinics, two municipalities, a hospital)."""

from citizens.tests.conftest import actor, english, world  # noqa: F401 - fixtures

from .fixtures import due_today, plan  # noqa: F401 - fixtures
