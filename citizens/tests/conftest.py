"""The citizens' tests read messages in English. The cast (``world``, ``actor``, ``gp``, ...) is
in the root ``conftest.py``."""

import pytest


@pytest.fixture(autouse=True)
def english(english):
    """The root ``english``, for every test here."""
    return english
