"""Celery tasks: interfaces only. They carry ids; the database row is the truth."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import shared_task

from smartcare.taskretry import database_task

from . import services
from .delivery import deliveries_in_app_run, deliveries_split, deliveries_sweep, delivery_run
from .digests import digests_send
from .enqueue import register_enqueuer
from .fhir.traffic import calls_prune
from .kept import kept_uploads_sweep

logger = logging.getLogger(__name__)

# Deliveries per task: a transaction's deliveries go in one task, a long list (a sweep) in several.
BATCH = 100


@database_task(acks_late=True, reject_on_worker_lost=True)
def deliver_task(delivery_id: int) -> str | None:
    """One attempt; a transient failure schedules the next one (the row says when). The database
    gone for a moment runs the task again shortly (``database_task``): the claim makes it safe."""
    outcome = delivery_run(delivery_id)
    if outcome is None:
        return None
    if outcome.retry_in is not None:
        deliver_task.apply_async((delivery_id,), countdown=outcome.retry_in)
    return outcome.status


@database_task(acks_late=True, reject_on_worker_lost=True)
def deliveries_task(delivery_ids: list[int]) -> int:
    """The deliveries one transaction wrote: the others get a task each, the in-app ones are
    delivered here (one publish per transaction instead of one per delivery). Run again when the
    database was gone: the deliveries done by then are skipped, a task enqueued twice is claimed once."""
    in_app, others = deliveries_split(delivery_ids)
    for pk in others:
        deliver_task.delay(pk)
    return deliveries_in_app_run(in_app)


@register_enqueuer
def _deliver_later(delivery_ids: Sequence[int]) -> None:
    """How the services enqueue the deliveries they wrote (``messaging.enqueue``)."""
    ids = list(delivery_ids)
    for start in range(0, len(ids), BATCH):
        deliveries_task.delay(ids[start : start + BATCH])


@shared_task
def deliveries_sweep_task() -> int:
    """Periodic (beat): re-enqueue deliveries the broker lost or a killed worker left behind."""
    ids = deliveries_sweep(queue_empty=_queue_length() == 0)
    _deliver_later(ids)
    return len(ids)


def _queue_length() -> int | None:
    """Tasks waiting in the delivery task's queue on the broker, or None when it cannot tell."""
    app = deliver_task.app
    queue = app.conf.task_default_queue  # the tasks are not routed elsewhere
    try:
        with app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(queue=queue, passive=False).message_count
    except Exception:  # noqa: BLE001 - without an answer the sweeper relies on the queue's progress alone
        logger.warning("deliveries sweep: the length of queue %s could not be read", queue, exc_info=True)
        return None


@shared_task
def acknowledgements_check_task() -> dict[str, int]:
    """Periodic (beat): resend unacknowledged messages, then alert their senders."""
    return services.unacknowledged_resend()


@shared_task
def unhandled_escalate_task() -> int:
    """Periodic (beat): remind care coordinators of unhandled hospital notifications and asap messages."""
    return services.unhandled_escalate()


@shared_task
def care_events_dispatch_task() -> int:
    """Periodic (beat): turn care-plan events into notifications."""
    return services.care_events_dispatch()


@shared_task
def digests_send_task() -> int:
    """Periodic (beat, daily): the e-mail digests, enqueued once they are written (committed)."""
    ids = digests_send()
    _deliver_later(ids)
    return len(ids)


@shared_task
def fhir_calls_prune_task() -> int:
    """Periodic (beat, daily): forget the ``$process-message`` call records past their time."""
    return calls_prune()


@shared_task
def kept_uploads_sweep_task() -> int:
    """Periodic (beat): remove the files kept from message forms once they expired."""
    return kept_uploads_sweep()
