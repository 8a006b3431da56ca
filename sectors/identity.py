"""Who is asking: the user, their memberships and the user a token names, cached across requests.

Every request needs them and they change rarely, so they are kept in the ``identity`` cache
(Redis in production) for ``IDENTITY_CACHE_SECONDS``. Without a cache shared by every process
(the development profile without Redis) the setting is 0: a process could not tell the others of
a change, so each request reads the database instead (once per request).

Nothing is trusted only because it is cached:

- An entry carries the versions it was read under: the user's own (changed whenever the user or one
  of their memberships is saved or deleted), the organisations' (any organisation saved or deleted:
  names, activity and hierarchy show in the memberships) and, for a token, the tokens' (any token
  saved or deleted). An entry read under another version than the current one is a miss, so a
  revoked token, a deactivated user or an ended membership takes effect at the next request, in
  every process.
- The versions are read before the database and changed again when the transaction commits, so a
  request that read the database just before a commit cannot keep what it read under the new
  version.
- A version is a random value, never a counter: a version lost from the cache (evicted, flushed) is
  replaced by a value no entry was ever stored under.
- Whether a membership is active is decided when it is read (today's date), not when it was cached.
- A user's token scope (``TokenScope``) is part of their identity: saving or deleting it changes
  the user's version.
- Writes that bypass the model signals (``QuerySet.update``, ``bulk_create``, raw SQL) on users,
  memberships, organisations, tokens or token scopes must call ``identity_changed``,
  ``organisations_changed`` or ``tokens_changed`` themselves; the one exception is a token's last
  use (``sectors.tokens.token_used``), which nothing cached depends on.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from .models import Membership, Organisation, TokenScope, User
from .selectors import user_memberships

CACHE_ALIAS = "identity"
ORGANISATIONS_VERSION = "identity:organisations"
TOKENS_VERSION = "identity:tokens"
_REQUEST_ATTR = "_smartcare_identity"
# Token (its SHA-256) → user id, in this process: which user's keys to read along with the token's
# in one round trip. Only a hint: the token's own cache entry decides.
_token_hints: dict[str, int] = {}
TOKEN_HINTS_MAX = 10_000
# The cached rows' columns: an entry cached by a release with other columns is never read.
_CACHED_MODELS = (User, Membership, Organisation, TokenScope)
_SHAPE = hashlib.sha256(
    ",".join(f.attname for model in _CACHED_MODELS for f in model._meta.concrete_fields).encode()
).hexdigest()[:8]


@dataclass(frozen=True)
class Identity:
    user: User
    memberships: tuple[Membership, ...]  # all of them, ended ones too, by organisation name and role
    token_scope: TokenScope | None = None  # what the user's API token may do (sectors.tokens)

    def active_memberships(self, on: datetime.date | None = None) -> list[Membership]:
        """The memberships ``Membership.objects.active()`` would return, in the same order."""
        if not self.user.is_active:
            return []
        day = on or timezone.localdate()
        return [m for m in self.memberships if m.is_active_on(day) and m.organisation.is_active]

    def acting_choices(self) -> list[Organisation]:
        """The organisations the user may act for today, each once, in name order."""
        seen: dict[int, Organisation] = {}
        for membership in self.active_memberships():
            seen.setdefault(membership.organisation_id, membership.organisation)
        return list(seen.values())


def identity_get(user_id: int) -> Identity | None:
    """The user with this id and their memberships; None when there is no such user."""
    if not _enabled():
        return _load(user_id)
    return _identity_cached(user_id, _cache().get_many(_user_keys(user_id)))


def identity_for_token(key: str) -> Identity | None:
    """The identity of the user the token names; None for a token that does not exist."""
    if not _enabled():
        user_id = _token_user_id(key)
        return None if user_id is None else _load(user_id)
    cache = _cache()
    digest = hashlib.sha256(key.encode()).hexdigest()
    token_key = "identity:token:" + digest
    hint = _token_hints.get(digest)
    keys = [token_key, TOKENS_VERSION, *(_user_keys(hint) if hint is not None else ())]
    found = cache.get_many(keys)  # one round trip when the hint is right
    entry, version = found.get(token_key), found.get(TOKENS_VERSION)
    if entry is None or version is None or entry[1] != version:
        version = version or _version(cache, TOKENS_VERSION)
        user_id = _token_user_id(key)
        if user_id is None:
            return None
        entry = (user_id, version)
        cache.set(token_key, entry, _seconds())
    if len(_token_hints) >= TOKEN_HINTS_MAX:
        _token_hints.clear()
    _token_hints[digest] = entry[0]
    return _identity_cached(entry[0], found) if entry[0] == hint else identity_get(entry[0])


def identity_for(request: HttpRequest) -> Identity | None:
    """The identity of the request's user, read once per request; None when signed out."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    remembered = getattr(request, _REQUEST_ATTR, None)
    if remembered is not None and remembered.user.pk == user.pk:
        return remembered
    identity = identity_get(user.pk)
    if identity is not None:
        identity_remember(request, identity)
    return identity


def identity_remember(request: HttpRequest, identity: Identity) -> None:
    """Keep the identity an authentication step has just read for the rest of the request."""
    setattr(request, _REQUEST_ATTR, identity)


def identity_changed(user_id: int | None) -> None:
    if user_id is not None:
        _bump(_user_version_key(user_id))


def organisations_changed() -> None:
    _bump(ORGANISATIONS_VERSION)


def tokens_changed() -> None:
    _bump(TOKENS_VERSION)


def _enabled() -> bool:
    return _seconds() > 0


def _seconds() -> int:
    return getattr(settings, "IDENTITY_CACHE_SECONDS", 0)


def _cache() -> BaseCache:
    return caches[CACHE_ALIAS]


def _user_keys(user_id: int) -> tuple[str, str, str]:
    """The entry and the two versions it must have been read under."""
    return f"identity:user:{_SHAPE}:{user_id}", _user_version_key(user_id), ORGANISATIONS_VERSION


def _user_version_key(user_id: int) -> str:
    return f"identity:user-version:{user_id}"


def _identity_cached(user_id: int, found: dict[str, Any]) -> Identity | None:
    """The cached entry if it was read under the current versions (``found`` holds the user's
    keys, as the cache answered them); otherwise read from the database and cached."""
    entry_key, version_key, organisations_key = _user_keys(user_id)
    versions = (found.get(version_key), found.get(organisations_key))
    entry = found.get(entry_key)
    if entry is not None and None not in versions and entry[0] == versions:
        return entry[1]
    cache = _cache()
    if None in versions:
        versions = (_version(cache, version_key), _version(cache, organisations_key))
    identity = _load(user_id)  # after the versions: a change committed meanwhile makes this entry stale
    if identity is not None:
        cache.set(entry_key, (versions, identity), _seconds())
    return identity


def _load(user_id: int) -> Identity | None:
    """One query (the memberships with their user and its token scope), two for a user without
    any. From the primary database: a replica that lags behind a change would have it cached
    under the version the change made."""
    memberships = tuple(
        user_memberships(user=User(pk=user_id), active_only=False)
        .select_related("user", "user__token_scope")
        .using(DEFAULT_DB_ALIAS)
    )
    user = (
        memberships[0].user
        if memberships
        else User.objects.using(DEFAULT_DB_ALIAS).select_related("token_scope").filter(pk=user_id).first()
    )
    if user is None:
        return None
    for membership in memberships:
        membership.user = user  # one copy of the user, in the cache too
    try:
        scope: TokenScope | None = user.token_scope
    except TokenScope.DoesNotExist:
        scope = None
    return Identity(user=user, memberships=memberships, token_scope=scope)


def _token_user_id(key: str) -> int | None:
    return Token.objects.using(DEFAULT_DB_ALIAS).filter(key=key).values_list("user_id", flat=True).first()


def _version(cache: BaseCache, key: str) -> str:
    """The current version, made now when there is none."""
    cache.add(key, secrets.token_hex(8), timeout=None)
    version = cache.get(key)
    if version is None:  # evicted at once: stamp with a value no later reader can match
        return secrets.token_hex(8)
    return version


def _bump(key: str) -> None:
    """A new version now (for this transaction's own later reads) and again on commit (for the
    requests that read the database before the commit)."""
    cache = _cache()
    cache.set(key, secrets.token_hex(8), timeout=None)
    transaction.on_commit(lambda: cache.set(key, secrets.token_hex(8), timeout=None))


# Signal receivers: the one place that sees every save and delete, the admin's and cascades
# included. They only invalidate the cache; no rule lives here.


def _user_saved(sender: Any, instance: User, **kwargs: Any) -> None:
    identity_changed(instance.pk)


def _membership_moving(
    sender: Any,
    instance: Membership,
    raw: bool = False,
    update_fields: Any = None,
    using: str = DEFAULT_DB_ALIAS,
    **kwargs: Any,
) -> None:
    """A membership given to another person leaves the first one's cache too."""
    if instance.pk is not None and not raw and (update_fields is None or "user" in update_fields):
        before = Membership.objects.using(using).filter(pk=instance.pk).values_list("user_id", flat=True).first()
        identity_changed(before)


def _membership_saved(sender: Any, instance: Membership, **kwargs: Any) -> None:
    identity_changed(instance.user_id)


def _organisation_saved(sender: Any, instance: Organisation, created: bool = False, **kwargs: Any) -> None:
    """A new organisation is in nobody's memberships yet (those bump their user's version)."""
    if not created:
        organisations_changed()


def _token_scope_saved(sender: Any, instance: TokenScope, **kwargs: Any) -> None:
    """A scope is part of its account's identity. Its last use is written past the signals
    (``sectors.tokens.token_used``): a use changes nothing cached."""
    identity_changed(instance.user_id)


def _token_saved(sender: Any, instance: Token, created: bool = False, **kwargs: Any) -> None:
    """A new token has no entry yet: unknown tokens are not cached."""
    if not created:
        tokens_changed()


def connect_signals() -> None:
    uid = "sectors.identity"
    for signal in (post_save, post_delete):
        signal.connect(_user_saved, sender=User, dispatch_uid=f"{uid}.user")
        signal.connect(_membership_saved, sender=Membership, dispatch_uid=f"{uid}.membership")
        signal.connect(_organisation_saved, sender=Organisation, dispatch_uid=f"{uid}.organisation")
        signal.connect(_token_saved, sender=Token, dispatch_uid=f"{uid}.token")
        signal.connect(_token_scope_saved, sender=TokenScope, dispatch_uid=f"{uid}.token-scope")
    pre_save.connect(_membership_moving, sender=Membership, dispatch_uid=f"{uid}.membership-moving")
