"""Patient: a citizen, with the CPR number (or replacement numbers), the GP clinic as
``generalPractitioner`` and the municipality and contact persons as ``contact``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from smartcare.datetimes import rfc3339

from ...choices import Sex
from ...citizen_detail import citizen_record_by_cpr, citizen_record_read
from ...identifiers import REPLACEMENT_SYSTEM_ROOT
from ...models import Citizen, CitizenIdentifier
from ..codes import CPR, DATA_ABSENT_REASON
from ..params import DateParam, ReferenceParam, StringParam, Token, TokenParam, key_int, key_uuid, token_codes
from ..registry import ResourceType

CONTACT_ROLE = "http://terminology.hl7.org/CodeSystem/v2-0131"


def _name(citizen: Citizen) -> dict[str, Any]:
    name: dict[str, Any] = {"use": "official", "given": citizen.first_name.split()}
    if citizen.family_name_unknown or not citizen.last_name:
        name["_family"] = {"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}
    else:
        name["family"] = citizen.last_name
    name["text"] = citizen.full_name
    return name


def _contacts(citizen: Citizen) -> list[dict[str, Any]]:
    contacts: list[dict[str, Any]] = []
    for person in citizen.contact_persons.all():
        contact: dict[str, Any] = {
            "name": {"text": person.name},
            "telecom": [{"system": "phone", "value": person.phone}],
        }
        contact["relationship"] = [
            {"coding": [{"system": CONTACT_ROLE, "code": "C"}], "text": person.relation or "contact"}
        ]
        contacts.append(contact)
    if citizen.municipality_id:
        contacts.append(
            {
                "relationship": [{"coding": [{"system": CONTACT_ROLE, "code": "S", "display": "State Agency"}]}],
                "organization": {
                    "reference": f"Organization/{citizen.municipality_id}",
                    "display": citizen.municipality.name,
                },
            }
        )
    return contacts


def patient(citizen: Citizen) -> dict[str, Any]:
    identifiers = [{"use": "official", "system": CPR, "value": citizen.cpr}] if citizen.cpr else []
    identifiers += [{"use": "secondary", "system": i.system, "value": i.value} for i in citizen.identifiers.all()]
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(citizen.pk),
        "meta": {"lastUpdated": rfc3339(citizen.updated_at)},
    }
    if identifiers:
        resource["identifier"] = identifiers
    resource["active"] = citizen.merged_into_id is None
    resource["name"] = [_name(citizen)]
    if citizen.phone:
        resource["telecom"] = [{"system": "phone", "value": citizen.phone, "use": "home"}]
    if citizen.sex:
        resource["gender"] = citizen.sex
    if citizen.birth_date:
        resource["birthDate"] = citizen.birth_date.isoformat()
    resource["deceasedDateTime" if citizen.deceased_at else "deceasedBoolean"] = (
        rfc3339(citizen.deceased_at) if citizen.deceased_at else False
    )
    if citizen.street or citizen.postal_code or citizen.city:
        address: dict[str, Any] = {"use": "home", "country": "DK"}
        if citizen.street:
            address["line"] = [citizen.street]
        if citizen.postal_code:
            address["postalCode"] = citizen.postal_code
        if citizen.city:
            address["city"] = citizen.city
        resource["address"] = [address]
    contacts = _contacts(citizen)
    if contacts:
        resource["contact"] = contacts
    if citizen.gp_clinic is not None:
        resource["generalPractitioner"] = [
            {"reference": f"Organization/{citizen.gp_clinic_id}", "display": citizen.gp_clinic.name}
        ]
    if citizen.merged_into_id:
        resource["link"] = [{"other": {"reference": f"Patient/{citizen.merged_into_id}"}, "type": "replaced-by"}]
    return resource


def build(rows: Sequence[Citizen]) -> list[dict[str, Any]]:
    return [patient(citizen) for citizen in rows]


def _identifier(token: Token) -> Q:
    if token.code is None:
        if token.system == CPR:
            return ~Q(cpr=None) & ~Q(cpr="")
        return Q(pk__in=CitizenIdentifier.objects.filter(system=token.system).values("citizen_id"))
    by_cpr = Q(cpr=token.code.replace("-", ""))
    replacements = CitizenIdentifier.objects.filter(value=token.code)
    if token.system is None:
        return by_cpr | Q(pk__in=replacements.values("citizen_id"))
    if token.system == CPR:
        return by_cpr
    if token.system.startswith(REPLACEMENT_SYSTEM_ROOT):
        return Q(pk__in=replacements.filter(system=token.system).values("citizen_id"))
    return Q(pk__in=[])


def _pins(value: str) -> list[Any] | None:
    """The citizen a CPR token names (``urn:oid:1.2.208.176.1.2|DDMMYYSSSS``), read whole as the
    Patient read reads it (one prepared statement: the search needs no other); None for any other
    token, which may name several citizens."""
    system, _sep, code = value.partition("|")
    if not _sep or system != CPR or not code:
        return None
    found = citizen_record_by_cpr(code.replace("-", ""))
    return [found] if found is not None else []


def _gender(token: Token) -> Q:
    return Q(sex__in=token_codes(token, "http://hl7.org/fhir/administrative-gender", Sex.values))


PATIENT = ResourceType(
    name="Patient",
    description="Citizens the acting organisation has a care relationship with.",
    rows=lambda: Citizen.objects.select_related("gp_clinic", "municipality").prefetch_related(
        "contact_persons", "identifiers"
    ),
    build=build,
    parse_id=key_uuid,
    read_one=citizen_record_read,
    citizen="pk",
    params=(
        TokenParam(
            "identifier",
            f"CPR number ({CPR}|DDMMYYSSSS) or a replacement number ({REPLACEMENT_SYSTEM_ROOT}.<issuer>|…).",
            match=_identifier,
            pins=_pins,
        ),
        StringParam(
            "name", "The start of a given or family name (:exact, :contains).", fields=("first_name", "last_name")
        ),
        StringParam("family", "The start of the family name (:exact, :contains).", fields=("last_name",)),
        StringParam("given", "The start of the given names (:exact, :contains).", fields=("first_name",)),
        DateParam("birthdate", "The birth date, with prefixes (ge, lt, …).", field_name="birth_date", is_date=True),
        TokenParam("gender", "female, male, other or unknown.", match=_gender),
        ReferenceParam(
            "general-practitioner",
            "The GP clinic (Organization/<id>).",
            field_name="gp_clinic_id",
            targets=("Organization",),
            convert=key_int,
        ),
        ReferenceParam(
            "organization",
            "The municipality (Organization/<id>).",
            field_name="municipality_id",
            targets=("Organization",),
            convert=key_int,
        ),
    ),
    sorts={"name": ("last_name", "first_name"), "family": ("last_name",), "birthdate": ("birth_date",)},
    default_order=("last_name", "first_name"),
    profile="http://hl7.dk/fhir/core/StructureDefinition/dk-core-patient",
)
