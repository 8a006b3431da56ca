"""Pages of lists that never count more rows than they need (issue 13, "no counts where they are
not needed").

Django's ``Paginator`` runs ``SELECT COUNT(*)`` over everything a list matches, and at region
scale that is every citizen a municipality sees (200,000) on every page view. ``CappedPaginator``
counts at most ``settings.LIST_COUNT_CAP`` + 1 rows (``COUNT(*)`` over a ``LIMIT`` subquery).
Up to the cap it is exactly Django's paginator. Above it the count is "more than the cap"
(``count_is_estimate``), any page number is accepted and a page knows whether a next one exists
by fetching one row more than it shows; there is no last page to link to."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _


def list_count_cap() -> int:
    return int(getattr(settings, "LIST_COUNT_CAP", 1000))


def capped_label(count: int, cap: int) -> str:
    """A navigation badge's text: counted up to ``cap`` + 1, so more than ``cap`` shows as "cap+"."""
    return f"{cap}+" if count > cap else str(count)


class CappedPage(Page):
    """A page of a list whose total is not known: it knows whether a next page exists."""

    def __init__(self, object_list: Sequence[Any], number: int, paginator: CappedPaginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1


class CappedPaginator(Paginator):
    """A paginator that counts at most ``cap`` + 1 rows; see the module's docstring.

    ``count`` is exact up to the cap; above it, ``count_is_estimate`` is True and ``count`` is the
    cap (the list has more rows than that). A list rather than a queryset is counted exactly."""

    def __init__(
        self,
        object_list: Any,
        per_page: int | str,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
        *,
        cap: int | None = None,
    ) -> None:
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.cap = list_count_cap() if cap is None else cap

    @cached_property
    def _counted(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            # Neither the ORDER BY nor the annotations (the access reason of each citizen, whether
            # a message is read) change how many rows there are: the subquery selects the keys.
            if not rows.query.values_select and not rows.query.combinator:
                rows = rows.values("pk")
            return rows.order_by()[: self.cap + 1].count()
        return len(rows)

    @cached_property
    def count_is_estimate(self) -> bool:
        """Whether the list has more rows than were counted (``count`` is then a lower bound)."""
        return isinstance(self.object_list, QuerySet) and self._counted > self.cap

    @cached_property
    def count(self) -> int:
        return self.cap if self.count_is_estimate else self._counted

    def validate_number(self, number: Any) -> int:
        if not self.count_is_estimate:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number: Any) -> Page:
        if not self.count_is_estimate:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def get_page(self, number: Any) -> Page:
        """Like Django's: a page number that is not one gives the first page, one past the end
        the last page; above the cap, where the last page is not known, the first page."""
        if not self.count_is_estimate:
            return super().get_page(number)
        try:
            return self.page(number)
        except (PageNotAnInteger, EmptyPage):
            return self.page(1)


ESTIMATE_DESCRIPTION = _(
    "True when the list has more rows than the server counts (setting LIST_COUNT_CAP, by default "
    "1000): `count` is then that cap, a lower bound, and there is no last page; follow `next` until "
    "it is null. False when `count` is exact."
)
