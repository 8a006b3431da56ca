"""The code systems and identifier systems of MedCom messaging (DOMAIN.md and MedCom's IGs:
dk-medcom-messaging, -hospitalnotification, -carecommunication, -acknowledgement, -terminology).

One place, so the exporter and the receiver can never disagree on a URL."""

from __future__ import annotations

# The identifier systems are the FHIR API's: the same in messages and in reads.
from citizens.fhir.codes import CPR, DATA_ABSENT_REASON, GLN, REPLACEMENT_ROOT, SOR  # noqa: F401

from ..choices import AckCode, Category, HospitalCode, Priority, Revision

# messaging
EVENT_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-eventCodes"
EVENT_CARE_COMMUNICATION = "care-communication-message"
EVENT_HOSPITAL_NOTIFICATION = "hospital-notification-message"
EVENT_ACKNOWLEDGEMENT = "acknowledgement-message"
DESTINATION_USE_EXTENSION = (
    "http://medcomfhir.dk/ig/messaging/StructureDefinition/medcom-messaging-destinationUseExtension"
)
DESTINATION_USE = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-destinationUse"
ACTIVITY_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-messaging-activityCodes"
UNKNOWN_ENDPOINT = "http://medcomfhir.dk/unknown"

# care communication
CATEGORY_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-careCommunication-categoryCodes"
CATEGORIES = set(Category.values)
PRIORITY = {Priority.ROUTINE: "routine", Priority.ASAP: "asap"}

# CareCommunication payload (message segment) extensions of dk-medcom-core, and the payload's role in
# the Provenance (source: first included by this message)
CORE_EXTENSION = "http://medcomfhir.dk/ig/core/StructureDefinition/"
PAYLOAD_DATE_EXTENSION = CORE_EXTENSION + "medcom-core-datetime-extension"
PAYLOAD_IDENTIFIER_EXTENSION = CORE_EXTENSION + "medcom-core-identifier-extension"
PAYLOAD_AUTHOR_EXTENSION = CORE_EXTENSION + "medcom-core-practitioner-extension"
PAYLOAD_AUTHOR_CONTACT_EXTENSION = CORE_EXTENSION + "medcom-core-contact-extension"
PROVENANCE_ROLE_SOURCE = "source"
PROVENANCE_ROLE_REVISION = "revision"
PROVENANCE_ROLE_REMOVAL = "removal"

# hospital notification: the Danish code from Encounter.class, Encounter.status and the activity
ENCOUNTER_CLASS = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
EPISODE_OF_CARE_IDENTIFIER = "http://medcomfhir.dk/ig/hospitalnotification/episodeOfCareIdentifier"
HOSPITAL = {
    # code: (class, status, activity)
    HospitalCode.STAA: ("EMER", "in-progress", "admit-emergency"),
    HospitalCode.STIN: ("IMP", "in-progress", "admit-inpatient"),
    HospitalCode.STOR: ("IMP", "onleave", "start-leave-inpatient"),
    HospitalCode.SLOR: ("IMP", "in-progress", "end-leave-inpatient"),
    HospitalCode.SLHJ: ("IMP", "finished", "discharge-inpatient-home"),
    HospitalCode.MORS: ("IMP", "finished", "discharge-inpatient-home"),
}
# A cancelled (AN_) notification's Encounter; the leave of a STOR/SLOR (valuePeriod start/end).
ENCOUNTER_CANCELLED = "entered-in-error"
LEAVE_PERIOD_EXTENSION = (
    "http://medcomfhir.dk/ig/hospitalnotification/StructureDefinition/medcom-hospitalnotifiation-leave-period-extension"
)
# An acute ambulant stay is discharged (or ends in death) with the emergency activity.
DISCHARGE_EMERGENCY = "discharge-emergency-home"
REVISION_PREFIX = {Revision.NEW: "", Revision.CORRECTION: "revise-", Revision.CANCELLATION: "cancel-"}

# acknowledgement
ACK_CODES = {AckCode.OK: "ok", AckCode.TRANSIENT_ERROR: "transient-error", AckCode.FATAL_ERROR: "fatal-error"}
ACK_ERROR_CODES = "http://medcomfhir.dk/ig/terminology/CodeSystem/medcom-acknowledgement-error-codes"
ACK_OPERATION_OUTCOME_CODES = "http://terminology.hl7.org/CodeSystem/operation-outcome"


def hospital_activity(code: str, revision: str, *, acute_ambulant: bool = False) -> str:
    """The Provenance activity of a hospital notification, e.g. ``revise-admit-inpatient``."""
    activity = HOSPITAL[code][2]
    if acute_ambulant and activity == "discharge-inpatient-home":
        activity = DISCHARGE_EMERGENCY
    return REVISION_PREFIX[revision] + activity
