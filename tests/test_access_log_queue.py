"""The access-log sealer runs on a queue of its own (``access-log``), so a backlog of deliveries on
the default queue never delays it, and every way of running the portal starts a worker that
consumes it: ``make run`` (the Procfile) and ``docker-compose.yml``."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from citizens.tasks import access_log_seal_task
from smartcare.celery import app

BASE_DIR = Path(__file__).resolve().parents[1]
QUEUE = "access-log"


def worker_queues(argv: list[str]) -> set[str] | None:
    """The queues a ``celery ... worker`` command line consumes (the default queue when it names
    none), or None when the command is no Celery worker."""
    if not argv or os.path.basename(argv[0]) != "celery" or "worker" not in argv:
        return None
    named: list[str] = []
    for i, arg in enumerate(argv):
        if arg in ("-Q", "--queues") and i + 1 < len(argv):
            named.append(argv[i + 1])
        elif arg.startswith("--queues="):
            named.append(arg.split("=", 1)[1])
        elif arg.startswith("-Q") and len(arg) > 2:
            named.append(arg[2:])
    queues = {q.strip() for value in named for q in value.split(",") if q.strip()}
    return queues or {app.conf.task_default_queue}


def node_name(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg in ("-n", "--hostname") and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--hostname="):
            return arg.split("=", 1)[1]
    return "celery@%h"


def procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = shlex.split(command)
    return processes


def compose_services() -> dict[str, list[str]]:
    """Each service's command; the file is read as YAML (``docker-compose config`` is tested in
    test_docker_compose.py, where the tool is installed)."""
    services = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]
    return {
        name: (command if isinstance(command, list) else shlex.split(command))
        for name, service in services.items()
        if (command := service.get("command"))
    }


def workers(commands: dict[str, list[str]]) -> dict[str, set[str]]:
    found = {name: worker_queues(argv) for name, argv in commands.items()}
    return {name: queues for name, queues in found.items() if queues is not None}


# --- routing ----------------------------------------------------------------------------------------------


def test_the_sealer_is_routed_to_its_own_queue():
    assert settings.ACCESS_LOG_QUEUE == QUEUE
    assert app.amqp.router.route({}, access_log_seal_task.name)["queue"].name == QUEUE


def test_the_beat_entry_leaves_the_queue_to_the_route():
    entry = settings.CELERY_BEAT_SCHEDULE["citizens-access-log-seal"]
    assert entry["task"] == access_log_seal_task.name
    assert entry.get("options", {}).get("queue", QUEUE) == QUEUE


def test_every_other_task_stays_on_the_default_queue():
    app.loader.import_default_modules()
    ours = [name for name in app.tasks if name.split(".")[0] in {"citizens", "careplans", "messaging", "sectors"}]
    assert access_log_seal_task.name in ours and len(ours) > 5
    elsewhere = {
        name: queue.name
        for name in ours
        if name != access_log_seal_task.name
        and (queue := app.amqp.router.route({}, name)["queue"]).name != app.conf.task_default_queue
    }
    assert elsewhere == {}


# --- the workers that consume it --------------------------------------------------------------------------


@pytest.mark.parametrize("commands", [procfile, compose_services], ids=["Procfile", "docker-compose"])
def test_a_worker_of_its_own_consumes_the_queue_and_another_the_default_one(commands):
    found = workers(commands())
    sealers = [name for name, queues in found.items() if QUEUE in queues]
    assert sealers, f"no worker consumes {QUEUE}: {found}"
    assert all(found[name] == {QUEUE} for name in sealers), found  # nothing else queues up before a seal
    assert any(app.conf.task_default_queue in queues for queues in found.values()), found


@pytest.mark.parametrize("commands", [procfile, compose_services], ids=["Procfile", "docker-compose"])
def test_the_workers_have_different_node_names(commands):
    """Two workers on one host (``make run``) with one node name would answer for each other."""
    argvs = commands()
    names = [node_name(argvs[name]) for name in workers(argvs)]
    assert len(names) == len(set(names)), names


def test_make_run_starts_the_procfile():
    makefile = (BASE_DIR / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None
    assert re.search(r"honcho\s+--procfile\s+Procfile\s+start", recipe.group(1))


def test_the_compose_sealer_is_checked_by_its_own_node_name():
    services = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]
    for name, queues in workers(compose_services()).items():
        if QUEUE in queues:
            node = node_name(compose_services()[name]).replace("%h", "$$HOSTNAME")
            assert node in " ".join(services[name]["healthcheck"]["test"])
