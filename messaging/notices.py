"""The portal's own notices, written in the transaction of their cause; the caller enqueues the
deliveries returned (``services.routing._enqueue``), so this module needs nothing of the worker.

- A notice in one organisation's inbox: hand-offs, reminders, failed deliveries, and a hospital
  event told to the coordinator of the citizen's care plan.
- An e-mail notice without an inbox message: a raised alert lives in the alert list and on the
  dashboard, not in the inbox; the members who want e-mail for portal notifications get a short
  e-mail without health data, through the outbox like every other e-mail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from careplans.models import OPEN_PLAN_STATUSES, CarePlan
from citizens.models import Citizen
from sectors.models import Membership, Organisation, User

from .choices import Channel, EmailMode, MessageType, NoticeKind
from .models import Delivery, EmailNotice, EmailPreference, Message, Recipient, Thread


def members(organisation: Organisation, role: str | None = None):
    memberships = Membership.objects.active().filter(organisation=organisation)
    if role:
        memberships = memberships.filter(role=role)
    return User.objects.filter(pk__in=memberships.values("user_id"))


def members_to_email(organisation: Organisation, message_type: str) -> list[User]:
    """Active members who want an immediate e-mail for this type (no preference: immediately)."""
    return members_to_email_by_organisation([organisation.pk], message_type).get(organisation.pk, [])


def members_to_email_by_organisation(organisation_ids: Sequence[int], message_type: str) -> dict[int, list[User]]:
    """``members_to_email`` of several organisations in one query, by organisation id."""
    opted_out = EmailPreference.objects.filter(message_type=message_type).exclude(mode=EmailMode.IMMEDIATELY)
    memberships = (
        Membership.objects.active()
        .filter(organisation_id__in=organisation_ids)
        .exclude(user__email="")
        .exclude(user_id__in=opted_out.values("user_id"))
        .select_related("user")
        .order_by("organisation_id", "user_id")
    )
    found: dict[int, list[User]] = {}
    for membership in memberships:
        users = found.setdefault(membership.organisation_id, [])
        if not users or users[-1].pk != membership.user_id:  # one e-mail per member, whatever their roles
            users.append(membership.user)
    return found


def notice_write(
    *,
    organisation: Organisation,
    citizen: Citizen,
    kind: str,
    text: str,
    link: str = "",
    key: str,
    sender: Organisation | None = None,
    assign_to: User | None = None,
    email_users: Sequence[User] | None = None,
) -> tuple[Message | None, list[Delivery]]:
    """A portal notification to one organisation and its deliveries; the same ``key`` never
    notifies twice (None and no deliveries)."""
    if Message.objects.filter(source_key=key).exists():
        return None, []
    thread = Thread.objects.create(citizen=citizen)
    notice_id = uuid.uuid4()
    notice = Message(
        id=notice_id,
        header_id=str(notice_id),
        type=MessageType.NOTIFICATION,
        thread=thread,
        citizen=citizen,
        sender=sender or organisation,
        notice_kind=kind,
        text=text,
        link=link,
        source_key=key,
    )
    try:
        with transaction.atomic():
            notice.save(force_insert=True)
    except IntegrityError:  # the same cause, concurrently
        return None, []
    recipient = Recipient.objects.create(message=notice, organisation=organisation, assigned_to=assign_to)
    rows = [Delivery(message=notice, recipient=recipient, channel=Channel.IN_APP, key=f"{notice.pk}:in-app")]
    users = email_users if email_users is not None else members_to_email(organisation, MessageType.NOTIFICATION)
    rows += [
        Delivery(
            message=notice, recipient=recipient, channel=Channel.EMAIL, user=user, key=f"{notice.pk}:email:{user.pk}"
        )
        for user in users
    ]
    return notice, Delivery.objects.bulk_create(rows)


def care_event_text(event) -> str:
    """What a hand-off notice is about: its item, or the care plan where the event names none (an
    overdue request), so no notice reads empty."""
    payload = event.payload or {}
    plan = event.care_plan.title if event.care_plan_id else ""
    texts = {
        NoticeKind.HANDOFF_REQUESTED: _("%(org)s asks you to take over: %(item)s"),
        NoticeKind.HANDOFF_ACCEPTED: _("%(org)s accepted: %(item)s"),
        NoticeKind.HANDOFF_REJECTED: _("%(org)s rejected: %(item)s. Reason: %(reason)s"),
        NoticeKind.HANDOFF_REASSIGNED: _("Reassigned: %(item)s"),
        NoticeKind.HANDOFF_OVERDUE: _("%(org)s has not answered your request about “%(item)s” in time."),
    }
    template = texts.get(event.kind, "%(item)s")
    org = payload.get("from") or payload.get("by") or payload.get("to") or ""
    item = payload.get("item") or payload.get("message") or plan
    return template % {"org": org, "item": item, "reason": payload.get("reason", "")}


# --- a raised alert: e-mail only -------------------------------------------------------------------


def alert_email_write(*, organisation: Organisation, key: str) -> list[Delivery]:
    """The e-mail notice of a raised alert to the members of ``organisation`` who want portal
    notifications by e-mail at once (the setting of "Portal notification"; digest or off: none).
    Nothing goes to the inbox. The same ``key`` never writes twice."""
    try:
        with transaction.atomic():
            notice = EmailNotice.objects.create(
                organisation=organisation,
                kind=NoticeKind.ALERT_RAISED,
                link=reverse("careplans:alerts"),
                source_key=key,
            )
    except IntegrityError:  # written already (a dispatch ran twice)
        return []
    return Delivery.objects.bulk_create(
        Delivery(channel=Channel.EMAIL_NOTICE, email_notice=notice, user=user, key=f"notice:{notice.pk}:{user.pk}")
        for user in members_to_email(organisation, MessageType.NOTIFICATION)
    )


# --- a hospital event: the care plan's coordinator ------------------------------------------------------


def coordinator_notice_key(message_id, organisation_id: int) -> str:
    return f"hospital-coordinator:{message_id}:{organisation_id}"


def hospital_coordinators_write(*, message: Message, told: Iterable[int]) -> list[Delivery]:
    """A hospital notification goes to the citizen's municipality (copy to the GP clinic); the
    coordinating organisation of each of the citizen's open care plans that is neither is told
    with a notice, once per event and organisation, assigned to the plan's coordinator when they
    are a member. A correction or cancellation is an event of its own and is told too.
    ``told``: the ids of the message's receivers."""
    told = set(told)
    plans = (
        CarePlan.objects.filter(citizen_id=message.citizen_id, status__in=OPEN_PLAN_STATUSES)
        .exclude(coordinating_organisation_id__in=told)
        .select_related("coordinating_organisation", "coordinator")
        .order_by("period_start", "pk")
    )
    rows: list[Delivery] = []
    for plan in plans:
        organisation = plan.coordinating_organisation
        if organisation.pk in told or not organisation.is_active:
            continue
        told.add(organisation.pk)
        coordinator = plan.coordinator
        if coordinator is not None and not members(organisation).filter(pk=coordinator.pk).exists():
            coordinator = None
        rows += notice_write(
            organisation=organisation,
            citizen=message.citizen,
            kind=NoticeKind.HOSPITAL_EVENT,
            text=_hospital_event_text(message),
            link=reverse("careplans:detail", args=[plan.pk]),
            key=coordinator_notice_key(message.pk, organisation.pk),
            sender=message.sender,
            assign_to=coordinator,
        )[1]
    return rows


def _hospital_event_text(message: Message) -> str:
    department = message.department or message.sender
    text = _("%(event)s at %(department)s, %(time)s. You coordinate the citizen's care plan.") % {
        "event": message.hospital_event_label,
        "department": department.name,
        "time": formats.date_format(timezone.localtime(message.occurred_at), "SHORT_DATETIME_FORMAT"),
    }
    if department.phone:
        text += " " + _("The department's phone: %(phone)s.") % {"phone": department.phone}
    return text
