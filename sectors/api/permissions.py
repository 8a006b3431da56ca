"""The token scope (``sectors.tokens``) on every API view: part of the default permission classes.

A view says what its requests are about:

- ``scope_resource_type``: the FHIR resource type it reads or writes (``"Observation"``). None: it
  is about no one type (``/api/v1/me/``). A view that does not say has no FHIR resource type: a
  token limited to resource types may not use it. A view that serves several types defines
  ``get_scope_resource_type(request)`` instead.
- ``scope_write_uses``: which of its changes (by action, or by method name for a plain view) a
  scope may allow, e.g. ``{"create": TokenUse.WRITE_OBSERVATIONS}``. A change not listed needs a
  token whose scope names no uses.

Reads (GET, HEAD, OPTIONS) need the ``read`` use.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..choices import TokenUse
from ..tokens import ANY_WRITE, token_refusal


def view_token_use(request, view) -> str:
    if request.method in SAFE_METHODS:
        return TokenUse.READ
    action = getattr(view, "action", None) or (request.method or "").lower()
    return getattr(view, "scope_write_uses", {}).get(action, ANY_WRITE)


def view_resource_type(request, view) -> str | None:
    own = getattr(view, "get_scope_resource_type", None)
    if own is not None:
        return own(request)
    return getattr(view, "scope_resource_type", "")


class TokenScopePermission(BasePermission):
    """Refuses a token request its token's scope does not allow (403, code ``token_scope``)."""

    code = "token_scope"
    message = ""

    def has_permission(self, request, view) -> bool:
        refusal = token_refusal(
            request, use=view_token_use(request, view), resource_type=view_resource_type(request, view)
        )
        if refusal is None:
            return True
        self.message = refusal  # DRF makes one instance per request
        return False
