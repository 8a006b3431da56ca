"""Message delivery with a real Celery worker process on Redis and PostgreSQL (not eager mode):
the inbox and e-mail, a worker killed in the middle of a batch, a flushed broker, and a webhook
receiver that fails before it succeeds.

The worker is started per test (``start_worker`` in ``conftest.py``) on the test database and a
queue of its own; the test process publishes tasks to Redis and runs the sweeper itself when the
broker has lost something.
"""

from __future__ import annotations

import datetime
import email
import hashlib
import hmac
import json
import threading
import time
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from messaging.choices import AttemptOutcome, Category, Channel, DeliveryStatus, EmailMode, HospitalCode, MessageType
from messaging.models import Delivery, DeliveryAttempt, Message, Recipient, WebhookEndpoint
from messaging.selectors import inbox
from messaging.services import email_preference_set, hospital_event_record, message_send
from messaging.tasks import deliveries_sweep_task
from smartcare.links import absolute_url

from .conftest import QUEUE, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DELIVERED = DeliveryStatus.DELIVERED


def _emails_off(users, message_type: str) -> None:
    for user in users:
        email_preference_set(user=user, message_type=message_type, mode=EmailMode.OFF)


def _all_delivered(expected: int):
    """True once exactly ``expected`` deliveries exist and every one is delivered."""

    def check() -> bool:
        return Delivery.objects.count() == expected and not Delivery.objects.exclude(status=DELIVERED).exists()

    return check


def _mails(folder) -> list[email.message.EmailMessage]:
    """The messages Django's file-based e-mail backend wrote (a file per connection, separated by dashes)."""
    mails = []
    for path in sorted(folder.iterdir()):
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                mails.append(email.message_from_bytes(chunk.strip() + b"\n", policy=policy.default))
    return mails


def test_hospital_admission_reaches_the_municipality_inbox_and_e_mail(world, actor, start_worker, mail_dir):
    homecare, assistant = world.users["homecare_a"], world.users["assistant_a"]
    _emails_off([assistant], MessageType.HOSPITAL_NOTIFICATION)
    worker = start_worker()

    event = hospital_event_record(
        actor=actor("hospital_nurse"),
        citizen=world.citizen,
        code=HospitalCode.STIN,
        occurred_at=timezone.now() - datetime.timedelta(hours=1),
    )
    message = event.message
    # In-app to the municipality and the GP clinic (copy), e-mail to their subscribed members, and
    # each receiver's acknowledgement back to the department.
    expected = Delivery.objects.filter(message=message).count() + 2
    wait_for(_all_delivered(expected), what="the admission and its acknowledgements", logs=[worker])

    rows = list(inbox(actor=actor("homecare_a")))
    assert [row.message_id for row in rows] == [message.pk]
    assert rows[0].message.hospital_code == HospitalCode.STIN
    assert rows[0].ack_code == "ok"
    assert Message.objects.filter(acknowledges=message, type=MessageType.ACKNOWLEDGEMENT).count() == 2
    assert not Recipient.objects.filter(message=message, acknowledged_at__isnull=True).exists()
    assert list(inbox(actor=actor("homecare_b"))) == []  # another municipality gets nothing

    mails = _mails(mail_dir)
    to_municipality = [mail for mail in mails if mail["To"] == homecare.email]
    assert len(to_municipality) == 1, [mail["To"] for mail in mails]
    assert not [mail for mail in mails if mail["To"] == assistant.email]  # opted out of hospital notifications
    mail = to_municipality[0]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert world.municipality_a.name in mail["Subject"]
    assert absolute_url(reverse("messaging:inbox")) in body  # a link to sign in and read it
    citizen = world.citizen
    raw = mail.as_string()
    for secret in {citizen.cpr, citizen.cpr_formatted, citizen.first_name, citizen.last_name, citizen.full_name}:
        assert secret not in raw
        assert secret not in body
    email_delivery = Delivery.objects.get(message=message, channel=Channel.EMAIL, user=homecare)
    assert list(email_delivery.attempt_log.values_list("outcome", flat=True)) == [AttemptOutcome.OK]


def test_worker_killed_mid_batch_delivers_every_message_exactly_once(world, actor, start_worker, settings):
    settings.MESSAGING_SWEEP_GRACE_SECONDS = 1
    settings.MESSAGING_STUCK_MINUTES = 0.05
    _emails_off([world.users["homecare_a"], world.users["assistant_a"]], MessageType.CARE_COMMUNICATION)
    gp = actor("gp_a")
    first = start_worker()

    with transaction.atomic():  # one batch: the 500 tasks are published when it commits
        batch = [
            message_send(
                actor=gp,
                citizen=world.citizen,
                receiver=world.municipality_a,
                category=Category.NURSING,
                text=f"Besked {n}",
            ).pk
            for n in range(500)
        ]
    in_app = Delivery.objects.filter(message_id__in=batch, channel=Channel.IN_APP)
    assert in_app.count() == 500

    wait_for(lambda: in_app.filter(status=DELIVERED).count() >= 60, interval=0.02, what="a first part", logs=[first])
    first.kill()  # SIGKILL to the whole worker, pool processes included: no warm shutdown
    done_at_kill = in_app.filter(status=DELIVERED).count()
    assert done_at_kill < 500, "the worker finished before it was killed: nothing was tested"

    second = start_worker()
    # Delivery rows the killed worker held (their task unacknowledged in Redis for the visibility
    # timeout) or acknowledgements it committed but did not publish stay pending: the sweeper
    # publishes those again whenever progress stops.
    total = 1000  # 500 messages and 500 acknowledgements, one in-app delivery each
    deadline = time.monotonic() + 90
    last, last_change, sweeps = -1, time.monotonic(), 0
    while not _all_delivered(total)():
        delivered = Delivery.objects.filter(status=DELIVERED).count()
        if delivered != last:
            last, last_change = delivered, time.monotonic()
        elif time.monotonic() - last_change > 1.5:
            sweeps += 1
            deliveries_sweep_task()
            last_change = time.monotonic()
        if time.monotonic() > deadline:
            pytest.fail(
                f"{delivered} of {total} delivered after {sweeps} sweeps\n{first.log_tail()}\n\n{second.log_tail()}"
            )
        time.sleep(0.1)

    # Every delivery ran to completion once: one attempt each, none failed, none left behind.
    assert Delivery.objects.filter(channel=Channel.IN_APP, status=DELIVERED).count() == total
    assert DeliveryAttempt.objects.count() == total
    assert not DeliveryAttempt.objects.values("delivery").annotate(n=Count("pk")).filter(n__gt=1).exists()
    # Every message is in the municipality's inbox exactly once, received and acknowledged once.
    shown = [row.message_id for row in inbox(actor=actor("homecare_a"))]
    assert len(shown) == 500
    assert set(shown) == set(batch)
    receivers = Recipient.objects.filter(message_id__in=batch)
    assert receivers.count() == 500
    assert not receivers.filter(received_at__isnull=True).exists()
    assert not receivers.filter(acknowledged_at__isnull=True).exists()
    acks = Message.objects.filter(acknowledges_id__in=batch, type=MessageType.ACKNOWLEDGEMENT)
    assert acks.count() == 500
    assert Recipient.objects.filter(message__in=acks, received_at__isnull=False).count() == 500
    duplicates = receivers.aggregate(n=Sum("duplicates"))["n"]
    print(f"killed after {done_at_kill} of 500; {sweeps} sweeps; {duplicates} duplicate arrivals counted")


def test_sweeper_delivers_what_a_flushed_redis_lost(world, actor, start_worker, redis_client, settings):
    _emails_off([world.users["homecare_a"], world.users["assistant_a"]], MessageType.CARE_COMMUNICATION)
    gp = actor("gp_a")
    sent = [
        message_send(actor=gp, citizen=world.citizen, receiver=world.municipality_a, category="nursing", text=f"{n}").pk
        for n in range(20)
    ]
    assert redis_client.llen(QUEUE) == 20  # published to Redis, not run in this process
    settings.MESSAGING_SWEEP_GRACE_SECONDS = 1
    time.sleep(1.2)
    assert deliveries_sweep_task() == 0  # waiting in the queue, however long: never enqueued again
    assert redis_client.llen(QUEUE) == 20
    redis_client.flushdb()
    assert redis_client.llen(QUEUE) == 0

    worker = start_worker()
    time.sleep(1)
    assert not Delivery.objects.filter(status=DELIVERED).exists()  # the worker has nothing to do
    assert not list(inbox(actor=actor("homecare_a")))

    assert deliveries_sweep_task() == 20  # the queue is empty: their tasks are gone
    assert deliveries_sweep_task() == 0  # enqueued once
    wait_for(_all_delivered(40), what="the swept messages and their acknowledgements", logs=[worker])
    assert sorted(row.message_id for row in inbox(actor=actor("homecare_a"))) == sorted(sent)
    assert DeliveryAttempt.objects.count() == 40


class _Receiver:
    """An organisation's own system: answers 500 ``failures`` times, then 200 (a bad signature: 401)."""

    def __init__(self, failures: int) -> None:
        self.secret = ""
        self.failures = failures
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                signed = hmac.compare_digest(self.headers.get("X-SmartCare-Signature", ""), expected)
                with receiver.lock:
                    status = 500 if len(receiver.requests) < receiver.failures else (200 if signed else 401)
                    receiver.requests.append(
                        {
                            "delivery": self.headers.get("X-SmartCare-Delivery"),
                            "signed": signed,
                            "status": status,
                            "body": json.loads(body or b"{}"),
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/smartcare/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def webhook_receiver():
    receiver = _Receiver(failures=2)
    yield receiver
    receiver.close()


def test_webhook_that_fails_twice_gets_the_message_once(world, actor, start_worker, webhook_receiver):
    endpoint = WebhookEndpoint.objects.create(organisation=world.municipality_a, url=webhook_receiver.url)
    webhook_receiver.secret = endpoint.secret
    worker = start_worker()

    message = message_send(
        actor=actor("gp_a"),
        citizen=world.citizen,
        receiver=world.municipality_a,
        category=Category.NURSING,
        text="Borgeren er udskrevet.",
    )
    webhook = Delivery.objects.get(message=message, channel=Channel.WEBHOOK)
    expected = Delivery.objects.filter(message=message).count() + 1  # and the acknowledgement
    wait_for(_all_delivered(expected), timeout=60, what="the webhook and the other deliveries", logs=[worker])

    webhook.refresh_from_db()
    assert webhook.attempts == 3
    assert webhook.last_error == ""
    attempts = list(webhook.attempt_log.order_by("started_at", "pk"))
    assert [a.outcome for a in attempts] == [AttemptOutcome.TRANSIENT, AttemptOutcome.TRANSIENT, AttemptOutcome.OK]
    assert "HTTP 500" in attempts[0].error
    # exponential backoff from MESSAGING_BACKOFF_SECONDS=0.2: 0.2 s, then 0.4 s
    assert (attempts[1].started_at - attempts[0].finished_at).total_seconds() >= 0.15
    assert (attempts[2].started_at - attempts[1].finished_at).total_seconds() >= 0.35

    time.sleep(0.5)  # nothing more arrives
    with webhook_receiver.lock:
        requests = list(webhook_receiver.requests)
    assert [r["status"] for r in requests] == [500, 500, 200]
    assert all(r["signed"] for r in requests)
    assert {r["delivery"] for r in requests} == {webhook.key}
    received = [r for r in requests if r["status"] == 200]
    assert len(received) == 1
    payload = received[0]["body"]  # the message's MedCom bundle (FHIR JSON)
    assert (payload["resourceType"], payload["type"]) == ("Bundle", "message")
    resources = [entry["resource"] for entry in payload["entry"]]
    assert resources[0]["resourceType"] == "MessageHeader" and resources[0]["id"] == str(message.pk)
    communication = next(r for r in resources if r["resourceType"] == "Communication")
    assert communication["payload"][0]["contentString"] == "Borgeren er udskrevet."
    sor_codes = [i["value"] for r in resources if r["resourceType"] == "Organization" for i in r["identifier"]]
    assert world.municipality_a.sor_code in sor_codes
