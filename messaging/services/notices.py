"""The portal's own notifications: a notice to one organisation, and the care-plan outbox turned into notices."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from citizens.models import Citizen
from sectors.models import Organisation, User

from ..choices import NoticeKind
from ..models import Message
from ..notices import alert_email_write, care_event_text, notice_write
from .routing import _enqueue


@transaction.atomic
def notice_send(
    *,
    organisation: Organisation,
    citizen: Citizen,
    kind: str,
    text: str,
    key: str,
    link: str = "",
    sender: Organisation | None = None,
    assign_to: User | None = None,
    email_users: Sequence[User] | None = None,
) -> Message | None:
    """A portal notification to one organisation (see ``notices.notice_write``), sent once this
    transaction commits; the same ``key`` never notifies twice."""
    notice, deliveries = notice_write(
        organisation=organisation,
        citizen=citizen,
        kind=kind,
        text=text,
        link=link,
        key=key,
        sender=sender,
        assign_to=assign_to,
        email_users=email_users,
    )
    _enqueue(deliveries)
    return notice


def care_events_dispatch(*, limit: int = 500) -> int:
    """Turn the care-plan outbox (``careplans.CareEvent``) into notifications: a raised alert
    into an e-mail notice only (it lives in the alert list, not the inbox). Each event is
    claimed with a conditional update, so two runs never notify twice (and the notice's key
    would refuse a second one anyway)."""
    from careplans.models import CareEvent  # the care plans depend on nothing of messaging

    done = 0
    pending = list(
        CareEvent.objects.filter(processed_at__isnull=True).order_by("created_at").values_list("pk", flat=True)[:limit]
    )
    for pk in pending:
        with transaction.atomic():
            if not CareEvent.objects.filter(pk=pk, processed_at__isnull=True).update(processed_at=timezone.now()):
                continue  # another worker has it
            event = CareEvent.objects.select_related("citizen", "organisation", "care_plan").get(pk=pk)
            done += 1
            if event.kind == NoticeKind.ALERT_RAISED:
                _enqueue(alert_email_write(organisation=event.organisation, key=f"care-event:{event.pk}"))
                continue
            link = reverse("careplans:detail", args=[event.care_plan_id]) if event.care_plan_id else ""
            notice_send(
                organisation=event.organisation,
                citizen=event.citizen,
                kind=event.kind,
                text=care_event_text(event),
                link=link,
                key=f"care-event:{event.pk}",
            )
    return done
