"""Home monitoring: recording measurements, thresholds, and the alerts they raise.

A measurement outside a citizen's threshold raises a yellow or red alert for the coordinating
organisation of each of the citizen's open care plans and for each organisation responsible for
monitoring that measurement (its schedule); the GP clinic when there is neither. A value exactly
at a limit is inside it.

One module per concern, all public names re-exported here so callers keep
``monitoring.observation_record``:

- ``readings``: a measurement as received and its validation;
- ``thresholds``: the citizen's limits and how a value compares with them;
- ``alerts``: raising alerts for their recipients, and acknowledging them;
- ``observations``: recording one measurement, and correcting one;
- ``bulk``: many measurements at once from devices;
- ``schedules``: who follows a measurement, and the "missing measurement" check.
"""

from __future__ import annotations

from .alerts import alert_acknowledge, alert_recipients, alerts_acknowledge_yellow
from .bulk import (
    BULK_LIMIT,
    BulkItem,
    BulkValidationError,
    check_bulk_size,
    observation_bulk_record,
    observation_bulk_validate,
)
from .observations import observation_correct, observation_record
from .readings import Reading, validate_reading
from .schedules import missing_measurements_check, schedule_create
from .thresholds import current_thresholds, evaluate, threshold_set

__all__ = [
    "BULK_LIMIT",
    "BulkItem",
    "BulkValidationError",
    "Reading",
    "alert_acknowledge",
    "alert_recipients",
    "alerts_acknowledge_yellow",
    "check_bulk_size",
    "current_thresholds",
    "evaluate",
    "missing_measurements_check",
    "observation_bulk_record",
    "observation_bulk_validate",
    "observation_correct",
    "observation_record",
    "schedule_create",
    "threshold_set",
    "validate_reading",
]
