"""``/api/v1/citizens/`` and ``/api/v1/conditions/``.

Every read goes through ``citizens.selectors`` (the access gate plus the access log) and every
write through ``citizens.services``; these views only parse the request and shape the answer. A
citizen outside the acting organisation's relationships answers 404, exactly like one that does
not exist.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from sectors.api.views import ACTING_HEADER
from smartcare.api.schema import error_schema

from ..access import Actor, actor_from_request
from ..choices import AccessReason
from ..filtersets import CitizenFilterSet
from ..models import Citizen
from ..selectors import (
    citizen_document_get,
    citizen_document_page,
    citizen_exact_cpr_search,
    citizen_list,
    conditions_list,
)
from ..services import AlreadyRegistered, citizen_create, citizen_update
from .serializers import (
    CitizenCreateSerializer,
    CitizenSerializer,
    CitizenUpdateSerializer,
    ConditionSerializer,
)

UUID_PATTERN = "[0-9a-fA-F-]{32,36}"

# The condition filter takes an ICD-10 code (to_field_name); tell the schema generator so.
extend_schema_field(OpenApiTypes.STR)(CitizenFilterSet.base_filters["condition"])


BAD_REQUEST = OpenApiResponse(
    error_schema({"cpr": ["A citizen with this CPR number is already registered in your organisation's care."]}),
    description=_(
        "Invalid input: the body maps each field to its messages, e.g. an invalid or already registered CPR "
        "number (cpr), an unknown condition code (conditions), an onset date in the future, or a citizen the "
        "registering organisation would have no relationship with (non_field_errors). Nothing is saved. A CPR "
        "number already registered in the organisation's care also gives the citizen's URL (existing); one "
        "registered elsewhere says only to ask the organisation that has the citizen in its care, and the "
        "attempt is logged."
    ),
)
BAD_FILTER = OpenApiResponse(
    error_schema({"condition": ["Select a valid choice. That choice is not one of the available choices."]}),
    description=_("An invalid filter value, e.g. an unknown condition code: each filter maps to its messages."),
)
UNAUTHENTICATED = OpenApiResponse(
    error_schema(), description=_("Not signed in: send a session cookie or `Authorization: Token <key>`.")
)
FORBIDDEN_WRITE = OpenApiResponse(
    error_schema(),
    description=_(
        "Not signed in, or the acting organisation is not a GP clinic or a municipality (only they register "
        "and change citizens)."
    ),
)
NO_LONGER_VISIBLE = OpenApiResponse(
    description=_(
        "The change was saved, and the acting organisation no longer has a relationship with the citizen "
        "(e.g. a GP clinic moved the citizen to another clinic), so the citizen is not shown."
    )
)
NOT_FOUND = OpenApiResponse(
    error_schema(),
    description=_(
        "No such citizen, or one the acting organisation has no relationship with: the two are "
        "indistinguishable on purpose."
    ),
)
CITIZEN_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description=_("The citizen's id (not the CPR number).")
)
LIST_PARAMETERS = [
    ACTING_HEADER,
    OpenApiParameter(
        "search",
        OpenApiTypes.STR,
        description=_(
            "A whole CPR number (DDMMYY-SSSS or DDMMYYSSSS), its first six or more digits, or part of a name."
        ),
    ),
    OpenApiParameter("condition", OpenApiTypes.STR, description=_("ICD-10 code of a chronic condition, e.g. J44.")),
    OpenApiParameter("municipality", OpenApiTypes.INT, description=_("Organisation id of the municipality.")),
    OpenApiParameter("gp_clinic", OpenApiTypes.INT, description=_("Organisation id of the GP clinic.")),
    OpenApiParameter(
        "admitted_now",
        OpenApiTypes.BOOL,
        description=_("Only citizens with (true) or without (false) a current hospital stay."),
    ),
    OpenApiParameter(
        "receives_home_care",
        OpenApiTypes.BOOL,
        description=_("Only citizens who receive (true) or do not receive (false) home care."),
    ),
    OpenApiParameter(
        "recent_stay",
        OpenApiTypes.BOOL,
        description=_("Only citizens admitted or discharged (true) or not (false) in the last 48 hours."),
    ),
    OpenApiParameter("page_size", OpenApiTypes.INT, description=_("Rows per page (default 50, at most 500).")),
]


def api_actor(request: Request) -> Actor:
    """The actor of an API request. DRF authenticates lazily (token or session) and sets the user on
    the underlying Django request too, so the browser's ``actor_from_request`` applies unchanged."""
    request.user  # noqa: B018 - authenticate now, before the actor is built
    return actor_from_request(request._request)


@extend_schema_view(
    list=extend_schema(
        summary=_("Citizens the acting organisation may see"),
        description=_(
            "A page of the citizens the acting organisation has a care relationship with, filtered. "
            "Every row returned is written to the access log (action api_read) with the relationship "
            "that allowed it. `search` takes a whole CPR number (with or without the dash), its first "
            "six or more digits, or part of a name."
        ),
        parameters=LIST_PARAMETERS,
        responses={200: CitizenSerializer(many=True), 400: BAD_FILTER, 403: UNAUTHENTICATED},
    ),
    retrieve=extend_schema(
        summary=_("One citizen"),
        description=_("The citizen's overview; the read is written to the access log (action api_read)."),
        parameters=[ACTING_HEADER, CITIZEN_ID],
        responses={200: CitizenSerializer, 403: UNAUTHENTICATED, 404: NOT_FOUND},
    ),
    create=extend_schema(
        summary=_("Register a citizen"),
        description=_(
            "Only a GP clinic or a municipality registers citizens, and the citizen must end up with it "
            "as GP clinic or municipality of residence. Logged as a registration in the access log."
        ),
        parameters=[ACTING_HEADER],
        request=CitizenCreateSerializer,
        responses={201: CitizenSerializer, 400: BAD_REQUEST, 403: FORBIDDEN_WRITE},
    ),
    update=extend_schema(
        summary=_("Change a citizen"),
        description=_(
            "Replaces the given fields; optional fields left out keep their value, and a `conditions` or "
            "`contact_persons` list replaces the current one. Logged as a change in the access log."
        ),
        parameters=[ACTING_HEADER, CITIZEN_ID],
        request=CitizenUpdateSerializer,
        responses={
            200: CitizenSerializer,
            204: NO_LONGER_VISIBLE,
            400: BAD_REQUEST,
            403: FORBIDDEN_WRITE,
            404: NOT_FOUND,
        },
    ),
    partial_update=extend_schema(
        summary=_("Change some fields of a citizen"),
        description=_("Like PUT, but every field is optional."),
        parameters=[ACTING_HEADER, CITIZEN_ID],
        request=CitizenUpdateSerializer,
        responses={
            200: CitizenSerializer,
            204: NO_LONGER_VISIBLE,
            400: BAD_REQUEST,
            403: FORBIDDEN_WRITE,
            404: NOT_FOUND,
        },
    ),
)
@extend_schema(tags=["citizens"])
class CitizenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Citizens, always through the access gate and the access log."""

    # For the schema generator only (model, id type, filters): every read goes through the selectors.
    queryset = Citizen.objects.none()
    serializer_class = CitizenSerializer
    scope_resource_type = "Patient"
    filterset_class = CitizenFilterSet
    filter_backends = [DjangoFilterBackend]
    parser_classes = [JSONParser]  # conditions and contact persons are nested lists
    lookup_value_regex = UUID_PATTERN

    def list(self, request: Request, *args, **kwargs) -> Response:
        paginator = self.paginator
        if not citizen_exact_cpr_search(request.query_params):  # an exact search has nothing else to check
            filters = CitizenFilterSet(request.query_params, queryset=Citizen.objects.none())
            if not filters.is_valid():
                raise ValidationError(filters.errors)
        # Shaped as CitizenSerializer shapes it, without model instances (citizens/documents.py).
        paginator.page = citizen_document_page(
            actor=api_actor(request),
            filters=request.query_params,
            page_number=request.query_params.get(paginator.page_query_param, 1),
            page_size=paginator.get_page_size(request) or 50,
        )
        paginator.request = request
        return paginator.get_paginated_response(paginator.page.object_list)

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        # Shaped as CitizenSerializer shapes it, without model instances (citizens/documents.py).
        return Response(citizen_document_get(actor=api_actor(request), pk=kwargs["pk"]))

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = CitizenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor = api_actor(request)
        try:
            citizen = citizen_create(actor=actor, **serializer.service_arguments())
        except AlreadyRegistered as exc:
            body = {"cpr": exc.messages}
            if exc.citizen_pk is not None:  # in the organisation's care: where it is
                body["existing"] = [request.build_absolute_uri(reverse("citizen-detail", args=[exc.citizen_pk]))]
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        # The registration is in the access log already; the answer shows what was registered.
        citizen = self._written(actor, citizen.pk)
        citizen.access_via = AccessReason.CREATED
        return Response(self.get_serializer(citizen).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        actor = api_actor(request)
        citizen = self._written(actor, kwargs["pk"])
        serializer = CitizenUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        citizen_update(actor=actor, citizen=citizen, **serializer.service_arguments())
        try:
            citizen = self._written(actor, citizen.pk)
        except Http404:  # e.g. a GP moved the citizen to another clinic: saved, but no longer theirs
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(citizen).data)

    @staticmethod
    def _written(actor: Actor, pk) -> Citizen:
        """A citizen being written, through the access gate (404 outside it). Not logged as a read:
        the service logs the registration or change itself, and the answer shows only that."""
        try:
            citizen = citizen_list(actor=actor).prefetch_related("contact_persons", "identifiers").filter(pk=pk).first()
        except (ValueError, TypeError, DjangoValidationError):
            citizen = None
        if citizen is None:
            raise Http404
        return citizen


@extend_schema(
    tags=["citizens"],
    summary=_("Chronic conditions"),
    description=_("The maintained list of chronic conditions (ICD-10) that citizens can be registered with."),
)
class ConditionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ConditionSerializer
    scope_resource_type = "Condition"

    def get_queryset(self):
        return conditions_list()
