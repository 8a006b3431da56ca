from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    """The kinds of unit in the SOR tree that the portal tells apart (an owner, its institutions
    and their units, several levels deep)."""

    REGION = "region", _("Region")
    MUNICIPALITY = "municipality", _("Municipality")
    # A municipality's units: MedCom messages are addressed to them, not to the municipality.
    HOME_CARE = "home_care", _("Home care district")
    HOME_NURSING = "home_nursing", _("Home nursing district")
    NURSING_HOME = "nursing_home", _("Nursing home")
    HEALTH_VISITOR = "health_visitor", _("Health visitors")
    REHABILITATION = "rehabilitation", _("Rehabilitation")
    ACUTE_TEAM = "acute_team", _("Acute team")
    NOTIFICATION_UNIT = "notification_unit", _("Hospital notification unit")
    HOSPITAL_UNIT = "hospital_unit", _("Hospital unit")
    HOSPITAL_DEPARTMENT = "hospital_department", _("Hospital department")
    HOSPITAL_WARD = "hospital_ward", _("Hospital ward")
    GP_CLINIC = "gp_clinic", _("GP clinic")
    SPECIALIST_PRACTICE = "specialist_practice", _("Specialist practice")
    PHARMACY = "pharmacy", _("Pharmacy")
    # A sender first met in a message: its kind is not known until a SOR import says it.
    OTHER = "other", _("Other unit")


MUNICIPAL_UNIT_KINDS = frozenset(
    {
        OrganisationKind.HOME_CARE,
        OrganisationKind.HOME_NURSING,
        OrganisationKind.NURSING_HOME,
        OrganisationKind.HEALTH_VISITOR,
        OrganisationKind.REHABILITATION,
        OrganisationKind.ACUTE_TEAM,
        OrganisationKind.NOTIFICATION_UNIT,
    }
)
HOSPITAL_KINDS = frozenset(
    {OrganisationKind.HOSPITAL_UNIT, OrganisationKind.HOSPITAL_DEPARTMENT, OrganisationKind.HOSPITAL_WARD}
)
# Kinds with a ydernummer (the practice sector's provider number).
PRACTICE_KINDS = frozenset({OrganisationKind.GP_CLINIC, OrganisationKind.SPECIALIST_PRACTICE})


class OrganisationSource(models.TextChoices):
    """Where the portal learnt of an organisation: a message's sender stays unverified until a
    SOR import confirms it."""

    PORTAL = "portal", _("Registered in the portal")
    SOR = "sor", _("SOR import")
    MESSAGE = "message", _("From a message, unverified")


class GatewayEvent(models.TextChoices):
    """The MedCom events a gateway may deliver (the codes of MedCom's eventCodes CodeSystem)."""

    CARE_COMMUNICATION = "care-communication-message", _("Care communication")
    HOSPITAL_NOTIFICATION = "hospital-notification-message", _("Hospital notification")
    ACKNOWLEDGEMENT = "acknowledgement-message", _("Acknowledgement")


class TokenUse(models.TextChoices):
    """What an integration token may be used for (``sectors.tokens``). A token whose scope names
    none of them may do everything, as tokens did before scopes."""

    READ = "read", _("Read (GET on the API and FHIR)")
    WRITE_OBSERVATIONS = "write-observations", _("Write observations")
    PROCESS_MESSAGE = "process-message", _("Send messages ($process-message)")


class Sector(models.TextChoices):
    """The three sectors of Danish health care (plus the region that runs the hospitals)."""

    GENERAL_PRACTICE = "general_practice", _("General practice")
    HOSPITAL = "hospital", _("Hospital")
    MUNICIPALITY = "municipality", _("Municipality")
    REGION = "region", _("Region")
    OTHER = "other", _("Other")


SECTOR_OF_KIND = {
    OrganisationKind.REGION: Sector.REGION,
    OrganisationKind.MUNICIPALITY: Sector.MUNICIPALITY,
    **dict.fromkeys(MUNICIPAL_UNIT_KINDS, Sector.MUNICIPALITY),
    **dict.fromkeys(HOSPITAL_KINDS, Sector.HOSPITAL),
    OrganisationKind.GP_CLINIC: Sector.GENERAL_PRACTICE,
    OrganisationKind.SPECIALIST_PRACTICE: Sector.GENERAL_PRACTICE,
    OrganisationKind.PHARMACY: Sector.OTHER,
    OrganisationKind.OTHER: Sector.OTHER,
}


class MembershipRole(models.TextChoices):
    GP = "gp", _("General practitioner")
    PRACTICE_NURSE = "practice_nurse", _("Practice nurse")
    SPECIALIST = "specialist", _("Practising specialist")
    HOSPITAL_PHYSICIAN = "hospital_physician", _("Hospital physician")
    HOSPITAL_NURSE = "hospital_nurse", _("Hospital nurse")
    HOME_CARE_NURSE = "home_care_nurse", _("Home-care nurse")
    HOME_CARE_ASSISTANT = "home_care_assistant", _("Home-care assistant")
    CARE_COORDINATOR = "care_coordinator", _("Care coordinator")
    ORGANISATION_ADMIN = "organisation_admin", _("Organisation administrator")
    # The organisation's own system (its integration token): sends MedCom messages for it.
    INTEGRATION = "integration", _("System integration")


# Which roles make sense in which kind of organisation; coordinators and administrators
# exist everywhere.
ROLES_BY_KIND = {
    OrganisationKind.GP_CLINIC: {MembershipRole.GP, MembershipRole.PRACTICE_NURSE},
    OrganisationKind.HOSPITAL_UNIT: {MembershipRole.HOSPITAL_PHYSICIAN, MembershipRole.HOSPITAL_NURSE},
    OrganisationKind.HOSPITAL_DEPARTMENT: {MembershipRole.HOSPITAL_PHYSICIAN, MembershipRole.HOSPITAL_NURSE},
    OrganisationKind.MUNICIPALITY: {MembershipRole.HOME_CARE_NURSE, MembershipRole.HOME_CARE_ASSISTANT},
    **{kind: {MembershipRole.HOME_CARE_NURSE, MembershipRole.HOME_CARE_ASSISTANT} for kind in MUNICIPAL_UNIT_KINDS},
    OrganisationKind.HOSPITAL_WARD: {MembershipRole.HOSPITAL_PHYSICIAN, MembershipRole.HOSPITAL_NURSE},
    OrganisationKind.SPECIALIST_PRACTICE: {MembershipRole.SPECIALIST, MembershipRole.PRACTICE_NURSE},
    OrganisationKind.REGION: set(),
    OrganisationKind.PHARMACY: set(),
    OrganisationKind.OTHER: set(),
}
ROLES_ANYWHERE = {MembershipRole.CARE_COORDINATOR, MembershipRole.ORGANISATION_ADMIN, MembershipRole.INTEGRATION}

CLINICAL_ROLES = {
    MembershipRole.GP,
    MembershipRole.PRACTICE_NURSE,
    MembershipRole.SPECIALIST,
    MembershipRole.HOSPITAL_PHYSICIAN,
    MembershipRole.HOSPITAL_NURSE,
    MembershipRole.HOME_CARE_NURSE,
    MembershipRole.HOME_CARE_ASSISTANT,
    MembershipRole.CARE_COORDINATOR,
}


class IdentityProtocol(models.TextChoices):
    """How an organisation's identity provider talks to the portal (single sign-on)."""

    OIDC = "oidc", _("OpenID Connect")
    SAML = "saml", _("SAML 2.0")


class AccountLinking(models.TextChoices):
    """How a person signing in through an identity provider is matched to a portal account."""

    EMAIL = "email", _("Verified e-mail address")
    CLAIM = "claim", _("A claim naming the person (e.g. employee number)")


class MembershipRequestStatus(models.TextChoices):
    """A membership an identity provider asserted for a person: it gives no access until an
    administrator of the organisation approves it."""

    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
