"""The admin of API tokens (in place of Django REST framework's *Auth Token* page): each token with
its scope and last use, and the scope edited with the token (``sectors.tokens``).

The scope belongs to the token's account (``TokenScope``), so a renewed token keeps it. Who may
see and change tokens is unchanged: the token model's admin permissions."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.admin import TokenAdmin as DrfTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from smartcare.forms import apply_service_errors

from .choices import TokenUse
from .models import TokenScope
from .services import token_scope_set
from .tokens import scope_summary


def account_scope(user) -> TokenScope | None:
    """The account's scope as read with it (``select_related("…token_scope")``): no query."""
    try:
        return user.token_scope
    except TokenScope.DoesNotExist:
        return None


class TokenAdminForm(forms.ModelForm):
    uses = forms.MultipleChoiceField(
        label=_("allowed uses"),
        choices=TokenUse.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Read: GET on the REST API and FHIR. Write observations: record observations (REST and FHIR). "
            "Send messages: POST /fhir/$process-message. None chosen: every use, as before scopes."
        ),
    )
    resource_types = forms.CharField(
        label=_("resource types"),
        required=False,
        help_text=_(
            "FHIR resource types, separated by commas (e.g. Observation, Patient). Empty: all. REST endpoints "
            "count as their FHIR type (citizens: Patient, messages: Communication); endpoints without one "
            "are closed to a token limited to resource types."
        ),
    )

    class Meta:
        model = TokenProxy
        fields = ["user"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scope = account_scope(self.instance.user) if self.instance.user_id else None
        if scope is not None:
            self.fields["uses"].initial = scope.uses
            self.fields["resource_types"].initial = ", ".join(scope.resource_types)

    def clean_resource_types(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["resource_types"].split(",") if name.strip()]

    def clean(self):
        cleaned = super().clean()
        try:
            TokenScope(uses=cleaned.get("uses") or [], resource_types=cleaned.get("resource_types") or []).clean()
        except ValidationError as exc:
            apply_service_errors(exc, self)
        return cleaned


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(DrfTokenAdmin):
    form = TokenAdminForm
    list_display = ["key", "user", "created", "scope", "last_used"]
    list_select_related = ["user", "user__token_scope"]
    fields = None
    fieldsets = [
        (None, {"fields": ["user"]}),
        (
            _("Scope"),
            {
                "fields": ["uses", "resource_types"],
                "description": _(
                    "A token without a scope keeps its full rights: everything its account's memberships allow. "
                    "The scope belongs to the account: a renewed token keeps it. People signed in to the portal "
                    "are never limited by it."
                ),
            },
        ),
        (_("Use"), {"fields": ["last_used"]}),
    ]
    readonly_fields = ["last_used"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "user__token_scope")

    def get_readonly_fields(self, request, obj=None):
        """A token's account is chosen when it is made: another account would get another token."""
        return [*self.readonly_fields, "user"] if obj is not None else self.readonly_fields

    @admin.display(description=_("scope"))
    def scope(self, obj) -> str:
        return scope_summary(account_scope(obj.user))

    @admin.display(description=_("last used"))
    def last_used(self, obj):
        scope = account_scope(obj.user) if obj is not None and obj.user_id else None
        return scope.last_used_at if scope is not None and scope.last_used_at else _("not recorded")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        uses, types = form.cleaned_data.get("uses") or [], form.cleaned_data.get("resource_types") or []
        if uses or types or account_scope(obj.user) is not None:
            token_scope_set(by=request.user, user=obj.user, uses=list(uses), resource_types=types)
