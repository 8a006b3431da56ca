"""The admin for organisations, staff and memberships.

A membership is what opens citizens' data to a person, so its management is scoped: superusers
manage every membership; other staff (with the membership permissions) only those of the
organisations they administer, and never their own. The same holds for the membership lists on
the user and organisation pages: what is listed, which organisations and people may be chosen,
and what is saved (``services.membership_grant_check``).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from smartcare.forms import apply_service_errors

from . import admin_tokens  # noqa: F401 - the API tokens' admin, with their scopes
from .admin_tokens import account_scope
from .choices import GatewayEvent, MembershipRole
from .models import Gateway, LocationNumber, Membership, Organisation, User
from .selectors import organisations_administered_by
from .services import gateway_create, gateway_token_renew, membership_grant_check, user_invite, user_onboard
from .tokens import scope_summary


class MembershipAdminForm(forms.ModelForm):
    """Holds a changed membership to ``membership_grant_check`` for the person saving it."""

    granted_by: User | None = None  # set per request by ``MembershipScope.scoped_form``

    def clean(self):
        cleaned = super().clean()
        if self.granted_by is None or not self.has_changed():
            return cleaned
        user = cleaned.get("user") if "user" in self.fields else self.instance.user
        organisation = cleaned.get("organisation") if "organisation" in self.fields else self.instance.organisation
        if user is not None and organisation is not None:
            try:
                membership_grant_check(by=self.granted_by, user=user, organisation=organisation)
            except ValidationError as exc:
                apply_service_errors(exc, self)
        return cleaned


class MembershipScope:
    """Shared by the membership admin and the membership lists on the user and organisation pages."""

    form = MembershipAdminForm

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(organisation__in=organisations_administered_by(user=request.user))

    def get_autocomplete_fields(self, request):
        """Organisations to choose from are few for anybody but a superuser: a plain list of them."""
        fields = super().get_autocomplete_fields(request)
        return fields if request.user.is_superuser else [f for f in fields if f != "organisation"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            if db_field.name == "organisation":
                kwargs["queryset"] = organisations_administered_by(user=request.user)
            elif db_field.name == "user":
                kwargs["queryset"] = User.objects.exclude(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @staticmethod
    def scoped_form(form_class, request):
        return type(form_class.__name__, (form_class,), {"granted_by": request.user})


class MembershipInlineBase(MembershipScope, admin.TabularInline):
    model = Membership
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = self.scoped_form(formset.form, request)
        return formset

    def manages(self, request, parent) -> bool:
        raise NotImplementedError

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and (obj is None or self.manages(request, obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self.manages(request, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or self.manages(request, obj))


class MembershipInlineForUser(MembershipInlineBase):
    fk_name = "user"
    autocomplete_fields = ["organisation"]
    fields = ["organisation", "role", "start_date", "end_date"]

    def manages(self, request, parent) -> bool:
        """Another person's memberships (in the organisations one administers, see get_queryset)."""
        return request.user.is_superuser or parent.pk != request.user.pk


class MembershipInlineForOrganisation(MembershipInlineBase):
    fk_name = "organisation"
    autocomplete_fields = ["user"]
    fields = ["user", "role", "start_date", "end_date"]

    def manages(self, request, parent) -> bool:
        return organisations_administered_by(user=request.user).filter(pk=parent.pk).exists()


class LocationNumberInline(admin.TabularInline):
    model = LocationNumber
    extra = 0
    verbose_name_plural = _("more EAN numbers")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "sor_code",
        "gln",
        "municipality_code",
        "ydernummer",
        "municipality",
        "is_active",
        "is_external",
        "source",
    ]
    list_filter = ["kind", "is_active", "is_external", "source", ("municipality", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "sor_code", "gln", "location_numbers__gln", "municipality_code", "ydernummer", "city"]
    list_select_related = ["municipality"]
    autocomplete_fields = ["parent", "municipality"]
    readonly_fields = ["source", "created_at", "updated_at"]  # set by the SOR import and the message intake
    inlines = [LocationNumberInline, MembershipInlineForOrganisation]
    fieldsets = [
        (None, {"fields": ["kind", "name", "parent", "municipality", "is_active", "is_external", "source"]}),
        (
            _("Identifiers"),
            {"fields": ["sor_code", "gln", "municipality_code", "ydernummer", "valid_from", "valid_to"]},
        ),
        (_("Contact"), {"fields": ["street", "postal_code", "city", "phone", "email"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]


class UserInviteForm(forms.ModelForm):
    """Adding a person: who they are, and (below) their memberships. No password: the person
    chooses one through the invitation e-mailed when the account is saved."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name"]


class MembershipListFilter(admin.SimpleListFilter):
    """The user list by organisation and role. Both choices apply to the same membership (the
    GPs of one clinic, not GPs anywhere who have some membership of that clinic)."""

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        organisation = request.GET.get(OrganisationListFilter.parameter_name)
        role = request.GET.get(RoleListFilter.parameter_name)
        wanted = {}
        if organisation is not None:
            if not organisation.isdigit():
                raise IncorrectLookupParameters(organisation)
            wanted["organisation"] = int(organisation)
        if role is not None:
            if role not in MembershipRole.values:
                raise IncorrectLookupParameters(role)
            wanted["role"] = role
        return queryset.filter(pk__in=Membership.objects.filter(**wanted).values("user"))


class OrganisationListFilter(MembershipListFilter):
    title = _("organisation")
    parameter_name = "organisation"

    def lookups(self, request, model_admin):
        return (
            Organisation.objects.filter(memberships__isnull=False).distinct().order_by("name").values_list("pk", "name")
        )


class RoleListFilter(MembershipListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return MembershipRole.choices


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Adding a person asks only their e-mail address, name and memberships, and e-mails them
    an invitation to choose a password; until they do, their password is unusable. The user page
    shows the memberships first; the raw permission lists only to superusers."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "title", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", OrganisationListFilter, RoleListFilter]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [MembershipInlineForUser]
    actions = ["send_invitation"]
    add_form = UserInviteForm
    add_form_template = None  # admin/sectors/user/change_form.html, like the user page
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["first_name", "last_name", "title", "phone"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "description": _(
                    "Saving sends the person an e-mail with a link to choose their own password. "
                    "Until they do, they cannot sign in."
                ),
                "fields": ["email", "first_name", "last_name"],
            },
        )
    ]
    RAW_PERMISSIONS = ("groups", "user_permissions")

    def get_fieldsets(self, request, obj=None):
        """Groups and single permissions are a superuser's tool; everybody else grants access
        through memberships."""
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in self.RAW_PERMISSIONS]})
            for name, options in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        user_onboard(by=request.user, user=obj, request=request)
        self.message_user(
            request,
            _("An invitation to choose a password is e-mailed to %(email)s.") % {"email": obj.email},
            messages.SUCCESS,
        )

    def get_readonly_fields(self, request, obj=None):
        """Only a superuser hands out superuser status and admin permissions (their own included)."""
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", *self.RAW_PERMISSIONS]
        return fields

    def has_change_permission(self, request, obj=None):
        """A superuser's account (its e-mail address, its password) is changed by superusers only."""
        return super().has_change_permission(request, obj) and not (
            obj is not None and obj.is_superuser and not request.user.is_superuser
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (
            obj is not None and obj.is_superuser and not request.user.is_superuser
        )

    @admin.action(description=_("Send invitation (set-password link by e-mail)"))
    def send_invitation(self, request, queryset):
        sent = 0
        for user in queryset:
            try:
                user_invite(by=request.user, user=user, request=request)
            except ValidationError as exc:
                self.message_user(request, f"{user.email}: {'; '.join(exc.messages)}", messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                ngettext("Sent %(count)d invitation.", "Sent %(count)d invitations.", sent) % {"count": sent},
                messages.SUCCESS,
            )


@admin.register(Membership)
class MembershipAdmin(MembershipScope, admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "start_date", "end_date"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "organisation__name"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["user", "organisation"]
    date_hierarchy = "start_date"

    def get_form(self, request, obj=None, change=False, **kwargs):
        return self.scoped_form(super().get_form(request, obj, change=change, **kwargs), request)

    def _own(self, request, obj) -> bool:
        return obj is not None and not request.user.is_superuser and obj.user_id == request.user.pk

    def has_change_permission(self, request, obj=None):
        """One's own memberships are shown, never changed or removed here."""
        return super().has_change_permission(request, obj) and not self._own(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._own(request, obj)


class GatewayAdminForm(forms.ModelForm):
    event_codes = forms.MultipleChoiceField(
        label=_("events it may deliver"), choices=GatewayEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Gateway
        fields = ["name", "event_codes", "all_receivers", "receivers", "webhook_url", "webhook_secret", "is_active"]


@admin.register(Gateway)
class GatewayAdmin(admin.ModelAdmin):
    """Gateways are registered by superusers: a gateway may deliver from any sender in Denmark.
    Saving a new one creates its system account and token, shown once."""

    form = GatewayAdminForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "is_active", "all_receivers", "event_list", "token_scope", "token_last_used", "created_at"]
    list_filter = ["is_active", "all_receivers"]
    list_select_related = ["user__token_scope"]
    search_fields = ["name"]
    filter_horizontal = ["receivers"]
    readonly_fields = ["user", "token_scope", "token_last_used", "created_at"]
    actions = ["renew_token"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    @admin.display(description=_("token scope"))
    def token_scope(self, obj: Gateway) -> str:
        """Edited with the token (API tokens, under the gateway's system account)."""
        return scope_summary(account_scope(obj.user)) if obj.user_id else ""

    @admin.display(description=_("token last used"))
    def token_last_used(self, obj: Gateway):
        scope = account_scope(obj.user) if obj.user_id else None
        return scope.last_used_at if scope is not None and scope.last_used_at else _("not recorded")

    @admin.display(description=_("events"))
    def event_list(self, obj: Gateway) -> str:
        return ", ".join(str(GatewayEvent(code).label) for code in obj.event_codes if code in GatewayEvent.values)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        gateway, key = gateway_create(
            by=request.user,
            name=obj.name,
            event_codes=list(form.cleaned_data["event_codes"]),
            all_receivers=obj.all_receivers,
            webhook_url=obj.webhook_url,
            webhook_secret=obj.webhook_secret,
        )
        form.instance = obj = gateway
        obj.is_active = form.cleaned_data["is_active"]
        obj.save(update_fields=["is_active"])
        self._token_shown(request, gateway, key)

    def save_related(self, request, form, formsets, change):
        form.instance.receivers.set(form.cleaned_data["receivers"])

    def _token_shown(self, request, gateway: Gateway, key: str) -> None:
        messages.warning(
            request,
            _("The token of %(gateway)s is %(key)s. Give it to the gateway's operator now: it is not shown again.")
            % {"gateway": gateway.name, "key": key},
        )

    @admin.action(description=_("Renew the token (the old one stops working)"))
    def renew_token(self, request, queryset):
        for gateway in queryset:
            self._token_shown(request, gateway, gateway_token_renew(by=request.user, gateway=gateway))


from . import admin_sso  # noqa: E402,F401  single sign-on: identity providers and membership requests
