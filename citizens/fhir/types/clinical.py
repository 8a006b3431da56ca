"""Condition (the citizen's chronic conditions, ICD-10), Encounter (hospital stays) and Consent
(consent to sharing across sectors and the objections against a sector or an organisation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q

from sectors.choices import Sector
from smartcare.datetimes import rfc3339

from ...choices import StayKind
from ...models import Citizen, CitizenCondition, HospitalStay, Objection
from ..codes import ACT_CODE, CONDITION_CATEGORY, CONDITION_CLINICAL, ICD10, LOINC, PORTAL
from ..params import DateParam, ReferenceParam, Token, TokenParam, key_int, key_uuid, token_codes
from ..registry import ResourceType


def patient_param(field_name: str = "citizen_id", name: str = "patient") -> ReferenceParam:
    return ReferenceParam(
        name, "The citizen (Patient/<id>).", field_name=field_name, targets=("Patient",), convert=key_uuid
    )


def _reference(kind: str, pk: Any, display: str = "") -> dict[str, str]:
    reference = {"reference": f"{kind}/{pk}"}
    if display:
        reference["display"] = display
    return reference


# --- Condition -----------------------------------------------------------------------------------


def condition(row: CitizenCondition) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": str(row.pk),
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": {
            "coding": [{"system": ICD10, "code": row.condition.icd10_code, "display": row.condition.name_en}],
            "text": row.condition.name_da,
        },
        "subject": _reference("Patient", row.citizen_id),
    }
    if row.onset_date:
        resource["onsetDateTime"] = row.onset_date.isoformat()
    return resource


def _condition_code(token: Token) -> Q:
    if token.system not in (None, ICD10):
        return Q(pk__in=[])
    if token.code is None:
        return Q()
    # An ICD-10 code names its subcodes too: J44 finds J44.9.
    return Q(condition__icd10_code__iexact=token.code) | Q(condition__icd10_code__istartswith=f"{token.code}.")


def _clinical_status(token: Token) -> Q:
    return Q() if token_codes(token, CONDITION_CLINICAL, ["active"]) else Q(pk__in=[])


CONDITION = ResourceType(
    name="Condition",
    description="The citizen's chronic conditions (ICD-10), as on the overview.",
    rows=lambda: CitizenCondition.objects.select_related("condition"),
    build=lambda rows: [condition(row) for row in rows],
    parse_id=key_int,
    params=(
        patient_param(),
        patient_param(name="subject"),
        TokenParam("code", f"ICD-10 code ({ICD10}|J44); a code finds its subcodes.", match=_condition_code),
        TokenParam("clinical-status", "active (the portal lists current conditions only).", match=_clinical_status),
        DateParam("onset-date", "The onset date, with prefixes.", field_name="onset_date", is_date=True),
    ),
    sorts={"onset-date": ("onset_date",), "code": ("condition__icd10_code",)},
    default_order=("condition__icd10_code",),
)


# --- Encounter ------------------------------------------------------------------------------------

ENCOUNTER_CLASS = {StayKind.INPATIENT: ("IMP", "inpatient encounter"), StayKind.ACUTE_AMBULANT: ("EMER", "emergency")}


def _stay_status(stay: HospitalStay) -> str:
    if stay.discharged_at is not None:
        return "finished"
    return "onleave" if stay.on_leave else "in-progress"


def encounter(stay: HospitalStay) -> dict[str, Any]:
    code, display = ENCOUNTER_CLASS.get(StayKind(stay.kind), ("IMP", "inpatient encounter"))
    period = {"start": rfc3339(stay.admitted_at)}
    if stay.discharged_at:
        period["end"] = rfc3339(stay.discharged_at)
    return {
        "resourceType": "Encounter",
        "id": str(stay.pk),
        "status": _stay_status(stay),
        "class": {"system": ACT_CODE, "code": code, "display": display},
        "subject": _reference("Patient", stay.citizen_id),
        "period": period,
        "serviceProvider": _reference("Organization", stay.department_id, stay.department.name),
    }


def _encounter_status(token: Token) -> Q:
    wanted = set(token_codes(token, "http://hl7.org/fhir/encounter-status", ["in-progress", "onleave", "finished"]))
    condition = Q(pk__in=[])
    if "finished" in wanted:
        condition |= Q(discharged_at__isnull=False)
    if "in-progress" in wanted:
        condition |= Q(discharged_at__isnull=True, on_leave=False)
    if "onleave" in wanted:
        condition |= Q(discharged_at__isnull=True, on_leave=True)
    return condition


def _encounter_class(token: Token) -> Q:
    codes = {code: kind for kind, (code, _display) in ENCOUNTER_CLASS.items()}
    return Q(kind__in=token_codes(token, ACT_CODE, codes))


ENCOUNTER = ResourceType(
    name="Encounter",
    description="Hospital stays: admitted (in-progress, onleave) or discharged (finished), at a department.",
    rows=lambda: HospitalStay.objects.select_related("department"),
    build=lambda rows: [encounter(stay) for stay in rows],
    parse_id=key_int,
    params=(
        patient_param(),
        patient_param(name="subject"),
        TokenParam("status", "in-progress, onleave or finished.", match=_encounter_status),
        TokenParam("class", f"IMP (inpatient) or EMER (acute ambulant), {ACT_CODE}.", match=_encounter_class),
        DateParam("date", "The admission, with prefixes.", field_name="admitted_at"),
        ReferenceParam(
            "service-provider",
            "The department (Organization/<id>).",
            field_name="department_id",
            targets=("Organization",),
            convert=key_int,
        ),
    ),
    sorts={"date": ("admitted_at",)},
    default_order=("-admitted_at",),
)


# --- Consent ----------------------------------------------------------------------------------------

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SECTOR_CODES = PORTAL + "sector"
# The law the consent and objections are given under (the Danish Health Act, sections 42 a-c).
POLICY_TEXT = "Sundhedsloven §§ 42 a-c (videregivelse af helbredsoplysninger mellem sektorer)"


def _objection(objection: Objection) -> dict[str, Any]:
    provision: dict[str, Any] = {"type": "deny", "period": {"start": rfc3339(objection.recorded_at)}}
    if objection.organisation_id and objection.organisation is not None:
        provision["actor"] = [
            {
                "role": {"coding": [{"system": PARTICIPATION, "code": "IRCP", "display": "information recipient"}]},
                "reference": _reference("Organization", objection.organisation_id, objection.organisation.name),
            }
        ]
    else:
        label = str(Sector(objection.sector).label)
        provision["code"] = [{"coding": [{"system": SECTOR_CODES, "code": objection.sector, "display": label}]}]
    return provision


def consent(citizen: Citizen) -> dict[str, Any]:
    """One Consent per citizen: the consent to sharing (permit, deny, or not recorded) with each
    standing objection as a nested deny."""
    objections = [_objection(o) for o in citizen.active_objections]  # type: ignore[attr-defined]
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(citizen.pk),
        "status": "active",
        "scope": {"coding": [{"system": CONSENT_SCOPE, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": _reference("Patient", citizen.pk),
    }
    if citizen.consent_recorded_at:
        resource["dateTime"] = rfc3339(citizen.consent_recorded_at)
    if citizen.consent_to_share is not None:
        code = "OPTIN" if citizen.consent_to_share else "OPTOUT"
        resource["policyRule"] = {"coding": [{"system": ACT_CODE, "code": code}], "text": POLICY_TEXT}
    else:
        resource["policyRule"] = {"text": POLICY_TEXT}
    provision: dict[str, Any] = {}
    if citizen.consent_to_share is not None:
        provision["type"] = "permit" if citizen.consent_to_share else "deny"
    if objections:
        provision["provision"] = objections
    if provision:
        resource["provision"] = provision
    return resource


def _consent_rows():
    standing = Objection.objects.filter(withdrawn_at__isnull=True)
    objected = Exists(standing.filter(citizen_id=OuterRef("pk")))
    return Citizen.objects.filter(Q(consent_to_share__isnull=False) | objected).prefetch_related(
        Prefetch("objections", queryset=standing.select_related("organisation"), to_attr="active_objections")
    )


def _consent_status(token: Token) -> Q:
    return Q() if token_codes(token, "http://hl7.org/fhir/consent-state-codes", ["active"]) else Q(pk__in=[])


CONSENT = ResourceType(
    name="Consent",
    description=(
        "The citizen's consent to sharing across sectors and standing objections against a sector or an "
        "organisation; one Consent per citizen who has either (id: the Patient's)."
    ),
    rows=_consent_rows,
    build=lambda rows: [consent(citizen) for citizen in rows],
    parse_id=key_uuid,
    citizen="pk",
    params=(
        patient_param(field_name="pk"),
        TokenParam("status", "active.", match=_consent_status),
    ),
    sorts={"date": ("consent_recorded_at",)},
    default_order=("last_name", "first_name"),
)


def clinical_types() -> Sequence[ResourceType]:
    return (CONDITION, ENCOUNTER, CONSENT)
