"""A CareCommunication posted to ``$process-message``: checked against MedCom's rules
(dk-medcom-carecommunication) and handed to ``services.message_import``, the same service path as
a message written in the portal.

The message text is the Communication's text payloads; an attachment with data becomes a file
(named after the type its content has), one with only a URL a link below the text. The author is
read from the first text payload's practitioner and contact extensions.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from .. import services
from ..choices import Activity, Priority
from ..models import Attachment, Message
from . import codes
from .checks import check_length, check_patient_lengths, check_provenance, check_receivers
from .errors import Reject
from .gateway import check_gateway_receivers
from .intake import Incoming
from .parsing import MessageBundle, code_of
from .patients import check_person, citizen_of

CARE_ACTIVITIES = {Activity.NEW.value, Activity.REPLY.value, Activity.FORWARD.value}
# MedCom's other CareCommunication activities: known, but not something the portal can show.
CARE_ACTIVITIES_UNSUPPORTED = {"retract-message", "modified-message"}
PAYLOAD_AUTHOR = "medcom-core-practitioner-extension"
PAYLOAD_CONTACT = "medcom-core-contact-extension"


def care_communication_receive(incoming: Incoming) -> Message:
    """The CareCommunication as a message in the receiver's inbox; a broken rule raises ``Reject``."""
    msg = incoming.msg
    receiver, cc = check_receivers(msg)
    check_gateway_receivers(incoming.gateway, [receiver, *cc])
    incoming.receiver = receiver
    communication = msg.focus("Communication")
    if communication is None:
        raise Reject("MSG_RESOURCE_REQUIRED", _("A CareCommunication must have a Communication."), "required")
    person = check_person(msg, communication)
    provenance, activity = check_provenance(msg)
    if activity in CARE_ACTIVITIES_UNSUPPORTED:
        raise Reject(
            "MSG_RECEIVER_UNABLE_TO_RECEIVE_MSG_TYPE",
            _("The portal does not receive CareCommunications with the activity '%(activity)s'.")
            % {"activity": activity},
            "not-supported",
        )
    if activity not in CARE_ACTIVITIES:
        raise Reject(
            "MSG_CodeSystem_VALUE_UNKNOWN",
            _("'%(activity)s' is not a CareCommunication activity.") % {"activity": activity},
            "code-invalid",
        )
    category = code_of(communication.get("category", [None])[0] if communication.get("category") else None)
    if category not in codes.CATEGORIES:
        raise Reject(
            "MSG_VALUESET_VALUE_UNKNOWN",
            _("'%(category)s' is not a CareCommunication category.") % {"category": category},
            "code-invalid",
        )
    topic = ((communication.get("topic") or {}).get("text") or "").strip()
    if category == "other" and not topic:
        raise Reject("MSG_RESOURCE_REQUIRED", _("A topic is required when the category is 'other'."), "required")
    priority = communication.get("priority") or Priority.ROUTINE
    if priority not in Priority.values:
        raise Reject(
            "MSG_VALUESET_VALUE_UNKNOWN",
            _("The priority must be 'asap' (or left out)."),
            "code-invalid",
        )
    if priority == Priority.ASAP and category != "regarding-referral":
        raise Reject(
            "MSG_PARAM_INVALID",
            _("Priority 'asap' is only allowed when the category is 'regarding-referral'."),
            "business-rule",
        )
    texts, attachments, links, author_name, author_phone = _payload(msg, communication)
    check_length(Message, "topic", topic, "Communication.topic")
    check_length(Message, "author_name", author_name, "Practitioner.name")
    check_length(Message, "author_phone", author_phone, "ContactPoint.value")
    if not texts:
        raise Reject("MSG_RESOURCE_REQUIRED", _("The Communication must have a message text."), "required")
    check_patient_lengths([person.resource])
    citizen = citizen_of(person, by=incoming.actor(), receiver=receiver)
    earlier = msg.earlier_header_id(provenance)
    parent = Message.objects.filter(header_id=earlier).first() if earlier else None
    text = "\n\n".join(texts + links)
    return services.message_import(
        actor=incoming.actor(),
        header_id=msg.header_id,
        citizen=citizen,
        receiver=receiver,
        cc=cc,
        category=category,
        topic=topic,
        priority=priority,
        text=text,
        activity=activity,
        parent=parent,
        answers=earlier or "",
        author_name=author_name,
        author_phone=author_phone,
        attachments=attachments,
    )


def _payload(msg: MessageBundle, communication: dict[str, Any]):
    texts: list[str] = []
    attachments: list[SimpleUploadedFile] = []
    links: list[str] = []
    author_name = author_phone = ""
    for payload in communication.get("payload") or []:
        if payload.get("contentString"):
            texts.append(payload["contentString"].strip())
            if not author_name:
                author_name, author_phone = _author(msg, payload)
        attachment = payload.get("contentAttachment")
        if attachment:
            title = (attachment.get("title") or "").strip() or _("attachment")
            if attachment.get("data"):
                try:
                    content = base64.b64decode(attachment["data"], validate=True)
                except (binascii.Error, ValueError):
                    raise Reject("MSG_Datatype_Wrong", _("An attachment is not valid base64."), "value") from None
                # MedCom's title has no file extension; the message service names the file
                # after the type its content has (``messaging.attachments.attachment_name``).
                check_length(Attachment, "filename", title, "Attachment.title")
                attachments.append(SimpleUploadedFile(title, content))
            elif attachment.get("url"):
                links.append(f"{title}: {attachment['url']}")
    return texts, attachments, links, author_name, author_phone


def _author(msg: MessageBundle, payload: dict[str, Any]) -> tuple[str, str]:
    name = phone = ""
    for extension in payload.get("extension") or []:
        url = extension.get("url") or ""
        if url.endswith(PAYLOAD_CONTACT):
            phone = (extension.get("valueContactPoint") or {}).get("value") or ""
        elif url.endswith(PAYLOAD_AUTHOR):
            who = msg.resolve(extension.get("valueReference"))
            if who and who.get("resourceType") == "PractitionerRole":
                who = msg.resolve(who.get("practitioner"), "Practitioner")
            for human in (who or {}).get("name") or []:
                name = human.get("text") or " ".join([*(human.get("given") or []), human.get("family") or ""])
                break
    return name.strip(), phone
