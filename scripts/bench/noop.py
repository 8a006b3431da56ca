"""The no-op task the write path measures Celery's own throughput with, on the same worker and
broker as the notification pipeline. Each run counts itself in Redis, so the harness knows when the
last one finished (the tasks keep no results)."""

from __future__ import annotations

import os

import redis
from celery import shared_task

COUNTER = "smartcare:bench:noop"
_client: list[redis.Redis] = []


@shared_task(name="bench.noop", ignore_result=True)
def noop() -> None:
    if not _client:
        _client.append(redis.Redis.from_url(os.environ["REDIS_URL"]))
    _client[0].incr(COUNTER)
