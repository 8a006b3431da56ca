"""The shape of the synthetic region (``generate``): the Region of Southern Denmark's
municipalities with their populations, postal areas and hospitals, a Danish age pyramid, Danish
names and streets, and how common each chronic condition is at each age.

Kept apart from the run so the numbers can be read, and tuned, on their own."""

from __future__ import annotations

from dataclasses import dataclass

# Inhabitants (rounded) by municipality code; the generator scales them to the requested total.
POPULATION = {
    "0410": 39_000,  # Middelfart
    "0420": 41_000,  # Assens
    "0430": 52_000,  # Faaborg-Midtfyn
    "0440": 24_000,  # Kerteminde
    "0450": 32_000,  # Nyborg
    "0461": 205_000,  # Odense
    "0479": 59_000,  # Svendborg
    "0480": 30_000,  # Nordfyns
    "0482": 12_000,  # Langeland
    "0492": 6_000,  # Ærø
    "0510": 56_000,  # Haderslev
    "0530": 27_000,  # Billund
    "0540": 74_000,  # Sønderborg
    "0550": 37_000,  # Tønder
    "0561": 116_000,  # Esbjerg
    "0563": 3_500,  # Fanø
    "0573": 50_000,  # Varde
    "0575": 43_000,  # Vejen
    "0580": 58_000,  # Aabenraa
    "0607": 52_000,  # Fredericia
    "0621": 95_000,  # Kolding
    "0630": 120_000,  # Vejle
}

# Postal codes and towns in each municipality.
POSTAL_AREAS = {
    "0410": [("5500", "Middelfart"), ("5464", "Brenderup Fyn"), ("5592", "Ejby"), ("5580", "Nørre Aaby")],
    "0420": [("5610", "Assens"), ("5620", "Glamsbjerg"), ("5683", "Haarby"), ("5690", "Tommerup"), ("5560", "Aarup")],
    "0430": [("5750", "Ringe"), ("5600", "Faaborg"), ("5772", "Kværndrup"), ("5792", "Årslev"), ("5854", "Gislev")],
    "0440": [("5300", "Kerteminde"), ("5330", "Munkebo"), ("5350", "Rynkeby"), ("5390", "Martofte")],
    "0450": [("5800", "Nyborg"), ("5853", "Ørbæk"), ("5871", "Frørup")],
    "0461": [
        ("5000", "Odense C"),
        ("5200", "Odense V"),
        ("5210", "Odense NV"),
        ("5220", "Odense SØ"),
        ("5230", "Odense M"),
        ("5240", "Odense NØ"),
        ("5250", "Odense SV"),
        ("5260", "Odense S"),
        ("5270", "Odense N"),
    ],
    "0479": [("5700", "Svendborg"), ("5771", "Stenstrup"), ("5883", "Oure"), ("5884", "Gudme")],
    "0480": [("5400", "Bogense"), ("5450", "Otterup"), ("5471", "Søndersø")],
    "0482": [("5900", "Rudkøbing"), ("5953", "Tranekær"), ("5932", "Humble")],
    "0492": [("5970", "Ærøskøbing"), ("5960", "Marstal")],
    "0510": [("6100", "Haderslev"), ("6500", "Vojens"), ("6560", "Sommersted")],
    "0530": [("7190", "Billund"), ("7200", "Grindsted"), ("7250", "Hejnsvig")],
    "0540": [("6400", "Sønderborg"), ("6430", "Nordborg"), ("6440", "Augustenborg"), ("6300", "Gråsten")],
    "0550": [("6270", "Tønder"), ("6280", "Højer"), ("6261", "Bredebro"), ("6780", "Skærbæk"), ("6520", "Toftlund")],
    "0561": [
        ("6700", "Esbjerg"),
        ("6705", "Esbjerg Ø"),
        ("6710", "Esbjerg V"),
        ("6715", "Esbjerg N"),
        ("6760", "Ribe"),
        ("6740", "Bramming"),
    ],
    "0563": [("6720", "Fanø")],
    "0573": [("6800", "Varde"), ("6818", "Årre"), ("6830", "Nørre Nebel"), ("6840", "Oksbøl")],
    "0575": [("6600", "Vejen"), ("6630", "Rødding"), ("6650", "Brørup")],
    "0580": [("6200", "Aabenraa"), ("6230", "Rødekro"), ("6330", "Padborg"), ("6360", "Tinglev")],
    "0607": [("7000", "Fredericia")],
    "0621": [("6000", "Kolding"), ("6070", "Christiansfeld"), ("6091", "Bjert"), ("6580", "Vamdrup")],
    "0630": [("7100", "Vejle"), ("7120", "Vejle Øst"), ("7080", "Børkop"), ("7300", "Jelling")],
}

# The hospital site (hospitals.csv) that admits each municipality's citizens.
HOSPITAL_SITE = {
    "0410": "Middelfart",
    "0420": "Odense",
    "0430": "Odense",
    "0440": "Odense",
    "0450": "Nyborg",
    "0461": "Odense",
    "0479": "Svendborg",
    "0480": "Odense",
    "0482": "Svendborg",
    "0492": "Ærø",
    "0510": "Aabenraa",
    "0530": "Grindsted",
    "0540": "Sønderborg",
    "0550": "Tønder",
    "0561": "Esbjerg",
    "0563": "Esbjerg",
    "0573": "Esbjerg",
    "0575": "Esbjerg",
    "0580": "Aabenraa",
    "0607": "Kolding",
    "0621": "Kolding",
    "0630": "Vejle",
}
UNIVERSITY_HOSPITAL_SITE = "Odense"
UNIVERSITY_HOSPITAL_SHARE = 0.1  # specialised care at OUH Odense, from anywhere in the region

# Danish age pyramid, share (%) per five-year band from 0-4 to 100-104.
AGE_BANDS = [5.2, 5.4, 5.7, 5.9, 6.6, 6.9, 6.3, 5.9, 5.8, 6.3, 7.0, 6.9, 6.2, 5.6, 5.4, 4.6, 2.9, 1.6, 0.7, 0.2, 0.02]


@dataclass(frozen=True)
class ConditionProfile:
    """Prevalence among adults (18+) and relative risk per ten-year age band (0-9, ..., 90+)."""

    code: str
    adult_prevalence: float
    risk_by_decade: tuple[float, ...]
    min_age: int = 18


CONDITION_PROFILES = [
    ConditionProfile("I10", 0.20, (0, 0.02, 0.05, 0.12, 0.35, 0.65, 1.0, 1.35, 1.5, 1.5)),
    ConditionProfile("E11", 0.06, (0, 0.02, 0.1, 0.25, 0.55, 0.95, 1.4, 1.6, 1.4, 1.2)),
    ConditionProfile("J44", 0.05, (0, 0, 0.02, 0.1, 0.35, 0.85, 1.4, 1.8, 1.8, 1.5)),
    ConditionProfile("I25", 0.04, (0, 0, 0.01, 0.05, 0.25, 0.65, 1.3, 2.0, 2.4, 2.4)),
    ConditionProfile("I50", 0.02, (0, 0, 0, 0.02, 0.1, 0.3, 0.9, 2.0, 3.5, 4.0)),
    ConditionProfile("I48", 0.03, (0, 0, 0.01, 0.03, 0.1, 0.4, 1.0, 2.2, 3.5, 4.0)),
    ConditionProfile("N18", 0.02, (0, 0, 0.02, 0.05, 0.1, 0.3, 0.8, 2.0, 3.5, 4.0)),
    ConditionProfile("M54", 0.04, (0, 0.3, 0.8, 1.0, 1.2, 1.2, 1.0, 0.9, 0.8, 0.7)),
    ConditionProfile("M06", 0.008, (0, 0.05, 0.3, 0.6, 1.0, 1.3, 1.6, 1.6, 1.4, 1.2)),
    ConditionProfile("F32", 0.04, (0, 0.8, 1.2, 1.1, 1.0, 0.9, 0.8, 0.8, 0.9, 1.0), min_age=12),
    ConditionProfile("J45", 0.06, (0.8, 1.2, 1.1, 1.0, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7), min_age=3),
    ConditionProfile("E66", 0.03, (0, 0.3, 0.8, 1.0, 1.2, 1.3, 1.2, 0.9, 0.5, 0.3)),
]

FEMALE_NAMES = [
    ("Anne", 30), ("Kirsten", 26), ("Mette", 25), ("Hanne", 24), ("Helle", 21), ("Anna", 20), ("Susanne", 19),
    ("Lene", 18), ("Maria", 18), ("Marianne", 17), ("Lone", 16), ("Camilla", 15), ("Pia", 15), ("Louise", 15),
    ("Charlotte", 14), ("Bente", 14), ("Tina", 13), ("Inge", 13), ("Gitte", 12), ("Karen", 12), ("Birgitte", 12),
    ("Jette", 12), ("Ida", 11), ("Sofie", 11), ("Emma", 10), ("Julie", 10), ("Rikke", 10), ("Maja", 9),
    ("Laura", 9), ("Caroline", 8), ("Freja", 8), ("Clara", 8), ("Ella", 7), ("Alma", 7), ("Birthe", 7),
    ("Ingrid", 6), ("Grethe", 6), ("Else", 6), ("Ruth", 5), ("Dorthe", 5), ("Signe", 5), ("Astrid", 5),
]  # fmt: skip
MALE_NAMES = [
    ("Peter", 30), ("Jens", 29), ("Lars", 27), ("Michael", 26), ("Henrik", 25), ("Thomas", 23), ("Søren", 22),
    ("Jan", 21), ("Niels", 20), ("Christian", 19), ("Martin", 19), ("Jørgen", 18), ("Hans", 18), ("Anders", 18),
    ("Morten", 16), ("Jesper", 16), ("Ole", 15), ("Per", 15), ("Erik", 14), ("Mads", 14), ("Rasmus", 14),
    ("Kim", 13), ("Mikkel", 12), ("Frederik", 12), ("Poul", 11), ("Carsten", 11), ("Torben", 10), ("Kenneth", 9),
    ("Jacob", 9), ("Lucas", 8), ("William", 8), ("Oliver", 8), ("Noah", 8), ("Emil", 8), ("Magnus", 7),
    ("Kurt", 7), ("Bent", 7), ("Finn", 6), ("Karl", 6), ("Arne", 5), ("Victor", 5), ("Aksel", 5),
]  # fmt: skip
LAST_NAMES = [
    ("Nielsen", 46), ("Jensen", 45), ("Hansen", 37), ("Pedersen", 26), ("Andersen", 26), ("Christensen", 20),
    ("Larsen", 19), ("Sørensen", 18), ("Rasmussen", 16), ("Jørgensen", 15), ("Petersen", 14), ("Madsen", 11),
    ("Kristensen", 10), ("Olsen", 9), ("Thomsen", 8), ("Christiansen", 7), ("Poulsen", 6), ("Johansen", 6),
    ("Møller", 6), ("Mortensen", 6), ("Knudsen", 5), ("Jakobsen", 5), ("Mikkelsen", 4), ("Olesen", 4),
    ("Frederiksen", 4), ("Laursen", 4), ("Henriksen", 4), ("Lund", 4), ("Schmidt", 3), ("Holm", 3),
    ("Eriksen", 3), ("Kristiansen", 3), ("Nissen", 3), ("Clausen", 3), ("Simonsen", 3), ("Svendsen", 3),
    ("Andreasen", 3), ("Iversen", 3), ("Jeppesen", 2), ("Vestergaard", 2), ("Mogensen", 2), ("Jacobsen", 2),
    ("Nørgaard", 2), ("Lauridsen", 2), ("Frandsen", 2), ("Østergaard", 2), ("Jepsen", 2), ("Kjær", 2),
    ("Bach", 2), ("Søndergaard", 2), ("Dam", 2), ("Friis", 2), ("Thygesen", 1), ("Holmgaard", 1), ("Lassen", 1),
    ("Bertelsen", 1), ("Ebbesen", 1), ("Brandt", 1), ("Skov", 1), ("Juhl", 1), ("Gregersen", 1), ("Krogh", 1),
    ("Winther", 1), ("Dahl", 1), ("Kjeldsen", 1), ("Bruun", 1), ("Lind", 1), ("Hedegaard", 1), ("Overgaard", 1),
]  # fmt: skip
STREETS = [
    "Vestergade", "Østergade", "Nørregade", "Søndergade", "Kongensgade", "Jernbanegade", "Skolevej", "Kirkevej",
    "Møllevej", "Skovvej", "Strandvej", "Engvej", "Bakkevej", "Birkevej", "Egevej", "Bøgevej", "Lindevej",
    "Rosenvej", "Violvej", "Kastanievej", "Ahornvej", "Havevej", "Parkvej", "Stationsvej", "Industrivej",
    "Nygade", "Torvegade", "Åboulevarden", "Grønnegade", "Solvej", "Fasanvej", "Mågevej", "Tværgade",
    "Overgade", "Klostervej", "Præstegårdsvej", "Rugvej", "Byvej", "Fjordvej", "Markvej",
]  # fmt: skip
RELATIONS = ["datter", "søn", "ægtefælle", "samlever", "nabo", "barnebarn"]


def _band_of(age: int) -> int:
    return min(age // 10, 9)


def condition_probabilities(profile: ConditionProfile) -> list[float]:
    """Probability of the condition at each age 0..104, scaled so that the share among adults in the
    age pyramid is the profile's adult prevalence."""
    weight_at = [AGE_BANDS[min(age // 5, len(AGE_BANDS) - 1)] / 5 for age in range(105)]
    risk = [profile.risk_by_decade[_band_of(age)] if age >= profile.min_age else 0.0 for age in range(105)]
    adults = sum(weight_at[a] for a in range(18, 105))
    mean_adult_risk = sum(weight_at[a] * risk[a] for a in range(18, 105)) / adults
    scale = profile.adult_prevalence / mean_adult_risk
    return [min(0.9, scale * r) for r in risk]
