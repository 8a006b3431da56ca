"""The admin of single sign-on: identity providers, the membership requests their claims make,
and allauth's own models.

Identity providers are configured by superusers and by a region's administrators (for the
organisations of their region); an organisation's administrators see those that sign in for it.
Membership requests are approved or rejected by those who may grant the membership
(``services.membership_grant_check``). allauth's applications hold the providers' secrets and are
kept in step by the portal: superusers only. Tokens are not stored (``SOCIALACCOUNT_STORE_TOKENS``).
"""

from __future__ import annotations

from allauth.socialaccount.admin import SocialAccountAdmin as AllauthSocialAccountAdmin
from allauth.socialaccount.admin import SocialAppAdmin as AllauthSocialAppAdmin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from smartcare.forms import apply_service_errors

from .choices import MembershipRequestStatus
from .models import IdentityProvider, MembershipRequest, Organisation
from .selectors import identity_provider_scope, organisations_administered_by
from .services import (
    identity_provider_delete,
    identity_provider_save,
    membership_request_approve,
    membership_request_reject,
)


def _https_by_default(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


class IdentityProviderForm(forms.ModelForm):
    client_secret = forms.CharField(
        label=_("client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=True),
    )

    class Meta:
        model = IdentityProvider
        formfield_callback = _https_by_default
        fields = [
            "name",
            "slug",
            "protocol",
            "organisations",
            "is_active",
            "server_url",
            "client_id",
            "client_secret",
            "saml_entity_id",
            "saml_metadata_url",
            "saml_sso_url",
            "saml_x509cert",
            "link_by",
            "uid_claim",
            "email_claim",
            "emails_verified",
            "organisation_claim",
            "role_claim",
            "role_mapping",
            "mfa_claim",
            "mfa_values",
        ]

    by = None  # set per request by ``IdentityProviderAdmin.get_form``

    def _post_clean(self):
        """Once the instance holds the form's values: save it through the service, whose
        refusals (scope, SAML not installed) show on the form."""
        super()._post_clean()
        if self.errors:
            return
        try:
            identity_provider_save(
                by=self.by, provider=self.instance, organisations=list(self.cleaned_data.get("organisations") or [])
            )
        except ValidationError as exc:
            apply_service_errors(exc, self)


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    form = IdentityProviderForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "protocol", "slug", "link_by", "is_active", "updated_at"]
    list_filter = ["protocol", "is_active"]
    search_fields = ["name", "slug", "server_url", "saml_entity_id"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["organisations"]
    readonly_fields = ["created_at", "updated_at"]
    actions: list = []  # deleting goes through the page, which removes allauth's application too
    fieldsets = [
        (None, {"fields": ["name", "slug", "protocol", "organisations", "is_active"]}),
        (_("OpenID Connect"), {"fields": ["server_url", "client_id", "client_secret"]}),
        (_("SAML 2.0"), {"fields": ["saml_entity_id", "saml_metadata_url", "saml_sso_url", "saml_x509cert"]}),
        (
            _("Accounts and claims"),
            {
                "fields": [
                    "link_by",
                    "uid_claim",
                    "email_claim",
                    "emails_verified",
                    "organisation_claim",
                    "role_claim",
                    "role_mapping",
                ]
            },
        ),
        (_("Two-factor authentication"), {"fields": ["mfa_claim", "mfa_values"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        managed, seen = identity_provider_scope(user=request.user)
        if managed is None:
            return qs
        # Seen: any of its organisations is one of the user's; managed: all of them are.
        return qs.filter(organisations__in=seen).distinct()

    def _manages(self, request, obj) -> bool:
        managed, _seen = identity_provider_scope(user=request.user)
        if managed is None:
            return True
        if not managed:
            return False
        return obj is None or not obj.organisations.exclude(pk__in=managed).exists()

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._manages(request, None)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._manages(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._manages(request, obj)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        managed, _seen = identity_provider_scope(user=request.user)
        if db_field.name == "organisations" and managed is not None:
            kwargs["queryset"] = Organisation.objects.filter(pk__in=managed).order_by("name")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"by": request.user})

    def save_model(self, request, obj, form, change):
        """Saved by the form (``identity_provider_save``), so that its refusals show on it."""

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        identity_provider_delete(by=request.user, provider=obj)


@admin.register(MembershipRequest)
class MembershipRequestAdmin(admin.ModelAdmin):
    """Memberships asked for by identity providers' claims, approved or rejected here."""

    list_display = ["user", "organisation", "role", "status", "identity_provider", "created_at", "decided_by"]
    list_filter = ["status", "role"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "organisation__name"]
    list_select_related = ["user", "organisation", "identity_provider", "decided_by"]
    readonly_fields = [
        "user",
        "organisation",
        "role",
        "identity_provider",
        "status",
        "created_at",
        "decided_at",
        "decided_by",
        "membership",
    ]
    actions = ["approve", "reject"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(Q(organisation__in=organisations_administered_by(user=request.user)) & ~Q(user=request.user))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, decide, done_message) -> None:
        done = 0
        for membership_request in queryset.filter(status=MembershipRequestStatus.PENDING):
            try:
                decide(by=request.user, request=membership_request)
            except ValidationError as exc:
                self.message_user(request, f"{membership_request}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done) % {"count": done}, messages.SUCCESS)

    @admin.action(description=_("Approve (the membership starts today)"), permissions=["view"])
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            membership_request_approve,
            lambda n: ngettext("Approved %(count)d membership.", "Approved %(count)d memberships.", n),
        )

    @admin.action(description=_("Reject"), permissions=["view"])
    def reject(self, request, queryset):
        self._decide(
            request,
            queryset,
            membership_request_reject,
            lambda n: ngettext("Rejected %(count)d request.", "Rejected %(count)d requests.", n),
        )


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False  # made from an identity provider

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False  # with its identity provider


class SocialAppAdmin(SuperuserOnly, AllauthSocialAppAdmin):
    """allauth's applications, each kept in step with an identity provider: change the provider."""

    list_display = ["name", "provider", "provider_id", "client_id"]

    def has_change_permission(self, request, obj=None):
        return False


class SocialAccountAdmin(AllauthSocialAccountAdmin):
    """Which account a provider's person is linked to. Unlinking one (deleting it) makes the
    next sign-in through the provider link again by a verified e-mail address."""

    list_select_related = ["user"]


admin.site.unregister(SocialApp)
admin.site.register(SocialApp, SocialAppAdmin)
admin.site.unregister(SocialAccount)
admin.site.register(SocialAccount, SocialAccountAdmin)
admin.site.unregister(SocialToken)
