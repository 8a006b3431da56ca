"""The messaging tests read messages in English and use the root cast's small world; ``token``,
``post`` and ``deliver`` are in the root ``conftest.py`` too."""

import pytest


@pytest.fixture(autouse=True)
def english(english):
    """The root ``english``, for every test here."""
    return english
