from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    REGION = "region", _("Region")
    MUNICIPALITY = "municipality", _("Municipality")
    HOSPITAL_UNIT = "hospital_unit", _("Hospital unit")
    HOSPITAL_DEPARTMENT = "hospital_department", _("Hospital department")
    GP_CLINIC = "gp_clinic", _("GP clinic")


class Sector(models.TextChoices):
    """The three sectors of Danish health care (plus the region that runs the hospitals)."""

    GENERAL_PRACTICE = "general_practice", _("General practice")
    HOSPITAL = "hospital", _("Hospital")
    MUNICIPALITY = "municipality", _("Municipality")
    REGION = "region", _("Region")


SECTOR_OF_KIND = {
    OrganisationKind.REGION: Sector.REGION,
    OrganisationKind.MUNICIPALITY: Sector.MUNICIPALITY,
    OrganisationKind.HOSPITAL_UNIT: Sector.HOSPITAL,
    OrganisationKind.HOSPITAL_DEPARTMENT: Sector.HOSPITAL,
    OrganisationKind.GP_CLINIC: Sector.GENERAL_PRACTICE,
}


class MembershipRole(models.TextChoices):
    GP = "gp", _("General practitioner")
    PRACTICE_NURSE = "practice_nurse", _("Practice nurse")
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
    OrganisationKind.REGION: set(),
}
ROLES_ANYWHERE = {MembershipRole.CARE_COORDINATOR, MembershipRole.ORGANISATION_ADMIN, MembershipRole.INTEGRATION}

CLINICAL_ROLES = {
    MembershipRole.GP,
    MembershipRole.PRACTICE_NURSE,
    MembershipRole.HOSPITAL_PHYSICIAN,
    MembershipRole.HOSPITAL_NURSE,
    MembershipRole.HOME_CARE_NURSE,
    MembershipRole.HOME_CARE_ASSISTANT,
    MembershipRole.CARE_COORDINATOR,
}
