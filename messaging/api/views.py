"""``/api/v1/messages/``, ``hospital-events/`` and ``deliveries/``.

Every read goes through ``messaging.selectors`` (the access policy plus the access log, action
api_read, for the citizens whose messages are returned) and every write through
``messaging.services``; these views only parse the request and shape the answer. A message about
a citizen outside the acting organisation's relationships, or one it neither sent nor received,
answers 404 exactly like a missing one, and lists leave such messages out. A citizen named in a
request body that the organisation may not see is "No such citizen", like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import Http404
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.plumbing import build_choice_description_list
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from careplans.selectors import citizen_for_write
from citizens.access import Actor
from citizens.api.views import api_actor
from citizens.choices import AccessAction
from citizens.models import Citizen
from sectors.api.views import ACTING_HEADER
from smartcare.api.schema import error_schema
from smartcare.uploads import large_body

from .. import hospital_rules, selectors, services
from ..filtersets import BOX_LABEL, BOXES, INBOX, SENT, DeliveryFilterSet, MessageBoxForm, MessageFilterSet
from ..models import Delivery, HospitalEvent, Message, ReadMark, Recipient
from .serializers import (
    DeliverySerializer,
    HospitalEventCorrectSerializer,
    HospitalEventCreateSerializer,
    HospitalEventSerializer,
    InboxItemSerializer,
    InputSerializer,
    MessageAssignSerializer,
    MessageForwardSerializer,
    MessageHandledSerializer,
    MessageReplySerializer,
    MessageSendSerializer,
    MessageSerializer,
    SentItemSerializer,
    ThreadSerializer,
)

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"
INT_PATTERN = "[0-9]+"

S = TypeVar("S", bound=InputSerializer)

# --- documentation of the errors -----------------------------------------------------------------

BAD_REQUEST = OpenApiResponse(
    error_schema({"receiver": ["Kommune A has no care relationship with the citizen and cannot receive messages."]}),
    description=_(
        "Invalid input: the body maps each field to its messages (e.g. text, category, priority, topic, "
        "receiver, cc, attachments); rules that span fields are under non_field_errors. A citizen the acting "
        "organisation may not see is reported like one that does not exist. Nothing is sent."
    ),
)
UNAUTHENTICATED = OpenApiResponse(
    error_schema(), description=_("Not signed in: send a session cookie or `Authorization: Token <key>`.")
)
FORBIDDEN = OpenApiResponse(
    error_schema(),
    description=_(
        "Not signed in, or the acting organisation may not do this (e.g. mark handled or assign a message it "
        "sent rather than received)."
    ),
)
DEPARTMENTS_ONLY = OpenApiResponse(
    error_schema(),
    description=_(
        "Not signed in, the acting organisation is not a hospital department, or the user is neither a hospital "
        "physician or nurse nor the department's system integration (only they record hospital events)."
    ),
)
NOT_FOUND = OpenApiResponse(
    error_schema(),
    description=_(
        "No such message, or one the acting organisation neither sent nor received or about a citizen it has "
        "no relationship with: the cases are indistinguishable on purpose."
    ),
)
BAD_FILTER = OpenApiResponse(
    error_schema({"category": ["Select a valid choice. x is not one of the available choices."]}),
    description=_("An invalid filter value: each filter maps to its messages."),
)
MESSAGE_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description=_("The message id."))
# The box is no filter (see messaging.filtersets), so it is documented here, as the filters document themselves.
MESSAGE_BOX = OpenApiParameter(
    "box",
    OpenApiTypes.STR,
    enum=[value for value, _label in BOXES],
    description=format_lazy("{}\n\n{}", BOX_LABEL, lazy(build_choice_description_list, str)(BOXES)),
)

MESSAGE_LIST_ITEM = PolymorphicProxySerializer(
    component_name="MessageListItem",
    serializers=[InboxItemSerializer, SentItemSerializer],
    resource_type_field_name=None,
    many=True,
)


def _documented(summary, description: str = "", *, request=None, responses=None, **kwargs):
    return extend_schema(
        summary=summary,
        description=description,
        request=request,
        responses=responses,
        parameters=[ACTING_HEADER, *kwargs.pop("parameters", [])],
        **kwargs,
    )


def _message_action(summary, description: str, request, responses: dict | None = None):
    return _documented(
        summary,
        description,
        request=request,
        responses=responses or {200: MessageSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
        parameters=[MESSAGE_ID],
    )


# --- helpers -------------------------------------------------------------------------------------


def _parsed(serializer_class: type[S], request: Request) -> S:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer


def _citizen(actor: Actor, pk: Any) -> Citizen:
    citizen = citizen_for_write(actor=actor, pk=pk)
    if citizen is None:
        raise ValidationError({"citizen": [_("No such citizen.")]})
    return citizen


def _renamed(call: Callable[[], Any], fields: dict[str, str]) -> Any:
    """Run a service whose field errors name its arguments, answering with the request's names."""
    try:
        return call()
    except DjangoValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        raise ValidationError({fields.get(key, key): msgs for key, msgs in exc.message_dict.items()}) from None


def _one(queryset: QuerySet, pk: Any) -> Any:
    try:
        record = queryset.filter(pk=pk).first()
    except (ValueError, TypeError, OverflowError):
        record = None
    if record is None:
        raise Http404
    return record


# --- messages ------------------------------------------------------------------------------------


@extend_schema_view(
    list=_documented(
        _("The acting organisation's inbox or sent messages"),
        _(
            "`box=inbox` (the default): the messages the organisation received, newest first, one row per "
            "message, with your own read state and the organisation's handled state and assignee. `box=sent`: "
            "the care communications and hospital notifications it sent, each with its receivers and their "
            "acknowledgements. Messages about citizens the organisation may no longer see are left out. Every "
            "citizen on the page is logged (action api_read)."
        ),
        responses={200: MESSAGE_LIST_ITEM, 400: BAD_FILTER, 403: UNAUTHENTICATED},
        parameters=[MESSAGE_BOX],
    ),
    retrieve=_documented(
        _("One message"),
        _("A message the organisation sent or received, with its text and attachments; logged (api_read)."),
        responses={200: MessageSerializer, 403: UNAUTHENTICATED, 404: NOT_FOUND},
        parameters=[MESSAGE_ID],
    ),
    thread=_documented(
        _("The conversation a message belongs to"),
        _(
            "The thread's messages that the organisation sent or received, oldest first (an organisation that "
            "got a forward sees the forward and what follows, not the earlier exchange). Logged (api_read)."
        ),
        responses={200: ThreadSerializer, 403: UNAUTHENTICATED, 404: NOT_FOUND},
        parameters=[MESSAGE_ID],
    ),
    create=_documented(
        _("Send a care communication"),
        _(
            "A new MedCom care communication about a citizen the acting organisation may see, to an organisation "
            "that has a care relationship with the citizen, named by id, SOR code or GLN (likewise the copies). "
            "Priority asap is only for messages regarding a referral, and the category other needs a topic. "
            "Attachments (PDF, PNG, JPEG, GIF) are sent as multipart/form-data. The message is delivered once "
            "the request succeeds; the receivers' acknowledgements show in the sent box."
        ),
        request=MessageSendSerializer,
        responses={201: MessageSerializer, 400: BAD_REQUEST, 403: UNAUTHENTICATED},
    ),
    reply=_message_action(
        _("Reply to a message"),
        _(
            "Only a receiver replies; the answer goes to the sender in the same thread with its category and topic "
            "(a hospital notification is answered as care coordination)."
        ),
        MessageReplySerializer,
        {201: MessageSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    forward=_message_action(
        _("Forward a care communication"),
        _(
            "The text and attachments go to another organisation, which must itself have a care relationship with "
            "the citizen, in the same thread."
        ),
        MessageForwardSerializer,
        {201: MessageSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    ),
    read=_message_action(_("Mark a message read"), _("Read state is your own: colleagues still see it as new."), None),
    unread=_message_action(_("Mark a message unread"), _("Only for you."), None),
    handled=_message_action(
        _("Mark a received message handled, or open again"),
        _("Handled is the organisation's state: handled by one colleague, it is handled for all."),
        MessageHandledSerializer,
    ),
    assign=_message_action(
        _("Assign a received message to a colleague"),
        _("A colleague in the acting organisation, or null to take the assignment away."),
        MessageAssignSerializer,
    ),
)
@extend_schema(tags=["messages"])
class MessageViewSet(viewsets.GenericViewSet):
    """Messages, always through the access policy and the access log.

    ``queryset`` is for the schema generator only; every read goes through the selectors."""

    queryset = Message.objects.none()
    scope_resource_type = "Communication"
    serializer_class = MessageSerializer
    filterset_class = MessageFilterSet
    parser_classes = [JSONParser, MultiPartParser]  # attachments come as multipart/form-data
    lookup_value_regex = UUID_PATTERN

    def list(self, request: Request) -> Response:
        box = MessageBoxForm(request.query_params)
        filters = MessageFilterSet(request.query_params, queryset=Recipient.objects.none(), request=request)
        errors = {**box.errors, **filters.errors}
        if errors:
            raise ValidationError(errors)
        actor = api_actor(request)
        if box.cleaned_data["box"] == SENT:
            sent = self.paginate_queryset(selectors.sent_box(actor=actor, filters=request.query_params))
            citizens, data = [m.citizen for m in sent], SentItemSerializer(sent, many=True).data
        else:
            received = self.paginate_queryset(selectors.inbox(actor=actor, filters=request.query_params))
            citizens, data = [r.message.citizen for r in received], InboxItemSerializer(received, many=True).data
        selectors.log_listed(
            actor=actor, citizens=citizens, detail=f"api message {box.cleaned_data['box'] or INBOX}",
            action=AccessAction.API_READ,
        )  # fmt: skip
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        return self._answer(actor, selectors.message_get(actor=actor, pk=pk, action=AccessAction.API_READ))

    @action(detail=True, methods=["get"])
    def thread(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        message = selectors.message_get(actor=actor, pk=pk, action=AccessAction.API_READ)
        messages = list(selectors.thread_messages(actor=actor, thread=message.thread))
        self._prefetch(actor, messages)
        data = ThreadSerializer({"thread": message.thread, "messages": messages}, context=self._context(actor)).data
        return Response(data)

    @large_body  # a message with its attachments
    def create(self, request: Request) -> Response:
        arguments = _parsed(MessageSendSerializer, request).service_arguments()
        actor = api_actor(request)
        citizen = _citizen(actor, arguments.pop("citizen"))
        message = services.message_send(actor=actor, citizen=citizen, **arguments)
        return self._answer(actor, message, http_status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    @large_body  # a message with its attachments
    def reply(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        message = self._message(actor)
        arguments = _parsed(MessageReplySerializer, request).service_arguments()
        reply = services.message_reply(actor=actor, message=message, **arguments)
        return self._answer(actor, reply, http_status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def forward(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        message = self._message(actor)
        arguments = _parsed(MessageForwardSerializer, request).service_arguments()
        forward = services.message_forward(actor=actor, message=message, **arguments)
        return self._answer(actor, forward, http_status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def read(self, request: Request, pk=None) -> Response:
        return self._mark_read(request, read=True)

    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def unread(self, request: Request, pk=None) -> Response:
        return self._mark_read(request, read=False)

    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def handled(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        message = self._message(actor, action=AccessAction.API_READ)
        handled = _parsed(MessageHandledSerializer, request).validated_data["handled"]
        services.message_mark_handled(actor=actor, message=message, handled=handled)
        return self._answer(actor, message)

    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def assign(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        message = self._message(actor, action=AccessAction.API_READ)
        user = _parsed(MessageAssignSerializer, request).validated_data["user"]
        _renamed(lambda: services.message_assign(actor=actor, message=message, user=user), {"assigned_to": "user"})
        return self._answer(actor, message)

    def _mark_read(self, request: Request, *, read: bool) -> Response:
        actor = api_actor(request)
        message = self._message(actor, action=AccessAction.API_READ)
        services.message_mark_read(actor=actor, message=message, read=read)
        return self._answer(actor, message)

    def _message(self, actor: Actor, action: str | None = None) -> Message:
        """The message of a write, through the access policy (404 outside it). Logged only when the
        answer shows it and the service does not log the change itself."""
        return selectors.message_get(actor=actor, pk=self.kwargs["pk"], action=action)

    @staticmethod
    def _context(actor: Actor) -> dict[str, Any]:
        return {"organisation_id": actor.organisation.pk}

    @staticmethod
    def _prefetch(actor: Actor, messages: Sequence[Message]) -> None:
        """Receivers, attachments and the user's own read marks of these messages, one query each
        however many there are (the thread's selector has fetched the first two already)."""
        prefetch_related_objects(
            list(messages),
            Prefetch("recipients", queryset=Recipient.objects.select_related("organisation", "assigned_to")),
            "attachments",
            Prefetch("read_marks", queryset=ReadMark.objects.filter(user_id=actor.user.pk), to_attr="own_read_marks"),
        )

    def _answer(self, actor: Actor, message: Message, *, http_status: int = status.HTTP_200_OK) -> Response:
        self._prefetch(actor, [message])
        return Response(MessageSerializer(message, context=self._context(actor)).data, status=http_status)


# --- hospital events -----------------------------------------------------------------------------


def _require_department(actor: Actor) -> None:
    if not selectors.is_hospital_department(actor):
        raise PermissionDenied(_("Only hospital departments record hospital events."))


EVENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("The event id."))


@extend_schema_view(
    list=_documented(
        _("The acting hospital department's events"),
        _(
            "Admissions, leaves, discharges and deaths the department recorded, with their corrections and "
            "cancellations, newest first. Every citizen on the page is logged (action api_read)."
        ),
        responses={200: HospitalEventSerializer(many=True), 403: DEPARTMENTS_ONLY},
    ),
    create=_documented(
        _("Record a hospital event"),
        _(
            "The citizen is found by CPR number among the registered citizens (the department may have no "
            "relationship yet: an admission starts one). The stay changes, and the citizen's municipality gets a "
            "hospital notification (copy to the GP clinic). The rules of the stay apply: leave only during an "
            "inpatient stay, a discharge only of a current stay at this department, no time in the future."
        ),
        request=HospitalEventCreateSerializer,
        responses={201: HospitalEventSerializer, 400: BAD_REQUEST, 403: DEPARTMENTS_ONLY},
    ),
    correct=_documented(
        _("Correct the time of the latest event (RE_)"),
        _("The stay follows, and the municipality gets a correction pointing at the first notification."),
        request=HospitalEventCorrectSerializer,
        responses={201: HospitalEventSerializer, 400: BAD_REQUEST, 403: DEPARTMENTS_ONLY, 404: NOT_FOUND},
        parameters=[EVENT_ID],
    ),
    cancel=_documented(
        _("Cancel the latest event (AN_)"),
        _("The stay is put back as it was, and the municipality gets a cancellation."),
        request=None,
        responses={201: HospitalEventSerializer, 400: BAD_REQUEST, 403: DEPARTMENTS_ONLY, 404: NOT_FOUND},
        parameters=[EVENT_ID],
    ),
)
@extend_schema(tags=["hospital events"])
class HospitalEventViewSet(viewsets.GenericViewSet):
    queryset = HospitalEvent.objects.none()
    scope_resource_type = "Encounter"
    serializer_class = HospitalEventSerializer
    parser_classes = [JSONParser]
    lookup_value_regex = INT_PATTERN

    def list(self, request: Request) -> Response:
        actor = api_actor(request)
        _require_department(actor)
        events = self.paginate_queryset(selectors.hospital_events(actor=actor))
        selectors.log_listed(
            actor=actor, citizens=[e.citizen for e in events], detail="api hospital events",
            action=AccessAction.API_READ,
        )  # fmt: skip
        return self.get_paginated_response(HospitalEventSerializer(events, many=True).data)

    def create(self, request: Request) -> Response:
        actor = api_actor(request)
        hospital_rules.require_hospital_recorder(actor)
        data = _parsed(HospitalEventCreateSerializer, request).validated_data
        citizen = selectors.hospital_patient_get(actor=actor, cpr=data["cpr"])
        event = services.hospital_event_record(
            actor=actor, citizen=citizen, code=data["code"], occurred_at=data["occurred_at"]
        )
        return Response(HospitalEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        event = self._event(actor)
        occurred_at = _parsed(HospitalEventCorrectSerializer, request).validated_data["occurred_at"]
        revised = services.hospital_event_correct(actor=actor, event=event, occurred_at=occurred_at)
        return Response(HospitalEventSerializer(revised).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        revised = services.hospital_event_cancel(actor=actor, event=self._event(actor))
        return Response(HospitalEventSerializer(revised).data, status=status.HTTP_201_CREATED)

    def _event(self, actor: Actor) -> HospitalEvent:
        _require_department(actor)
        return _one(selectors.hospital_events(actor=actor), self.kwargs["pk"])


# --- deliveries ----------------------------------------------------------------------------------


@extend_schema_view(
    list=_documented(
        _("Deliveries of the acting organisation's messages"),
        _(
            "Every delivery of a message the organisation sent or received (in the inbox, by e-mail, to its own "
            "system by webhook), newest first, with every attempt; `status=failed` gives those that gave up."
        ),
        responses={200: DeliverySerializer(many=True), 400: BAD_FILTER, 403: UNAUTHENTICATED},
    ),
    retrieve=_documented(
        _("One delivery with its attempts"),
        responses={200: DeliverySerializer, 403: UNAUTHENTICATED, 404: NOT_FOUND},
    ),
)
@extend_schema(tags=["messages"])
class DeliveryViewSet(viewsets.GenericViewSet):
    """Read-only: deliveries are written by the services and the worker."""

    queryset = Delivery.objects.none()
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    lookup_value_regex = INT_PATTERN

    def list(self, request: Request) -> Response:
        filters = DeliveryFilterSet(request.query_params, queryset=selectors.deliveries(actor=api_actor(request)))
        if not filters.is_valid():
            raise ValidationError(filters.errors)
        rows = self.paginate_queryset(filters.qs)
        return self.get_paginated_response(DeliverySerializer(rows, many=True).data)

    def retrieve(self, request: Request, pk=None) -> Response:
        delivery = _one(selectors.deliveries(actor=api_actor(request)), pk)
        return Response(DeliverySerializer(delivery).data)
