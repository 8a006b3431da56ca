"""Celery tasks: interfaces only. They carry ids; the database row is the truth."""

from __future__ import annotations

from celery import shared_task

from . import services
from .delivery import deliveries_sweep, delivery_run
from .digests import digests_send
from .enqueue import register_enqueuer
from .kept import kept_uploads_sweep


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_task(delivery_id: int) -> str | None:
    """One attempt; a transient failure schedules the next one (the row says when)."""
    outcome = delivery_run(delivery_id)
    if outcome is None:
        return None
    if outcome.retry_in is not None:
        deliver_task.apply_async((delivery_id,), countdown=outcome.retry_in)
    return outcome.status


@register_enqueuer
def _deliver_later(delivery_id: int) -> None:
    """How the services enqueue a delivery they wrote (``messaging.enqueue``)."""
    deliver_task.delay(delivery_id)


@shared_task
def deliveries_sweep_task() -> int:
    """Periodic (beat): re-enqueue deliveries the broker lost or a killed worker left behind."""
    ids = deliveries_sweep()
    for pk in ids:
        deliver_task.delay(pk)
    return len(ids)


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
    for pk in ids:
        deliver_task.delay(pk)
    return len(ids)


@shared_task
def kept_uploads_sweep_task() -> int:
    """Periodic (beat): remove the files kept from message forms once they expired."""
    return kept_uploads_sweep()
