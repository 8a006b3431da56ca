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
        "/organisations/",
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
    paths = ["/citizens/break-the-glass/review/", "/messages/operations/", "/messages/operations/integrations/"]
    assert_accessible(page, paths)


CONTRAST_JS = """([fg, bg]) => {
  // WCAG contrast of a (possibly translucent) foreground colour over an opaque background.
  const parse = (c) => { const v = c.match(/[\\d.]+/g).map(Number); return v.length > 3 ? v : [...v, 1]; };
  const back = parse(bg), front = parse(fg), alpha = front[3];
  const blended = front.slice(0, 3).map((v, i) => alpha * v + (1 - alpha) * back[i]);
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [a, b] = [lum(blended), lum(back.slice(0, 3))].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def contrast(page, foreground: str, background: str) -> float:
    return page.evaluate(CONTRAST_JS, [foreground, background])


@pytest.fixture
def gp_page(new_page):
    from sectors.choices import MembershipRole
    from sectors.tests.factories import MembershipFactory

    gp = MembershipFactory(role=MembershipRole.ORGANISATION_ADMIN).user
    MembershipFactory(user=gp, organisation=gp.memberships.get().organisation, role=MembershipRole.GP)
    page = new_page()
    sign_in(page, gp.email, "correct horse battery staple")
    page.wait_for_url("**/")
    return page


def test_navigation_text_has_a_contrast_of_at_least_4_5(gp_page):
    background = gp_page.locator("nav.navbar").evaluate("e => getComputedStyle(e).backgroundColor")
    links = gp_page.locator("nav.navbar .nav-link:visible, nav.navbar .navbar-brand")
    colours = {links.nth(i).evaluate("e => getComputedStyle(e).color") for i in range(links.count())}

    assert links.count() >= 8
    ratios = {colour: contrast(gp_page, colour, background) for colour in colours}
    assert min(ratios.values()) >= 4.5, ratios


def test_keyboard_focus_is_visible_on_every_stop(gp_page):
    """Tabbing from the top through the navigation into the page: each focused element has a
    solid outline of at least 2px that stands out (3:1) from what is around it."""
    nav_background = gp_page.locator("nav.navbar").evaluate("e => getComputedStyle(e).backgroundColor")
    seen = []
    for _ in range(20):
        gp_page.keyboard.press("Tab")
        focused = gp_page.evaluate(
            """() => {
              const e = document.activeElement, s = getComputedStyle(e);
              if (e === document.body) return null;
              return {name: (e.innerText || e.getAttribute('aria-label') || e.tagName).trim().slice(0, 30),
                      inNav: !!e.closest('nav.navbar'), style: s.outlineStyle,
                      width: parseFloat(s.outlineWidth), colour: s.outlineColor};
            }"""
        )
        if focused is None:  # the first press may leave the focus on the page itself
            continue
        seen.append(focused["name"])
        assert focused["style"] not in ("none", "hidden"), focused
        assert focused["width"] >= 2, focused
        around = nav_background if focused["inNav"] else "rgb(255, 255, 255)"
        assert contrast(gp_page, focused["colour"], around) >= 3, focused
    assert len(seen) >= 15, seen
    assert "Overblik" in seen, seen
