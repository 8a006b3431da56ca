"""``python -m scripts.bench`` (``make bench``): prepare the region, start the portal and the
ceiling, run the read cases (or ``BENCH_CASES=writes``) and print the results."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from .config import ROOT, Config
from .database import region_prepare, static_collect

LOGS = ROOT / "var" / "bench"


def say(message: str) -> None:
    print(message, flush=True)


def django_setup(config: Config) -> None:
    """The harness reads and probes on the portal's own production settings."""
    os.environ.update(config.production_environment())
    import django

    django.setup()


def main() -> int:
    config = Config.from_environment()
    if shutil.which("wrk") is None:
        say("wrk is not installed: apt-get install wrk (make bench installs it when run as root)")
        return 2
    started = time.monotonic()
    generated = region_prepare(config, say)
    static_collect(config)
    django_setup(config)

    import redis

    from . import servers
    from .cases import read_cases, selected
    from .probe import session_cookie_name
    from .reads import reads_run
    from .region import sides_prepare
    from .report import format_markdown, format_memory, format_peer, format_plans, format_table

    redis.Redis.from_url(config.redis_url).flushdb()  # the run's cache, throttle and broker start empty
    sides = sides_prepare(users=config.users_per_organisation, targets=config.targets)
    for side in sides:
        say(
            f"{side.label}: {side.organisation.name} (id {side.organisation.pk}); {len(side.citizens)} citizens, "
            f"{len(side.plans)} plans, {len(side.measured)} citizens with measurements read in turn"
        )
    env = config.production_environment()
    portal = servers.gunicorn(
        "portal", "smartcare.wsgi:application", port=config.port, workers=config.workers, env=env,
        log=LOGS / "portal.log",
    )  # fmt: skip
    ceiling_env = {key: value for key, value in env.items() if key != "DJANGO_SETTINGS_MODULE"}
    ceiling = servers.gunicorn(
        "ceiling", "scripts.bench.ceiling:application", port=config.ceiling_port, workers=config.workers,
        env=ceiling_env, log=LOGS / "ceiling.log",
    )  # fmt: skip
    running = [portal, ceiling]
    try:
        servers.wait_ready(f"http://127.0.0.1:{config.port}/health/", portal)
        servers.wait_ready(f"http://127.0.0.1:{config.ceiling_port}/cpr/0/", ceiling)
        if config.writes:
            from .writes import writes_run

            worker = servers.celery_worker(env=env, log=LOGS / "worker.log")
            running.append(worker)
            say(writes_run(config, sides, say).format())
        else:
            cases = selected(read_cases(sides, session_cookie_name()), config.cases)
            say(f"\n{len(cases)} cases, {config.seconds} s each at -t{config.threads} -c{config.connections}:")
            rows = reads_run(cases, config, say)
            memory = servers.workers_rss_mb(portal)
            say(f"\n{format_table(rows)}\n\n{format_memory(memory)}")
            if peer := format_peer(rows):
                say(f"\n{peer}")
            if generated is not None:
                say(f"generate_region: {generated:.0f} s")
            say(f"\nThe table in Markdown:\n\n{format_markdown(rows)}\n\n{format_plans(rows)}")
    finally:
        for server in reversed(running):
            server.stop()
    say(f"\nbenchmark run took {time.monotonic() - started:.0f} s; server logs in {Path(LOGS).relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
