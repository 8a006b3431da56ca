"""``smartcare.transactions.retry_on_deadlock``: a transaction the database aborted as a deadlock's
victim or for a serialization conflict runs again, a bounded number of times, and only as a whole."""

from __future__ import annotations

import pytest
from django.db import OperationalError, transaction

from sectors.models import Organisation
from sectors.tests.factories import MunicipalityFactory
from smartcare.transactions import DEADLOCK, SERIALIZATION_FAILURE, is_transient, retry_on_deadlock, sqlstate
from tests.dberrors import DriverError, database_error


@pytest.fixture(autouse=True)
def no_pause(settings):
    settings.TRANSACTION_RETRY_BASE_SECONDS = 0
    settings.TRANSACTION_RETRY_ATTEMPTS = 3


class Flaky:
    """Fails with ``errors`` one after the other, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self, value: int) -> int:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return value * 2


@pytest.mark.parametrize("code", [DEADLOCK, SERIALIZATION_FAILURE])
def test_a_deadlock_or_serialization_failure_is_run_again(code):
    flaky = Flaky(database_error(code), database_error(code))
    assert retry_on_deadlock(flaky)(21) == 42
    assert flaky.calls == 3


def test_it_gives_up_after_the_attempts_and_raises_the_last_error():
    errors = [database_error(DEADLOCK) for _ in range(3)]
    flaky = Flaky(*errors)
    with pytest.raises(OperationalError) as raised:
        retry_on_deadlock(flaky)(1)
    assert raised.value is errors[-1]
    assert flaky.calls == 3


@pytest.mark.parametrize(
    "error",
    [
        database_error(None),  # the database is unreachable: not something a second try in 20 ms fixes
        database_error("23505"),  # not an OperationalError's business, but never retried
        ValueError("a bug"),
    ],
)
def test_other_errors_are_not_run_again(error):
    flaky = Flaky(error)
    with pytest.raises(type(error)):
        retry_on_deadlock(flaky)(1)
    assert flaky.calls == 1


def test_the_sqlstate_is_read_from_the_driver_error():
    assert sqlstate(database_error(DEADLOCK)) == DEADLOCK
    assert is_transient(database_error(SERIALIZATION_FAILURE))
    assert not is_transient(DriverError(DEADLOCK))  # only Django's OperationalError is handled
    assert sqlstate(ValueError()) is None


@pytest.mark.django_db
def test_inside_a_transaction_the_outermost_one_is_retried_not_this_one():
    flaky = Flaky(database_error(DEADLOCK))
    with transaction.atomic(), pytest.raises(OperationalError):
        retry_on_deadlock(flaky)(1)
    assert flaky.calls == 1


@pytest.mark.django_db(transaction=True)
def test_a_retried_transaction_leaves_the_work_and_its_on_commit_callbacks_of_one_attempt():
    committed: list[str] = []
    attempts: list[int] = []

    @retry_on_deadlock
    @transaction.atomic
    def write() -> Organisation:
        organisation = MunicipalityFactory(name=f"Kommune {len(attempts)}")
        transaction.on_commit(lambda: committed.append(organisation.name))
        attempts.append(1)
        if len(attempts) == 1:
            raise database_error(DEADLOCK)  # the first attempt is the victim: rolled back
        return organisation

    organisation = write()

    assert len(attempts) == 2
    assert list(Organisation.objects.values_list("name", flat=True)) == [organisation.name] == ["Kommune 1"]
    assert committed == ["Kommune 1"]
