"""The identifier and code systems of the FHIR API (Danish core profiles, HL7 and MedCom), in
one place; ``messaging.fhir.codes`` takes the shared ones from here."""

from __future__ import annotations

# identifiers (dk-core)
SOR = "urn:oid:1.2.208.176.1.1"
GLN = "https://www.gs1.org/gln"
CPR = "urn:oid:1.2.208.176.1.2"
# Replacement numbers (E-CPR): the issuer's system is under this root (citizens.identifiers).
REPLACEMENT_ROOT = "urn:oid:1.2.208.176.1.6.1"
MUNICIPALITY_CODES = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

# terminologies
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OBSERVATION_STATUS = "http://hl7.org/fhir/observation-status"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_STATUS = "http://hl7.org/fhir/flag-status"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

# The portal's own codes, where no national code system has them.
PORTAL = "https://smartcare.dk/fhir/CodeSystem/"
ORGANISATION_KIND = PORTAL + "organisation-kind"
MEMBERSHIP_ROLE = PORTAL + "membership-role"
ACCESS_ACTION = PORTAL + "access-action"
ACCESS_REASON = PORTAL + "access-reason"
ALERT_SEVERITY = PORTAL + "alert-severity"
ALERT_KIND = PORTAL + "alert-kind"
# Flag: the measurement an alert was raised for (Flag has no element for it).
FLAG_OBSERVATION = "https://smartcare.dk/fhir/StructureDefinition/flag-observation"

# Care plans (careplans.fhir): HL7's value sets the portal's statuses already are, and the
# portal's own codes and extensions where HL7 has none.
REQUEST_STATUS = "http://hl7.org/fhir/request-status"
REQUEST_INTENT = "http://hl7.org/fhir/request-intent"
CARE_TEAM_STATUS = "http://hl7.org/fhir/care-team-status"
GOAL_STATUS = "http://hl7.org/fhir/goal-status"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
CARE_PLAN_ACTIVITY_STATUS = "http://hl7.org/fhir/care-plan-activity-status"
TASK_STATUS = "http://hl7.org/fhir/task-status"
CARE_TEAM_ROLE = PORTAL + "care-team-role"
HANDOFF_BUSINESS_STATUS = PORTAL + "handoff-business-status"
PORTAL_EXTENSION = "https://smartcare.dk/fhir/StructureDefinition/"
RESPONSIBLE_ORGANIZATION = PORTAL_EXTENSION + "responsible-organization"
ACTIVITY_STATUS = PORTAL_EXTENSION + "activity-status"
