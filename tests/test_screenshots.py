"""The README shows every screenshot the generator takes, and each is in the repository."""

import importlib.util
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]


def _shots():
    spec = importlib.util.spec_from_file_location("screenshots", BASE_DIR / "scripts" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.SHOTS


def test_every_screenshot_is_committed_and_in_the_readme():
    readme = (BASE_DIR / "README.md").read_text()
    shots = _shots()
    assert len(shots) == 6
    for shot in shots:
        assert (BASE_DIR / "docs" / "screenshots" / shot.filename).stat().st_size > 10_000
        assert f"(docs/screenshots/{shot.filename})" in readme
