"""Care communication: send, reply, forward, and import from a sender's own system."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor, access_reason, organisation_sees
from citizens.models import Citizen
from sectors.models import Organisation
from smartcare.transactions import retry_on_deadlock

from ..checks import (
    check,
    content_errors,
    forward_errors,
    incoming_receiver_errors,
    reply_errors,
    send_errors,
)
from ..choices import Activity, Category, MessageType, Priority
from ..models import Attachment, Message, Thread
from .routing import _create, _log, _require_access, _Sending, relationship_from_message_flag


@retry_on_deadlock
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


@retry_on_deadlock
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


@retry_on_deadlock
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


@retry_on_deadlock
@transaction.atomic
def message_import(
    *,
    actor: Actor,
    header_id: str,
    citizen: Citizen,
    receiver: Organisation,
    category: str,
    text: str,
    topic: str = "",
    priority: str = Priority.ROUTINE,
    cc: Sequence[Organisation] = (),
    activity: str = Activity.NEW,
    parent: Message | None = None,
    answers: str = "",
    author_name: str = "",
    author_phone: str = "",
    attachments: Sequence[UploadedFile] = (),
) -> Message:
    """A care communication that the sender's own system sent as a MedCom bundle
    (``$process-message``). It goes through the same rules and machinery as one written in the
    portal (receivers, deliveries, acknowledgements, threads); it keeps the MessageHeader id
    (``header_id``, any FHIR id), its key derived from it (``ids.message_key``).

    Receiving is the receiver's business: the sender needs no relationship with the citizen (a
    hospital anywhere in Denmark writes to the municipality that cares for them), and any active
    organisation of the portal may receive it, gaining a relationship with the citizen by it. A
    reply or forward joins the thread of the earlier message when the sender took part in it,
    otherwise it starts a thread of its own (the earlier message may never have passed through
    the portal). ``answers``: the MessageHeader id the reply or forward names; while that message
    is not here the reply waits in a thread of its own, and joins the earlier message's thread
    when it arrives (``_stitch``)."""
    sender = actor.organisation
    if sender is None:
        raise ValidationError({"sender": [_("The message has no sender.")]})
    check(content_errors(text=text, category=category, topic=topic, priority=priority))
    if activity not in Activity.values:
        raise ValidationError({"activity": [_("Unknown activity.")]})
    check(incoming_receiver_errors([receiver, *cc]))
    new_to = [org for org in [receiver, *cc] if not organisation_sees(org, citizen, include_messages=True)]
    if parent is not None and (
        parent.citizen_id != citizen.pk
        or not (parent.sender_id == sender.pk or parent.recipients.filter(organisation_id=sender.pk).exists())
    ):
        parent = None
    message = _create(
        actor=None,
        header_id=header_id,
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
    if answers and parent is None:
        Message.objects.filter(pk=message.pk).update(answers_header_id=answers)
    for organisation in new_to:
        relationship_from_message_flag(actor=actor, citizen=citizen, receiver=organisation)
    _stitch(message)
    _log(actor, citizen, access_reason(actor, citizen) or ("", ""), "message received from the sender's system")
    return message


def _stitch(message: Message) -> None:
    """Replies and forwards that arrived before ``message`` (they name its MessageHeader id) join
    its thread, with everything that followed them, when their sender took part in it."""
    took_part = {message.sender_id, *message.recipients.values_list("organisation_id", flat=True)}
    waiting = Message.objects.filter(
        answers_header_id=message.header_id, parent__isnull=True, citizen_id=message.citizen_id
    ).exclude(pk=message.pk)
    for reply in waiting:
        if reply.sender_id not in took_part:
            continue
        old_thread = reply.thread_id
        Message.objects.filter(thread_id=old_thread).update(thread_id=message.thread_id)
        Message.objects.filter(pk=reply.pk).update(parent=message, answers_header_id="")
        Thread.objects.filter(pk=old_thread).delete()
        last = Message.objects.filter(thread_id=message.thread_id).order_by("-sent_at").values("sent_at")[:1]
        Thread.objects.filter(pk=message.thread_id).update(last_message_at=Subquery(last))
