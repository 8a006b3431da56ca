"""How the services hand deliveries to the worker: once the transaction that wrote them commits.

The services must not import the tasks (the tasks run the delivery engine, which calls the
services), so the tasks module registers the function that enqueues one delivery here when it is
imported (``MessagingConfig.ready()`` imports it), as the apps register dashboard cards with
``smartcare.dashboard``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

Enqueuer = Callable[[list[int]], object]
_ENQUEUER: list[Enqueuer] = []


def register_enqueuer(func: Enqueuer) -> Enqueuer:
    """Register the function that hands a list of delivery ids to the worker (the delivery task)."""
    _ENQUEUER[:] = [func]
    return func


def deliver_on_commit(ids: Iterable[int]) -> None:
    """Enqueue these deliveries once the current transaction commits (at once outside one), in
    one call: a request pays for one publish to the broker, not one per receiver and member."""
    ids = list(ids)
    if not ids:
        return
    if not _ENQUEUER:  # never write a delivery that no worker is told about
        raise ImproperlyConfigured("No delivery task is registered with messaging.enqueue.")
    enqueue = _ENQUEUER[0]
    transaction.on_commit(lambda: enqueue(ids))
