from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    # FHIR's administrative gender: a person without a CPR number, as a message gave it.
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class StayStatus(models.TextChoices):
    HOME = "home", _("At home")
    ADMITTED = "admitted", _("Admitted")


class StayKind(models.TextChoices):
    INPATIENT = "inpatient", _("Admitted (inpatient)")
    ACUTE_AMBULANT = "acute_ambulant", _("Acute ambulant")


class AccessReason(models.TextChoices):
    """Why a user may see a citizen: the relationship the access policy found."""

    GP_CLINIC = "gp_clinic", _("The citizen's GP clinic")
    MUNICIPALITY = "municipality", _("The citizen's municipality")
    HOSPITAL_STAY = "hospital_stay", _("Current hospital stay")
    HOSPITAL_RECENT = "hospital_recent", _("Recent hospital stay")
    CARE_TEAM = "care_team", _("Member of the care team")
    BREAK_THE_GLASS = "break_the_glass", _("Break-the-glass")
    CREATED = "created", _("Registered the citizen")
    # A hospital department recorded an admission of a citizen it had no relationship with.
    HOSPITAL_ADMISSION = "hospital_admission", _("Admission recorded by the department")
    RECEIVED_MESSAGE = "received_message", _("Received a message about the citizen")


class RelationshipKind(models.TextChoices):
    """The kinds of care relationship a ``CareRelationship`` row records."""

    GP_CLINIC = "gp_clinic", _("Listed GP clinic")
    MUNICIPALITY = "municipality", _("Municipality of residence")
    HOSPITAL_STAY = "hospital_stay", _("Hospital stay")
    CARE_TEAM = "care_team", _("Care-team participation")
    RECEIVED_MESSAGE = "received_message", _("Received message")
    BREAK_THE_GLASS = "break_the_glass", _("Break-the-glass grant")


class AccessAction(models.TextChoices):
    VIEW = "view", _("Viewed the overview")
    LIST = "list", _("Shown in a list")
    SEARCH = "search", _("Shown as a search hit")
    API_READ = "api_read", _("Read through the API")
    EXPORT = "export", _("Exported")
    CREATE = "create", _("Registered")
    UPDATE = "update", _("Changed")
    CONSENT = "consent", _("Changed consent or objection")
    BREAK_THE_GLASS = "break_the_glass", _("Opened by break-the-glass")
    ACCESS_REPORT = "access_report", _("Viewed who has seen the data")
    REGISTER_ATTEMPT = "register_attempt", _("Tried to register an already registered citizen")
    MERGE = "merge", _("Merged two registrations of the citizen")


class ObjectionTarget(models.TextChoices):
    SECTOR = "sector", _("A whole sector")
    ORGANISATION = "organisation", _("One organisation")


class ReviewKind(models.TextChoices):
    """What an administrator reviews on the access review list (besides break-the-glass)."""

    ADMISSION = "admission", _("Admission without an earlier relationship")
    DEATH = "death", _("Death recorded")
    RECEIVED_MESSAGE = "received_message", _("Relationship from a received message")


class ReviewConclusion(models.TextChoices):
    """What the reviewing administrator concluded about an access."""

    JUSTIFIED = "justified", _("Justified")
    NOT_JUSTIFIED = "not_justified", _("Not justified")
    FOLLOW_UP = "follow_up", _("Needs follow-up")
