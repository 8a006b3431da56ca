"""Messaging across sectors: OUH admits an Odense citizen, which notifies Odense Kommune; the
home-care nurse, on a tablet, sees the hospital notification in the inbox with an unread badge in
the navigation and that the visits are paused, opens it and replies, then writes to the ward from
the citizen's overview, finding it with the receiver search; the OUH nurse sees the reply in the thread, and that the
municipality acknowledged the notification."""

import pytest

from citizens.demo import citizen_demo_load
from citizens.models import Citizen
from messaging.choices import MessageType
from messaging.models import Message, Recipient
from sectors.demo import demo_data_load
from sectors.models import Membership

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPLY = "Vi kender borgeren. Hvornår forventes udskrivelse?"
NEW_MESSAGE = "Borgeren har hjemmehjælp morgen og aften."


def test_admission_notifies_home_care_who_replies_on_a_tablet(new_page):
    demo_data_load()
    citizen_demo_load()
    nurse_membership = Membership.objects.select_related("user", "organisation").get(
        user__email="nurse.ouh@smartcare.example"
    )
    department = nurse_membership.organisation
    citizen = next(
        c
        for c in Citizen.objects.filter(municipality__municipality_code="0461", deceased_at__isnull=True).order_by(
            "cpr"
        )
        if c.current_stay is None
    )

    # The OUH nurse records the admission on the hospital-events page (the time defaults to now).
    hospital = new_page(language="en")
    sign_in(hospital, "nurse.ouh@smartcare.example")
    hospital.wait_for_url("**/")
    hospital.goto("/messages/hospital-events/")
    form = hospital.get_by_test_id("record-form")
    form.locator("input[name=cpr]").fill(citizen.cpr_formatted)
    form.locator("select[name=code]").select_option("STIN")
    form.get_by_test_id("record").click()
    hospital.get_by_test_id("event-row").filter(has_text=citizen.full_name).wait_for()
    assert hospital.get_by_test_id("event-code").first.inner_text() == "STIN"
    assert citizen.stays.get(discharged_at__isnull=True).department == department
    notification = Message.objects.get(type=MessageType.HOSPITAL_NOTIFICATION, citizen=citizen)
    assert Recipient.objects.get(message=notification, organisation=citizen.municipality).received_at is not None

    # The home-care nurse on a tablet in portrait: the badge next to the menu button counts it ...
    home_care = new_page(viewport={"width": 768, "height": 1024}, language="en")
    sign_in(home_care, "homecare.odense@smartcare.example")
    home_care.wait_for_url("**/")
    compact = home_care.get_by_test_id("nav-messages-compact")
    compact.wait_for()
    assert int(compact.inner_text().split()[0]) >= 1
    compact.click()
    home_care.wait_for_url("**/messages/")

    # ... the inbox shows it, unread, with the hospital code ...
    row = home_care.get_by_test_id("message-row").filter(has_text=citizen.full_name)
    assert row.get_by_test_id("unread-badge").is_visible()
    assert "STIN" in row.get_by_test_id("message-kind").inner_text()
    assert department.name in row.inner_text()
    assert row.get_by_test_id("followup-visits").inner_text().strip() == "Visits paused"  # what follows
    assert home_care.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling

    # ... she opens it and replies.
    row.get_by_test_id("message-link").click()
    home_care.wait_for_url("**/messages/threads/*/**")
    message = home_care.get_by_test_id("thread-message").first
    assert message.get_by_test_id("hospital-code").inner_text() == "STIN"
    assert message.get_by_test_id("event-label").inner_text() == "Admitted"
    assert message.get_by_test_id("followup-visits").is_visible()
    message.get_by_test_id("reply-toggle").click()
    message.get_by_test_id("reply-form").locator("textarea[name=text]").fill(REPLY)
    message.get_by_test_id("send-reply").click()
    home_care.get_by_test_id("thread-message").filter(has_text=REPLY).wait_for()
    reply = Message.objects.get(parent=notification)
    assert reply.sender == citizen.municipality and reply.recipients.get().organisation == department
    home_care.goto("/messages/")
    assert home_care.get_by_test_id("message-row").filter(has_text=citizen.full_name).get_by_test_id(
        "unread-badge"
    ).count() == 0  # fmt: skip

    # From the citizen's overview she writes to the ward as well, finding it by name.
    home_care.goto(f"/citizens/{citizen.pk}/")
    home_care.get_by_test_id("citizen-messages").get_by_test_id("write-message").click()
    form = home_care.get_by_test_id("compose-form")
    form.get_by_test_id("receiver-search").fill("Medicinsk afdeling Odense")
    hit = form.get_by_test_id("receiver-hit").filter(has_text=department.name)
    hit.locator("input").check()
    form.locator("select[name=category]").select_option("carecoordination")
    form.locator("textarea[name=text]").fill(NEW_MESSAGE)
    form.get_by_test_id("send").click()
    home_care.wait_for_url("**/messages/threads/*/")
    home_care.get_by_test_id("thread-message").filter(has_text=NEW_MESSAGE).wait_for()
    assert Message.objects.get(text=NEW_MESSAGE).recipients.get().organisation == department
    assert home_care.console_errors == []

    # The OUH nurse sees the reply in her inbox and in the thread, and the acknowledgement.
    hospital.goto("/")
    assert hospital.get_by_test_id("nav-messages-count").is_visible()
    hospital.get_by_test_id("nav-messages").click()
    hospital.wait_for_url("**/messages/")
    hospital.get_by_test_id("message-row").filter(has_text=REPLY).get_by_test_id("message-link").click()
    hospital.wait_for_url("**/messages/threads/*/**")
    messages = hospital.get_by_test_id("thread-message")
    messages.filter(has_text=REPLY).wait_for()
    assert messages.count() == 2
    first = messages.first
    assert first.get_by_test_id("hospital-code").inner_text() == "STIN"
    assert "Received" in first.get_by_test_id("message-receivers").inner_text()
    assert hospital.console_errors == []
