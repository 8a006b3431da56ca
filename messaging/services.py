"""Writes for messages: send, reply, forward, hospital events, inbox state, acknowledgements,
resends, escalation and the portal's own notifications.

Every message is written together with one ``Recipient`` per receiving organisation and one
``Delivery`` per receiver and channel, in the transaction of the change that caused it; the
worker is told the delivery ids once that transaction commits (``messaging.delivery``).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor, access_reason, organisation_sees
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction, StayKind
from citizens.models import Citizen, HospitalStay
from citizens.services import hospital_stay_end, hospital_stay_start
from sectors.choices import MembershipRole
from sectors.models import Organisation, User

from .attachments import attachment_name, attachment_type
from .checks import check, content_errors, forward_errors, max_message_bytes, receiver_errors, reply_errors, send_errors
from .choices import (
    AckCode,
    Activity,
    Category,
    Channel,
    DeliveryStatus,
    EmailMode,
    HospitalCode,
    MessageType,
    NoticeKind,
    Priority,
    RecipientRole,
    Revision,
)
from .digests import delivery_organisation_ids
from .enqueue import deliver_on_commit
from .hospital_rules import hospital_event_log, require_hospital_recorder
from .models import (
    Attachment,
    Delivery,
    EmailPreference,
    HospitalEvent,
    Message,
    ReadMark,
    Recipient,
    Thread,
)
from .notices import alert_email_write, care_event_text, hospital_coordinators_write, notice_write
from .notices import members as _members
from .notices import members_to_email as _members_to_email

logger = logging.getLogger(__name__)


def _setting(name: str, default):
    return getattr(settings, name, default)


# --- routing ------------------------------------------------------------------------------------


def _require_access(actor: Actor, citizen: Citizen) -> tuple[str, str]:
    if not actor.acting:
        raise PermissionDenied
    reason = access_reason(actor, citizen)
    if reason is None:
        raise PermissionDenied
    return reason


def _add_recipient(message: Message, organisation: Organisation, role: str) -> tuple[Recipient, list[Delivery]]:
    recipient = Recipient.objects.create(message=message, organisation=organisation, role=role)
    return recipient, _deliveries_for(recipient)


def _deliveries_for(recipient: Recipient, round_: int = 0) -> list[Delivery]:
    """In-app always; e-mail to subscribed members; the organisation's own system if it has one.
    ``round_`` numbers resends, so their idempotency keys differ from the first sending's."""
    message, organisation = recipient.message, recipient.organisation
    base = f"{message.pk}:{organisation.pk}"
    suffix = f":r{round_}" if round_ else ""
    rows = [
        Delivery(message=message, recipient=recipient, channel=Channel.IN_APP, key=f"{base}:in-app{suffix}"),
    ]
    if not round_ and message.type != MessageType.ACKNOWLEDGEMENT:
        rows += [
            Delivery(
                message=message, recipient=recipient, channel=Channel.EMAIL, user=user, key=f"{base}:email:{user.pk}"
            )
            for user in _members_to_email(organisation, message.type)
        ]
    webhook = getattr(organisation, "webhook", None)
    if webhook is not None and webhook.active:
        rows.append(
            Delivery(message=message, recipient=recipient, channel=Channel.WEBHOOK, key=f"{base}:webhook{suffix}")
        )
    return Delivery.objects.bulk_create(rows)


def _enqueue(deliveries: Iterable[Delivery]) -> None:
    deliver_on_commit(d.pk for d in deliveries)


@dataclass(frozen=True)
class _Sending:
    type: str
    citizen: Citizen
    sender: Organisation
    receiver: Organisation
    cc: Sequence[Organisation] = ()
    thread: Thread | None = None


def _create(
    *,
    actor: Actor | None,
    sending: _Sending,
    attachments: Sequence[UploadedFile] = (),
    message_id: uuid.UUID | None = None,
    **fields,
) -> Message:
    """``message_id`` is given for a message received as a MedCom bundle: its MessageHeader id
    becomes the message's id, so a resend is recognised whichever way it came in."""
    receivers = [sending.receiver, *[org for org in sending.cc if org.pk != sending.receiver.pk]]
    if len({org.pk for org in receivers}) != len(receivers):
        raise ValidationError({"cc": [_("An organisation is named more than once.")]})
    if any(org.pk == sending.sender.pk for org in receivers) and sending.type != MessageType.NOTIFICATION:
        raise ValidationError({"receiver": [_("A message cannot be sent to your own organisation.")]})
    size = len(fields.get("text", "").encode()) + sum(upload.size or 0 for upload in attachments)
    if size > max_message_bytes():
        raise ValidationError(
            {"attachments": [_("A message is at most %(mb)d MB.") % {"mb": max_message_bytes() // (1024 * 1024)}]}
        )
    kinds = [attachment_type(upload) for upload in attachments]
    now = timezone.now()
    thread = sending.thread
    if thread is None:
        thread = Thread.objects.create(
            citizen=sending.citizen, category=fields.get("category", ""), topic=fields.get("topic", ""), created_at=now
        )
    else:
        Thread.objects.filter(pk=thread.pk).update(last_message_at=now)
    user = actor.user if actor else None
    author_name = fields.pop("author_name", None) or (user.get_full_name() if user else "") or ""
    message = Message(
        id=message_id or uuid.uuid4(),
        type=sending.type,
        thread=thread,
        citizen=sending.citizen,
        sender=sending.sender,
        author=user,
        author_name=author_name,
        sent_at=now,
        **fields,
    )
    message.full_clean()
    message.save(force_insert=True)
    for upload, mime in zip(attachments, kinds, strict=True):
        Attachment.objects.create(
            message=message,
            file=upload,
            filename=attachment_name(upload.name, mime),
            content_type=mime,
            size=upload.size or 0,
        )
    deliveries: list[Delivery] = []
    for index, organisation in enumerate(receivers):
        role = RecipientRole.PRIMARY if index == 0 else RecipientRole.CC
        deliveries += _add_recipient(message, organisation, role)[1]
    _enqueue(deliveries)
    return message


def _log(actor: Actor, citizen: Citizen, reason: tuple[str, str], detail: str) -> None:
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.UPDATE,
        detail=detail,
        reason=reason[0],
        reason_text=reason[1],
    )


# --- care communication ---------------------------------------------------------------------------


@transaction.atomic
def message_send(
    *,
    actor: Actor,
    citizen: Citizen,
    receiver: Organisation,
    category: str,
    text: str,
    topic: str = "",
    priority: str = Priority.ROUTINE,
    cc: Sequence[Organisation] = (),
    attachments: Sequence[UploadedFile] = (),
) -> Message:
    """A new care communication (MedCom correspondence message) in a new thread."""
    reason = _require_access(actor, citizen)
    content = {"category": category, "topic": topic, "priority": priority, "text": text}
    check(send_errors(citizen, receiver=receiver, cc=cc, attachments=attachments, **content))
    message = _create(
        actor=actor,
        sending=_Sending(MessageType.CARE_COMMUNICATION, citizen, actor.acting_organisation, receiver, cc),
        attachments=attachments,
        category=category,
        topic=topic.strip(),
        priority=priority,
        text=text.strip(),
        activity=Activity.NEW,
        author_phone=actor.user.phone or actor.acting_organisation.phone,
    )
    _log(actor, citizen, reason, "message sent")
    return message


def _thread_message_visible_to(actor: Actor, message: Message) -> bool:
    org_id = actor.acting_organisation.pk
    return message.sender_id == org_id or message.recipients.filter(organisation_id=org_id).exists()


@transaction.atomic
def message_reply(*, actor: Actor, message: Message, text: str, attachments: Sequence[UploadedFile] = ()) -> Message:
    """A reply goes to the sender of the message answered, in the same thread, with its category
    and topic. A hospital notification is answered with a care communication about care
    coordination (the municipality asks the ward about the stay)."""
    if message.type not in (MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION):
        raise ValidationError(_("Only care communications and hospital notifications can be answered."))
    reason = _require_access(actor, message.citizen)
    if not message.recipients.filter(organisation_id=actor.acting_organisation.pk).exists():
        raise ValidationError(_("Only a receiver of the message can reply to it."))
    check(reply_errors(message, text=text, attachments=attachments))
    if message.type == MessageType.HOSPITAL_NOTIFICATION:
        category, topic = (str(Category.CARECOORDINATION), str(message))
        priority = str(Priority.ROUTINE)
    else:
        category, topic, priority = message.category, message.topic, message.priority
    sending = _Sending(
        MessageType.CARE_COMMUNICATION, message.citizen, actor.acting_organisation, message.sender, (), message.thread
    )
    reply = _create(
        actor=actor,
        sending=sending,
        attachments=attachments,
        parent=message,
        activity=Activity.REPLY,
        category=category,
        topic=topic[:200],
        priority=priority,
        text=text.strip(),
        author_phone=actor.user.phone or actor.acting_organisation.phone,
    )
    _log(actor, message.citizen, reason, "message replied")
    return reply


@transaction.atomic
def message_forward(
    *,
    actor: Actor,
    message: Message,
    receiver: Organisation,
    text: str = "",
    cc: Sequence[Organisation] = (),
) -> Message:
    """A forward carries the original text (and keeps category and topic) to a new receiver who
    must itself have a relationship with the citizen."""
    if message.type != MessageType.CARE_COMMUNICATION:
        raise ValidationError(_("Only care communications can be forwarded."))
    reason = _require_access(actor, message.citizen)
    if not _thread_message_visible_to(actor, message):
        raise PermissionDenied
    check(forward_errors(message, receiver=receiver, cc=cc))
    quoted = _("Forwarded message from %(sender)s, %(sent)s:") % {
        "sender": message.sender,
        "sent": timezone.localtime(message.sent_at).strftime("%d-%m-%Y %H:%M"),
    }
    body = "\n\n".join(part for part in [(text or "").strip(), f"{quoted}\n{message.text}"] if part)
    forward = _create(
        actor=actor,
        sending=_Sending(
            MessageType.CARE_COMMUNICATION, message.citizen, actor.acting_organisation, receiver, cc, message.thread
        ),
        parent=message,
        activity=Activity.FORWARD,
        category=message.category,
        topic=message.topic,
        priority=message.priority,
        text=body,
        author_phone=actor.user.phone or actor.acting_organisation.phone,
    )
    for original in message.attachments.all():
        Attachment.objects.create(
            message=forward,
            file=original.file.name,
            filename=original.filename,
            content_type=original.content_type,
            size=original.size,
        )
    _log(actor, message.citizen, reason, "message forwarded")
    return forward


@transaction.atomic
def message_import(
    *,
    actor: Actor,
    message_id: uuid.UUID,
    citizen: Citizen,
    receiver: Organisation,
    category: str,
    text: str,
    topic: str = "",
    priority: str = Priority.ROUTINE,
    cc: Sequence[Organisation] = (),
    activity: str = Activity.NEW,
    parent: Message | None = None,
    author_name: str = "",
    author_phone: str = "",
    attachments: Sequence[UploadedFile] = (),
) -> Message:
    """A care communication that the sender's own system sent as a MedCom bundle
    (``$process-message``). It goes through the same rules and machinery as one written in the
    portal (receivers, deliveries, acknowledgements, threads); its id is the MessageHeader id.

    The sender must have a care relationship with the citizen, like a portal user; a reply or
    forward joins the thread of the earlier message when the sender took part in it, otherwise it
    starts a thread of its own (the earlier message may never have passed through the portal)."""
    sender = actor.organisation
    if sender is None or not organisation_sees(sender, citizen):
        raise ValidationError(
            {"citizen": [_("The citizen is not registered in the portal or has no care relationship with the sender.")]}
        )
    check(content_errors(text=text, category=category, topic=topic, priority=priority))
    if activity not in Activity.values:
        raise ValidationError({"activity": [_("Unknown activity.")]})
    check(receiver_errors(citizen, [receiver, *cc]))
    if parent is not None and (
        parent.citizen_id != citizen.pk
        or not (parent.sender_id == sender.pk or parent.recipients.filter(organisation_id=sender.pk).exists())
    ):
        parent = None
    message = _create(
        actor=None,
        message_id=message_id,
        sending=_Sending(
            MessageType.CARE_COMMUNICATION, citizen, sender, receiver, cc, parent.thread if parent else None
        ),
        attachments=attachments,
        parent=parent,
        activity=activity,
        category=category,
        topic=(topic or "").strip()[:200],
        priority=priority,
        text=text.strip(),
        author_name=(author_name or "").strip()[:200],
        author_phone=(author_phone or "").strip()[:40],
    )
    _log(actor, citizen, access_reason(actor, citizen) or ("", ""), "message received from the sender's system")
    return message


# --- inbox state ----------------------------------------------------------------------------------


def _own_recipient(actor: Actor, message: Message) -> Recipient:
    recipient = message.recipients.filter(organisation=actor.acting_organisation, received_at__isnull=False).first()
    if recipient is None:
        raise PermissionDenied
    return recipient


def message_mark_read(*, actor: Actor, message: Message, read: bool = True) -> None:
    """Read state is the user's own: a colleague's inbox still shows the message as new."""
    if read:
        ReadMark.objects.get_or_create(message=message, user=actor.user)
    else:
        ReadMark.objects.filter(message=message, user=actor.user).delete()


def messages_mark_read(*, actor: Actor, messages: Iterable[Message]) -> int:
    """Opening a thread reads every message in it that the organisation received, in one write
    (a long thread must not cost a query per message)."""
    if not actor.acting:
        return 0
    org_id = actor.acting_organisation.pk
    received = [m for m in messages if any(r.organisation_id == org_id and r.received_at for r in m.recipients.all())]
    ReadMark.objects.bulk_create([ReadMark(message=m, user=actor.user) for m in received], ignore_conflicts=True)
    return len(received)


@transaction.atomic
def message_mark_handled(*, actor: Actor, message: Message, handled: bool = True) -> Recipient:
    """Handled is the organisation's state: once a colleague handled it, it is handled for all."""
    recipient = _own_recipient(actor, message)
    recipient.handled_at = timezone.now() if handled else None
    recipient.handled_by = actor.user if handled else None
    recipient.save(update_fields=["handled_at", "handled_by"])
    return recipient


@transaction.atomic
def message_assign(*, actor: Actor, message: Message, user: User | None) -> Recipient:
    recipient = _own_recipient(actor, message)
    if user is not None and not _members(actor.acting_organisation).filter(pk=user.pk).exists():
        raise ValidationError({"assigned_to": [_("Choose a colleague in your own organisation.")]})
    recipient.assigned_to = user
    recipient.save(update_fields=["assigned_to"])
    return recipient


# --- receiving and acknowledgements --------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    code: str
    reason: str
    duplicate: bool


@transaction.atomic
def message_receive(*, recipient: Recipient) -> Receipt:
    """Put the message in the receiver's inbox and acknowledge it.

    A second arrival of the same message (a resend, a redelivery after a worker died) is a
    duplicate: it is counted and logged, answered with the acknowledgement already given, and
    never shown twice (the inbox lists receivers, one row per message and organisation)."""
    recipient = Recipient.objects.select_for_update().select_related("message", "organisation").get(pk=recipient.pk)
    message = recipient.message
    if recipient.received_at is not None:
        Recipient.objects.filter(pk=recipient.pk).update(duplicates=F("duplicates") + 1)
        logger.info("duplicate message %s for organisation %s", message.pk, recipient.organisation_id)
        return Receipt(recipient.ack_code or AckCode.OK, recipient.ack_reason, True)
    now = timezone.now()
    code, reason = AckCode.OK, ""
    if not recipient.organisation.is_active:
        code, reason = AckCode.FATAL_ERROR, _("The receiving organisation is no longer active.")
    recipient.received_at = now if code == AckCode.OK else None
    recipient.save(update_fields=["received_at"])
    if message.type == MessageType.ACKNOWLEDGEMENT:
        _settle(message)
        return Receipt(AckCode.OK, "", False)
    if message.is_cross_organisation:
        acknowledgement_send(message=message, organisation=recipient.organisation, code=code, reason=reason)
    return Receipt(code, reason, False)


def acknowledgement_send(*, message: Message, organisation: Organisation, code: str, reason: str = "") -> Message:
    """The receiver's acknowledgement, as a message back to the sender (at most one per receiver:
    a duplicate gets the one already sent)."""
    existing = Message.objects.filter(acknowledges=message, sender=organisation).first()
    if existing is not None:
        return existing
    ack = Message(
        type=MessageType.ACKNOWLEDGEMENT,
        thread=message.thread,
        citizen=message.citizen,
        sender=organisation,
        acknowledges=message,
        ack_code=code,
        ack_reason=reason,
    )
    ack.save(force_insert=True)
    _enqueue(_add_recipient(ack, message.sender, RecipientRole.PRIMARY)[1])
    return ack


def _settle(ack: Message) -> None:
    """An acknowledgement arrived at the sender: the receiver's row stops waiting (no more resends)."""
    if ack.acknowledges_id is None:
        return
    Recipient.objects.filter(
        message_id=ack.acknowledges_id, organisation_id=ack.sender_id, acknowledged_at__isnull=True
    ).update(ack_code=ack.ack_code, ack_reason=ack.ack_reason, acknowledged_at=timezone.now())


def acknowledgement_record(*, message: Message, organisation: Organisation, code: str, reason: str = "") -> int:
    """An acknowledgement received from outside the portal (an organisation's own system)."""
    if code not in AckCode.values:
        raise ValidationError({"code": [_("Unknown acknowledgement code.")]})
    return Recipient.objects.filter(message=message, organisation=organisation, acknowledged_at__isnull=True).update(
        ack_code=code, ack_reason=reason, acknowledged_at=timezone.now()
    )


def ack_timeout() -> datetime.timedelta:
    return datetime.timedelta(minutes=_setting("MESSAGING_ACK_TIMEOUT_MINUTES", 30))


def max_resends() -> int:
    return _setting("MESSAGING_MAX_RESENDS", 2)


@transaction.atomic
def unacknowledged_resend(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """MedCom reliable messaging: no acknowledgement after the timeout, send again with the same
    message id (a new Bundle id), at most twice; after that, alert the sender's organisation."""
    now = now or timezone.now()
    cutoff = now - ack_timeout()
    waiting = (
        Recipient.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("message", "organisation")
        .filter(
            acknowledged_at__isnull=True,
            last_sent_at__lte=cutoff,
            unacknowledged_alerted_at__isnull=True,
            message__type__in=[MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION],
        )
        .order_by("last_sent_at")[:500]
    )
    counts = {"resent": 0, "alerted": 0}
    for recipient in waiting:
        message = recipient.message
        if recipient.resends < max_resends():
            recipient.resends += 1
            recipient.last_sent_at = now
            recipient.save(update_fields=["resends", "last_sent_at"])
            Message.objects.filter(pk=message.pk).update(bundle_id=uuid.uuid4())
            _enqueue(_deliveries_for(recipient, round_=recipient.resends))
            counts["resent"] += 1
        else:
            recipient.unacknowledged_alerted_at = now
            recipient.save(update_fields=["unacknowledged_alerted_at"])
            notice_send(
                organisation=message.sender,
                citizen=message.citizen,
                kind=NoticeKind.NOT_ACKNOWLEDGED,
                text=_("%(receiver)s has not acknowledged the message “%(message)s” after %(n)d attempts.")
                % {"receiver": recipient.organisation, "message": message, "n": recipient.resends + 1},
                link=reverse("messaging:thread", args=[message.thread_id]),
                key=f"not-acknowledged:{recipient.pk}",
            )
            counts["alerted"] += 1
    return counts


# --- escalation -----------------------------------------------------------------------------------


def escalate_after() -> datetime.timedelta:
    return datetime.timedelta(hours=_setting("MESSAGING_ESCALATE_AFTER_HOURS", 4))


@transaction.atomic
def unhandled_escalate(*, now: datetime.datetime | None = None) -> int:
    """Hospital notifications and 'asap' messages still unhandled after the configured time
    remind the receiving organisation's care coordinators, once."""
    now = now or timezone.now()
    due = (
        Recipient.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("message", "organisation")
        .filter(handled_at__isnull=True, escalated_at__isnull=True, received_at__lte=now - escalate_after())
        .filter(Q(message__type=MessageType.HOSPITAL_NOTIFICATION) | Q(message__priority=Priority.ASAP))
        .order_by("received_at")[:500]
    )
    reminded = 0
    for recipient in due:
        recipient.escalated_at = now
        recipient.save(update_fields=["escalated_at"])
        message = recipient.message
        coordinators = list(
            _members(recipient.organisation, MembershipRole.CARE_COORDINATOR).exclude(email="").order_by("pk")
        )
        notice = notice_send(
            organisation=recipient.organisation,
            citizen=message.citizen,
            kind=NoticeKind.UNHANDLED_REMINDER,
            text=_("“%(message)s” from %(sender)s has not been handled.")
            % {"message": message, "sender": message.sender},
            link=reverse("messaging:thread", args=[message.thread_id]),
            key=f"unhandled:{recipient.pk}",
            assign_to=coordinators[0] if len(coordinators) == 1 else None,
            email_users=coordinators,
        )
        reminded += notice is not None
    return reminded


# --- portal notifications --------------------------------------------------------------------------


@transaction.atomic
def notice_send(**fields: Any) -> Message | None:
    """A portal notification to one organisation (the fields of ``notices.notice_write``), sent
    once this transaction commits; the same ``key`` never notifies twice."""
    notice, deliveries = notice_write(**fields)
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


# --- hospital events --------------------------------------------------------------------------------

STAY_KIND_OF: dict[str, str] = {HospitalCode.STAA: StayKind.ACUTE_AMBULANT, HospitalCode.STIN: StayKind.INPATIENT}


def _notification_receivers(citizen: Citizen) -> tuple[Organisation, list[Organisation]]:
    municipality = citizen.municipality
    if municipality is None:
        raise ValidationError(_("The citizen has no municipality to notify."))
    cc = [citizen.gp_clinic] if citizen.gp_clinic is not None else []
    return municipality, cc


def _apply_to_stay(
    *, citizen: Citizen, department: Organisation, code: str, at: datetime.datetime
) -> HospitalStay | None:
    current = HospitalStay.objects.select_for_update().filter(citizen=citizen, discharged_at__isnull=True).first()
    if code in STAY_KIND_OF:
        return hospital_stay_start(citizen=citizen, department=department, admitted_at=at, kind=STAY_KIND_OF[code])
    if current is None or current.department_id != department.pk:
        # Says nothing of a stay elsewhere: the recording department may not see the citizen.
        raise ValidationError({"code": [_("The citizen has no current stay at your department.")]})
    if code == HospitalCode.STOR:
        if current.kind != StayKind.INPATIENT or current.on_leave:
            raise ValidationError({"code": [_("Leave starts only during an inpatient stay, not already on leave.")]})
        current.on_leave = True
        current.save(update_fields=["on_leave"])
        return current
    if code == HospitalCode.SLOR:
        if not current.on_leave:
            raise ValidationError({"code": [_("The citizen is not on leave.")]})
        current.on_leave = False
        current.save(update_fields=["on_leave"])
        return current
    stay = hospital_stay_end(citizen=citizen, discharged_at=at)
    if code == HospitalCode.MORS:
        Citizen.objects.filter(pk=citizen.pk).update(deceased_at=at)
    return stay


def _notify(
    *,
    actor: Actor,
    citizen: Citizen,
    department: Organisation,
    code: str,
    at: datetime.datetime,
    stay,
    revision,
    revises,
    message_id: uuid.UUID | None = None,
    given_name: str = "",
    given_address: str = "",
) -> Message:
    receiver, cc = _notification_receivers(citizen)
    message = _create(
        actor=actor,
        message_id=message_id,
        sending=_Sending(
            MessageType.HOSPITAL_NOTIFICATION, citizen, department, receiver, cc, revises.thread if revises else None
        ),
        hospital_code=code,
        revision=revision,
        revises=revises,
        department=department,
        stay=stay,
        occurred_at=at,
        text="",
        given_name=given_name,
        given_address=given_address,
    )
    _enqueue(hospital_coordinators_write(message=message))  # the care plans' coordinators
    return message


@transaction.atomic
def hospital_event_record(
    *,
    actor: Actor,
    citizen: Citizen,
    code: str,
    occurred_at: datetime.datetime,
    message_id: uuid.UUID | None = None,
    given_name: str = "",
    given_address: str = "",
) -> HospitalEvent:
    """Admission, leave, end of leave, discharge or death: the stay changes and the citizen's
    municipality is told (copy to the GP clinic), with no consent needed (the Health Act).
    ``given_*``: a sender's differing name and address, kept on the message as given."""
    department = require_hospital_recorder(actor)
    if code not in HospitalCode.values:
        raise ValidationError({"code": [_("Choose a hospital event.")]})
    HospitalEvent(citizen=citizen, occurred_at=occurred_at).clean()  # in the citizen's life, not ahead
    # Read (and lock) the citizen afresh: two events for the same citizen are applied one after
    # the other, and a death recorded meanwhile is seen.
    citizen = Citizen.objects.select_for_update().get(pk=citizen.pk)
    if citizen.deceased_at is not None:
        raise ValidationError({"citizen": [_("The citizen is registered as deceased.")]})
    known = organisation_sees(department, citizen)
    stay = _apply_to_stay(citizen=citizen, department=department, code=code, at=occurred_at)
    message = _notify(
        actor=actor, citizen=citizen, department=department, code=code, at=occurred_at, stay=stay,
        revision=Revision.NEW, revises=None, message_id=message_id, given_name=given_name, given_address=given_address,
    )  # fmt: skip
    event = HospitalEvent.objects.create(
        citizen=citizen, department=department, code=code, occurred_at=occurred_at, stay=stay,
        message=message, recorded_by=actor.user,
    )  # fmt: skip
    hospital_event_log(actor=actor, citizen=citizen, code=code, occurred_at=occurred_at, had_relationship=known)
    return event


def _require_revisable(actor: Actor, event: HospitalEvent) -> HospitalEvent:
    """The event as it is now (locked), so a second correction of the same event is refused."""
    if event.department_id != require_hospital_recorder(actor).pk:
        raise PermissionDenied
    event = HospitalEvent.objects.select_for_update().get(pk=event.pk)
    if event.superseded:
        raise ValidationError(_("The event has already been corrected or cancelled."))
    later = HospitalEvent.objects.filter(
        citizen_id=event.citizen_id, superseded=False, revision__in=[Revision.NEW, Revision.CORRECTION]
    ).filter(Q(occurred_at__gt=event.occurred_at) | Q(occurred_at=event.occurred_at, pk__gt=event.pk))
    if later.exclude(pk=event.pk).exists():
        raise ValidationError(_("Only the latest event of the stay can be corrected or cancelled."))
    return event


@transaction.atomic
def hospital_event_correct(
    *, actor: Actor, event: HospitalEvent, occurred_at: datetime.datetime, message_id: uuid.UUID | None = None
) -> HospitalEvent:
    """A correction (RE_) of the time of the latest event: the stay follows, and the municipality
    gets a correction that points at the first notification."""
    event = _require_revisable(actor, event)
    HospitalEvent(citizen_id=event.citizen_id, occurred_at=occurred_at).clean()
    stay = event.stay
    if stay is not None:
        if event.code in STAY_KIND_OF:
            stay.admitted_at = occurred_at
        elif event.code in (HospitalCode.SLHJ, HospitalCode.MORS):
            stay.discharged_at = occurred_at
        stay.full_clean()
        stay.save()
    if event.code == HospitalCode.MORS:
        Citizen.objects.filter(pk=event.citizen_id).update(deceased_at=occurred_at)
    return _revise(actor, event, Revision.CORRECTION, occurred_at, stay, message_id)


@transaction.atomic
def hospital_event_cancel(*, actor: Actor, event: HospitalEvent, message_id: uuid.UUID | None = None) -> HospitalEvent:
    """A cancellation (AN_) withdraws the latest event: the stay is put back as it was before."""
    event = _require_revisable(actor, event)
    stay = event.stay
    if stay is not None:
        if event.code in STAY_KIND_OF:
            # A transfer closed the stay before at the moment of admission: it is current again.
            previous = (
                HospitalStay.objects.filter(citizen_id=event.citizen_id, discharged_at=stay.admitted_at)
                .exclude(pk=stay.pk)
                .first()
            )
            stay.delete()
            stay = None
            if previous is not None:
                previous.discharged_at = None
                previous.save(update_fields=["discharged_at"])
        elif event.code == HospitalCode.STOR:
            stay.on_leave = False
            stay.save(update_fields=["on_leave"])
        elif event.code == HospitalCode.SLOR:
            stay.on_leave = True
            stay.save(update_fields=["on_leave"])
        else:
            if HospitalStay.objects.filter(citizen_id=event.citizen_id, discharged_at__isnull=True).exists():
                raise ValidationError(_("The citizen has a newer stay; the discharge cannot be cancelled."))
            stay.discharged_at = None
            stay.save(update_fields=["discharged_at"])
    if event.code == HospitalCode.MORS:
        Citizen.objects.filter(pk=event.citizen_id).update(deceased_at=None)
    return _revise(actor, event, Revision.CANCELLATION, event.occurred_at, stay, message_id)


def _revise(
    actor: Actor,
    event: HospitalEvent,
    revision: str,
    at: datetime.datetime,
    stay,
    message_id: uuid.UUID | None = None,
) -> HospitalEvent:
    citizen = Citizen.objects.get(pk=event.citizen_id)
    HospitalEvent.objects.filter(pk=event.pk).update(superseded=True)
    message = _notify(
        actor=actor, citizen=citizen, department=event.department, code=event.code, at=at, stay=stay,
        revision=revision, revises=event.message, message_id=message_id,
    )  # fmt: skip
    revised = HospitalEvent.objects.create(
        citizen=citizen, department=event.department, code=event.code, revision=revision, revises=event,
        occurred_at=at, stay=stay, message=message, recorded_by=actor.user,
        superseded=revision == Revision.CANCELLATION,
    )  # fmt: skip
    access_log_record(actor=actor, citizens=citizen, action=AccessAction.UPDATE, detail=f"hospital event {revision}")
    return revised


# --- operations -----------------------------------------------------------------------------------


@transaction.atomic
def delivery_retry(*, actor: Actor, delivery: Delivery) -> Delivery:
    """An organisation administrator (or a superuser) sends a failed delivery again: only a
    delivery of a message the organisation sent or received (the operations page lists no other)."""
    if not actor.user.is_superuser:
        if not (actor.acting and actor.acting.is_organisation_admin):
            raise PermissionDenied
        org_id = actor.acting_organisation.pk
        if org_id not in delivery_organisation_ids(delivery):
            raise PermissionDenied
    if delivery.status != DeliveryStatus.FAILED:
        raise ValidationError(_("Only failed deliveries can be retried."))
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.claimed_at = None
    delivery.save(update_fields=["status", "next_attempt_at", "claimed_at"])
    _enqueue([delivery])
    return delivery


def email_preference_set(*, user: User, message_type: str, mode: str) -> EmailPreference:
    if message_type not in MessageType.values or message_type == MessageType.ACKNOWLEDGEMENT:
        raise ValidationError({"message_type": [_("Choose a message type.")]})
    if mode not in EmailMode.values:
        raise ValidationError({"mode": [_("Choose immediately, daily digest or off.")]})
    preference, _created = EmailPreference.objects.update_or_create(
        user=user, message_type=message_type, defaults={"mode": mode}
    )
    return preference
