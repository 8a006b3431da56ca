"""The admin's "merge two registrations of one person" action: choose the two citizens on the
list, then which one is kept, and confirm. It only asks and shows; ``citizens.merge`` checks who
may merge what, moves the data and writes the access log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .access import actor_from_request
from .merge import citizen_merge
from .models import Citizen
from .permissions import may_merge_citizens


class MergeForm(forms.Form):
    keep = forms.ChoiceField(label=gettext_lazy("Keep this registration"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, citizens: list[Citizen], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [(str(c.pk), f"{c.full_name} · {c.cpr_formatted}") for c in citizens]
        if not self.is_bound:  # a registration with a CPR number is the one to keep, as a rule
            self.fields["keep"].initial = str(next((c.pk for c in citizens if c.cpr), citizens[0].pk))


@admin.action(description=gettext_lazy("Merge two registrations of one person"))
def merge_citizens(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Citizen]) -> Any:
    actor = actor_from_request(request)
    if not may_merge_citizens(actor):
        modeladmin.message_user(request, _("Only administrators merge citizens."), messages.ERROR)
        return None
    citizens = list(queryset.prefetch_related("identifiers")[:3])
    if len(citizens) != 2:
        modeladmin.message_user(request, _("Select exactly two citizens to merge."), messages.ERROR)
        return None
    form = MergeForm(request.POST if "confirm" in request.POST else None, citizens=citizens)
    if form.is_bound and form.is_valid():
        keep, absorb = sorted(citizens, key=lambda c: str(c.pk) != form.cleaned_data["keep"])
        try:
            citizen_merge(by=actor, keep=keep, absorb=absorb)
        except (ValidationError, PermissionDenied) as exc:
            modeladmin.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
        else:
            modeladmin.message_user(
                request, _("%(absorbed)s was merged into %(kept)s.") % {"absorbed": absorb, "kept": keep}
            )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Merge two registrations of one person"),
        "opts": modeladmin.model._meta,
        "citizens": citizens,
        "form": form,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/citizens/citizen/merge.html", context)
