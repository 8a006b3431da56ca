"""The access log's models (``citizens.accesslog`` writes, seals and verifies it). Kept apart from
``citizens.models`` only for size; ``citizens.models`` imports them, so they are registered there."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sectors.models import Organisation

from .choices import AccessAction, AccessReason


class AppendOnlyQuerySet(models.QuerySet):
    """Entries are only ever inserted; the sealer (``citizens.accesslog``) later fills in their
    chain fields with SQL of its own, never through ``update``."""

    def update(self, **kwargs):
        raise PermissionError("The access log is append-only")

    def delete(self):
        raise PermissionError("The access log is append-only")


class AccessLogEntry(models.Model):
    """One read or change of a citizen's data. Append-only and hash-chained: each entry's hash
    covers its content and the previous entry's hash, so ``verify_access_log`` finds any row that
    was altered or removed behind the application's back.

    A request only inserts the entry, without its chain fields, so readers never wait for one
    another; the sealer (a beat task) gives it its place in the chain (``seq``) and its hashes a
    few seconds later. Until then the entry is "unsealed": shown like any other, not yet chained."""

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+", null=True
    )
    user_name = models.CharField(_("user name"), max_length=300)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="+", null=True
    )
    organisation_name = models.CharField(_("organisation name"), max_length=300, blank=True)
    role = models.CharField(_("role"), max_length=32, blank=True)
    citizen = models.ForeignKey(
        "citizens.Citizen", verbose_name=_("citizen"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=20, choices=AccessAction.choices)
    detail = models.CharField(_("what"), max_length=300, blank=True)
    reason = models.CharField(_("why"), max_length=20, choices=AccessReason.choices, blank=True)
    reason_text = models.TextField(_("stated reason"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    # The chain: place (from 1), previous hash, own hash. Empty until sealed. Only ``seq`` is indexed,
    # as every index on them is written again when the sealer fills them in.
    seq = models.PositiveBigIntegerField(null=True, unique=True)
    prev_hash = models.CharField(max_length=64, null=True)
    hash = models.CharField(max_length=64, null=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["citizen", "at"], name="accesslog_citizen_at"),
            # what the sealer looks for: small, as entries are sealed within seconds
            models.Index(fields=["id"], condition=Q(seq__isnull=True), name="accesslog_unsealed"),
        ]
        constraints = [
            models.CheckConstraint(
                name="accesslog_sealed_whole",
                condition=Q(seq__isnull=True, prev_hash__isnull=True, hash__isnull=True)
                | Q(seq__isnull=False, prev_hash__isnull=False, hash__isnull=False),
                violation_error_message=_(
                    "An access-log entry is sealed with its place and both hashes, or not at all."
                ),
            )
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_name} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Access log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Access log entries cannot be deleted")


class AccessLogHead(models.Model):
    """The end of the hash chain: only the sealer locks it (requests never do), so entries form one
    chain, and it records the last hash and count, so removing the newest entries is detected too."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(name="accessloghead_singleton", condition=Q(id=1))]

    def __str__(self) -> str:
        return f"{self.count} entries, last {self.last_hash[:12]}"
