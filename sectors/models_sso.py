"""Single sign-on: the identity providers of organisations, and the memberships they assert.

Kept beside ``models.py`` (which imports them) and referring to its models by name, so that the
two modules do not import each other.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import AccountLinking, IdentityProtocol, MembershipRequestStatus, MembershipRole

# Roles an identity provider may ask for: a person is never a system integration.
SSO_ROLES = [role for role in MembershipRole if role != MembershipRole.INTEGRATION]
# ``amr`` values (RFC 8176) that mean more than one factor was used.
DEFAULT_MFA_VALUES = "mfa, otp, hwk, swk, sc"


def _default_role_mapping() -> dict[str, str]:
    return {}


class IdentityProvider(models.Model):
    """An organisation's identity provider (the region's or a municipality's directory, or the
    MitID Erhverv broker): its staff sign in there instead of with a password of the portal's.
    The portal keeps allauth's ``SocialApp`` in step with it (``services.identity_provider_save``)."""

    name = models.CharField(
        _("name"), max_length=40, help_text=_("Shown on the sign-in button: “Sign in with <name>”.")
    )
    slug = models.SlugField(
        _("short name"),
        max_length=60,
        unique=True,
        help_text=_("Part of the sign-in addresses (/accounts/oidc/<short name>/…, /accounts/saml/<short name>/…)."),
    )
    protocol = models.CharField(_("protocol"), max_length=8, choices=IdentityProtocol.choices)
    organisations = models.ManyToManyField(
        "sectors.Organisation",
        verbose_name=_("organisations it signs in for"),
        related_name="identity_providers",
        help_text=_("Their units are included: a region's provider signs in for its hospitals and departments."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # OpenID Connect
    server_url = models.URLField(
        _("issuer URL"), blank=True, help_text=_("OpenID Connect: where /.well-known/openid-configuration is found.")
    )
    client_id = models.CharField(_("client ID"), max_length=191, blank=True)
    client_secret = models.CharField(_("client secret"), max_length=191, blank=True)
    # SAML 2.0
    saml_entity_id = models.CharField(_("SAML entity ID of the provider"), max_length=200, blank=True)
    saml_metadata_url = models.URLField(
        _("SAML metadata URL"), blank=True, help_text=_("SAML: the provider's metadata, or the three fields below.")
    )
    saml_sso_url = models.URLField(_("SAML single sign-on URL"), blank=True)
    saml_x509cert = models.TextField(_("SAML signing certificate"), blank=True, help_text=_("PEM, without a key."))
    # Accounts and claims
    link_by = models.CharField(
        _("accounts are linked by"), max_length=8, choices=AccountLinking.choices, default=AccountLinking.EMAIL
    )
    uid_claim = models.CharField(
        _("claim naming the person"),
        max_length=100,
        default="sub",
        help_text=_("When linked by a claim: e.g. sub or employeeNumber (a SAML attribute name for SAML)."),
    )
    email_claim = models.CharField(_("e-mail claim"), max_length=100, default="email")
    emails_verified = models.BooleanField(
        _("e-mail addresses are verified by the provider"),
        default=False,
        help_text=_(
            "Trust the e-mail address even without an email_verified claim (a directory the organisation runs)."
        ),
    )
    organisation_claim = models.CharField(_("claim with the organisation's SOR code"), max_length=100, default="sor")
    role_claim = models.CharField(_("claim with the role"), max_length=100, default="role")
    role_mapping = models.JSONField(
        _("role mapping"),
        default=_default_role_mapping,
        blank=True,
        help_text=_('The role claim\'s values and the portal\'s roles, e.g. {"Sygeplejerske": "hospital_nurse"}.'),
    )
    mfa_claim = models.CharField(
        _("claim asserting two-factor sign-in"),
        max_length=100,
        default="amr",
        blank=True,
        help_text=_(
            "amr or acr (OpenID Connect); for SAML AuthnContextClassRef (the assertion's authentication context) "
            "or an attribute. When it does not assert two factors, the portal's own two-factor is required."
        ),
    )
    mfa_values = models.CharField(
        _("values meaning two factors"),
        max_length=500,
        default=DEFAULT_MFA_VALUES,
        blank=True,
        help_text=_(
            "Separated by commas, e.g. mfa, otp, hwk; an NSIS level: "
            "https://data.gov.dk/concept/core/nsis/loa/Substantial; or a SAML context: "
            "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract."
        ),
    )
    social_app = models.OneToOneField(
        "socialaccount.SocialApp",
        verbose_name=_("allauth application"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="identity_provider",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def accepted_mfa_values(self) -> set[str]:
        return {value for value in re.split(r"[,\s]+", self.mfa_values or "") if value}

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.protocol == IdentityProtocol.OIDC:
            for name in ("server_url", "client_id"):
                if not getattr(self, name):
                    errors[name] = _("Required for OpenID Connect.")
        elif self.protocol == IdentityProtocol.SAML:
            if not self.saml_entity_id:
                errors["saml_entity_id"] = _("Required for SAML.")
            if not self.saml_metadata_url and not (self.saml_sso_url and self.saml_x509cert):
                errors["saml_metadata_url"] = _("Give the metadata URL, or the single sign-on URL and the certificate.")
        if self.link_by == AccountLinking.CLAIM and not (self.uid_claim or "").strip():
            errors["uid_claim"] = _("Name the claim that identifies the person.")
        mapping = self.role_mapping
        allowed = {role.value for role in SSO_ROLES}
        if not isinstance(mapping, dict) or any(
            not isinstance(key, str) or value not in allowed for key, value in mapping.items()
        ):
            errors["role_mapping"] = _("A JSON object of claim values and roles, each one of: %(roles)s.") % {
                "roles": ", ".join(sorted(allowed))
            }
        if errors:
            raise ValidationError(errors)


class MembershipRequest(models.Model):
    """A membership an identity provider's claims asked for: nothing until an administrator of
    the organisation approves it (``services.membership_request_approve`` makes the membership)."""

    user = models.ForeignKey(
        "sectors.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="membership_requests"
    )
    organisation = models.ForeignKey(
        "sectors.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="membership_requests",
    )
    role = models.CharField(_("role"), max_length=32, choices=MembershipRole.choices)
    identity_provider = models.ForeignKey(
        IdentityProvider,
        verbose_name=_("identity provider"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="membership_requests",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MembershipRequestStatus.choices, default=MembershipRequestStatus.PENDING
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "sectors.User", verbose_name=_("decided by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    membership = models.ForeignKey(
        "sectors.Membership", verbose_name=_("membership"), on_delete=models.SET_NULL, null=True, blank=True
    )

    class Meta:
        verbose_name = _("membership request")
        verbose_name_plural = _("membership requests")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"],
                condition=Q(status=MembershipRequestStatus.PENDING),
                name="membership_request_one_pending",
                violation_error_message=_("This membership already awaits approval."),
            ),
            models.CheckConstraint(
                name="membership_request_decided",
                condition=Q(status=MembershipRequestStatus.PENDING, decided_at__isnull=True)
                | (~Q(status=MembershipRequestStatus.PENDING) & Q(decided_at__isnull=False)),
                violation_error_message=_("A decided request has a decision time; a pending one has none."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}, {self.organisation}"
