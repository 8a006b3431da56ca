"""How a message is written and routed: its receivers, their deliveries per channel, the access
check and log every write shares. Used by the other service modules, never by views.

Every message is written together with one ``Recipient`` per receiving organisation and one
``Delivery`` per receiver and channel, in the transaction of the change that caused it; the
worker is told the delivery ids once that transaction commits (``messaging.delivery``)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor, access_reason
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.models import Citizen, HospitalStay
from sectors.models import Organisation

from ..attachments import attachment_name, attachment_type
from ..checks import max_message_bytes
from ..choices import Activity, Channel, MessageType, Priority, RecipientRole, Revision
from ..enqueue import deliver_on_commit
from ..models import Attachment, Delivery, Message, Recipient, Thread
from ..notices import members_to_email as _members_to_email


def _setting(name: str, default):
    return getattr(settings, name, default)


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
    text: str,
    attachments: Sequence[UploadedFile] = (),
    message_id: uuid.UUID | None = None,
    parent: Message | None = None,
    activity: str = Activity.NEW,
    category: str = "",
    topic: str = "",
    priority: str = Priority.ROUTINE,
    author_name: str = "",
    author_phone: str = "",
    hospital_code: str = "",
    revision: str = Revision.NEW,
    revises: Message | None = None,
    department: Organisation | None = None,
    stay: HospitalStay | None = None,
    occurred_at: datetime.datetime | None = None,
    given_name: str = "",
    given_address: str = "",
) -> Message:
    """``message_id`` is given for a message received as a MedCom bundle: its MessageHeader id
    becomes the message's id, so a resend is recognised whichever way it came in. Without an
    ``author_name`` the acting user's name is the author's."""
    receivers = [sending.receiver, *[org for org in sending.cc if org.pk != sending.receiver.pk]]
    if len({org.pk for org in receivers}) != len(receivers):
        raise ValidationError({"cc": [_("An organisation is named more than once.")]})
    if any(org.pk == sending.sender.pk for org in receivers) and sending.type != MessageType.NOTIFICATION:
        raise ValidationError({"receiver": [_("A message cannot be sent to your own organisation.")]})
    size = len(text.encode()) + sum(upload.size or 0 for upload in attachments)
    if size > max_message_bytes():
        raise ValidationError(
            {"attachments": [_("A message is at most %(mb)d MB.") % {"mb": max_message_bytes() // (1024 * 1024)}]}
        )
    kinds = [attachment_type(upload) for upload in attachments]
    now = timezone.now()
    thread = sending.thread
    if thread is None:
        thread = Thread.objects.create(citizen=sending.citizen, category=category, topic=topic, created_at=now)
    else:
        Thread.objects.filter(pk=thread.pk).update(last_message_at=now)
    user = actor.user if actor else None
    message = Message(
        id=message_id or uuid.uuid4(),
        type=sending.type,
        thread=thread,
        citizen=sending.citizen,
        sender=sending.sender,
        author=user,
        author_name=author_name or (user.get_full_name() if user else "") or "",
        author_phone=author_phone,
        parent=parent,
        activity=activity,
        category=category,
        topic=topic,
        priority=priority,
        text=text,
        hospital_code=hospital_code,
        revision=revision,
        revises=revises,
        department=department,
        stay=stay,
        occurred_at=occurred_at,
        given_name=given_name,
        given_address=given_address,
        sent_at=now,
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
