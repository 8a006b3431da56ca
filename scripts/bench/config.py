"""The run's settings, from ``BENCH_*`` environment variables, and the environment of the processes
it starts (the portal, the ceiling, the Celery worker and the harness itself)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/smartcare_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
FULL_SIZE = 1_200_000
READ_CASES = "reads"
WRITE_CASES = "writes"


NOT_FROM_ENVIRONMENT = {"secret_key"}


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    citizens: int = FULL_SIZE
    seconds: int = 20
    connections: int = 8
    threads: int = 1  # wrk's: one, as in issue #13's measurements
    workers: int = 2
    port: int = 8765
    ceiling_port: int = 8766
    cases: str = READ_CASES  # "reads", "writes" or a comma-separated list of case names or prefixes
    seed: int = 1
    users_per_organisation: int = 8
    targets: int = 200  # citizens (and plans) per organisation that the requests go through in turn
    warmup: int = 1
    write_seconds: int = 60
    hospital_events_per_second: float = 50.0
    care_messages_per_second: float = 10.0
    drain_seconds: int = 180
    noop_tasks: int = 2000
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))

    @classmethod
    def from_environment(cls) -> Config:
        """Each field from ``BENCH_`` and its name in capitals (``BENCH_CITIZENS``); unset or empty
        keeps the default."""
        values = {}
        for item in fields(cls):
            raw = os.environ.get(f"BENCH_{item.name.upper()}", "").strip()
            if raw and item.name not in NOT_FROM_ENVIRONMENT:
                values[item.name] = type(item.default)(raw)
        return cls(**values)

    @property
    def writes(self) -> bool:
        return self.cases.strip() == WRITE_CASES

    def production_environment(self) -> dict[str, str]:
        """Production settings (DEBUG off, secrets required, Redis cache and broker) with throwaway
        secrets. The API throttle keeps running, with a one-second window: a benchmark user sends
        hundreds of requests a second, so an hourly window would refuse them and keep a history of
        thousands of requests per user, which no real user has."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "SENTRY_")) and key not in {"DEBUG", "REDIS_URL"}
        }
        env.update(
            {
                "DJANGO_ENV": "production",
                "DJANGO_SETTINGS_MODULE": "smartcare.settings",
                "SECRET_KEY": self.secret_key,
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "EMAIL_URL": "consolemail://",
                "SMARTCARE_BASE_URL": f"https://127.0.0.1:{self.port}",
                "API_USER_RATE": "100000/s",
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT),
            }
        )
        return env

    def development_environment(self) -> dict[str, str]:
        """For ``generate_region``, which never runs in production."""
        env = self.production_environment()
        env.update({"DJANGO_ENV": "development", "LOG_LEVEL": "INFO"})
        return env
