"""The admin bases for pages that show citizens' data, used by every app.

Superusers see every row; everybody else sees only rows of citizens inside the access gate of the
organisation they act for. Every citizen a page shows is written to the access log, superusers'
look-ups included: a list page appends one entry per citizen shown (together, whatever the number
of rows), a change page one for its citizen. Citizens' data changes in the portal, through the
services that check the gate, so these pages only show it unless an app's admin says otherwise.

The gate and the log belong to the ``citizens`` app, whose admin builds on this module; they are
imported at run time in ``_citizens`` only, so that loading this project-level module (which every
app's admin does) loads no app.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model, Q
from django.utils.translation import gettext_lazy as _


def _citizens():
    from citizens import admin_gate

    return admin_gate


class ReadOnlyMixin:
    """Shown, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    show_change_link = False
    related: tuple[str, ...] = ()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related)


class CitizenRowsMixin:
    """Rows of one citizen each, reached through ``citizen_path`` (empty when the row is the
    citizen): found by the citizen's CPR number or name, as in the portal, and logged when shown."""

    citizen_path = "citizen"
    show_full_result_count = False  # no second COUNT over a large table
    search_help_text = _("The citizen's CPR number (whole or the first six digits or more) or part of the name.")

    @property
    def citizen_in(self) -> str:
        """The lookup that keeps rows of the given citizens."""
        return f"{self.citizen_path or 'pk'}__in"

    def citizen_of(self, obj: Model):
        """None for a row about no citizen (a user's daily digest delivery): nothing to log."""
        for name in filter(None, self.citizen_path.split("__")):
            obj = getattr(obj, name)
            if obj is None:
                return None
        return obj

    def get_search_fields(self, request):
        """Shows the search box; ``get_search_results`` does the work."""
        return [f"{self.citizen_path}__cpr" if self.citizen_path else "cpr"]

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(self.search_q(_citizens().search_ids(search_term), search_term)), False

    def search_q(self, hits, search_term: str) -> Q:
        return Q(**{self.citizen_in: hits})

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.result_list = rows = list(changelist.result_list)
        _citizens().log_listed(
            request, [self.citizen_of(row) for row in rows], detail=f"admin {self.opts.model_name} list"
        )
        return changelist

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            _citizens().log_viewed(request, self.citizen_of(obj), detail=f"admin {self.opts.model_name}")
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


class GatedMixin(CitizenRowsMixin):
    """Non-superusers see rows only of citizens inside the access gate."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(**{self.citizen_in: _citizens().visible_ids(request)})


class GatedAdmin(ReadOnlyMixin, GatedMixin, admin.ModelAdmin):
    """Read-only, gated and logged: the admin of rows about a citizen."""
