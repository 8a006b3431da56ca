"""Token scopes: what a request authenticated by an integration token may do.

The one check every API calls (the REST API through ``sectors.api.permissions``, ``$process-message``
and the FHIR API directly)::

    token_permits(request, use=TokenUse.READ, resource_type="Patient")

A request that came with no token (a person signed in with a session, or nobody: authentication
is not decided here) is always permitted; so is a token without a scope (``TokenScope``) or with
one that names nothing. Otherwise the scope must name the use (``read``, ``write-observations``,
``process-message``; none named: every use) and, when the request is about one resource type, that
type (none named: every type). ``ANY_WRITE`` stands for a change that is none of the named uses:
only a token whose scope names no uses may make it.

The scope comes with the cached identity (``sectors.identity``), so the check reads nothing; the
token's last use is written at most once a minute per token and process (``token_used``).
"""

from __future__ import annotations

import datetime
import hashlib

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .choices import TokenUse
from .models import TokenScope

# A change that is none of TokenUse's (creating a citizen, sending a message through the REST API).
ANY_WRITE = "write"
LAST_USED_EVERY = datetime.timedelta(seconds=60)
_USED_MAX = 10_000
_ATTR = "_smartcare_token_scope"
_NO_TOKEN = object()
# Token (its SHA-256) → when this process last wrote its use.
_used: dict[str, datetime.datetime] = {}
# "This token may not <...>"
USE_PHRASES = {
    TokenUse.READ: gettext_lazy("read"),
    TokenUse.WRITE_OBSERVATIONS: gettext_lazy("write observations"),
    TokenUse.PROCESS_MESSAGE: gettext_lazy("send messages ($process-message)"),
    ANY_WRITE: gettext_lazy("make this change"),
}


def token_authenticated(request: HttpRequest, *, scope: TokenScope | None) -> None:
    """Called by the token authentication: this request came with a token that has this scope."""
    setattr(request, _ATTR, scope)


def request_token_scope(request) -> TokenScope | None:
    """The scope of the request's token (None: no token, or a token without a scope). Takes a
    Django request or DRF's."""
    scope = getattr(getattr(request, "_request", request), _ATTR, None)
    return scope if isinstance(scope, TokenScope) else None


def token_refusal(request, *, use: str, resource_type: str | None = None) -> str | None:
    """Why the request's token may not do this (a sentence for the caller), or None when it may."""
    scope = request_token_scope(request)
    if scope is None or not scope.is_limited:
        return None
    if not scope.allows_use(use):
        return _("This token may not %(use)s. Its scope allows: %(allowed)s.") % {
            "use": USE_PHRASES.get(use, use),
            "allowed": _uses(scope),
        }
    if not scope.allows_resource_type(resource_type):
        if not resource_type:
            return _("This token may only be used for the resource types of its scope: %(types)s.") % {
                "types": ", ".join(scope.resource_types)
            }
        return _("This token may not be used for %(type)s. Its scope covers: %(types)s.") % {
            "type": resource_type,
            "types": ", ".join(scope.resource_types),
        }
    return None


def _uses(scope: TokenScope) -> str:
    return ", ".join(str(USE_PHRASES[u]) for u in scope.uses if u in USE_PHRASES) or _("every use")


def token_permits(request, *, use: str, resource_type: str | None = None) -> bool:
    """May the request's token be used for ``use`` on ``resource_type``? Always True without a token.

    ``resource_type``: the FHIR resource type the request reads or writes; None when it is about
    no one type (``$process-message``), which a list of resource types does not limit; "" for an
    endpoint that has no FHIR resource type, which a token limited to resource types may not use."""
    return token_refusal(request, use=use, resource_type=resource_type) is None


def token_used(*, key: str, user_id: int, now: datetime.datetime | None = None) -> None:
    """Record that the token was used: one upsert a minute per token and process at most, not a
    write per request. Not through ``save()`` (no signal): a use changes no scope, so the cached
    identities stay. An account without a scope gets a row that names nothing (full rights)."""
    now = now or timezone.now()
    digest = hashlib.sha256(key.encode()).hexdigest()
    last = _used.get(digest)
    if last is not None and now - last < LAST_USED_EVERY:
        return
    if len(_used) >= _USED_MAX:
        _used.clear()
    _used[digest] = now
    TokenScope.objects.bulk_create(
        [TokenScope(user_id=user_id, last_used_at=now)],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["last_used_at"],
    )


def token_use_forget() -> None:
    """Forget when this process last recorded each token's use (tests start afresh)."""
    _used.clear()


def scope_summary(scope: TokenScope | None) -> str:
    """The scope in a few words, for the admin."""
    if scope is None or not scope.is_limited:
        return _("Full rights (no scope)")
    uses = _uses(scope)
    types = ", ".join(scope.resource_types) or _("all resource types")
    return f"{uses} · {types}"
