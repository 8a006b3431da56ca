"""``CarePlan?patient=<id>`` read in one prepared statement (``careplans/fhir/plan_pages.py``): the
same resources as the general search, in the same order and pages, in three statements on
PostgreSQL (the gate, the plans with their rows, the log), and nothing for the outsider."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careplans.choices import CareTeamRole
from careplans.services import careplan_create, careteam_add
from citizens.models import AccessLogEntry, Condition
from citizens.tests.fhir_client import compiled_selects, ids

from .test_fhir_plans import _care, fhir  # noqa: F401  # the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans(world, gp_actor, actor):
    """The citizen's COPD plan with goals, activities and a team, a second plan addressing a
    condition the citizen's list lacks, and a third with nothing on it."""
    care = _care(world, gp_actor, actor)
    second = careplan_create(
        actor=gp_actor,
        citizen=world.citizen,
        title="Diabetes",
        coordinating_organisation=world.clinic_a,
        conditions=list(Condition.objects.filter(icd10_code__in=["E11", "I50"])),
        period_start=care.plan.period_start - datetime.timedelta(days=3),
    )
    careteam_add(actor=gp_actor, plan=second, organisation=world.municipality_a, role=CareTeamRole.OTHER)
    careplan_create(
        actor=gp_actor,
        citizen=world.citizen,
        title="Bare",
        coordinating_organisation=world.clinic_a,
        period_start=care.plan.period_start,
    )
    return care


def _general(fhir_client, citizen, **more):
    """The same search the general way: ``_id`` with the plans' ids makes it another shape."""
    every = fhir_client.get("CarePlan", {"patient": str(citizen.pk), "status": "active,draft"})
    return fhir_client.get("CarePlan", {"patient": str(citizen.pk), "status": "active,draft", **more}), every


def _resources(bundle):
    return [entry["resource"] for entry in bundle.get("entry", []) if entry["search"]["mode"] == "match"]


def test_the_plans_of_a_patient_are_the_general_searchs(world, plans, fhir):  # noqa: F811
    gp = fhir()
    fast = gp.get("CarePlan", {"patient": str(world.citizen.pk)})
    general, _every = _general(gp, world.citizen)
    assert len(_resources(fast)) == 3 and fast["total"] == 3
    assert _resources(fast) == _resources(general)
    copd = next(r for r in _resources(fast) if r["id"] == str(plans.plan.pk))
    assert [a["reference"] for a in copd["addresses"]] == [f"Condition/{plans.copd.pk}"]
    assert len(copd["goal"]) == 2 and len(copd["activity"]) == 2 and len(copd["contributor"]) == 2
    diabetes = next(r for r in _resources(fast) if r["title"] == "Diabetes")
    assert [c["coding"][0]["code"] for c in diabetes["category"]] == ["E11", "I50"]
    assert all("reference" not in a for a in diabetes["addresses"])  # not on the citizen's list


def test_pages_sorts_and_the_total_are_the_general_searchs(world, plans, fhir):  # noqa: F811
    gp = fhir()
    for more in ({"_count": 1}, {"_count": 2, "_offset": 1}, {"_sort": "title"}, {"_sort": "-date", "_count": 2}):
        fast = gp.get("CarePlan", {"patient": str(world.citizen.pk), **more})
        general, _every = _general(gp, world.citizen, **more)
        assert _resources(fast) == _resources(general), more
        assert fast.get("total") == general.get("total") == 3, more
        assert [link["relation"] for link in fast["link"]] == [link["relation"] for link in general["link"]]


def test_three_statements_and_none_built_once_prepared(world, plans, fhir, monkeypatch):  # noqa: F811
    gp = fhir()
    gp.get("CarePlan", {"patient": str(world.citizen.pk)})
    built = compiled_selects(monkeypatch)
    with CaptureQueriesContext(connection) as queries:
        bundle = gp.get("CarePlan", {"patient": f"Patient/{world.citizen.pk}"})
    assert len(ids(bundle)) == 3
    if connection.vendor == "postgresql":  # the gate, the plans with their rows, the log
        assert len(queries.captured_queries) == 3 and built == []
    entry = AccessLogEntry.objects.filter(citizen=world.citizen, detail="FHIR CarePlan search").latest("pk")
    assert entry.reason


def test_the_outsider_and_another_citizen_get_nothing(world, plans, fhir):  # noqa: F811
    outsider = fhir("gp_b").get("CarePlan", {"patient": str(world.citizen.pk)})
    assert outsider["total"] == 0 and "entry" not in outsider
    assert not AccessLogEntry.objects.filter(user=world.users["gp_b"]).exists()
    nobody = fhir().get("CarePlan", {"patient": "00000000-0000-4000-8000-000000000000"})
    assert nobody["total"] == 0 and "entry" not in nobody
    both = fhir().get("CarePlan", {"patient": str(world.citizen.pk), "subject": str(plans.plan.pk)})
    assert both["total"] == 0 and "entry" not in both  # a second citizen named: no plan is about both


def test_includes_still_follow_the_plans_read_so(world, plans, fhir):  # noqa: F811
    bundle = fhir().get("CarePlan", [("patient", str(world.citizen.pk)), ("_include", "CarePlan:goal")])
    assert {e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "include"} == {
        str(plans.measured.pk),
        str(plans.handed.pk),
    }
