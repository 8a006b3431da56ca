"""``/api/v1/activities/``: the actions of ``careplans.api.views.ActivityViewSet`` and undoing
"done" (``POST …/undo-done/``), which lives here so that that module does not grow further."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from citizens.api.views import api_actor
from sectors.api.views import ACTING_HEADER
from smartcare.api.schema import error_schema

from ..undo import activity_done_undo
from . import views
from .schema import NOT_FOUND
from .serializers import ActivitySerializer

UNDO_REFUSED = OpenApiResponse(
    error_schema(
        {
            "non_field_errors": [
                "It is more than 10 minutes since the activity was marked done: change its status instead."
            ]
        }
    ),
    description=_(
        "Nothing to undo: the activity's newest change is not a “done”, or it is older than "
        "ACTIVITY_DONE_UNDO_MINUTES (10 by default). Nothing is changed."
    ),
)
UNDO_FORBIDDEN = OpenApiResponse(
    error_schema(),
    description=_(
        "Not signed in; or only the person who marked the activity done may undo it, for the responsible organisation."
    ),
)


class ActivityViewSet(views.ActivityViewSet):
    @extend_schema(
        summary=_("Undo marking an activity done"),
        description=_(
            "By the person who marked it done, less than ACTIVITY_DONE_UNDO_MINUTES (10 by default) ago, while "
            "that is the activity's newest change: the status, outcome, completion time, last done and next due "
            "date are exactly as before, and the undo is kept in the plan's history."
        ),
        request=None,
        responses={200: ActivitySerializer, 400: UNDO_REFUSED, 403: UNDO_FORBIDDEN, 404: NOT_FOUND},
        parameters=[ACTING_HEADER],
    )
    @action(detail=True, methods=["post"], url_path="undo-done", url_name="undo-done")
    def undo_done(self, request: Request, pk=None) -> Response:
        actor = api_actor(request)
        activity_done_undo(actor=actor, activity=self._record(actor))
        return self._answer(actor, pk)
