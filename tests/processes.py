"""Running a short Python script against the settings in a fresh interpreter: settings are read
once at start-up, so each environment needs a process of its own."""

import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]


def python(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed scripts from the tests
        [sys.executable, "-c", script, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
