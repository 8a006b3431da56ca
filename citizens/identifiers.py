"""Replacement numbers (erstatningspersonnummer, "E-CPR"): identifiers of their own.

A person without a CPR number (a tourist, a newborn not yet registered, an unconscious person
whose identity is unknown) is identified by a replacement number, issued by a national system
under ``urn:oid:1.2.208.176.1.6.1`` or by a regional or local one below it (DOMAIN.md,
"Identifying the person"). One person may collect several from different issuers before a CPR
number becomes known, so they are rows of their own and not a second column on the citizen.
Values are kept and compared exactly as the issuer wrote them (``0703921VJ5`` is not
``0703921vj5``): only the issuer knows whether case matters, so the portal never guesses.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

REPLACEMENT_SYSTEM_ROOT = "urn:oid:1.2.208.176.1.6.1"
# The root itself names no issuer: a system is an arc below it (national: one arc, regional and local: more).
_SYSTEM = r"^urn:oid:1\.2\.208\.176\.1\.6\.1(\.[0-9]+)+$"
_VALUE = r"^[A-Za-z0-9-]{1,64}$"
_SYSTEM_RE, _VALUE_RE = re.compile(_SYSTEM), re.compile(_VALUE)


def validate_replacement_system(value: str) -> None:
    if not _SYSTEM_RE.match(value or ""):
        raise ValidationError(
            _("A replacement number's issuer is an OID under urn:oid:1.2.208.176.1.6.1."), code="ecpr_system"
        )


def validate_replacement_value(value: str) -> None:
    if not _VALUE_RE.match(value or ""):
        raise ValidationError(_("A replacement number has 1 to 64 letters, digits or hyphens."), code="ecpr_value")


def exact_replacement(text: str) -> str:
    """The search text when it is a whole replacement number (letters and digits, no spaces),
    else "". A name has no digits and a CPR number no letters, so neither is taken for one."""
    value = (text or "").strip()
    if _VALUE_RE.match(value) and any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
        return value
    return ""


def replacement_label(value: str) -> str:
    """A replacement number as pages show it where a CPR number would be: labelled, so nobody
    reads it as a CPR number."""
    return _("Replacement no. %(value)s") % {"value": value}


class CitizenIdentifier(models.Model):
    """A replacement number of a citizen, with its issuer's system. Unique per system: the same
    value from two issuers is two numbers."""

    citizen = models.ForeignKey(
        "citizens.Citizen", verbose_name=_("citizen"), on_delete=models.CASCADE, related_name="identifiers"
    )
    system = models.CharField(
        _("issuing system"),
        max_length=200,
        validators=[validate_replacement_system],
        help_text=_("The issuer's OID, e.g. urn:oid:1.2.208.176.1.6.1.1."),
    )
    value = models.CharField(_("replacement number"), max_length=64, validators=[validate_replacement_value])
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("replacement number")
        verbose_name_plural = _("replacement numbers")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "value"],
                name="citizenidentifier_unique",
                violation_error_message=_("This replacement number is already registered for a citizen."),
            ),
            models.CheckConstraint(
                name="citizenidentifier_system_ecpr",
                condition=Q(system__regex=_SYSTEM),
                violation_error_message=_("A replacement number's issuer is an OID under urn:oid:1.2.208.176.1.6.1."),
            ),
            models.CheckConstraint(
                name="citizenidentifier_value_format",
                condition=Q(value__regex=_VALUE),
                violation_error_message=_("A replacement number has 1 to 64 letters, digits or hyphens."),
            ),
        ]
        indexes = [models.Index(fields=["value"], name="citizenidentifier_value")]

    def __str__(self) -> str:
        return f"{self.value} ({self.system})"
