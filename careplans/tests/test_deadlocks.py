"""A care-plan write that loses a deadlock (or a serialization conflict) is run again as a whole
(``smartcare.transactions.retry_on_deadlock``): the user sees it saved once, not the 503 page."""

from __future__ import annotations

import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError, transaction

from careplans.choices import CareEventKind, HandoffStatus
from careplans.models import CareEvent, CarePlan, PlanChange
from careplans.services import activity_create, careplan_update, handoff_accept
from citizens.models import AccessLogEntry
from smartcare.transactions import DEADLOCK, SERIALIZATION_FAILURE
from tests.dberrors import database_error

# Outside a test's transaction: inside one the wrapper leaves the retry to the outermost block.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_pause(settings):
    settings.TRANSACTION_RETRY_BASE_SECONDS = 0


@contextmanager
def failing_once(target: str, code: str = DEADLOCK) -> Iterator[mock.MagicMock]:
    """``target`` raises the database error on its first call and does its work on the next ones."""
    real = pkgutil.resolve_name(target)

    def effect(*args, **kwargs):
        if patched.call_count == 1:
            raise database_error(code)
        return real(*args, **kwargs)

    with mock.patch(target, side_effect=effect) as patched:
        yield patched


def handed_off(world, gp_actor, plan):
    """An activity handed to the other municipality, its hand-off waiting for an answer."""
    return activity_create(
        actor=gp_actor,
        plan=plan,
        description="Blodtryksmåling",
        responsible_organisation=world.municipality_b,
        weekdays="MO",
    )


@pytest.mark.parametrize("code", [DEADLOCK, SERIALIZATION_FAILURE])
def test_a_handoff_accept_that_loses_a_deadlock_is_run_again_and_saved_once(world, actor, gp_actor, plan, code):
    activity = handed_off(world, gp_actor, plan)
    handoff = activity.handoffs.get()
    logged = AccessLogEntry.objects.filter(detail="hand-off answered")

    # The last write of the service fails: the hand-off, the item, the history and the event were
    # written in the attempt that the database rolled back.
    with failing_once("careplans.services.handoffs._log_write", code) as log_write:
        answered = handoff_accept(actor=actor("homecare_b"), handoff=handoff, comment="Vi starter mandag")

    assert log_write.call_count == 2
    assert answered.status == HandoffStatus.ACCEPTED
    activity.refresh_from_db()
    assert activity.handoff_status == HandoffStatus.ACCEPTED
    assert PlanChange.objects.filter(action="handoff-accepted").count() == 1
    assert CareEvent.objects.filter(kind=CareEventKind.HANDOFF_ACCEPTED).count() == 1
    assert logged.count() == 1


def test_the_run_again_starts_from_the_instance_the_caller_passed(world, gp_actor, plan):
    """The first attempt set the new title on ``plan`` in memory; had the second started from it,
    it would have found nothing changed and recorded no history."""
    with failing_once("careplans.services.plans._log_write") as log_write:
        careplan_update(actor=gp_actor, plan=plan, title="Nyt forløb")

    assert log_write.call_count == 2
    assert CarePlan.objects.get(pk=plan.pk).title == "Nyt forløb"
    change = PlanChange.objects.get(action="updated")
    assert change.changes["title"][1] == "Nyt forløb"
    assert change.changes["title"][0] != "Nyt forløb"


def test_a_deadlock_inside_an_outer_transaction_is_left_to_the_outermost(world, actor, gp_actor, plan):
    activity = handed_off(world, gp_actor, plan)
    with (
        mock.patch("careplans.services.handoffs._log_write", side_effect=database_error(DEADLOCK)) as log_write,
        pytest.raises(OperationalError),
        transaction.atomic(),
    ):
        handoff_accept(actor=actor("homecare_b"), handoff=activity.handoffs.get())

    assert log_write.call_count == 1
    assert activity.handoffs.get().status == HandoffStatus.REQUESTED
