import datetime

import pytest
from django.utils import timezone

from messaging.choices import HospitalCode
from messaging.models import Delivery, Message, Recipient
from messaging.selectors import inbox, thread_get, thread_messages
from messaging.services import hospital_event_record, message_reply, message_send

pytestmark = pytest.mark.django_db(transaction=False)


def test_flow(world, actor, django_capture_on_commit_callbacks):
    gp = actor("gp_a")
    with django_capture_on_commit_callbacks(execute=True):
        m = message_send(actor=gp, citizen=world.citizen, receiver=world.municipality_a, category="nursing", text="Hej")
    rows = list(inbox(actor=actor("homecare_a")))
    assert [r.message for r in rows] == [m]
    assert Delivery.objects.filter(status="delivered").count() >= 1
    r = Recipient.objects.get(message=m)
    assert r.ack_code == "ok"
    with django_capture_on_commit_callbacks(execute=True):
        reply = message_reply(actor=actor("homecare_a"), message=m, text="Svar")
    t = thread_get(actor=gp, pk=m.thread_id)
    assert list(thread_messages(actor=gp, thread=t)) == [m, reply]
    nurse = actor("hospital_nurse")
    with django_capture_on_commit_callbacks(execute=True):
        ev = hospital_event_record(
            actor=nurse,
            citizen=world.citizen,
            code=HospitalCode.STIN,
            occurred_at=timezone.now() - datetime.timedelta(hours=1),
        )
    assert ev.stay.discharged_at is None
    assert [r.message.hospital_code for r in inbox(actor=actor("homecare_a"))][0] == "STIN"
    print(Message.objects.count(), Delivery.objects.count())
