"""The benchmark's database: created when missing, migrated, and filled by ``generate_region`` once.

This module runs before Django is set up in the harness: it talks to PostgreSQL with psycopg2 and
runs ``manage.py`` in child processes (``generate_region`` in the development profile, because it
refuses to run in production)."""

from __future__ import annotations

import subprocess
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from psycopg2 import sql

from .config import BIN, ROOT, Config


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def database_create(url: str) -> bool:
    """Create the database when it is missing; True when it was created."""
    name = _database_name(url)
    connection = psycopg2.connect(_maintenance_url(url))
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        connection.close()


def region_size(url: str) -> tuple[int, int]:
    """(citizens, messages) already in the database; (0, 0) before the first migration."""
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('citizens_citizen'), to_regclass('messaging_message')")
            citizens_table, messages_table = cursor.fetchone()
            if not citizens_table:
                return 0, 0
            cursor.execute("SELECT count(*) FROM citizens_citizen")
            citizens = cursor.fetchone()[0]
            messages = 0
            if messages_table:
                cursor.execute("SELECT count(*) FROM messaging_message")
                messages = cursor.fetchone()[0]
            return citizens, messages
    finally:
        connection.close()


def manage(env: dict[str, str], *args: str) -> None:
    """``manage.py`` in a child process, its output passed through; a failure ends the run."""
    command = [str(BIN / "python"), "manage.py", *args]
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603 - our own manage.py


def region_prepare(config: Config, say=print) -> float | None:
    """Create, migrate and fill the database; the seconds ``generate_region`` took, or None when
    the database already held the region at this size (``generate_region`` writes all of a run in
    one transaction, so a count of the citizens is a reliable marker)."""
    if database_create(config.database_url):
        say(f"created database {_database_name(config.database_url)}")
    manage(config.production_environment(), "migrate", "--noinput", "--verbosity=0")
    citizens, messages = region_size(config.database_url)
    if citizens >= config.citizens:
        say(f"{citizens:,} citizens and {messages:,} messages in the database: nothing to generate")
        return None
    wanted = config.citizens - citizens
    say(f"{citizens:,} citizens in the database: generating {wanted:,} (with care plans and messages) ...")
    started = time.monotonic()
    manage(
        config.development_environment(),
        "generate_region",
        f"--citizens={wanted}",
        f"--seed={config.seed}",
        "--verbosity=2",
    )
    elapsed = time.monotonic() - started
    say(f"generate_region took {elapsed:.0f} s")
    return elapsed


def static_collect(config: Config) -> None:
    """The production static storage serves files from the manifest that collectstatic writes."""
    manage(config.production_environment(), "collectstatic", "--noinput", "--verbosity=0")
