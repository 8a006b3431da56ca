"""The builds install exactly what the locks say, and CI checks more than the tests."""

import re
import tomllib
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[1]
LOCKS = ("requirements.txt", "requirements-dev.txt")
DEV_TOOLS = {"honcho", "babel"}


def _name(spec: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\[=<>~! ;]", spec, maxsplit=1)[0]).lower()


def _locked(lock: str) -> dict[str, str]:
    """Package name -> the requirement with its hashes, for every requirement in a lock file."""
    text = (BASE_DIR / lock).read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[^\s#-])", re.sub(r"(?m)^\s*#.*\n", "", text).strip())
    return {_name(entry): entry for entry in entries}


def _top_level(infile: str) -> set[str]:
    lines = (BASE_DIR / infile).read_text(encoding="utf-8").splitlines()
    return {_name(line) for line in lines if line.strip() and not line.startswith(("#", "-"))}


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_package_is_pinned_with_hashes(lock):
    locked = _locked(lock)
    assert locked
    for name, entry in locked.items():
        assert re.match(r"^[A-Za-z0-9._-]+==[^\s\\]+ \\\n", entry), f"{name} is not pinned exactly in {lock}"
        assert "--hash=sha256:" in entry, f"{name} has no hash in {lock}"


def test_the_locks_hold_the_top_level_packages_and_agree():
    runtime, dev = _locked("requirements.txt"), _locked("requirements-dev.txt")
    assert _top_level("requirements.in") <= set(runtime)
    assert _top_level("requirements-dev.in") <= set(dev)
    pins = {name: entry.split(" ", 1)[0] for name, entry in runtime.items()}
    assert {name: dev[name].split(" ", 1)[0] for name in runtime} == pins
    assert (BASE_DIR / "requirements-dev.in").read_text(encoding="utf-8").count("-c requirements.txt\n") == 1


def test_development_tools_are_not_runtime_dependencies():
    assert not DEV_TOOLS & (_top_level("requirements.in") | set(_locked("requirements.txt")))
    assert _top_level("requirements-dev.in") >= DEV_TOOLS


def test_the_image_installs_the_runtime_lock_with_hashes_and_compiles_translations_without_babel():
    dockerfile = (BASE_DIR / "Dockerfile").read_text(encoding="utf-8")
    installs = re.findall(r"pip install [^\n]*", dockerfile)
    assert installs == ["pip install --require-hashes -r requirements.txt"]
    assert "pybabel" not in dockerfile
    assert "msgfmt --check-format" in dockerfile
    assert "COPY --from=messages /app/locale ./locale" in dockerfile


def _recipe(target: str) -> tuple[str, str]:
    """The prerequisites and the commands of a Makefile target."""
    makefile = (BASE_DIR / "Makefile").read_text(encoding="utf-8")
    found = re.search(rf"(?m)^{target}:([^\n]*)\n((?:\t[^\n]*\n)*)", makefile)
    assert found, f"no {target} target"
    return found.group(1), found.group(2)


def test_make_installs_from_the_dev_lock_with_hashes():
    makefile = (BASE_DIR / "Makefile").read_text(encoding="utf-8")
    installs = re.findall(r"pip install [^\n]*", makefile)
    assert installs == ["pip install --quiet --require-hashes -r requirements-dev.txt"]


def test_make_test_runs_the_checks_first():
    prerequisites, _ = _recipe("test")
    assert prerequisites.split()[0] == "check"
    check_prerequisites, commands = _recipe("check")
    assert "lint" in check_prerequisites.split()
    assert "manage.py makemigrations --check --dry-run" in commands
    assert "$(BIN)/mypy\n" in commands
    _, lint = _recipe("lint")
    assert "ruff check ." in lint
    assert "ruff format --check ." in lint


def test_make_lock_regenerates_both_locks_with_hashes():
    _, commands = _recipe("lock")
    assert "--output-file=requirements.txt requirements.in" in commands
    assert "--output-file=requirements-dev.txt requirements-dev.in" in commands
    makefile = (BASE_DIR / "Makefile").read_text(encoding="utf-8")
    assert "--generate-hashes --allow-unsafe" in makefile


def test_mypy_checks_services_selectors_and_access_of_every_app_with_the_django_plugin():
    config = tomllib.loads((BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert "mypy_django_plugin.main" in config["mypy"]["plugins"]
    assert "mypy_drf_plugin.main" in config["mypy"]["plugins"]
    assert config["django-stubs"]["django_settings_module"] == "smartcare.settings_test"
    files = set(config["mypy"]["files"])
    for app in ("sectors", "citizens", "careplans", "messaging"):
        services = f"{app}/services.py" if (BASE_DIR / app / "services.py").exists() else f"{app}/services/"
        assert f"{app}/selectors.py" in files
        assert any(f.startswith(services) for f in files), app  # a module, or the modules of a package
    assert "citizens/access.py" in files
    assert any(f.startswith("smartcare/") for f in files)
    assert all((BASE_DIR / f).is_file() for f in files)


def test_a_hanging_test_fails_the_run_after_five_minutes():
    pytest_options = tomllib.loads((BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]
    assert pytest_options["ini_options"]["timeout"] == 300
    # The thread method works whichever thread blocks (Playwright's browser, the Celery worker's result).
    assert pytest_options["ini_options"]["timeout_method"] == "thread"
    assert "pytest-timeout" in _top_level("requirements-dev.in")


def test_make_test_measures_the_coverage_of_every_app_against_a_floor():
    _, commands = _recipe("test")
    makefile = (BASE_DIR / "Makefile").read_text(encoding="utf-8")
    # --cov takes an optional value: the option after it keeps it from taking a test path in PYTEST_ARGS as one.
    assert re.search(r"(?m)^COV_ARGS \?= --cov --cov-report=term$", makefile)
    assert "pytest $(COV_ARGS)" in commands
    coverage = tomllib.loads((BASE_DIR / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["coverage"]
    assert set(coverage["run"]["source"]) == {"sectors", "citizens", "careplans", "messaging", "smartcare"}
    assert {"*/migrations/*", "*/tests/*"} <= set(coverage["run"]["omit"])
    assert coverage["report"]["fail_under"] >= 50
    assert "pytest-cov" in _top_level("requirements-dev.in")
