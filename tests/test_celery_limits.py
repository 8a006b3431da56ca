"""Every Celery task has a soft and a hard time limit, and the resumable batch jobs longer ones."""

import pytest

from smartcare.celery import app

BATCH_TASKS = [
    "careplans.tasks.missing_measurements_check_task",
    "messaging.tasks.digests_send_task",
    "sectors.tasks.sessions_clear_expired",
]


def test_every_task_has_a_soft_and_a_hard_time_limit():
    assert (app.conf.task_soft_time_limit, app.conf.task_time_limit) == (240, 300)


@pytest.mark.parametrize("name", BATCH_TASKS)
def test_batch_jobs_have_longer_limits(name):
    app.loader.import_default_modules()
    task = app.tasks[name]
    assert (task.soft_time_limit, task.time_limit) == (1740, 1800)


def test_a_delivery_keeps_the_default_limits():
    app.loader.import_default_modules()
    task = app.tasks["messaging.tasks.deliver_task"]
    assert (task.soft_time_limit, task.time_limit) == (240, 300)
