"""FHIR identifier systems for Danish organisations (DOMAIN.md), shared by the API and, later,
the MedCom FHIR exchange."""

from .models import Organisation

SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
GLN_SYSTEM = "https://www.gs1.org/gln"
YDERNUMMER_SYSTEM = "urn:oid:1.2.208.176.1.4"
MUNICIPALITY_CODE_SYSTEM = "http://hl7.dk/fhir/core/CodeSystem/dk-core-municipality-codes"


def organisation_identifiers(organisation: Organisation) -> list[dict[str, str]]:
    identifiers = [
        {"system": SOR_SYSTEM, "value": organisation.sor_code},
        {"system": GLN_SYSTEM, "value": organisation.gln},
    ]
    if organisation.ydernummer:
        identifiers.append({"system": YDERNUMMER_SYSTEM, "value": organisation.ydernummer})
    if organisation.municipality_code:
        identifiers.append({"system": MUNICIPALITY_CODE_SYSTEM, "value": organisation.municipality_code})
    return identifiers


# Real SOR and GLN codes for the region are not public here; reference and demo data use
# well-formed synthetic ones. The namespaces keep the kinds apart, so codes never collide and
# loading twice yields the same codes (idempotent loads key on them).
class Namespace:
    REGION = 1
    MUNICIPALITY = 2
    HOSPITAL_UNIT = 3
    HOSPITAL_DEPARTMENT = 4
    GP_CLINIC = 5


def synthetic_sor(namespace: int, number: int) -> str:
    """A 12-digit SOR-shaped code starting with 9."""
    return f"9{namespace}{number:010d}"


def synthetic_gln(namespace: int, number: int) -> str:
    """A 13-digit GLN in the Danish GS1 range (579) with a valid check digit."""
    from .validators import gs1_check_digit

    body = f"579{namespace}{number:08d}"
    return body + str(gs1_check_digit(body))
