"""Reads for messages: inboxes, sent boxes, threads, deliveries. Every message is about a
citizen, so every read goes through the access policy (``citizens.access``) and is logged; a
message about a citizen the organisation may no longer see answers 404 like a missing one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Count, F, Model, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens.access import Actor, access_reason, citizen_visible
from citizens.accesslog import access_log_record
from citizens.choices import AccessAction
from citizens.cpr import normalise_cpr
from citizens.models import Citizen
from sectors.choices import OrganisationKind
from sectors.models import LocationNumber, Organisation, User
from sectors.selectors import outgoing_gateway
from smartcare.pagination import capped_label

from . import hospital_rules
from .choices import Channel, EmailMode, MessageType
from .digests import NOT_IN_THE_INBOX, digest_members
from .filtersets import MessageFilterSet, SentMessageFilterSet, read_by
from .models import (
    Delivery,
    DeliveryAttempt,
    EmailPreference,
    HospitalEvent,
    Message,
    Recipient,
    Thread,
    WebhookEndpoint,
)

M = TypeVar("M", bound=Model)

SHOWN_TYPES = [MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION, MessageType.NOTIFICATION]


def _log_rows(actor: Actor, citizens: Iterable[Citizen], detail: str, action: str = AccessAction.LIST) -> None:
    unique = list({c.pk: c for c in citizens}.values())
    if unique:
        access_log_record(actor=actor, citizens=unique, action=action, detail=detail)


def _filtered(
    queryset: QuerySet[M], filterset_class: type, filters: Mapping[str, Any] | None, **kwargs: Any
) -> QuerySet[M]:
    """Invalid filters list nothing rather than more than was asked for (the page and the API
    refuse them before they get here)."""
    filterset = filterset_class(filters or {}, queryset=queryset, **kwargs)
    return filterset.qs if filterset.is_valid() else queryset.none()


def inbox(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Recipient]:
    """The organisation's received messages, newest first, one row per message (a duplicate
    arrival never adds a row); ``is_read`` is the user's own read state. ``filters`` are
    ``MessageFilterSet``'s."""
    if not actor.acting:
        return Recipient.objects.none()
    qs = (
        Recipient.objects.filter(
            organisation_id=actor.acting_organisation.pk,
            received_at__isnull=False,
            message__type__in=SHOWN_TYPES,
        )
        .filter(citizen_visible(actor.acting, actor.user, "message__citizen_id"))
        .exclude(message__notice_kind__in=NOT_IN_THE_INBOX)
        .select_related("message__sender", "message__department", "message__citizen", "message__thread", "assigned_to")
        .annotate(is_read=read_by(actor.user.pk))
        .order_by("-received_at", "-pk")
    )
    return _filtered(qs, MessageFilterSet, filters, user=actor.user)


def sent_box(*, actor: Actor, filters: Mapping[str, Any] | None = None) -> QuerySet[Message]:
    """The organisation's sent messages, newest first; ``filters`` are ``SentMessageFilterSet``'s."""
    if not actor.acting:
        return Message.objects.none()
    qs = (
        Message.objects.filter(
            sender_id=actor.acting_organisation.pk,
            type__in=[MessageType.CARE_COMMUNICATION, MessageType.HOSPITAL_NOTIFICATION],
        )
        .filter(citizen_visible(actor.acting, actor.user))
        .select_related("citizen", "thread", "author")
        .prefetch_related(Prefetch("recipients", queryset=Recipient.objects.select_related("organisation")))
        .order_by("-sent_at", "pk")
    )
    return _filtered(qs, SentMessageFilterSet, filters)


def log_listed(*, actor: Actor, citizens: Iterable[Citizen], detail: str, action: str = AccessAction.LIST) -> None:
    """List pages and endpoints log the citizens of the rows they actually show (the API as api_read)."""
    _log_rows(actor, citizens, detail, action)


# The navigation shows "99+" beyond this: counting a busy municipality's whole inbox on every page
# would cost more than the number is worth.
UNREAD_CAP = 99


def unread_count(*, actor: Actor, cap: int | None = None) -> int:
    """The user's unread messages, counted up to ``cap`` + 1 (more than ``cap`` shows as "cap+")."""
    if not actor.acting:
        return 0
    cap = UNREAD_CAP if cap is None else cap
    return inbox(actor=actor, filters={"unread": "1"}).order_by()[: cap + 1].count()


def inbox_count(*, actor: Actor, filters: Mapping[str, Any], cap: int | None = None) -> int:
    """The inbox's rows for these filters (as the inbox lists them), counted up to ``cap`` + 1
    like ``unread_count``. A count is no citizen data: nothing to log."""
    if not actor.acting:
        return 0
    cap = UNREAD_CAP if cap is None else cap
    return inbox(actor=actor, filters=filters).order_by()[: cap + 1].count()


def unread_label(count: int, cap: int | None = None) -> str:
    return capped_label(count, UNREAD_CAP if cap is None else cap)


def _involved(org_id: int) -> Q:
    return Q(sender_id=org_id) | Q(recipients__organisation_id=org_id, recipients__received_at__isnull=False)


def thread_messages(*, actor: Actor, thread: Thread) -> QuerySet[Message]:
    """The thread's messages this organisation sent or received, in order (a third party that got
    a forward sees the forward and what follows, not the earlier exchange)."""
    return (
        Message.objects.filter(thread=thread, type__in=SHOWN_TYPES)
        .filter(_involved(actor.acting_organisation.pk))
        .distinct()
        .select_related("sender", "sender__parent", "author", "department", "revises", "parent")
        .prefetch_related(
            "attachments",
            Prefetch("recipients", queryset=Recipient.objects.select_related("organisation", "assigned_to")),
        )
        .order_by("sent_at", "pk")
    )


def thread_get(*, actor: Actor, pk: Any, action: str = AccessAction.VIEW) -> Thread:
    """A thread the organisation takes part in, about a citizen it may see; 404 otherwise. The
    read is logged with the reason for access."""
    if not actor.acting:
        raise Http404
    try:
        thread = Thread.objects.select_related("citizen").get(pk=pk)
    except (Thread.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc
    if not Message.objects.filter(thread=thread).filter(_involved(actor.acting_organisation.pk)).exists():
        raise Http404
    reason = access_reason(actor, thread.citizen)
    if reason is None:
        raise Http404
    access_log_record(
        actor=actor, citizens=thread.citizen, action=action, detail="message thread", reason=reason[0],
        reason_text=reason[1],
    )  # fmt: skip
    return thread


def message_get(*, actor: Actor, pk: Any, action: str | None = AccessAction.VIEW) -> Message:
    """One message the organisation sent or received, about a citizen it may see; 404 otherwise.
    ``action=None`` is for a write (reply, forward), which the service logs itself."""
    if not actor.acting:
        raise Http404
    try:
        message = (
            Message.objects.select_related("citizen", "sender", "thread", "department", "revises")
            .filter(_involved(actor.acting_organisation.pk))
            .distinct()
            .get(pk=pk)
        )
    except (Message.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise Http404 from exc
    reason = access_reason(actor, message.citizen)
    if reason is None:
        raise Http404
    if action:
        access_log_record(
            actor=actor, citizens=message.citizen, action=action, detail="message", reason=reason[0],
            reason_text=reason[1],
        )  # fmt: skip
    return message


def citizen_messages(*, actor: Actor, citizen: Citizen, limit: int = 10) -> list[Message]:
    """For the citizen overview (which has already checked and logged the read)."""
    if not actor.acting:
        return []
    return list(
        Message.objects.filter(citizen=citizen, type__in=SHOWN_TYPES)
        .exclude(notice_kind__in=NOT_IN_THE_INBOX)
        .filter(_involved(actor.acting_organisation.pk))
        .distinct()
        .select_related("sender", "thread")
        .order_by("-sent_at")[:limit]
    )


def deliveries(*, actor: Actor, failed_only: bool = False) -> QuerySet[Delivery]:
    """Deliveries to the organisation or of its messages (operations page and API), its e-mail
    notices, and the daily digests of its members. Only what the organisation sent or received;
    never another organisation's."""
    if not actor.acting:
        return Delivery.objects.none()
    org_id = actor.acting_organisation.pk
    of_messages = (Q(recipient__organisation_id=org_id) | Q(message__sender_id=org_id)) & Q(
        citizen_visible(actor.acting, actor.user, "message__citizen_id")
    )
    of_members = Q(channel=Channel.EMAIL_DIGEST, user_id__in=digest_members(org_id))
    of_notices = Q(channel=Channel.EMAIL_NOTICE, email_notice__organisation_id=org_id)
    qs = (
        Delivery.objects.filter(of_messages | of_members | of_notices)
        .select_related("message", "recipient__organisation", "user", "digest", "email_notice__organisation")
        .prefetch_related(Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at", "pk")))
        .order_by("-created_at", "-pk")
    )
    if failed_only:
        qs = qs.filter(status="failed")
    return qs


def hospital_events(*, actor: Actor) -> QuerySet[HospitalEvent]:
    """The events recorded by the acting hospital department, newest first."""
    if not actor.acting:
        return HospitalEvent.objects.none()
    return (
        HospitalEvent.objects.filter(department_id=actor.acting_organisation.pk)
        .filter(citizen_visible(actor.acting, actor.user))
        .select_related("citizen", "department", "message__department", "message__sender", "revises")
        .order_by("-recorded_at", "-pk")
    )


USUAL_RECEIVER_DAYS = 180


def receiver_search(*, query: str, limit: int = 20, sender: Organisation | None = None) -> list[Organisation]:
    """Receivers (any unit of the portal, and the directory's external entries when a gateway
    carries messages there) by name, SOR code or any of their EAN numbers; organisations are not
    health data. Those the sender wrote to most in the last half year come first (each carries
    ``usual``, how many messages): a unit writes to the same few again and again."""
    query = (query or "").strip()
    if not query:
        return []
    reachable = Organisation.objects.active()
    if outgoing_gateway() is None:
        reachable = reachable.in_portal()
    found = reachable.filter(
        Q(name__icontains=query)
        | Q(sor_code=query)
        | Q(gln=query)
        | Q(pk__in=LocationNumber.objects.filter(gln=query).values("organisation_id"))
    ).select_related("parent")
    if sender is None:
        return list(found.annotate(usual=Value(0)).order_by("name", "pk")[:limit])
    since = timezone.now() - timedelta(days=USUAL_RECEIVER_DAYS)
    written = (
        Recipient.objects.filter(organisation_id=OuterRef("pk"), message__sender_id=sender.pk, received_at__gte=since)
        .values("organisation_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(found.annotate(usual=Coalesce(Subquery(written), 0)).order_by(F("usual").desc(), "name", "pk")[:limit])


# --- hospital events, operations, settings ------------------------------------------------------------


def is_hospital_department(actor: Actor) -> bool:
    return actor.organisation is not None and actor.organisation.kind == OrganisationKind.HOSPITAL_DEPARTMENT


def may_record_hospital_events(actor: Actor) -> bool:
    """Whether the page offers the form (the services decide: ``hospital_rules``)."""
    return hospital_rules.may_record_hospital_events(actor)


def hospital_patient_get(*, actor: Actor, cpr: str) -> Citizen:
    """The citizen in front of the hospital, by exact CPR, to record a stay event: a department
    may not see the citizen yet (the event starts the stay), so this is not gated by the access
    policy. It returns the row only for the write (the page shows nothing of it) and logs the
    look-up; the service logs the write."""
    hospital_rules.require_hospital_recorder(actor)
    citizen = Citizen.objects.filter(cpr=normalise_cpr(cpr)).first()
    if citizen is None:
        raise ValidationError({"cpr": [_("No citizen with this CPR number is registered.")]})
    access_log_record(actor=actor, citizens=citizen, action=AccessAction.SEARCH, detail="hospital event CPR look-up")
    return citizen


def webhook_endpoint(*, actor: Actor) -> WebhookEndpoint | None:
    if not actor.acting:
        return None
    return WebhookEndpoint.objects.filter(organisation_id=actor.acting_organisation.pk).first()


def email_preferences(*, user: User) -> dict[str, str]:
    """The user's e-mail mode per message type; a type without a row is sent immediately."""
    chosen = dict(EmailPreference.objects.filter(user_id=user.pk).values_list("message_type", "mode"))
    return {message_type: chosen.get(message_type, EmailMode.IMMEDIATELY) for message_type in SHOWN_TYPES}
