"""``CarePlan?patient=<id>``, the search an EPJ or a municipal system runs for every citizen it
opens, in one statement prepared once per shape (order, offset, page size).

The general search read a page of plans and then, in five more statements, their conditions, care
teams, goals, activities and the citizen's condition rows; building and compiling those cost more
than PostgreSQL took to answer them. Here each of them is a JSON column of the plans' statement
(``smartcare.jsonrows``), and the plans come back as ``plan_rows()`` would give them: the same
prefetch caches, so ``careplan()`` builds the same resource either way. Other databases read the
general way.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.db import connections, router
from django.db.models import OuterRef, QuerySet
from django.http import QueryDict

from citizens.fhir.registry import CitizenPage
from citizens.fhir.search import plain_values
from citizens.models import CitizenCondition, Condition
from sectors.models import Organisation
from smartcare.jsonrows import from_json, json_rows
from smartcare.prepared import PreparedQuery, attach_prefetched

from ..models import Activity, CarePlan, CareTeamParticipant, Goal

_STAND_INS = [(uuid.UUID(int=1), uuid.UUID(int=2))]
_SHAPES = 32  # statements kept per process: one per order, offset and page size asked for


def _plans(citizen: Any) -> QuerySet[CarePlan]:
    conditions = CarePlan.conditions.through.objects.filter(careplan_id=OuterRef("pk"))
    participants = CareTeamParticipant.objects.filter(care_plan_id=OuterRef("pk"))
    return (
        CarePlan.objects.filter(citizen_id=citizen)
        .select_related("coordinating_organisation")
        .annotate(
            conditions_json=json_rows(
                Condition,
                conditions,
                "careplan_id",
                {
                    "id": "condition_id",
                    "icd10_code": "condition__icd10_code",
                    "name_da": "condition__name_da",
                    "name_en": "condition__name_en",
                },
                ["condition__icd10_code", "condition_id"],
            ),
            participants_json=json_rows(
                CareTeamParticipant,
                participants,
                "care_plan_id",
                {
                    "id": "id",
                    "care_plan_id": "care_plan_id",
                    "organisation_id": "organisation_id",
                    "organisation_name": "organisation__name",
                },
                ["period_start", "pk"],
            ),
            goals_json=json_rows(
                Goal, Goal.objects.filter(care_plan_id=OuterRef("pk")), "care_plan_id", ["id"], ["due_date", "pk"]
            ),
            activities_json=json_rows(
                Activity,
                Activity.objects.filter(care_plan_id=OuterRef("pk")),
                "care_plan_id",
                ["id", "description"],
                ["due_date", "pk"],
            ),
            citizen_conditions_json=json_rows(
                CitizenCondition,
                CitizenCondition.objects.filter(citizen_id=citizen),
                "citizen_id",
                ["id", "condition_id"],
                ["pk"],
            ),
        )
    )


@functools.lru_cache(maxsize=_SHAPES)
def _page(order: tuple[str, ...], offset: int, limit: int) -> PreparedQuery[CarePlan]:
    return PreparedQuery(lambda citizen: _plans(citizen).order_by(*order)[offset : offset + limit], _STAND_INS)


def _with_rows(plan: Any, db: str | None) -> CarePlan:
    attach_prefetched(plan, "conditions", from_json(Condition, plan.conditions_json, db))
    participants = from_json(CareTeamParticipant, plan.participants_json, db)
    for participant, row in zip(participants, plan.participants_json or (), strict=True):
        participant.organisation = Organisation.from_db(
            db, ["id", "name"], [participant.organisation_id, row["organisation_name"]]
        )
    attach_prefetched(plan, "participants", participants, reverse="care_plan")
    attach_prefetched(plan, "goals", from_json(Goal, plan.goals_json, db), reverse="care_plan")
    attach_prefetched(plan, "activitys", from_json(Activity, plan.activities_json, db), reverse="care_plan")
    plan.citizen_conditions = {
        (plan.citizen_id, row["condition_id"]): row["id"] for row in plan.citizen_conditions_json or ()
    }
    return plan


def plans_of_citizen(citizen: Any, query: QueryDict, order: list[str], offset: int, limit: int) -> CitizenPage | None:
    """A page of the citizen's plans when the search names the citizen alone (``patient`` or
    ``subject``); None for any other search, and on a database other than PostgreSQL."""
    values = plain_values(query, ("patient", "subject"))
    if values is None or len(values) != 1:  # both: they may name different citizens
        return None
    alias = router.db_for_read(CarePlan)
    if connections[alias].vendor != "postgresql":
        return None
    rows = _page(tuple(order), offset, limit).rows(citizen)
    return CitizenPage([_with_rows(plan, alias) for plan in rows])
