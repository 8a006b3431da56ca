"""No traps in the API: an irreversible status change without a reason is a 400 on ``comment``, and
``POST /api/v1/activities/{id}/undo-done/`` undoes "done" for the person who did it, for 10 minutes."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from freezegun import freeze_time

from careplans.choices import ActivityStatus, CarePlanStatus
from careplans.models import Activity, CarePlan, PlanChange
from careplans.services import goal_create

from .helpers import local
from .test_api import client_for

pytestmark = pytest.mark.django_db


REASON_MISSING = "Say why the status changes to “%s”: the change cannot be undone."


def test_revoking_a_plan_without_a_reason_is_400_on_comment(world, plan):
    client = client_for(world.users["gp_a"])
    url = f"/api/v1/careplans/{plan.pk}/status/"

    refused = client.post(url, {"status": "revoked"}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"comment": [REASON_MISSING % "Revoked"]}
    assert CarePlan.objects.get().status == CarePlanStatus.ACTIVE

    done = client.post(url, {"status": "revoked", "comment": "Flyttet til Norge"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "revoked"
    assert PlanChange.objects.get(action="status").comment == "Flyttet til Norge"


def test_cancelling_a_goal_or_stopping_an_due_today_without_a_reason_is_400(world, gp_actor, plan, due_today):
    client = client_for(world.users["gp_a"])
    goal = goal_create(actor=gp_actor, plan=plan, description="Går dagligt", responsible_organisation=world.clinic_a)

    response = client.post(f"/api/v1/goals/{goal.pk}/status/", {"lifecycle_status": "cancelled"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"comment": [REASON_MISSING % "Cancelled"]}

    response = client.post(f"/api/v1/activities/{due_today.pk}/status/", {"status": "entered-in-error"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"comment": [REASON_MISSING % "Entered in error"]}
    assert Activity.objects.get().status == ActivityStatus.NOT_STARTED


def test_undo_done_restores_the_due_today(world, due_today):
    client = client_for(world.users["gp_a"])
    done_at = local(timezone.localdate(), 10)
    with freeze_time(done_at):
        assert client.post(f"/api/v1/activities/{due_today.pk}/done/", {}, format="json").status_code == 200

    with freeze_time(done_at + datetime.timedelta(minutes=5)):
        response = client.post(f"/api/v1/activities/{due_today.pk}/undo-done/", format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["next_due_on"]) == ("not-started", due_today.due_date.isoformat())
    assert PlanChange.objects.filter(action="done-undone").count() == 1


def test_undo_done_is_refused_for_a_colleague_too_late_and_the_outsider(world, due_today):
    done_at = local(timezone.localdate(), 10)
    with freeze_time(done_at):
        client_for(world.users["gp_a"]).post(f"/api/v1/activities/{due_today.pk}/done/", {}, format="json")
    url = f"/api/v1/activities/{due_today.pk}/undo-done/"

    with freeze_time(done_at + datetime.timedelta(minutes=1)):
        colleague = client_for(world.users["nurse_a"]).post(url, format="json")
        outsider = client_for(world.users["gp_b"]).post(url, format="json")
    with freeze_time(done_at + datetime.timedelta(minutes=10)):
        late = client_for(world.users["gp_a"]).post(url, format="json")

    assert colleague.status_code == 403
    assert colleague.json() == {
        "detail": "Only the person who marked the activity done can undo it.",
        "code": "permission_denied",
    }
    assert outsider.status_code == 404
    assert late.status_code == 400
    assert late.json() == {
        "non_field_errors": [
            "It is more than 10 minutes since the activity was marked done: change its status instead."
        ]
    }
    assert Activity.objects.get().status == ActivityStatus.COMPLETED


def test_the_schema_documents_undo_done(client):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/activities/{id}/undo-done/:" in schema
    assert "Undo marking an activity done" in schema
