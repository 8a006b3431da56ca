"""The fault run: 2,000 messages sent through the services while a real worker delivers them, and
meanwhile the worker is killed, the database restarted and the broker flushed. Afterwards the
sweeper runs as beat would, and every message has reached each of its receivers exactly once.

Four senders at once (threads, a connection each, like concurrent requests) send care
communications between GP clinics and municipalities and hospital admissions and discharges,
which go to the municipality with a copy to the GP clinic; every receiver acknowledges. That is
about 5,250 deliveries, mostly in-app, and a few hundred e-mails.

- Kill: a SIGKILL to the whole worker (pool included) while it works through a backlog. The
  tasks it held stay unacknowledged in Redis for the visibility timeout (an hour): the sweeper
  sends their deliveries again. A new worker is started only a few batches later, with those
  batches waiting in the queue, so the next two faults hit it while it is busy on any machine.
- Database: as root on a machine whose PostgreSQL is managed with ``pg_ctlcluster``, the cluster
  is restarted (every client of that server loses its connections for a second or two);
  elsewhere, or with ``SMARTCARE_FAULT_RESTART=0`` (a development machine whose PostgreSQL
  others use), every connection to the test database is terminated, which is what a restart
  looks like to a client. The worker must reconnect by itself and go on delivering.
- Flush: everything Redis holds of the tests' queue is deleted, as ``FLUSHDB`` would: the tasks
  waiting in it, the unacknowledged ones, and kombu's binding of the queue to its exchange. Only
  this run's keys are deleted: other processes on a development machine share the Redis database.

"Exactly once" is asserted where SmartCare holds it: one delivery per receiver and channel, one
successful attempt each, one inbox row per message and receiving organisation, no duplicate
arrival counted, one acknowledgement per receiver. E-mail leaves the portal: a worker that dies
between the send and the commit sends it again, so the mails are counted between the deliveries
and their claims.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import OperationalError, connection, connections
from django.db.models import Count, Q, Sum
from django.utils import timezone

from citizens.access import Actor
from citizens.models import Citizen
from citizens.tests.factories import CitizenFactory
from messaging.choices import AttemptOutcome, Category, Channel, DeliveryStatus, EmailMode, HospitalCode, MessageType
from messaging.models import Delivery, DeliveryAttempt, Message, Recipient
from messaging.selectors import inbox
from messaging.services import email_preference_set, hospital_event_record, message_send
from messaging.tasks import deliveries_sweep_task
from sectors.models import Organisation
from tests.cast import actor_for

from .conftest import QUEUE, _forget_queue, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MESSAGES = 2000
BATCHES = 20  # the faults come between batches, while the worker works through the backlog
LANES = 4  # senders at once, as concurrent requests: a lane is one citizen's messages, in order
HOSPITAL_EVERY = 4  # in each lane every fourth message is a hospital event, the others care communications
CONCURRENCY = 4  # worker processes: delivering waits for the database half of the time
# After KILL_AFTER batches the worker is killed; the next batches wait in the queue with no worker
# to take them, so that after FAULTS_AFTER batches the new worker has a backlog, whatever the speed
# of the machine, while the database is restarted and then the broker flushed.
KILL_AFTER, FAULTS_AFTER = 5, 9
STUCK_TIMEOUT = 60.0  # no delivery for this long, sweeps included: the run failed
STALL_SECONDS = 1.5  # no delivery for this long: the sweeper runs, as beat would
PG_TIMEOUT = 60.0


@dataclass
class Plan:
    """What was sent, and who must get it: a message's receiving organisations and e-mail users."""

    receivers: dict[object, list[int]] = field(default_factory=dict)
    emails: dict[object, list[int]] = field(default_factory=dict)

    def add(self, message: Message, receivers: list[int], emails: Sequence[int] = ()) -> None:
        assert message.pk not in self.receivers
        self.receivers[message.pk] = receivers
        self.emails[message.pk] = list(emails)

    def by_organisation(self) -> dict[int, set]:
        shown: dict[int, set] = {}
        for message_id, orgs in self.receivers.items():
            for org in orgs:
                shown.setdefault(org, set()).add(message_id)
        return shown

    @property
    def deliveries(self) -> int:
        """In-app for each receiver, its e-mails, and the in-app delivery of its acknowledgement."""
        return sum(2 * len(orgs) + len(self.emails[pk]) for pk, orgs in self.receivers.items())


# --- the database fault --------------------------------------------------------------------------


def _cluster_version() -> str | None:
    """The version of the local cluster ``main`` that serves the test database, when this process
    may restart it (root, ``pg_ctlcluster``, the database on this machine at that cluster's port)."""
    settings = connection.settings_dict
    if os.environ.get("SMARTCARE_FAULT_RESTART") == "0" or os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        return None
    if (settings.get("HOST") or "localhost") not in ("localhost", "127.0.0.1", "::1") and not str(
        settings.get("HOST")
    ).startswith("/"):
        return None
    port = str(settings.get("PORT") or 5432)
    for conf in sorted(Path("/etc/postgresql").glob("*/main/postgresql.conf")):
        found = re.search(r"^\s*port\s*=\s*(\d+)", conf.read_text(errors="replace"), re.MULTILINE)
        if (found.group(1) if found else "5432") == port:
            return conf.parent.parent.name
    return None


def _database_up() -> bool:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except OperationalError:
        connections.close_all()
        return False


def restart_database() -> str:
    """Restart PostgreSQL (or cut every connection to the test database); the test's own
    connection is closed and opened afresh once the server accepts connections again."""
    version = _cluster_version()
    if version is not None:
        how = f"pg_ctlcluster {version} main restart"
        subprocess.run(  # noqa: S603 - a fixed command
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],  # noqa: S607
            check=True,
            capture_output=True,
            timeout=120,
        )
    else:
        how = "pg_terminate_backend"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    connections.close_all()
    wait_for(_database_up, timeout=PG_TIMEOUT, interval=0.2, what="PostgreSQL to accept connections again")
    return how


# --- the run ---------------------------------------------------------------------------------------


@dataclass
class Lane:
    """One citizen's messages, sent in order by one thread: care communications from the GP clinic
    to the municipality and back the other way, and every ``HOSPITAL_EVERY``-th an admission or
    a discharge, which goes to the municipality with a copy to the GP clinic."""

    citizen: Citizen
    municipality: Organisation
    clinic: Organisation
    gp: Actor
    homecare: Actor
    hospital: Actor
    emails: list[int]  # who e-mails a hospital notification to the municipality
    started: datetime.datetime
    sent: int = 0

    def send(self, plan: Plan, text: str) -> None:
        k = self.sent
        self.sent += 1
        if k % HOSPITAL_EVERY == HOSPITAL_EVERY - 1:
            n = k // HOSPITAL_EVERY
            event = hospital_event_record(
                actor=self.hospital,
                citizen=self.citizen,
                code=HospitalCode.STIN if n % 2 == 0 else HospitalCode.SLHJ,
                occurred_at=self.started + datetime.timedelta(seconds=10 * n),
            )
            plan.add(event.message, [self.municipality.pk, self.clinic.pk], self.emails)
        else:
            sender, receiver = (self.gp, self.municipality) if k % 2 == 0 else (self.homecare, self.clinic)
            message = message_send(
                actor=sender, citizen=self.citizen, receiver=receiver, category=Category.NURSING, text=text
            )
            plan.add(message, [receiver.pk])


def send_batch(lanes: list[Lane], plan: Plan, numbers: range) -> None:
    """The lanes send their share of these messages at the same time, each on its own connection."""
    errors: list[BaseException] = []

    def run(lane: Lane, mine: list[int]) -> None:
        try:
            for n in mine:
                lane.send(plan, f"Besked {n}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(lane, [n for n in numbers if n % len(lanes) == i]), daemon=True)
        for i, lane in enumerate(lanes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads), "a sender hung"
    if errors:
        raise errors[0]


def _states() -> tuple[int, int]:
    """Deliveries written, and those of them delivered."""
    counts = Delivery.objects.aggregate(total=Count("pk"), done=Count("pk", filter=Q(status=DeliveryStatus.DELIVERED)))
    return counts["total"], counts["done"]


def _delivered() -> int:
    return _states()[1]


def _pending() -> int:
    total, done = _states()
    return total - done


def _mails_to(folder: Path, address: str) -> int:
    """Messages to ``address`` that Django's file-based e-mail backend wrote (dash-separated)."""
    header = re.compile(rf"^To: {re.escape(address)}$", re.MULTILINE)
    return sum(len(header.findall(path.read_text(errors="replace"))) for path in folder.iterdir())


# 2,000 messages cost about four CPU-minutes of real work (send, deliver, acknowledge): more than the
# suite's five-minute limit allows on a busy 2-core machine, so this one test has ten.
@pytest.mark.timeout(600)
def test_nothing_is_lost_or_duplicated_when_worker_broker_and_database_fail(
    world, start_worker, redis_client, settings, mail_dir
):
    settings.MESSAGING_SWEEP_GRACE_SECONDS = 1
    settings.MESSAGING_STUCK_MINUTES = 0.05
    users = world.users
    # E-mail only to one home-care nurse, for hospital notifications: the e-mail channel is in the
    # run without a mail per receiver and message.
    for name, user in users.items():
        for message_type in (MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION):
            if (name, message_type) != ("homecare_a", MessageType.HOSPITAL_NOTIFICATION):
                email_preference_set(user=user, message_type=message_type, mode=EmailMode.OFF)
    actors = {name: actor_for(user) for name, user in users.items()}
    started = timezone.now() - datetime.timedelta(days=1)
    sides = [
        (world.municipality_a, world.clinic_a, "gp_a", "homecare_a", [users["homecare_a"].pk]),
        (world.municipality_b, world.clinic_b, "gp_b", "homecare_b", []),
    ]
    lanes = []
    for i in range(LANES):
        municipality, clinic, gp, homecare, emails = sides[i % 2]
        citizen = world.citizen if i == 0 else CitizenFactory(municipality=municipality, gp_clinic=clinic)
        lanes.append(
            Lane(citizen, municipality, clinic, actors[gp], actors[homecare], actors["hospital_nurse"], emails, started)
        )
    plan = Plan()
    per_batch = MESSAGES // BATCHES
    clock = time.monotonic()
    report: dict[str, object] = {}
    workers = [start_worker(concurrency=CONCURRENCY)]
    for batch in range(BATCHES):
        send_batch(lanes, plan, range(batch * per_batch, (batch + 1) * per_batch))
        if batch + 1 == KILL_AFTER:
            # Killed while it works: it has delivered some of the backlog and not all of it.
            wait_for(lambda: _delivered() >= 50, timeout=60, what="the first deliveries", logs=workers)
            workers[0].kill()  # SIGKILL to the whole process group: no warm shutdown
            report["left by the killed worker"] = _pending()
            assert report["left by the killed worker"], "the worker was idle when it was killed: nothing was tested"
        elif batch + 1 == FAULTS_AFTER:
            workers.append(start_worker(concurrency=CONCURRENCY))
            report["queued at the restart"] = redis_client.llen(QUEUE)
            assert report["queued at the restart"], "nothing waited in the queue: nothing was tested"
            delivered = _delivered()
            report["database"] = restart_database()
            # The worker reconnects by itself: deliveries go on without a sweep or a new worker.
            wait_for(
                lambda before=delivered: _delivered() > before + 20,
                timeout=60,
                what="deliveries after the restart",
                logs=workers,
            )
            report["tasks flushed"] = redis_client.llen(QUEUE)
            _forget_queue(redis_client)  # what FLUSHDB does to the tests' queue
            assert report["tasks flushed"], "the queue was empty when Redis was flushed: nothing was tested"
    report["sending seconds"] = round(time.monotonic() - clock, 1)
    assert len(plan.receivers) == MESSAGES

    # Drained: the sweeper runs whenever deliveries stop coming, as beat would run it every minute.
    expected = plan.deliveries
    last, last_change, last_delivery, sweeps, swept = -1, time.monotonic(), time.monotonic(), 0, 0
    while (states := _states()) != (expected, expected):
        if states[1] != last:
            last, last_change = states[1], time.monotonic()
            last_delivery = last_change
        elif time.monotonic() - last_change > STALL_SECONDS:
            sweeps += 1
            swept += deliveries_sweep_task()
            last_change = time.monotonic()
        if time.monotonic() - last_delivery > STUCK_TIMEOUT:
            tails = "\n\n".join(worker.log_tail() for worker in workers)
            pytest.fail(f"{states} of {expected} after {sweeps} sweeps ({swept} swept); {report}\n{tails}")
        time.sleep(0.2)
    report.update({"sweeps": sweeps, "swept": swept, "total seconds": round(time.monotonic() - clock, 1)})
    assert workers[-1].alive, "the worker died"
    wait_for(lambda: redis_client.llen(QUEUE) == 0, timeout=30, what="the queue to drain", logs=workers)
    assert deliveries_sweep_task() == 0  # nothing left behind
    _assert_exactly_once(plan, expected, mail_dir, users["homecare_a"].email, report)

    # Each receiving organisation's inbox shows each of its messages once.
    shown_to = plan.by_organisation()
    for name in ("homecare_a", "gp_a", "homecare_b", "gp_b"):
        organisation = actors[name].acting_organisation
        shown = [row.message_id for row in inbox(actor=actors[name])]
        assert len(shown) == len(set(shown)), f"a message shown twice to {organisation}"
        assert set(shown) == shown_to[organisation.pk], organisation
    print(f"fault run: {report}")


def _assert_exactly_once(plan: Plan, expected: int, mail_dir: Path, address: str, report: dict) -> None:
    # No message was written twice: those sent, and one acknowledgement per receiver.
    sent_types = [MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION]
    pairs = sorted((pk, org) for pk, orgs in plan.receivers.items() for org in orgs)
    sent = Message.objects.filter(type__in=sent_types)
    assert sent.count() == MESSAGES
    assert set(sent.values_list("pk", flat=True)) == set(plan.receivers)
    acks = Message.objects.filter(type=MessageType.ACKNOWLEDGEMENT)
    assert sorted(acks.values_list("acknowledges", "sender")) == pairs

    # One receiver row per message and organisation, received and acknowledged once.
    recipients = Recipient.objects.filter(message__type__in=sent_types)
    assert sorted(recipients.values_list("message", "organisation")) == pairs
    assert not recipients.filter(received_at__isnull=True).exists()
    assert not recipients.filter(acknowledged_at__isnull=True).exists()
    assert Recipient.objects.aggregate(n=Sum("duplicates"))["n"] == 0  # no second arrival anywhere

    # One delivery per receiver and channel (per user for e-mail), each delivered, nothing failed.
    deliveries = Delivery.objects.filter(message__type__in=sent_types)
    assert Counter(deliveries.values_list("message", "recipient__organisation", "channel", "user")) == Counter(
        [(pk, org, Channel.IN_APP, None) for pk, org in pairs]
        + [(pk, orgs[0], Channel.EMAIL, user) for pk, orgs in plan.receivers.items() for user in plan.emails[pk]]
    )
    assert Counter(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED: expected}
    # Into the inbox in one transaction: one attempt each, never a duplicate.
    in_app = Delivery.objects.filter(channel=Channel.IN_APP)
    assert Counter(DeliveryAttempt.objects.filter(delivery__in=in_app).values_list("outcome", flat=True)) == {
        AttemptOutcome.OK: in_app.count()
    }
    # E-mail: one successful attempt each; a mail is sent twice only by a delivery claimed twice.
    email = Delivery.objects.filter(channel=Channel.EMAIL)
    assert email.count() == sum(len(users) for users in plan.emails.values()) > 0
    sent_ok = DeliveryAttempt.objects.filter(delivery__in=email, outcome=AttemptOutcome.OK)
    assert sent_ok.count() == email.count()
    assert not sent_ok.values("delivery").annotate(n=Count("pk")).filter(n__gt=1).exists()
    mails, claims = _mails_to(mail_dir, address), email.aggregate(n=Sum("attempts"))["n"]
    assert email.count() <= mails <= claims, (mails, claims)
    report["e-mails sent again"] = mails - email.count()
