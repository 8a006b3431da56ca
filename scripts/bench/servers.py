"""The processes a run starts and ends: the portal and the ceiling under gunicorn, the Celery
worker of the write path. Each runs in a process group of its own, which is ended at the end of the
run (only the groups this run started)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .config import BIN, ROOT


@dataclass
class Server:
    name: str
    process: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(name: str, command: list[str], env: dict[str, str], log: Path) -> Server:
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("w")
    process = subprocess.Popen(  # noqa: S603 - the virtualenv's gunicorn and celery with our arguments
        command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Server(name, process)


def gunicorn(name: str, app: str, *, port: int, workers: int, env: dict[str, str], log: Path) -> Server:
    """Sync workers, as production runs them (Dockerfile); no access log, which would cost a write per request."""
    command = [
        str(BIN / "gunicorn"),
        app,
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--log-level=warning",
        "--timeout=60",
        "--no-control-socket",  # two arbiters at once (portal and ceiling) would share its one path
    ]
    return start(name, command, env, log)


def celery_worker(*, env: dict[str, str], log: Path, concurrency: int = 2) -> Server:
    """The worker as the Procfile starts it, plus the no-op task the write path compares with."""
    command = [
        str(BIN / "celery"),
        "-A",
        "smartcare",
        "worker",
        "--loglevel=WARNING",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        "--include=scripts.bench.noop",
    ]
    return start("celery worker", command, env, log)


def wait_ready(url: str, server: Server, *, timeout: float = 60) -> None:
    """Until ``url`` answers (any HTTP status counts: the server is up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with status {server.process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 - our own server
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{server.name} did not answer {url} within {timeout:.0f} s")


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def workers_rss_mb(server: Server) -> list[float]:
    return [rss_mb(pid) for pid in children(server.pid)]


def settle(url: str, workers: int, *, timeout: float = 120) -> None:
    """Wait until the server has worked off what a finished wrk run left queued: wrk closes its
    connections at the end, but requests it had sent are still answered by the sync workers, and
    would otherwise count against the next case. One request per worker, sent at once, comes back
    once the queue before it is empty."""

    def one(_: int) -> None:
        with contextlib.suppress(OSError):  # an HTTP error answer is an answer too
            urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - our own server

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(workers)))
