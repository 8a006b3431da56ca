"""Fixtures of the project-level tests that start Django in a fresh interpreter."""

import os

import pytest


@pytest.fixture
def development_env(tmp_path):
    """The zero-setup demo profile, and nothing from the developer's environment."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "smartcare.settings",
    }
