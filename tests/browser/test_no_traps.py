"""No traps, in the browser: an irreversible status change is confirmed with a reason in place
(htmx, no inline script), and "Mark done" is undone on the plan page and on the Today list."""

import pytest
from django.utils import timezone

from careplans.choices import CarePlanStatus
from careplans.models import PlanChange
from careplans.services import activity_create, careplan_create
from sectors.choices import MembershipRole
from sectors.models import Membership

from .conftest import sign_in
from .test_today_tablet import PASSWORD, as_actor, rounds  # noqa: F401 - the rounds fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rounds_and_plan(rounds):  # noqa: F811
    """Home care's rounds (Today has activities due), and a plan of the GP's with an activity of its own."""
    gp = Membership.objects.get(organisation=rounds["clinic"], role=MembershipRole.GP).user
    plan = careplan_create(
        actor=as_actor(gp),
        citizen=rounds["citizens"][0],
        title="KOL-forløb",
        coordinating_organisation=rounds["clinic"],
        status=CarePlanStatus.ACTIVE,
    )
    activity_create(
        actor=as_actor(gp),
        plan=plan,
        description="Årskontrol",
        responsible_organisation=rounds["clinic"],
        due_date=timezone.localdate(),
    )
    visit = f"Medicin til {rounds['citizens'][0].first_name}"
    return {"gp": gp, "nurse": rounds["nurse"], "plan": plan, "visit": visit}


def test_gp_undoes_done_and_revokes_the_plan_only_with_a_reason(new_page, rounds_and_plan):
    page = new_page(viewport={"width": 1024, "height": 1366}, language="en")
    sign_in(page, rounds_and_plan["gp"].email, PASSWORD)
    page.wait_for_url("**/")
    page.goto(f"/care/plans/{rounds_and_plan['plan'].pk}/")
    page.evaluate("window.__marker = 'still here'")

    # Mark done, then undo: the activities section is swapped in place both times.
    activities = page.get_by_test_id("activities")
    activities.get_by_test_id("plan-mark-done").click()
    activities.get_by_test_id("undo-done").wait_for()
    assert "Completed" in activities.inner_text()
    activities.get_by_test_id("undo-done").click()
    activities.get_by_test_id("plan-mark-done").wait_for()
    assert "Not started" in page.get_by_test_id("activities").inner_text()
    assert "“Done” undone" in page.get_by_test_id("history").inner_text()

    # Revoking asks first: a confirmation step with the reason field focused, the buttons gone.
    page.get_by_test_id("plan-status-revoked").click()
    step = page.get_by_test_id("confirm-status")
    step.wait_for()
    assert "Change the status to “Revoked”?" in step.inner_text()
    assert page.evaluate("document.activeElement.name") == "comment"
    assert page.get_by_test_id("plan-status-form").count() == 0
    assert page.get_by_test_id("plan-status").inner_text() == "Active"

    # Without a reason: the step comes back with the error, nothing changes.
    step.get_by_test_id("confirm-status-yes").click()
    page.get_by_test_id("confirm-status-errors").wait_for()
    assert "Say why the status changes to “Revoked”" in page.get_by_test_id("confirm-status-errors").inner_text()
    assert page.get_by_test_id("plan-status").inner_text() == "Active"

    # With a reason: revoked, and the reason is in the history.
    page.get_by_test_id("confirm-status").locator("textarea[name=comment]").fill("Borgeren er flyttet")
    page.get_by_test_id("confirm-status-yes").click()
    page.get_by_test_id("confirm-status").wait_for(state="detached")
    assert page.get_by_test_id("plan-status").inner_text() == "Revoked"
    assert "Borgeren er flyttet" in page.get_by_test_id("history").inner_text()
    assert page.evaluate("window.__marker") == "still here"
    assert PlanChange.objects.get(action="status").comment == "Borgeren er flyttet"
    # The one expected failure is the 400 answer without a reason; nothing else (no CSP violation).
    assert [e for e in page.console_errors if "status of 400" not in e] == []


def test_home_care_undoes_done_on_the_today_list(new_page, rounds_and_plan):
    page = new_page(viewport={"width": 768, "height": 1024}, language="en")
    sign_in(page, rounds_and_plan["nurse"].email, PASSWORD)
    page.wait_for_url("**/")
    page.goto("/care/today/")
    row = page.get_by_test_id("today-activity").filter(has_text=rounds_and_plan["visit"])
    row.get_by_test_id("mark-done").click()
    row = page.get_by_test_id("today-activity").filter(has_text=rounds_and_plan["visit"])
    row.get_by_test_id("activity-done").wait_for()

    row.get_by_test_id("undo-done").click()

    row = page.get_by_test_id("today-activity").filter(has_text=rounds_and_plan["visit"])
    row.get_by_test_id("mark-done").wait_for()
    assert row.get_by_test_id("activity-done").count() == 0
    assert page.url.endswith("/care/today/")
    assert page.console_errors == []
