"""Row locks of the write path on the real PostgreSQL: what a hospital event and a receipt lock must
not hold up, and a real deadlock, which the losing transaction survives by running again.

Each test holds a lock in one thread's transaction while another thread (its own connection) does
what a concurrent request would, with a short ``lock_timeout``: a write that had to wait for the
lock fails with "lock not available" instead of passing."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.utils import timezone

from messaging.choices import Category, Channel, HospitalCode
from messaging.models import Delivery, Message, Thread
from messaging.services import hospital_event_record, message_receive, message_send
from messaging.services.hospital import _lock_citizen
from sectors.models import Organisation
from sectors.tests.factories import MunicipalityFactory
from smartcare.transactions import retry_on_deadlock

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TIMEOUT = 5.0


def in_thread(work: Callable[[], object]) -> threading.Thread:
    """Run ``work`` on a connection of its own; what it raised is kept on the thread."""

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            thread.error = exc  # type: ignore[attr-defined]
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.error = None  # type: ignore[attr-defined]
    thread.start()
    return thread


def while_locked(lock: Callable[[], object], other: Callable[[], object]) -> None:
    """``other`` runs, with a lock timeout of one second, while a transaction holds ``lock``."""
    held, done = threading.Event(), threading.Event()

    def holder() -> None:
        with transaction.atomic():
            lock()
            held.set()
            done.wait(TIMEOUT)

    def contender() -> None:
        held.wait(TIMEOUT)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '1s'")
            other()

    holding = in_thread(holder)
    contending = in_thread(contender)
    contending.join(TIMEOUT * 2)
    done.set()
    holding.join(TIMEOUT * 2)
    assert holding.error is None, holding.error
    assert contending.error is None, contending.error


def test_a_hospital_event_does_not_hold_up_writes_about_the_citizen(world):
    """The event's lock on the citizen is no key lock: a message about the citizen (a row that
    references it) is written meanwhile, not after the event's transaction."""
    while_locked(
        lambda: _lock_citizen(world.citizen.pk),
        lambda: Thread.objects.create(citizen=world.citizen, category=Category.NURSING),
    )


def test_a_receipt_does_not_hold_up_sends_to_the_receiving_organisation(world, actor):
    """Receiving locks the receiver's row only, and not its key: not the organisation that every
    concurrent send to it references, nor the message; a delivery for the receiver is written
    meanwhile as well."""
    gp = actor("gp_a")

    def send() -> Message:
        return message_send(
            actor=gp, citizen=world.citizen, receiver=world.municipality_a, category=Category.NURSING, text="Hej."
        )

    first = send()
    receiver = first.recipients.get()

    def send_and_deliver_again() -> None:
        send()
        Delivery.objects.create(message=first, recipient=receiver, channel=Channel.IN_APP, key=f"{first.pk}:again")

    while_locked(lambda: message_receive(recipient=receiver), send_and_deliver_again)


def test_two_hospital_events_for_one_citizen_are_applied_one_after_the_other(world, actor):
    nurse = actor("hospital_nurse")
    at = timezone.now() - datetime.timedelta(hours=2)
    hospital_event_record(actor=nurse, citizen=world.citizen, code=HospitalCode.STIN, occurred_at=at)
    outcomes: list[str] = []

    def discharge() -> None:
        try:
            hospital_event_record(
                actor=nurse, citizen=world.citizen, code=HospitalCode.SLHJ, occurred_at=at + datetime.timedelta(hours=1)
            )
            outcomes.append("discharged")
        except Exception as exc:  # noqa: BLE001 - the second finds no current stay
            outcomes.append(type(exc).__name__)

    threads = [in_thread(discharge) for _ in range(2)]
    for thread in threads:
        thread.join(TIMEOUT * 4)
    assert sorted(outcomes) == ["ValidationError", "discharged"]
    assert world.citizen.stays.get().discharged_at is not None


def test_a_real_deadlock_is_survived_by_running_the_victim_again(db, caplog):
    """Two transactions lock two rows in opposite orders: PostgreSQL aborts one (40P01), and the
    wrapper runs it again once the other has committed."""
    first, second = MunicipalityFactory(), MunicipalityFactory()
    both_locked_one = threading.Barrier(2, timeout=TIMEOUT)
    attempts: list[str] = []

    def rename(one: Organisation, other: Organisation, name: str) -> Callable[[], None]:
        @retry_on_deadlock
        @transaction.atomic
        def work() -> None:
            attempts.append(name)
            Organisation.objects.filter(pk=one.pk).update(name=name)
            if attempts.count(name) == 1:
                both_locked_one.wait()  # the first time only: then each waits for the other's row
            Organisation.objects.filter(pk=other.pk).update(name=name)

        return work

    threads = [in_thread(rename(first, second, "A")), in_thread(rename(second, first, "B"))]
    for thread in threads:
        thread.join(TIMEOUT * 4)

    assert [thread.error for thread in threads] == [None, None]
    assert len(attempts) == 3  # one of the two ran again
    assert "transaction_retry" in caplog.text and "40P01" in caplog.text
    names = set(Organisation.objects.filter(pk__in=[first.pk, second.pk]).values_list("name", flat=True))
    assert len(names) == 1  # the last to commit renamed both
