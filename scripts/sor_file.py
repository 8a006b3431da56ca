"""Writes the SOR file the portal ships for the Region of Southern Denmark
(``sectors/fixtures/reference/sor_region_syddanmark.csv``), from the reference facts beside it.

Real SOR and EAN codes are not public here, so the file has well-formed synthetic ones
(``sectors.identifiers``); the municipalities, hospital units and sites, and the GP clinics of the
demo keep the codes they always had. The file is the layout ``manage.py import_sor`` reads, and a
test checks that this script still writes exactly the file in the repository.

    python -m scripts.sor_file            # rewrite the file
"""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartcare.settings")
    django.setup()

from sectors.identifiers import Namespace, synthetic_gln, synthetic_sor  # noqa: E402
from sectors.sor import COLUMNS  # noqa: E402

FIXTURES = ROOT / "sectors" / "fixtures" / "reference"
OUTPUT = FIXTURES / "sor_region_syddanmark.csv"
# Namespaces of the synthetic codes (``sectors.identifiers``: 1-5 are the reference and demo
# kinds, 7 the tests' factories).
EXTERNAL_NAMESPACE = 0  # the units elsewhere in Denmark
MUNICIPAL_UNITS = 6
WARDS = 8
PRACTICES = 9  # specialist practices from 1, pharmacies from PHARMACY_OFFSET
PHARMACY_OFFSET = 500
REGION_CODE = 83
STREETS = ["Vestergade", "Østergade", "Kongensgade", "Jernbanegade", "Nørregade", "Søndergade", "Skovvej"]
LARGE = {"0461", "0479", "0510", "0540", "0561", "0580", "0621", "0630"}
ISLANDS = {"0492", "0563"}
DISTRICTS = ["Nord", "Syd", "Øst", "Vest", "Centrum"]
NURSING_HOMES = [
    "Solgården",
    "Egebo",
    "Lindegården",
    "Bøgehaven",
    "Rosenhaven",
    "Møllebo",
    "Skovly",
    "Fjordbo",
    "Kastaniegården",
    "Åbo",
]
MAIN_SITES = {"Odense", "Svendborg", "Kolding", "Vejle", "Aabenraa", "Sønderborg", "Esbjerg"}
SPECIALTIES = [
    "Kardiologisk afdeling",
    "Lungemedicinsk afdeling",
    "Endokrinologisk afdeling",
    "Geriatrisk afdeling",
    "Akutafdeling",
]
SPECIALIST_PRACTICES = [
    ("0461", "Øjenlægerne Vestergade, Odense", "5000", "Odense C"),
    ("0461", "Speciallæge i lungesygdomme, Odense", "5000", "Odense C"),
    ("0461", "Hudlægerne Kongensgade, Odense", "5000", "Odense C"),
    ("0461", "Kardiologisk Klinik Odense", "5000", "Odense C"),
    ("0621", "Øre-næse-halslægerne Kolding", "6000", "Kolding"),
    ("0621", "Speciallæge i intern medicin, Kolding", "6000", "Kolding"),
    ("0630", "Øjenklinikken Vejle", "7100", "Vejle"),
    ("0561", "Reumatologisk Klinik Esbjerg", "6700", "Esbjerg"),
    ("0561", "Hudklinikken Esbjerg", "6700", "Esbjerg"),
    ("0540", "Speciallæge i psykiatri, Sønderborg", "6400", "Sønderborg"),
    ("0479", "Øjenlægen Svendborg", "5700", "Svendborg"),
    ("0580", "Kardiologisk Speciallægepraksis Aabenraa", "6200", "Aabenraa"),
]
# A few units elsewhere in Denmark: external directory entries, the senders MedCom's test
# scenarios use (a geriatric clinic in Aarhus, cardiology at Herlev, a health-visitor unit).
EXTERNAL = [
    # (key, parent key, name, kind, municipality code, postal code, city)
    ("r82", "", "Region Midtjylland", "region", "", "8800", "Viborg"),
    ("r84", "", "Region Hovedstaden", "region", "", "3400", "Hillerød"),
    ("auh", "r82", "Aarhus Universitetshospital", "hospital_unit", "0751", "8200", "Aarhus N"),
    (
        "auh-ger",
        "auh",
        "Aarhus Universitetshospital, Geriatrisk afdeling",
        "hospital_department",
        "0751",
        "8200",
        "Aarhus N",
    ),
    ("auh-ger-1", "auh-ger", "Geriatrisk Sengeafsnit G1", "hospital_ward", "0751", "8200", "Aarhus N"),
    (
        "auh-med",
        "auh",
        "Aarhus Universitetshospital, Medicinsk afdeling",
        "hospital_department",
        "0751",
        "8200",
        "Aarhus N",
    ),
    ("herlev", "r84", "Herlev og Gentofte Hospital", "hospital_unit", "0163", "2730", "Herlev"),
    (
        "herlev-kar",
        "herlev",
        "Herlev og Gentofte Hospital, Kardiologisk afdeling",
        "hospital_department",
        "0163",
        "2730",
        "Herlev",
    ),
    ("herlev-kar-1", "herlev-kar", "Kardiologisk Sengeafsnit P1", "hospital_ward", "0163", "2730", "Herlev"),
    ("k0751", "", "Aarhus Kommune", "municipality", "0751", "8000", "Aarhus C"),
    ("k0751-sp", "k0751", "Aarhus Kommune, Sundhedsplejen", "health_visitor", "0751", "8000", "Aarhus C"),
    ("k0751-hp", "k0751", "Aarhus Kommune, Hjemmeplejen Midt", "home_care", "0751", "8000", "Aarhus C"),
    ("k0101", "", "Københavns Kommune", "municipality", "0101", "1599", "København V"),
    ("k0101-sp", "k0101", "Københavns Kommune, Sundhedsplejen", "health_visitor", "0101", "1599", "København V"),
    ("k0101-sa", "k0101", "Københavns Kommune, Sygehusadviser", "notification_unit", "0101", "1599", "København V"),
]


class Writer:
    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []
        self.counters: dict[int, int] = {}

    def next_number(self, namespace: int) -> int:
        self.counters[namespace] = self.counters.get(namespace, 0) + 1
        return self.counters[namespace]

    def add(self, *, sor: str, parent: str, name: str, kind: str, eans: list[str], **values: str) -> str:
        self.rows.append(
            {
                "sor_code": sor,
                "parent_sor": parent,
                "name": name,
                "kind": kind,
                "ean_numbers": ";".join(eans),
                **{c: values.get(c, "") for c in COLUMNS[5:]},
            }
        )
        return sor

    def unit(self, namespace: int, *, eans: int = 1, offset: int = 0, **values) -> str:
        number = offset + self.next_number(namespace * 1000 + offset)
        sor = synthetic_sor(namespace, number)
        numbers = [synthetic_gln(namespace, number)]
        numbers += [synthetic_gln(namespace, 50_000_000 + number * 10 + i) for i in range(1, eans)]
        return self.add(sor=sor, eans=numbers, **values)


def phone(area: str, number: int) -> str:
    return f"{area} {10 + number % 89:02d} {number % 100:02d} {number % 97:02d}"


def _read(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def rows() -> list[dict[str, str]]:
    out = Writer()
    region = out.add(
        sor=synthetic_sor(Namespace.REGION, REGION_CODE),
        parent="",
        name="Region Syddanmark",
        kind="region",
        eans=[synthetic_gln(Namespace.REGION, REGION_CODE)],
        street="Damhaven 12",
        postal_code="7100",
        city="Vejle",
        phone="76 63 10 00",
    )
    municipalities = _read("municipalities.csv")
    for row in municipalities:
        code, name, town, postal = row["code"], row["name"], row["town"], row["postal_code"]
        number = int(code)
        municipality = out.add(
            sor=synthetic_sor(Namespace.MUNICIPALITY, number),
            parent=region,
            name=f"{name} Kommune",
            kind="municipality",
            eans=[synthetic_gln(Namespace.MUNICIPALITY, number)],
            municipality_code=code,
            postal_code=postal,
            city=town,
            phone=phone("6" + str(number % 10), number),
        )
        _municipal_units(out, municipality, code, name, town, postal)
    _hospitals(out, region)
    _gp_clinics(out, municipalities)
    for n, (code, name, postal, city) in enumerate(SPECIALIST_PRACTICES, start=1):
        out.unit(
            PRACTICES,
            parent="",
            name=name,
            kind="specialist_practice",
            municipality_code=code,
            ydernummer=str(80_000 + n),
            postal_code=postal,
            city=city,
            phone=phone("65", 300 + n),
        )
    n = 0
    for row in municipalities:
        for i in range(3 if row["code"] == "0461" else 1):
            n += 1
            suffix = ["", " Syd", " Øst"][i]
            out.unit(
                PRACTICES,
                offset=PHARMACY_OFFSET,
                parent="",
                name=f"{row['town']}{suffix} Apotek",
                kind="pharmacy",
                municipality_code=row["code"],
                street=f"{STREETS[n % len(STREETS)]} {n + 2}",
                postal_code=row["postal_code"],
                city=row["town"],
                phone=phone("64", 500 + n),
            )
    _external(out)
    return out.rows


def _municipal_units(out: Writer, municipality: str, code: str, name: str, town: str, postal: str) -> None:
    kommune = f"{name} Kommune"
    common = {"parent": municipality, "municipality_code": code, "postal_code": postal, "city": town}

    def unit(kind: str, title: str, eans: int = 1) -> None:
        n = out.counters.get(MUNICIPAL_UNITS * 1000, 0) + 1
        out.unit(MUNICIPAL_UNITS, name=f"{kommune}, {title}", kind=kind, eans=eans, phone=phone("63", n), **common)

    unit("notification_unit", "Sygehusadviser", eans=2)
    districts = 1 if code in ISLANDS else 5 if code == "0461" else 4 if code in LARGE else 2
    for district in DISTRICTS[:districts]:
        unit("home_care", "Hjemmeplejen" if districts == 1 else f"Hjemmeplejen Distrikt {district}")
    for i in range(2 if code == "0461" else 1):
        unit("home_nursing", "Hjemmesygeplejen" + ("" if i == 0 else " Aften og nat"), eans=2)
    homes = 1 if code in ISLANDS else 8 if code == "0461" else 5 if code in LARGE else 3
    for home in NURSING_HOMES[:homes]:
        unit("nursing_home", f"Plejecenter {home}")
    unit("health_visitor", "Sundhedsplejen")
    unit("rehabilitation", "Træning og Rehabilitering")
    unit("acute_team", "Akutteamet")


def _hospitals(out: Writer, region: str) -> None:
    units: dict[str, str] = {}
    departments = 0
    sites = _read("hospitals.csv")
    for row in sites:
        if row["unit"] not in units:
            number = len(units) + 1
            units[row["unit"]] = out.add(
                sor=synthetic_sor(Namespace.HOSPITAL_UNIT, number),
                parent=region,
                name=row["unit"],
                kind="hospital_unit",
                eans=[synthetic_gln(Namespace.HOSPITAL_UNIT, number)],
                municipality_code=row["municipality_code"],
                postal_code=row["postal_code"],
                city=row["site"],
                phone=phone("65", number),
            )
        departments += 1
        # The departments the portal always had keep their codes and names.
        _department(out, departments, units[row["unit"]], row, "Medicinsk afdeling")
    for row in sites:
        if row["site"] not in MAIN_SITES:
            continue
        for specialty in SPECIALTIES:
            departments += 1
            _department(out, departments, units[row["unit"]], row, specialty)


def _department(out: Writer, number: int, unit: str, row: dict[str, str], specialty: str) -> None:
    department = out.add(
        sor=synthetic_sor(Namespace.HOSPITAL_DEPARTMENT, number),
        parent=unit,
        name=f"{row['unit']}, {specialty} {row['site']}",
        kind="hospital_department",
        eans=[synthetic_gln(Namespace.HOSPITAL_DEPARTMENT, number)],
        municipality_code=row["municipality_code"],
        postal_code=row["postal_code"],
        city=row["site"],
        phone=phone("65", 100 + number),
    )
    _wards(out, department, row, specialty.split()[0].removesuffix("afdeling"))


def _wards(out: Writer, department: str, row: dict[str, str], prefix: str) -> None:
    for title in ("Sengeafsnit", "Ambulatorium"):
        n = out.counters.get(WARDS * 1000, 0) + 1
        out.unit(
            WARDS,
            parent=department,
            name=f"{prefix} {title} {row['site']}",
            kind="hospital_ward",
            municipality_code=row["municipality_code"],
            postal_code=row["postal_code"],
            city=row["site"],
            phone=phone("65", 400 + n),
        )


def _gp_clinics(out: Writer, municipalities: list[dict[str, str]]) -> None:
    """The demo's clinics (``sectors.demo``): the same codes, names and addresses as before."""
    from sectors.demo import CLINICS_PER_MUNICIPALITY, DEFAULT_CLINICS, gp_clinic_values

    number = 0
    for row in municipalities:
        for i in range(CLINICS_PER_MUNICIPALITY.get(row["code"], DEFAULT_CLINICS)):
            number += 1
            values = gp_clinic_values(number, i, row)
            out.add(
                sor=values["sor_code"],
                parent="",
                name=values["name"],
                kind="gp_clinic",
                eans=[values["gln"]],
                municipality_code=row["code"],
                ydernummer=values["ydernummer"],
                street=values["street"],
                postal_code=values["postal_code"],
                city=values["city"],
                phone=values["phone"],
            )


def _external(out: Writer) -> None:
    codes: dict[str, str] = {}
    for i, (key, parent, name, kind, code, postal, city) in enumerate(EXTERNAL, start=1):
        sor = synthetic_sor(EXTERNAL_NAMESPACE, i)
        codes[key] = sor
        out.add(
            sor=sor,
            parent=codes.get(parent, ""),
            name=name,
            kind=kind,
            eans=[synthetic_gln(EXTERNAL_NAMESPACE, i)],
            municipality_code=code,
            postal_code=postal,
            city=city,
            phone=phone("7" + str(i % 10), i),
        )


def render() -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows())
    return buffer.getvalue()


def main() -> None:
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"{OUTPUT.relative_to(ROOT)}: {len(rows())} units")


if __name__ == "__main__":
    main()
