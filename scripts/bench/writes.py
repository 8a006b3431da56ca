"""The write path (``BENCH_CASES=writes``): for ``BENCH_WRITE_SECONDS`` a department's own system
posts hospital events to ``$process-message`` at ``BENCH_HOSPITAL_EVENTS_PER_SECOND`` (admissions,
and each admitted citizen discharged a few seconds later) while GP clinics send care communications
through the API to the municipality at ``BENCH_CARE_MESSAGES_PER_SECOND``, and two wrk readers read
the municipality's citizens and inbox beside them. A Celery worker delivers the messages.

Sending is open-loop: each request leaves at its planned moment whatever the earlier ones are
doing, so a slow portal shows as latency and errors, not as a lower offered rate. Afterwards the
run waits for the outbox to drain, then reports the deadlocks (the database's own counter and the
"deadlock detected" lines PostgreSQL logged during the run), the sends accepted per second, the
time from a hospital notification's creation to its arrival in the municipality's inbox, and the
pipeline's deliveries per second next to the same worker's throughput of no-op tasks."""

from __future__ import annotations

import datetime
import glob
import json
import os
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import redis
import requests
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone

from citizens.models import Citizen, HospitalStay
from messaging.choices import Channel, DeliveryStatus, MessageType
from messaging.models import Delivery, Recipient
from messaging.tests import fixtures_fhir as fx

from .cases import SESSION, TOKEN, Side, identity_headers
from .config import Config
from .noop import COUNTER
from .probe import session_cookie_name
from .region import integration_token
from .wrk import COMMON_HEADERS, WrkResult, wrk_finish, wrk_start

FHIR_JSON = "application/fhir+json"
DISCHARGE_AFTER = 5.0  # seconds between a citizen's admission and discharge
POOL = 32  # sending threads: more than the portal's workers, so the portal is the bottleneck


@dataclass
class Send:
    kind: str  # "hospital event" or "care communication"
    status: int
    ok: bool
    seconds: float
    error: str = ""


@dataclass
class WriteReport:
    planned: float = 0.0  # seconds of sending
    seconds: float = 0.0  # until the last answer came back
    sends: list[Send] = field(default_factory=list)
    deadlocks: int = 0  # pg_stat_database
    deadlock_lines: int | None = None  # in PostgreSQL's log, None when the log could not be read
    log_file: str = ""
    notification_latencies: list[float] = field(default_factory=list)
    care_latencies: list[float] = field(default_factory=list)
    undelivered: int = 0
    drain_seconds: float = 0.0
    pipeline_per_second: float = 0.0
    deliveries: int = 0
    noop_per_second: float = 0.0
    readers: dict[str, WrkResult] = field(default_factory=dict)

    def format(self) -> str:
        offered = len(self.sends) / self.planned if self.planned else 0.0
        lines = [
            f"\nwrite path: {len(self.sends)} sends offered at {offered:.1f}/s for {self.planned:.0f} s; "
            f"the last answer came after {self.seconds:.0f} s (the rates below are over that time)"
        ]
        for kind in ("hospital event", "care communication"):
            sends = [s for s in self.sends if s.kind == kind]
            if not sends:
                continue
            ok = sum(s.ok for s in sends)
            server_errors = sum(s.status >= 500 for s in sends)
            times = sorted(s.seconds * 1000 for s in sends)
            lines.append(
                f"  {kind + 's':<22} sent {len(sends):>6}  accepted {ok:>6} ({ok / self.seconds:6.1f}/s)  "
                f"HTTP 5xx {server_errors:>4}  refused {len(sends) - ok - server_errors:>4}  "
                f"p50 {percentile(times, 50):7.1f} ms  p95 {percentile(times, 95):7.1f} ms"
            )
        accepted = sum(s.ok for s in self.sends)
        lines.append(f"  accepted sends in all: {accepted / self.seconds:.1f}/s")
        errors = Counter(f"{s.kind}: {s.status} {s.error}"[:160] for s in self.sends if not s.ok)
        for error, n in errors.most_common(5):
            lines.append(f"    {n:>5} x {error}")
        log = "not readable" if self.deadlock_lines is None else f"{self.deadlock_lines} in {self.log_file}"
        lines.append(f"  deadlocks: {self.deadlocks} (pg_stat_database); 'deadlock detected' lines logged: {log}")
        latencies = self.notification_latencies
        lines.append(
            f"  notification to the municipality's inbox: p50 {percentile(latencies, 50):.2f} s, "
            f"p95 {percentile(latencies, 95):.2f} s ({len(latencies)} notifications)"
        )
        lines.append(
            f"  care communication to the inbox: p50 {percentile(self.care_latencies, 50):.2f} s, "
            f"p95 {percentile(self.care_latencies, 95):.2f} s ({len(self.care_latencies)} messages)"
        )
        lines.append(
            f"  pipeline: {self.deliveries} in-app deliveries at {self.pipeline_per_second:.1f}/s; "
            f"{self.undelivered} not delivered {self.drain_seconds:.0f} s after the load ended"
        )
        lines.append(f"  Celery no-op tasks on the same worker: {self.noop_per_second:.1f}/s")
        for name, result in self.readers.items():
            lines.append(
                f"  reader {name:<28} {result.rps:7.1f} req/s  p50 {result.p50_ms:7.1f} ms  "
                f"p95 {result.p95_ms:7.1f} ms  errors {result.non_2xx + result.socket_errors}"
            )
        return "\n".join(lines)


def percentile(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[pct - 1]


# --- PostgreSQL's log -----------------------------------------------------------------------------


def log_file() -> str | None:
    """Where PostgreSQL writes its log: the collector's current file, else Debian's per-cluster file
    (pg_ctlcluster sends stderr there)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_logfile(), current_setting('data_directory')")
        current, data_directory = cursor.fetchone()
    if current:
        return current if os.path.isabs(current) else os.path.join(data_directory, current)
    found = sorted(glob.glob("/var/log/postgresql/postgresql-*.log"), key=os.path.getmtime)
    return found[-1] if found else None


def deadlock_lines(text: str, database: str) -> int:
    """ "deadlock detected" lines of this database (all of them when the lines name no database)."""
    lines = [line for line in text.splitlines() if "deadlock detected" in line]
    named = [line for line in lines if f"@{database}" in line]
    return len(named) if any("@" in line for line in lines) else len(lines)


def deadlocks_counted() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


# --- sending --------------------------------------------------------------------------------------


class Sender:
    """Requests at planned moments from a pool of threads, each with its own keep-alive connection."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.local = threading.local()
        self.sends: list[Send] = []
        self.lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def post(self, kind: str, path: str, body: dict, headers: dict[str, str], content_type: str) -> None:
        started = time.monotonic()
        status, ok, error = 0, False, ""
        try:
            response = self._session().post(
                self.base_url + path,
                data=json.dumps(body),
                headers={**COMMON_HEADERS, **headers, "Content-Type": content_type},
                timeout=30,
            )
            status = response.status_code
            ok, error = _accepted(kind, response)
        except requests.RequestException as exc:
            error = type(exc).__name__
        with self.lock:
            self.sends.append(Send(kind, status, ok, time.monotonic() - started, error))


def _accepted(kind: str, response: requests.Response) -> tuple[bool, str]:
    if kind == "care communication":
        return response.status_code == 201, "" if response.status_code == 201 else response.text[:120]
    if response.status_code != 200:
        return False, response.text[:120]
    try:
        code = fx.header_of(response.json())["response"]["code"]
    except (ValueError, KeyError, StopIteration):
        return False, "no acknowledgement"
    return code == "ok", "" if code == "ok" else f"acknowledgement {code}"


def plan(config: Config) -> list[tuple[float, str, int]]:
    """(moment, what, index): admissions and discharges (the index-th citizen's), then care
    communications, each kind evenly spaced at its rate."""
    events: list[tuple[float, str, int]] = []
    admissions_per_second = config.hospital_events_per_second / 2
    if admissions_per_second > 0:
        n = int(admissions_per_second * config.write_seconds)
        for i in range(n):
            at = i / admissions_per_second
            events.append((at, "admit", i))
            if at + DISCHARGE_AFTER < config.write_seconds:
                events.append((at + DISCHARGE_AFTER, "discharge", i))
    if config.care_messages_per_second > 0:
        for i in range(int(config.care_messages_per_second * config.write_seconds)):
            events.append((i / config.care_messages_per_second, "care", i))
    return sorted(events)


# --- the run --------------------------------------------------------------------------------------


def _wait_for_worker(client: redis.Redis, timeout: float = 90) -> None:
    from smartcare.celery import app

    client.delete(COUNTER)
    app.send_task("bench.noop")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(client.get(COUNTER) or 0) >= 1:
            return
        time.sleep(0.2)
    raise RuntimeError("The Celery worker ran no task within 90 s (see var/bench/worker.log).")


def noop_throughput(client: redis.Redis, tasks: int, timeout: float = 300) -> float:
    from smartcare.celery import app

    client.delete(COUNTER)
    started = time.monotonic()
    for _ in range(tasks):
        app.send_task("bench.noop")
    deadline = started + timeout
    while int(client.get(COUNTER) or 0) < tasks and time.monotonic() < deadline:
        time.sleep(0.05)
    return int(client.get(COUNTER) or 0) / (time.monotonic() - started)


def _drain(since: datetime.datetime, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    open_ = Delivery.objects.filter(
        channel=Channel.IN_APP, created_at__gte=since, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    )
    while open_.exists() and time.monotonic() - started < timeout:
        time.sleep(1)
    return open_.count(), time.monotonic() - started


def _latencies(since: datetime.datetime, organisation_id: int, kind: str) -> list[float]:
    rows = Recipient.objects.filter(
        organisation_id=organisation_id, message__type=kind, message__sent_at__gte=since, received_at__isnull=False
    ).values_list("received_at", "message__sent_at")
    return sorted((received - sent).total_seconds() for received, sent in rows)


def _pipeline(since: datetime.datetime) -> tuple[int, float]:
    delivered = Delivery.objects.filter(
        channel=Channel.IN_APP, created_at__gte=since, status=DeliveryStatus.DELIVERED
    ).values_list("created_at", "delivered_at")
    times = list(delivered)
    if not times:
        return 0, 0.0
    span = (max(d for _, d in times) - min(c for c, _ in times)).total_seconds()
    return len(times), len(times) / span if span else 0.0


def writes_run(config: Config, sides: list[Side], say=print) -> WriteReport:
    by_kind = {side.kind: side for side in sides}
    gp, municipality, department = by_kind["gp"], by_kind["municipality"], by_kind["department"]
    client = redis.Redis.from_url(config.redis_url)
    say("waiting for the Celery worker ...")
    _wait_for_worker(client)
    events = plan(config)
    admissions = sum(1 for _, what, _ in events if what == "admit")
    patients = list(
        Citizen.objects.filter(municipality=municipality.organisation, deceased_at__isnull=True)
        .exclude(Exists(HospitalStay.objects.filter(citizen=OuterRef("pk"), discharged_at__isnull=True)))
        .order_by("pk")
        .values_list("cpr", flat=True)[:admissions]
    )
    if len(patients) < admissions:
        raise RuntimeError(f"{admissions} citizens to admit are needed, the municipality has {len(patients)} free.")
    hospital_headers = {"Authorization": f"Token {integration_token(department.organisation)}"}
    gp_headers = [identity_headers(gp, identity, TOKEN, "") for identity in gp.identities]
    readers_at = f"http://127.0.0.1:{config.port}"
    mine = [identity_headers(municipality, i, TOKEN, "") for i in municipality.identities]
    pages = [identity_headers(municipality, i, SESSION, session_cookie_name()) for i in municipality.identities]
    citizen_paths = [f"/api/v1/citizens/{pk}/" for pk, _ in municipality.citizens]
    admitted_at: dict[int, datetime.datetime] = {}

    report = WriteReport(planned=config.write_seconds)
    deadlocks_before = deadlocks_counted()
    log = log_file()
    log_offset = os.path.getsize(log) if log and os.access(log, os.R_OK) else None
    since = timezone.now()
    say(
        f"write path: {len(events)} requests over {config.write_seconds} s "
        f"({config.hospital_events_per_second:g} hospital events/s, {config.care_messages_per_second:g} care "
        f"communications/s) with two readers ..."
    )
    readers = {
        "api-citizen:municipality": wrk_start(
            readers_at, citizen_paths, mine, seconds=config.write_seconds, connections=2
        ),
        "page-inbox:municipality": wrk_start(
            readers_at, ["/messages/"], pages, seconds=config.write_seconds, connections=2
        ),
    }
    sender = Sender(readers_at)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=POOL) as pool:
        for at, what, index in events:
            delay = started + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            now = datetime.datetime.now(datetime.UTC)
            if what == "care":
                citizen_id = gp.citizens[index % len(gp.citizens)][0]
                body = {
                    "citizen": citizen_id,
                    "receiver": municipality.organisation.pk,
                    "category": "nursing",
                    "text": "Borgeren har fået ny medicin; vil I hjælpe med doseringen?",
                }
                headers = gp_headers[index % len(gp_headers)]
                pool.submit(sender.post, "care communication", "/api/v1/messages/", body, headers, "application/json")
                continue
            cpr = patients[index]
            if what == "admit":
                admitted_at[index] = now - datetime.timedelta(minutes=1)
                bundle = fx.hospital_notification(
                    sender=department.organisation, receiver=municipality.organisation, cpr=cpr,
                    start=admitted_at[index],
                )  # fmt: skip
            else:
                bundle = fx.hospital_notification(
                    sender=department.organisation, receiver=municipality.organisation, cpr=cpr,
                    start=admitted_at[index], end=now, status="finished", activity="discharge-inpatient-home",
                )  # fmt: skip
            pool.submit(sender.post, "hospital event", "/fhir/$process-message", bundle, hospital_headers, FHIR_JSON)
    report.seconds = max(time.monotonic() - started, 1e-9)
    report.sends = sender.sends
    report.readers = {name: wrk_finish(process) for name, process in readers.items()}
    say("load ended; waiting for the outbox to drain ...")
    report.undelivered, report.drain_seconds = _drain(since, config.drain_seconds)
    report.deadlocks = deadlocks_counted() - deadlocks_before
    if log and log_offset is not None:
        with open(log, encoding="utf-8", errors="replace") as fh:
            fh.seek(log_offset)
            report.deadlock_lines = deadlock_lines(fh.read(), connection.settings_dict["NAME"])
        report.log_file = log
    report.notification_latencies = _latencies(since, municipality.organisation.pk, MessageType.HOSPITAL_NOTIFICATION)
    report.care_latencies = _latencies(since, municipality.organisation.pk, MessageType.CARE_COMMUNICATION)
    report.deliveries, report.pipeline_per_second = _pipeline(since)
    say(f"measuring {config.noop_tasks} no-op tasks ...")
    report.noop_per_second = noop_throughput(client, config.noop_tasks)
    return report
