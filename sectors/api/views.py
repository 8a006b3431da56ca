from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from ..acting import acting_for
from ..filtersets import OrganisationFilterSet
from ..identity import identity_for
from ..selectors import organisation_list
from .serializers import MeSerializer, OrganisationSerializer, me_representation

ACTING_HEADER = OpenApiParameter(
    "X-Acting-Organisation",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Id of the organisation to act for (one of your active memberships); without it, your first. "
        "A value that is not an id is answered 400, an organisation you are not an active member of 403."
    ),
)


@extend_schema(tags=["organisations"])
class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    """The organisation directory: every region, municipality, hospital unit and department and
    GP clinic, with the SOR and GLN identifiers used to address messages."""

    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilterSet
    scope_resource_type = "Organization"

    def get_queryset(self):
        return organisation_list()


@extend_schema(tags=["me"], parameters=[ACTING_HEADER], responses=MeSerializer)
class MeView(APIView):
    """The signed-in user, their memberships and the organisation they act for."""

    scope_resource_type = None  # about the caller: any token that may read

    def get(self, request):
        identity = identity_for(request._request)
        memberships = identity.memberships if identity is not None else ()
        return Response(me_representation(request.user, memberships=memberships, acting=acting_for(request._request)))
