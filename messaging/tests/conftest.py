from citizens.tests.conftest import actor, english, world  # noqa: F401 - the shared cast
