"""The care-plan tests read messages in English and use the root cast's small world (two clinics,
two municipalities, a hospital)."""

import pytest

from .fixtures import due_today, plan  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def english(english):
    """The root ``english``, for every test here."""
    return english
