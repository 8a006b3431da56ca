from celery import shared_task
from django.contrib.sessions.models import Session
from django.utils import timezone


@shared_task
def sessions_clear_expired() -> int:
    """Idle sessions expire after SESSION_IDLE_TIMEOUT_MINUTES; this removes their rows.

    Safe to run twice: it only deletes what has already expired.
    """
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
