from celery import shared_task

from .accesslog import access_log_seal


@shared_task
def access_log_seal_task() -> int:
    """Periodic (beat, every few seconds): chain the access-log entries that requests appended.
    Safe to run twice: a second run while one is at work returns at once."""
    return access_log_seal()
