"""Care-team participation as care relationships (``citizens.relationships``): every participant
of an open plan has a row for its period; a closed plan's participants have none."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from citizens.choices import RelationshipKind
from citizens.relationships import CHUNK, Expected, FactSource, local_midnight, register_fact_source

from .models import OPEN_PLAN_STATUSES, CareTeamParticipant


def _participant_rows(ids: list[str]) -> Iterator[Expected]:
    participants = CareTeamParticipant.objects.filter(pk__in=ids, care_plan__status__in=OPEN_PLAN_STATUSES)
    for pk, citizen_id, organisation_id, start, end in participants.values_list(
        "pk", "care_plan__citizen_id", "organisation_id", "period_start", "period_end"
    ):
        yield Expected(
            citizen_id,
            organisation_id,
            RelationshipKind.CARE_TEAM,
            str(pk),
            valid_from=local_midnight(start),
            valid_to=None if end is None else local_midnight(end + datetime.timedelta(days=1)),
        )


def _participant_ids() -> Iterator[int]:
    return CareTeamParticipant.objects.order_by().values_list("pk", flat=True).iterator(chunk_size=CHUNK)


register_fact_source(FactSource("participant", _participant_rows, _participant_ids, "care-team"))
