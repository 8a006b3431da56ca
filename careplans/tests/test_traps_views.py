"""No traps on the pages: the confirmation step of an irreversible status change, "Mark done" and
"Undo" on the plan page and the Today list, and closed plans on the citizen overview."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from careplans.choices import ActivityStatus, CarePlanStatus
from careplans.models import Activity, CarePlan, PlanChange
from careplans.services import activity_create, activity_mark_done, careplan_create, goal_create

from .helpers import active_plan, local
from .test_views import HTMX, login

pytestmark = pytest.mark.django_db


REASON_MISSING = "Say why the status changes to “%s”: the change cannot be undone."


@pytest.fixture
def goal(world, gp_actor, plan):
    return goal_create(actor=gp_actor, plan=plan, description="Går dagligt", responsible_organisation=world.clinic_a)


@pytest.fixture
def activity(due_today):
    return due_today


# --- the confirmation step ------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_an_irreversible_plan_status_asks_first_and_changes_nothing(client, world, plan, headers):
    url = reverse("careplans:plan_status", args=[plan.pk])
    response = login(client, world, "gp_a").post(
        url, {"status": CarePlanStatus.ENTERED_IN_ERROR, "comment": "Forkert"}, headers=headers
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="confirm-status"' in html
    assert "Change the status to “Entered in error”?" in html
    assert f'action="{url}"' in html
    assert '<input type="hidden" name="status" value="entered-in-error">' in html
    assert '<input type="hidden" name="confirmed" value="on">' in html
    assert ">Forkert</textarea>" in html  # the comment already typed is the reason's start
    assert 'data-testid="plan-status-form"' not in html  # the step replaces the status buttons
    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.ACTIVE
    assert not PlanChange.objects.filter(action="status").exists()


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_confirming_without_a_reason_shows_the_step_again_with_the_error(client, world, plan, headers):
    response = login(client, world, "gp_a").post(
        reverse("careplans:plan_status", args=[plan.pk]),
        {"status": CarePlanStatus.REVOKED, "confirmed": "on", "comment": "  "},
        headers=headers,
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="confirm-status-errors"' in html
    assert REASON_MISSING % "Revoked" in html
    assert 'aria-invalid="true"' in html
    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.ACTIVE


def test_confirming_with_a_reason_changes_the_status_and_keeps_the_reason(client, world, plan):
    response = login(client, world, "gp_a").post(
        reverse("careplans:plan_status", args=[plan.pk]),
        {"status": CarePlanStatus.ENTERED_IN_ERROR, "confirmed": "on", "comment": "Oprettet på forkert borger"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert 'data-testid="confirm-status"' not in response.content.decode()
    plan.refresh_from_db()
    assert plan.status == CarePlanStatus.ENTERED_IN_ERROR
    change = PlanChange.objects.get(action="status")
    assert (change.changes, change.comment) == (
        {"status": ["active", "entered-in-error"]},
        "Oprettet på forkert borger",
    )


def test_a_reversible_status_changes_at_once(client, world, plan):
    response = login(client, world, "gp_a").post(
        reverse("careplans:plan_status", args=[plan.pk]), {"status": CarePlanStatus.ON_HOLD}, headers=HTMX
    )

    assert response.status_code == 200
    assert 'data-testid="confirm-status"' not in response.content.decode()
    assert CarePlan.objects.get().status == CarePlanStatus.ON_HOLD


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("goal", {"lifecycle_status": "cancelled", "achievement": "not-achieved"}),
        ("activity", {"status": "stopped", "outcome_note": "Afsluttet"}),
    ],
)
def test_ending_a_goal_or_an_activity_asks_at_it_and_sends_the_other_fields_again(
    client, world, goal, activity, kind, data
):
    Activity.objects.filter(pk=activity.pk).update(status=ActivityStatus.IN_PROGRESS)
    item = goal if kind == "goal" else activity
    url = reverse(f"careplans:{kind}_status", args=[item.care_plan_id, item.pk])
    login(client, world, "gp_a")

    response = client.post(url, data, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="confirm-{kind}-{item.pk}"' in html
    for name, value in data.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in html
    model = type(item)
    field, status = next(iter(data.items()))
    assert getattr(model.objects.get(), field) != status
    assert client.post(url, {**data, "confirmed": "on", "comment": "Flyttet"}, headers=HTMX).status_code == 200
    assert [getattr(model.objects.get(), name) for name in data] == list(data.values())
    assert PlanChange.objects.get(action="status").comment == "Flyttet"


def test_an_impossible_irreversible_status_is_refused_without_asking(client, world, gp_actor, plan):
    CarePlan.objects.filter(pk=plan.pk).update(status=CarePlanStatus.COMPLETED)
    response = login(client, world, "gp_a").post(
        reverse("careplans:plan_status", args=[plan.pk]), {"status": CarePlanStatus.REVOKED}, headers=HTMX
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "The status cannot change from “Completed” to “Revoked”." in html
    assert 'data-testid="confirm-status"' not in html


# --- "Mark done" and "Undo" on the plan page ------------------------------------------------------


def test_mark_done_on_the_plan_page_then_undo(client, world, activity):
    page = reverse("careplans:detail", args=[activity.care_plan_id])
    login(client, world, "gp_a")
    assert 'data-testid="plan-mark-done"' in client.get(page).content.decode()

    response = client.post(
        reverse("careplans:plan_activity_done", args=[activity.care_plan_id, activity.pk]), headers=HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("careplans:plan_activity_undo", args=[activity.care_plan_id, activity.pk]) in html
    assert 'data-testid="plan-mark-done"' not in html
    assert Activity.objects.get().status == ActivityStatus.COMPLETED

    undone = client.post(
        reverse("careplans:plan_activity_undo", args=[activity.care_plan_id, activity.pk]), headers=HTMX
    )
    assert undone.status_code == 200
    html = undone.content.decode()
    assert "Undone: the activity is as it was before." in html
    assert "“Done” undone" in html  # the history
    assert 'data-testid="undo-done"' not in html and 'data-testid="plan-mark-done"' in html
    assert Activity.objects.get().status == ActivityStatus.NOT_STARTED


def test_undo_is_offered_only_to_the_person_who_did_it_within_ten_minutes(client, world, gp_actor, activity):
    page = reverse("careplans:detail", args=[activity.care_plan_id])
    done_at = local(timezone.localdate(), 10)
    with freeze_time(done_at):
        activity_mark_done(actor=gp_actor, activity=activity)

    with freeze_time(done_at + datetime.timedelta(minutes=9)):
        assert 'data-testid="undo-done"' in login(client, world, "gp_a").get(page).content.decode()
        assert 'data-testid="undo-done"' not in login(client, world, "nurse_a").get(page).content.decode()
    with freeze_time(done_at + datetime.timedelta(minutes=10)):
        assert 'data-testid="undo-done"' not in login(client, world, "gp_a").get(page).content.decode()


def test_undo_by_a_colleague_is_403_and_too_late_is_400(client, world, gp_actor, activity):
    url = reverse("careplans:plan_activity_undo", args=[activity.care_plan_id, activity.pk])
    done_at = local(timezone.localdate(), 10)
    with freeze_time(done_at):
        activity_mark_done(actor=gp_actor, activity=activity)

    with freeze_time(done_at + datetime.timedelta(minutes=1)):
        colleague = login(client, world, "nurse_a").post(url, headers=HTMX)
    assert colleague.status_code == 403
    assert "Only the person who marked the activity done can undo it." in colleague.content.decode()
    with freeze_time(done_at + datetime.timedelta(minutes=11)):
        late = login(client, world, "gp_a").post(url, headers=HTMX)
    assert late.status_code == 400
    assert "It is more than 10 minutes since the activity was marked done" in late.content.decode()
    assert Activity.objects.get().status == ActivityStatus.COMPLETED


def test_the_outsider_gets_404_on_done_and_undo(client, world, activity):
    login(client, world, "gp_b")
    for name in ("careplans:plan_activity_done", "careplans:plan_activity_undo"):
        assert client.post(reverse(name, args=[activity.care_plan_id, activity.pk])).status_code == 404
    assert client.post(reverse("careplans:activity_done_undo", args=[activity.pk])).status_code == 404


# --- "Undo" on the Today list -----------------------------------------------------------------------


@pytest.fixture
def visit(world, actor):
    homecare = actor("homecare_a")
    plan = careplan_create(
        actor=homecare,
        citizen=world.citizen,
        title="Hjemmepleje",
        coordinating_organisation=world.municipality_a,
        status=CarePlanStatus.ACTIVE,
    )
    return activity_create(
        actor=homecare,
        plan=plan,
        description="Medicingivning",
        responsible_organisation=world.municipality_a,
        due_date=timezone.localdate(),
    )


def test_today_row_offers_undo_after_done_and_undo_brings_the_row_back(client, world, visit):
    login(client, world, "homecare_a")
    done = client.post(reverse("careplans:activity_done", args=[visit.pk]), headers=HTMX)
    assert done.status_code == 200
    undo_url = reverse("careplans:activity_done_undo", args=[visit.pk])
    assert f'hx-post="{undo_url}"' in done.content.decode()

    undone = client.post(undo_url, headers=HTMX)

    assert undone.status_code == 200
    html = undone.content.decode()
    assert 'data-testid="mark-done"' in html and 'data-testid="activity-done"' not in html
    visit.refresh_from_db()
    assert (visit.status, visit.next_due_on, visit.completed_at) == (ActivityStatus.NOT_STARTED, visit.due_date, None)
    assert visit in Activity.objects.filter(next_due_on__lte=timezone.localdate())


def test_today_undo_without_htmx_redirects_with_a_message(client, world, visit):
    login(client, world, "homecare_a")
    client.post(reverse("careplans:activity_done", args=[visit.pk]))

    response = client.post(reverse("careplans:activity_done_undo", args=[visit.pk]), follow=True)

    assert response.redirect_chain == [(reverse("careplans:today"), 302)]
    assert "Undone: Medicingivning is due again." in response.content.decode()
    second = client.post(reverse("careplans:activity_done_undo", args=[visit.pk]), headers=HTMX)
    assert second.status_code == 400
    assert "There is nothing to undo" in second.content.decode()


# --- closed plans on the citizen overview -----------------------------------------------------------


def _overview_queries(client, world) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("citizens:detail", args=[world.citizen.pk])).status_code == 200
    return len(queries)


def test_closed_plans_are_listed_and_the_query_count_does_not_grow_with_them(client, world, gp_actor, plan):
    login(client, world, "gp_a")
    closed = active_plan(world, gp_actor, title="Afsluttet KOL")
    CarePlan.objects.filter(pk=closed.pk).update(status=CarePlanStatus.COMPLETED)
    client.get("/api/v1/me/")  # warm-up: the identity cache (sectors.identity)
    one = _overview_queries(client, world)
    for title in ("Tilbagekaldt", "Fejl"):
        extra = active_plan(world, gp_actor, title=title)
        goal_create(actor=gp_actor, plan=extra, description="Mål", responsible_organisation=world.clinic_a)
    CarePlan.objects.filter(title="Tilbagekaldt").update(status=CarePlanStatus.REVOKED)
    CarePlan.objects.filter(title="Fejl").update(status=CarePlanStatus.ENTERED_IN_ERROR)

    assert _overview_queries(client, world) == one
    html = client.get(reverse("citizens:detail", args=[world.citizen.pk])).content.decode()
    open_part, closed_part = html.split('data-testid="closed-care-plans"')
    assert "KOL-forløb" in open_part and "Afsluttet KOL" not in open_part
    assert closed_part.count('data-testid="closed-care-plan"') == 3
    for title in ("Afsluttet KOL", "Tilbagekaldt", "Fejl"):
        pk = CarePlan.objects.get(title=title).pk
        assert f'<a href="{reverse("careplans:detail", args=[pk])}">{title}</a>' in closed_part


def test_no_closed_plans_no_closed_section(client, world, plan):
    html = login(client, world, "gp_a").get(reverse("citizens:detail", args=[world.citizen.pk])).content.decode()
    assert "Closed care plans" not in html
