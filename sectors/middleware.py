from __future__ import annotations

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from .acting import acting_for
from .choices import MembershipRole
from .models import Membership


class ActingOrganisationMiddleware:
    """Attach ``request.acting``: the organisation the user acts for on this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.acting = SimpleLazyObject(lambda: acting_for(request))
        return self.get_response(request)


def mfa_required_for(user) -> bool:
    """Superusers and organisation administrators hold the keys to other people's accounts."""
    if not getattr(settings, "MFA_REQUIRED_FOR_ADMINS", False) or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.active().filter(user=user, role=MembershipRole.ORGANISATION_ADMIN).exists()


class AdminRequiresMFAMiddleware:
    """Send administrators without TOTP to set it up before the admin opens for them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = None

    def __call__(self, request):
        if self.admin_prefix is None:
            self.admin_prefix = reverse("admin:index")
        if (
            request.path.startswith(self.admin_prefix)
            and mfa_required_for(request.user)
            and not is_mfa_enabled(request.user, ["totp"])
        ):
            messages.warning(request, _("Set up two-factor authentication before you use the administration."))
            return redirect("mfa_activate_totp")
        return self.get_response(request)
