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
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor, access_reason
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction, ReviewKind
from citizens.models import Citizen, HospitalStay
from citizens.reviews import access_review_flag
from sectors.models import Organisation

from ..attachments import attachment_name, attachment_type
from ..checks import max_message_bytes
from ..choices import Activity, Channel, MessageType, Priority, RecipientRole, Revision
from ..enqueue import deliver_on_commit
from ..ids import message_key
from ..models import Attachment, Delivery, Message, Recipient, Thread, WebhookEndpoint
from ..notices import members_to_email_by_organisation as _members_to_email

# A message's references that the service holds as rows it has read or written in this
# transaction: asking the database whether they exist would cost a query each.
_HELD_REFERENCES = ["thread", "parent", "citizen", "sender", "author", "revises", "department", "stay"]


def _setting(name: str, default):
    return getattr(settings, name, default)


def _require_access(actor: Actor, citizen: Citizen) -> tuple[str, str]:
    if not actor.acting:
        raise PermissionDenied
    reason = access_reason(actor, citizen)
    if reason is None:
        raise PermissionDenied
    return reason


def _add_recipient(message: Message, organisation_id: int, role: str) -> list[Delivery]:
    """One receiver (an acknowledgement's) and its deliveries."""
    recipient = Recipient.objects.create(message=message, organisation_id=organisation_id, role=role)
    return _deliveries_for_all(message, [recipient])


def _add_recipients(message: Message, organisation_ids: Sequence[int]) -> list[Delivery]:
    """The receivers (the first primary, the others copies) and their deliveries: one insert of
    the receivers and one of the deliveries however many there are."""
    recipients = Recipient.objects.bulk_create(
        Recipient(message=message, organisation_id=org_id, role=RecipientRole.PRIMARY if i == 0 else RecipientRole.CC)
        for i, org_id in enumerate(organisation_ids)
    )
    return _deliveries_for_all(message, recipients)


def _deliveries_for(recipient: Recipient, round_: int = 0) -> list[Delivery]:
    """In-app always; e-mail to subscribed members; the organisation's own system if it has one.
    ``round_`` numbers resends, so their idempotency keys differ from the first sending's."""
    return _deliveries_for_all(recipient.message, [recipient], round_)


def _deliveries_for_all(message: Message, recipients: Sequence[Recipient], round_: int = 0) -> list[Delivery]:
    """``_deliveries_for`` of several receivers of one message, in a fixed number of queries (the
    members who want e-mail and the active webhooks of all of them at once)."""
    org_ids = [recipient.organisation_id for recipient in recipients]
    emails = (
        _members_to_email(org_ids, message.type) if not round_ and message.type != MessageType.ACKNOWLEDGEMENT else {}
    )
    # Which receivers have their own system, and which are outside the portal, in one query.
    reached = Organisation.objects.filter(pk__in=org_ids).values_list(
        "pk",
        "is_external",
        Exists(WebhookEndpoint.objects.filter(organisation_id=OuterRef("pk"), active=True)),
    )
    hooked, external = set(), set()
    for pk, is_external, has_webhook in reached:
        if has_webhook:
            hooked.add(pk)
        if is_external:
            external.add(pk)
    suffix = f":r{round_}" if round_ else ""
    rows = []
    for recipient in recipients:
        base = f"{message.pk}:{recipient.organisation_id}"
        if recipient.organisation_id in external:
            # No inbox and no members outside the portal: the gateway carries the bundle, and the
            # receiver's acknowledgement comes back through it (``$process-message``).
            rows.append(
                Delivery(message=message, recipient=recipient, channel=Channel.WEBHOOK, key=f"{base}:gateway{suffix}")
            )
            continue
        rows.append(
            Delivery(message=message, recipient=recipient, channel=Channel.IN_APP, key=f"{base}:in-app{suffix}")
        )
        rows += [
            Delivery(
                message=message, recipient=recipient, channel=Channel.EMAIL, user=user, key=f"{base}:email:{user.pk}"
            )
            for user in emails.get(recipient.organisation_id, [])
        ]
        if recipient.organisation_id in hooked:
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
    header_id: str | None = None,
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
    """``header_id`` is given for a message received as a MedCom bundle: the message keeps its
    MessageHeader id and its key is derived from it (``ids.message_key``), so a resend is
    recognised whichever way it came in. A portal message's MessageHeader id is its own UUID.
    Without an ``author_name`` the acting user's name is the author's."""
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
    message_id = message_key(header_id) if header_id else uuid.uuid4()
    message = Message(
        id=message_id,
        header_id=header_id or str(message_id),
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
    _full_clean(message)
    message.save(force_insert=True)
    for upload, mime in zip(attachments, kinds, strict=True):
        Attachment.objects.create(
            message=message,
            file=upload,
            filename=attachment_name(upload.name, mime),
            content_type=mime,
            size=upload.size or 0,
        )
    _enqueue(_add_recipients(message, [org.pk for org in receivers]))
    return message


def _full_clean(message: Message) -> None:
    """The message's own rules (lengths, choices, its dates in the citizen's life) without a query.
    Its id is new (a uuid4, or the key of a MessageHeader id the intake found unused; a concurrent
    twin fails on the primary key or ``message_header_id_unique`` and is answered as a
    duplicate), and the checks its constraints make were made by the callers' checks
    (``messaging.checks``) and ``Message.clean``; the database still enforces them. Checking them
    here cost a dozen round trips per message."""
    message.full_clean(exclude=_HELD_REFERENCES, validate_unique=False, validate_constraints=False)


def relationship_from_message_flag(*, actor: Actor, citizen: Citizen, receiver: Organisation) -> None:
    """A message gave ``receiver`` a relationship with a citizen it had none with: put it on the
    access review list of the receiver's (and its region's) administrators."""
    access_review_flag(
        actor=actor,
        citizen=citizen,
        kind=ReviewKind.RECEIVED_MESSAGE,
        organisation=receiver,
        reason=_("%(receiver)s received a message from %(sender)s about a citizen it had no relationship with.")
        % {"receiver": receiver.name, "sender": actor.organisation.name if actor.organisation else "?"},
    )


def _log(actor: Actor, citizen: Citizen, reason: tuple[str, str], detail: str) -> None:
    access_log_record(
        actor=actor,
        citizens=citizen,
        action=AccessAction.UPDATE,
        detail=detail,
        reason=reason[0],
        reason_text=reason[1],
    )
