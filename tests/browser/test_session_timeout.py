import pytest
from django.contrib.sessions.models import Session

from sectors.demo import demo_data_load

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_page_warns_before_the_session_ends_and_stay_signed_in_keeps_it(new_page, settings):
    # A session of two minutes and four seconds: the warning is due four seconds after a request.
    settings.SESSION_COOKIE_AGE = 124
    demo_data_load()
    page = new_page(language="en")
    sign_in(page, "gp@smartcare.example")
    page.wait_for_url("**/")
    page.goto("/citizens/")
    warning = page.get_by_role("alert").filter(has_text="signed out in two minutes")
    assert not warning.is_visible()
    before = Session.objects.get().expire_date

    warning.wait_for(state="visible")
    stay = page.get_by_role("button", name="Stay signed in")
    assert stay.is_enabled()
    with page.expect_response("**/session/keepalive/") as keepalive:
        stay.click()
    assert keepalive.value.status == 204
    warning.wait_for(state="hidden")
    assert Session.objects.get().expire_date > before

    page.goto("/citizens/")
    assert page.url.endswith("/citizens/")
    assert page.console_errors == []


def test_an_htmx_request_after_the_session_ended_opens_the_sign_in_page_not_inside_the_page(new_page):
    demo_data_load()
    page = new_page(language="da")
    sign_in(page, "gp@smartcare.example")
    page.wait_for_url("**/")
    page.goto("/citizens/")
    Session.objects.all().delete()  # the session has ended

    page.fill("input[name=search]", "Jensen")
    page.wait_for_url("**/accounts/login/?next=/citizens/")
    assert page.locator("nav.navbar").count() == 1
    assert page.locator("input[name=login]").count() == 1

    page.fill("input[name=login]", "gp@smartcare.example")
    page.fill("input[name=password]", "smartcare-demo")
    page.click("[data-testid=login-form] button[type=submit]")
    page.wait_for_url("**/citizens/")
