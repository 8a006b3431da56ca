"""Accessibility: axe-core (the npm package, injected into the page) finds no serious or critical
violation on the main pages of each role, the navigation's text has a contrast of at least 4.5:1,
and keyboard focus is visible on the navigation and on the page."""

from pathlib import Path

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from careplans.models import CarePlan
from citizens.models import Citizen
from messaging.models import Recipient
from sectors.models import Membership

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(settings.NODE_MODULES) / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def demo_load():
    for path in settings.SMARTCARE_DEMO_LOADERS:
        import_string(path)()


def axe_problems(page) -> list[str]:
    """The serious and critical violations on the page as shown now, one line per rule and node."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{page.url} {violation['id']} ({violation['impact']}): {node['target']} {node['failureSummary']}"
        for violation in result["violations"]
        if violation["impact"] in BLOCKING
        for node in violation["nodes"]
    ]


def assert_accessible(page, paths) -> None:
    problems = []
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        problems += axe_problems(page)
    assert problems == [], "\n".join(problems)


def organisation_of(email):
    return Membership.objects.get(user__email=email).organisation


def test_sign_in_page_has_no_serious_violations(new_page):
    page = new_page(bypass_csp=True)
    assert_accessible(page, ["/accounts/login/"])


def test_gp_pages_have_no_serious_violations(new_page):
    demo_load()
    clinic = organisation_of("gp@smartcare.example")
    citizen = Citizen.objects.filter(gp_clinic=clinic, care_plans__isnull=False).order_by("cpr").first()
    plan = CarePlan.objects.filter(citizen=citizen).order_by("created_at").first()
    thread = (
        Recipient.objects.filter(organisation=clinic).select_related("message").order_by("message__sent_at").first()
    )
    page = new_page(bypass_csp=True)
    sign_in(page, "gp@smartcare.example")
    page.wait_for_url("**/")
    paths = [
        "/",
        "/citizens/search/",
        "/citizens/",
        f"/citizens/{citizen.pk}/",
        f"/care/plans/{plan.pk}/",
        "/messages/",
        f"/messages/threads/{thread.message.thread_id}/",
        "/messages/compose/",
        "/care/alerts/",
        "/care/handoffs/",
        f"/citizens/{citizen.pk}/access-log/",
    ]
    assert_accessible(page, paths)


def test_home_care_nurse_pages_have_no_serious_violations(new_page):
    demo_load()
    municipality = organisation_of("homecare.odense@smartcare.example")
    citizen = Citizen.objects.filter(municipality=municipality, deceased_at__isnull=True).order_by("cpr").first()
    page = new_page(viewport={"width": 1024, "height": 768}, bypass_csp=True)
    sign_in(page, "homecare.odense@smartcare.example")
    page.wait_for_url("**/")
    paths = ["/care/today/", f"/care/citizens/{citizen.pk}/measurements/new/?code=85354-9"]
    assert_accessible(page, paths)


def test_hospital_nurse_pages_have_no_serious_violations(new_page):
    demo_load()
    page = new_page(bypass_csp=True)
    sign_in(page, "nurse.ouh@smartcare.example")
    page.wait_for_url("**/")
    assert_accessible(page, ["/messages/hospital-events/"])


def test_administrator_pages_have_no_serious_violations(new_page):
    demo_load()
    page = new_page(bypass_csp=True)
    sign_in(page, "admin@smartcare.example")
    page.wait_for_url("**/")
    assert_accessible(page, ["/citizens/break-the-glass/review/", "/messages/operations/"])
