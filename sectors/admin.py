from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Membership, Organisation, User
from .services import user_invite


class MembershipInlineForUser(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["organisation"]
    fields = ["organisation", "role", "start_date", "end_date"]


class MembershipInlineForOrganisation(admin.TabularInline):
    model = Membership
    fk_name = "organisation"
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "start_date", "end_date"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "sor_code", "gln", "municipality_code", "ydernummer", "municipality", "is_active"]
    list_filter = ["kind", "is_active", ("municipality", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "sor_code", "gln", "municipality_code", "ydernummer", "city"]
    list_select_related = ["municipality"]
    autocomplete_fields = ["parent", "municipality"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [MembershipInlineForOrganisation]
    fieldsets = [
        (None, {"fields": ["kind", "name", "parent", "municipality", "is_active"]}),
        (_("Identifiers"), {"fields": ["sor_code", "gln", "municipality_code", "ydernummer"]}),
        (_("Contact"), {"fields": ["street", "postal_code", "city", "phone", "email"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "title", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "memberships__role"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [MembershipInlineForUser]
    actions = ["send_invitation"]
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
                "classes": ["wide"],
                "description": _(
                    "Leave the password empty and use the action “Send invitation” to let the person "
                    "choose their own password."
                ),
                "fields": ["email", "first_name", "last_name", "title", "usable_password", "password1", "password2"],
            },
        )
    ]

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
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "start_date", "end_date"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["user__email", "user__first_name", "user__last_name", "organisation__name"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["user", "organisation"]
    date_hierarchy = "start_date"
