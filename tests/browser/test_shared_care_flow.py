"""The shared care flow across sectors: the Odense GP creates a plan with a goal and an activity
for Odense Kommune; the Odense home-care nurse, on a tablet, accepts the hand-off, records a blood
pressure above the red threshold and marks the activity done; the GP then sees the red alert and
the chart."""

import datetime

import pytest

from careplans.choices import ThresholdCode
from careplans.models import Activity, Alert, Handoff, Observation
from careplans.monitoring import threshold_set
from citizens.access import Actor
from citizens.demo import citizen_demo_load
from citizens.models import Citizen
from sectors.acting import resolve
from sectors.demo import demo_data_load
from sectors.models import Membership

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_plan_handoff_measurement_alert_and_chart(new_page):
    demo_data_load()
    citizen_demo_load()
    gp_membership = Membership.objects.select_related("user", "organisation").get(user__email="gp@smartcare.example")
    clinic = gp_membership.organisation
    citizen = (
        Citizen.objects.filter(gp_clinic=clinic, municipality__municipality_code="0461", care_plans__isnull=True)
        .order_by("cpr")
        .first()
    )
    threshold_set(
        actor=Actor(user=gp_membership.user, acting=resolve(gp_membership.user, None)),
        citizen=citizen,
        code=ThresholdCode.SYSTOLIC,
        reason="Hypertension, behandlingsmål under 140",
        yellow_high=150,
        red_high=170,
    )

    # The GP creates the plan, a goal, and an activity for Odense Kommune.
    gp = new_page(language="en")
    sign_in(gp, "gp@smartcare.example")
    gp.wait_for_url("**/")
    gp.goto(f"/citizens/{citizen.pk}/")
    gp.get_by_test_id("new-care-plan").click()
    gp.fill("input[name=title]", "Hypertension – forløbsplan")
    gp.get_by_test_id("plan-form").locator("button[type=submit]").click()
    gp.wait_for_url("**/care/plans/*/")
    plan_url = gp.url

    gp.get_by_test_id("goals").locator("summary").first.click()
    goal_form = gp.get_by_test_id("goal-form")
    goal_form.locator("textarea[name=description]").fill("Blodtryk under 140/90")
    goal_form.locator("select[name=responsible_organisation]").select_option(str(clinic.pk))
    goal_form.locator("button[type=submit]").click()
    gp.get_by_test_id("goal").filter(has_text="Blodtryk under 140/90").wait_for()

    gp.get_by_test_id("activities").locator("summary").first.click()
    activity_form = gp.get_by_test_id("activity-form")
    activity_form.locator("textarea[name=description]").fill("Blodtryksmåling i hjemmet")
    activity_form.locator("select[name=responsible_organisation]").select_option(str(citizen.municipality_id))
    activity_form.locator("input[name=due_date]").fill(datetime.date.today().isoformat())
    activity_form.locator("button[type=submit]").click()
    gp.get_by_test_id("activity").filter(has_text="Blodtryksmåling i hjemmet").wait_for()
    assert Handoff.objects.get(activity__description="Blodtryksmåling i hjemmet").status == "requested"

    # The home-care nurse on a tablet in portrait accepts the hand-off ...
    nurse = new_page(viewport={"width": 768, "height": 1024}, language="en")
    sign_in(nurse, "homecare.odense@smartcare.example")
    nurse.wait_for_url("**/")
    nurse.goto("/care/handoffs/")
    request = nurse.get_by_test_id("handoff").filter(has_text="Blodtryksmåling i hjemmet")
    request.get_by_test_id("accept").click()
    nurse.wait_for_load_state()
    assert Handoff.objects.get(activity__description="Blodtryksmåling i hjemmet").status == "accepted"

    # ... records a blood pressure above the red threshold ...
    nurse.goto(f"/care/citizens/{citizen.pk}/measurements/new/?code=85354-9&next=/care/today/")
    form = nurse.get_by_test_id("measurement-form")
    form.locator("input[name=value]").fill("182")
    form.locator("input[name=value_2]").fill("96")
    nurse.get_by_test_id("save-measurement").click()
    nurse.wait_for_url("**/care/today/")
    assert Observation.objects.filter(citizen=citizen, value=182).exists()
    assert Alert.objects.filter(citizen=citizen, organisation=clinic, severity="red").exists()

    # ... and marks the activity done from "Today".
    card = nurse.get_by_test_id("today-activity").filter(has_text="Blodtryksmåling i hjemmet")
    card.get_by_test_id("mark-done").click()
    nurse.get_by_test_id("activity-done").first.wait_for()
    assert Activity.objects.get(description="Blodtryksmåling i hjemmet").status == "completed"
    assert nurse.console_errors == []

    # The GP sees the red alert in the work list and the chart on the plan page.
    gp.goto("/care/alerts/")
    row = gp.get_by_test_id("alert-row").filter(has_text=citizen.full_name)
    assert "182" in row.first.inner_text()
    gp.goto(plan_url)
    canvas = gp.locator("canvas[data-chart]").first
    canvas.wait_for()
    assert canvas.evaluate("c => !!window.Chart && !!window.Chart.getChart(c)")
    assert [e for e in gp.console_errors if "status of 400" not in e] == []
