"""Integration tests with a real Celery worker process on the real Redis and PostgreSQL.

The worker is another process: it sees only committed data, so the tests are transactional and
the worker connects to pytest-django's test database. It consumes a queue of its own
(``tests/integration/worker_app.py``), and the test process publishes to that queue instead of
running tasks eagerly.

Without PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``) the tests are skipped, except in
CI (``SMARTCARE_REQUIRE_SYSTEM_TOOLS=1``), where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUEUE = f"smartcare-integration-{uuid.uuid4().hex[:12]}"
READY_TIMEOUT = 60.0

# What the worker runs with: short backoff, a killed worker's "sending" rows and lost pending
# rows are swept after seconds instead of minutes.
WORKER_SETTINGS = {
    "MESSAGING_BACKOFF_SECONDS": "0.2",
    "MESSAGING_BACKOFF_CAP_SECONDS": "2",
    "MESSAGING_STUCK_MINUTES": "0.05",
    "MESSAGING_SWEEP_GRACE_SECONDS": "1",
    "MESSAGING_WEBHOOK_TIMEOUT_SECONDS": "5",
}


def _missing_services() -> str | None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return f"DATABASE_URL does not point at PostgreSQL (engine {engine})"
    if not getattr(settings, "REDIS_URL", ""):
        return "REDIS_URL is not set"
    return None


@pytest.fixture(autouse=True)
def english(english):
    """The root ``english``, for every test here (the cast is the root ``conftest.py``'s)."""
    return english


@pytest.fixture(scope="session")
def integration_services() -> str:
    """The Redis URL; skip without PostgreSQL and Redis, fail instead when CI requires them."""
    missing = _missing_services()
    if missing:
        if os.environ.get("SMARTCARE_REQUIRE_SYSTEM_TOOLS") == "1":
            pytest.fail(f"integration tests need PostgreSQL and Redis: {missing}")
        pytest.skip(f"integration tests need PostgreSQL and Redis: {missing}")
    from django.conf import settings

    return settings.REDIS_URL


@pytest.fixture(scope="session")
def redis_client(integration_services):
    import redis

    client = redis.Redis.from_url(integration_services)
    client.ping()
    yield client
    _forget_queue(client)
    client.close()


def _forget_queue(client) -> None:
    """Leave nothing of this session's queue in Redis, including messages a killed worker held."""
    keys = list(client.scan_iter(match=f"*{QUEUE}*"))  # the queue (and its priority lists) and its bindings
    if keys:
        client.delete(*keys)
    for tag, raw in client.hscan_iter("unacked"):
        try:
            routing_key = json.loads(raw)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == QUEUE:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.fixture(autouse=True)
def access_log_head(integration_services, transactional_db):
    """A transactional test's flush removes the access-log head row that the migration creates."""
    from citizens.models import AccessLogHead

    AccessLogHead.objects.get_or_create(id=1)


@pytest.fixture
def celery_to_redis(integration_services, settings):
    """The test process publishes tasks to the test queue on Redis instead of running them."""
    from smartcare.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = {key: app.conf[key] for key in ("task_always_eager", "task_default_queue")}
    app.conf.task_always_eager = False
    app.conf.task_default_queue = QUEUE
    yield app
    app.conf.update(saved)


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    at = "@" if credentials else ""
    return f"postgres://{credentials}{at}{host}{port}/{quote(db['NAME'], safe='')}"


class Worker:
    """One ``celery worker`` process group; ``kill()`` is a SIGKILL of all of it (no warm shutdown)."""

    def __init__(self, env: dict[str, str], log: Path, pool: str, concurrency: int) -> None:
        self.log = log
        command = [
            sys.executable, "-m", "celery", "-A", "tests.integration.worker_app", "worker",
            "--loglevel=INFO", f"--pool={pool}", f"--concurrency={concurrency}", "--queues", QUEUE,
            "--hostname", f"{QUEUE}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "--prefetch-multiplier=1",
        ]  # fmt: skip
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited with {self.process.returncode}:\n{self.log_tail()}")
            if " ready." in self.log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        pytest.fail(f"the worker was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        # The whole group: pool processes outlive a main process that died on its own.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=30)
        finally:
            self._log_file.close()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def start_worker(
    celery_to_redis, redis_client, transactional_db, tmp_path, mail_dir
) -> Iterator[Callable[..., Worker]]:
    """Start a worker on the test database and queue; every worker started is killed afterwards
    (this fixture is torn down before the database is flushed)."""
    from django.conf import settings

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "CELERY_", "MESSAGING_", "PYTEST_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "smartcare.settings",
            "DJANGO_ENV": "test",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_URL": f"filemail:///{mail_dir}",  # the path is absolute: filemail:////tmp/...
            "SMARTCARE_TEST_QUEUE": QUEUE,
            "SMARTCARE_TEST_PARENT_PID": str(os.getpid()),
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            **WORKER_SETTINGS,
        }
    )
    workers: list[Worker] = []

    def start(*, pool: str = "prefork", concurrency: int = 2, ready: bool = True) -> Worker:
        worker = Worker(env, tmp_path / f"worker-{len(workers) + 1}.log", pool, concurrency)
        workers.append(worker)
        if ready:
            worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.kill()


def wait_for(
    condition: Callable[[], object], *, timeout: float = 60.0, interval: float = 0.1, what: str = "", logs=()
) -> object:
    """Poll until ``condition()`` is truthy; fail (never hang) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            tails = "\n\n".join(worker.log_tail() for worker in logs)
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what or condition}\n{tails}")
        time.sleep(interval)
