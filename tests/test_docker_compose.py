"""The production compose file is valid and describes the whole system."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[1]
SERVICES = {"web", "worker", "sealer", "beat", "db", "redis"}
POSTGRES_DATA = "/var/lib/postgresql/data"
# The secrets the compose file requires (``${VAR:?}``); dummy values are enough for ``config``.
COMPOSE_ENV = {
    "SECRET_KEY": "compose-config-test-secret-key-not-used-anywhere-0123456789",
    "ALLOWED_HOSTS": "portal.example",
    "POSTGRES_PASSWORD": "compose-config-test",
    "EMAIL_URL": "smtp://localhost:25",
    "SMARTCARE_BASE_URL": "https://portal.example",
}


@pytest.fixture(scope="module")
def docker_compose(tmp_path_factory):
    """Runs ``docker-compose ... config``; an empty --env-file keeps a developer's .env out."""
    path = shutil.which("docker-compose")
    if path is None:
        message = "docker-compose is not installed (make test installs Debian's package as root)"
        if os.environ.get("SMARTCARE_REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    env_file = tmp_path_factory.mktemp("compose") / "empty.env"
    env_file.write_text("")
    return [path, "--env-file", str(env_file)]


def compose_config(docker_compose, env) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - a fixed command line
        [*docker_compose, "-f", "docker-compose.yml", "config"],
        cwd=BASE_DIR,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(BASE_DIR), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def config(docker_compose):
    result = compose_config(docker_compose, COMPOSE_ENV)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def volume_mounts(service) -> list[tuple[str, str]]:
    """(source, target) of each volume, in both the short and the long syntax."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source", ""), volume["target"]
        mounts.append((source, target))
    return mounts


def test_compose_file_has_every_service(config):
    assert set(config["services"]) >= SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_healthcheck(config, name):
    healthcheck = config["services"][name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert healthcheck.get("test") and not healthcheck.get("disable")


def test_postgres_data_lives_in_a_named_volume(config):
    mounts = {target: source for source, target in volume_mounts(config["services"]["db"])}
    assert POSTGRES_DATA in mounts
    source = mounts[POSTGRES_DATA]
    assert source in config.get("volumes", {}), f"{source} is not a named volume"


@pytest.mark.parametrize("name", ["web", "worker", "sealer", "beat"])
def test_application_services_run_the_production_profile(config, name):
    assert config["services"][name]["environment"]["DJANGO_ENV"] == "production"


def test_compose_refuses_to_run_without_secrets(docker_compose):
    env = {k: v for k, v in COMPOSE_ENV.items() if k != "SECRET_KEY"}
    result = compose_config(docker_compose, env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
