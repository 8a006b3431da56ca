"""The Celery app as the integration tests' worker runs it: the project's own app and settings,
on a queue of its own, so no other worker takes the tests' tasks and the tests' worker takes no
one else's (``SMARTCARE_TEST_QUEUE`` is set by ``tests/integration/conftest.py``).

The worker runs in a process group of its own; should the test process die without stopping it
(killed by a CI timeout), the worker kills its own group instead of lingering on the test
database."""

import os
import signal
import threading
import time

from smartcare.celery import app

app.conf.task_default_queue = os.environ["SMARTCARE_TEST_QUEUE"]


def _orphan_watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os.killpg(os.getpgid(0), signal.SIGKILL)


if os.environ.get("SMARTCARE_TEST_PARENT_PID"):
    threading.Thread(
        target=_orphan_watch, args=(int(os.environ["SMARTCARE_TEST_PARENT_PID"]),), daemon=True, name="orphan-watch"
    ).start()

__all__ = ["app"]
