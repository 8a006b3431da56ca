from celery import shared_task

from .monitoring import missing_measurements_check
from .services import handoffs_flag_overdue


@shared_task
def missing_measurements_check_task() -> int:
    """Periodic (beat): raise "missing measurement" alerts; safe to run twice."""
    return missing_measurements_check()


@shared_task
def handoffs_flag_overdue_task() -> int:
    """Periodic (beat): record "request overdue" events for unanswered hand-offs; idempotent."""
    return handoffs_flag_overdue()
