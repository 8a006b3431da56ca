from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from smartcare.pagination import ESTIMATE_DESCRIPTION, CappedPaginator


class StandardPagination(PageNumberPagination):
    """Page-number pagination with a ``count``; clients may ask for up to 500 rows a page.

    The count is capped (``smartcare.pagination.CappedPaginator``): above ``LIST_COUNT_CAP`` rows
    the answer says ``count_is_estimate: true`` and ``count`` is the cap. The shape stays
    ``count``, ``next``, ``previous``, ``results``; ``count_is_estimate`` is added."""

    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedPaginator
    no_last_page_message = _("The last page is not known for a list this long: follow the next links.")

    def get_page_number(self, request: Request, paginator: Paginator) -> Any:
        page_number = request.query_params.get(self.page_query_param) or 1
        if page_number in self.last_page_strings and getattr(paginator, "count_is_estimate", False):
            raise NotFound(self.no_last_page_message)
        return super().get_page_number(request, paginator)

    def get_paginated_response(self, data: Any) -> Response:
        assert self.page is not None  # paginate_queryset ran
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "count_is_estimate": bool(getattr(paginator, "count_is_estimate", False)),
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count"]["description"] = str(
            _("The number of rows, exact unless count_is_estimate is true.")
        )
        answer["properties"] = {
            "count": answer["properties"]["count"],
            "count_is_estimate": {"type": "boolean", "example": False, "description": str(ESTIMATE_DESCRIPTION)},
            **{name: value for name, value in answer["properties"].items() if name != "count"},
        }
        return answer
