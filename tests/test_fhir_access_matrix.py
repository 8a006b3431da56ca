"""The access matrix of the FHIR API: every relationship of the portal's access matrix
(``citizens/tests/test_access_matrix.py``) against every FHIR read and search of a type that
holds a citizen's data.

Visible: the read answers the resource, a search by patient and a search without parameters
find it, and every answer is logged with the relationship. Not visible: the read answers exactly
what an id nobody has answers, the searches leave it out, and nothing is logged. A type whose rows
belong to organisations besides the citizen (a message: its sender and receivers) shows them
only to those organisations, on top of the gate.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from careplans.choices import AlertKind, AlertSeverity, CarePlanStatus, ObservationCode
from careplans.models import Alert, Handoff
from careplans.monitoring import Reading, observation_record
from careplans.services import activity_create, careplan_create, goal_create
from citizens.choices import AccessReason
from citizens.fhir import registry
from citizens.models import AccessLogEntry, CitizenCondition
from citizens.tests.factories import ConditionFactory, HospitalStayFactory
from citizens.tests.fhir_client import FhirClient, ids
from citizens.tests.test_access_matrix import CASES
from messaging.choices import Category
from messaging.services import message_send
from tests.cast import World, actor_for

pytestmark = pytest.mark.django_db
MISSING = {"uuid": "00000000-0000-4000-8000-000000000000", "int": "999999999"}
# Types about no citizen, or read by administrators only (AuditEvent has a test of its own).
NOT_HEALTH_DATA = {"Organization", "Practitioner", "PractitionerRole", "AuditEvent"}


def _condition(world: World) -> tuple[str, None]:
    row = CitizenCondition.objects.create(citizen=world.citizen, condition=ConditionFactory())
    return str(row.pk), None


def _encounter(world: World) -> tuple[str, None]:
    # Long discharged, at a department no case acts for: it grants nobody access.
    long_ago = timezone.now() - datetime.timedelta(days=400)
    stay = HospitalStayFactory(
        citizen=world.citizen,
        department=world.other_department,
        admitted_at=long_ago,
        discharged_at=long_ago + datetime.timedelta(days=2),
    )
    return str(stay.pk), None


def _consent(world: World) -> tuple[str, None]:
    world.citizen.consent_to_share = True
    world.citizen.consent_recorded_at = timezone.now()
    world.citizen.save()
    return str(world.citizen.pk), None


def _patient(world: World) -> tuple[str, None]:
    return str(world.citizen.pk), None


def _communication(world: World) -> tuple[str, set[int]]:
    message = message_send(
        actor=actor_for(world.users["gp_a"]),
        citizen=world.citizen,
        receiver=world.municipality_a,
        category=Category.CARECOORDINATION,
        text="Status",
    )
    return str(message.pk), {world.clinic_a.pk, world.municipality_a.pk}


def _observation(world: World) -> tuple[str, None]:
    reading = Reading(
        code=ObservationCode.HEART_RATE,
        value=Decimal(72),
        unit="/min",
        effective_at=timezone.now() - datetime.timedelta(hours=1),
        source="citizen",
    )
    return str(
        observation_record(actor=actor_for(world.users["gp_a"]), citizen=world.citizen, reading=reading).pk
    ), None


def _flag(world: World) -> tuple[str, set[int]]:
    alert = Alert.objects.create(
        citizen=world.citizen,
        organisation=world.clinic_a,
        kind=AlertKind.THRESHOLD,
        severity=AlertSeverity.RED,
        code=ObservationCode.HEART_RATE,
        message="Puls over grænsen",
    )
    return str(alert.pk), {world.clinic_a.pk}


def _plan(world: World) -> dict[str, str]:
    """A plan of the citizen's GP clinic with a goal and a visit handed to the municipality (made
    once per world: each of its types names one of its rows)."""
    if hasattr(world, "fhir_plan"):
        return world.fhir_plan  # type: ignore[no-any-return]
    gp = actor_for(world.users["gp_a"])
    plan = careplan_create(
        actor=gp,
        citizen=world.citizen,
        title="KOL",
        coordinating_organisation=world.clinic_a,
        status=CarePlanStatus.ACTIVE,
    )
    goal = goal_create(actor=gp, plan=plan, description="Gå 2 km", responsible_organisation=world.clinic_a)
    visit = activity_create(
        actor=gp,
        plan=plan,
        description="Hjemmebesøg",
        responsible_organisation=world.municipality_a,
        due_date=timezone.localdate() + datetime.timedelta(days=3),
    )
    handoff = Handoff.objects.get(activity=visit)
    world.fhir_plan = {  # type: ignore[attr-defined]
        "CarePlan": str(plan.pk),
        "CareTeam": str(plan.pk),
        "Goal": str(goal.pk),
        "ServiceRequest": str(visit.pk),
        "Task": str(handoff.pk),
    }
    return world.fhir_plan


def _part(name: str) -> Callable[[World], tuple[str, None]]:
    return lambda world: (_plan(world)[name], None)


# Each type that holds a citizen's data: how to make one row of it about the world's citizen, and
# the organisations it belongs to besides the gate (None: anyone who sees the citizen).
EXAMPLES: dict[str, Callable[[World], tuple[str, set[int] | None]]] = {
    "Patient": _patient,
    "Condition": _condition,
    "Encounter": _encounter,
    "Consent": _consent,
    "Communication": _communication,
    "Observation": _observation,
    "Flag": _flag,
    **{name: _part(name) for name in ("CarePlan", "CareTeam", "Goal", "ServiceRequest", "Task")},
}


def test_every_type_with_health_data_is_in_the_matrix():
    served = {kind.name for kind in registry.all_types() if kind.citizen is not None} - NOT_HEALTH_DATA
    assert served == set(EXAMPLES)


def _missing_id(kind: registry.ResourceType) -> str:
    try:
        kind.parse_id(MISSING["uuid"])
        return MISSING["uuid"]
    except ValueError:
        return MISSING["int"]


def _answer(client: FhirClient, path: str, params: dict[str, Any] | None = None, status: int = 200) -> dict[str, Any]:
    return client.get(path, params, status=status)


@pytest.mark.parametrize(("case", "who", "setup", "visible"), CASES, ids=[c[0] for c in CASES])
def test_fhir_access_matrix(world, client, token, django_capture_on_commit_callbacks, case, who, setup, visible):
    """One world per relationship, with a row of every type in it, each read and searched."""
    with django_capture_on_commit_callbacks(execute=True):
        made = {type_name: make(world) for type_name, make in EXAMPLES.items()}
    if setup:
        setup(world)
    for type_name, (resource_id, owners) in made.items():
        _check(world, client, token, who, visible, type_name, resource_id, owners)


def _check(world, client, token, who, visible, type_name, resource_id, owners) -> None:
    kind = registry.get(type_name)
    assert kind is not None
    user = world.users[who]
    acting = user.memberships.get().organisation
    sees = visible and (owners is None or acting.pk in owners)
    fhir = FhirClient(client, token(who))
    before = AccessLogEntry.objects.count()
    last = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    by_patient = _answer(fhir, type_name, {"patient" if type_name != "Patient" else "_id": str(world.citizen.pk)})
    everything = _answer(fhir, type_name, {"_count": 500})
    if sees:
        read = _answer(fhir, f"{type_name}/{resource_id}")
        assert read["id"] == resource_id, type_name
        assert resource_id in ids(by_patient) and resource_id in ids(everything), type_name
        logged = AccessLogEntry.objects.filter(citizen=world.citizen, user=user, pk__gt=last)
        assert logged.count() == AccessLogEntry.objects.count() - before == 3, type_name
        assert all(entry.reason in AccessReason.values for entry in logged), type_name
    else:
        refused = client.get(f"/fhir/{type_name}/{resource_id}", HTTP_AUTHORIZATION=f"Token {token(who)}")
        missing = client.get(f"/fhir/{type_name}/{_missing_id(kind)}", HTTP_AUTHORIZATION=f"Token {token(who)}")
        assert refused.status_code == missing.status_code == 404, type_name
        refused_body, missing_body = json.loads(refused.content), json.loads(missing.content)
        assert refused_body["issue"][0]["code"] == missing_body["issue"][0]["code"] == "not-found", type_name
        assert resource_id not in ids(by_patient) and resource_id not in ids(everything), type_name
        assert AccessLogEntry.objects.count() == before, type_name
