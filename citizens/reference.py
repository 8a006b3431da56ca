"""The maintained list of chronic conditions the portal starts with (administrators extend it).
The first migration seeds the same list; this loader restores it where it is missing (a flushed
test database, a database loaded from elsewhere) and never overwrites an administrator's edits."""

from __future__ import annotations

from .models import Condition

CONDITIONS = [
    ("J44", "Kronisk obstruktiv lungesygdom (KOL)", "Chronic obstructive pulmonary disease (COPD)"),
    ("E11", "Type 2-diabetes", "Type 2 diabetes"),
    ("I50", "Hjertesvigt", "Heart failure"),
    ("I10", "Forhøjet blodtryk (hypertension)", "Essential hypertension"),
    ("I25", "Kronisk iskæmisk hjertesygdom", "Chronic ischaemic heart disease"),
    ("M54", "Rygsmerter", "Back pain (dorsalgia)"),
    ("M06", "Leddegigt (reumatoid artritis)", "Rheumatoid arthritis"),
    ("F32", "Depression", "Depressive episode"),
    ("J45", "Astma", "Asthma"),
    ("N18", "Kronisk nyresygdom", "Chronic kidney disease"),
    ("I48", "Atrieflimren", "Atrial fibrillation"),
    ("E66", "Svær overvægt", "Obesity"),
]


def conditions_load() -> int:
    created = 0
    for code, name_da, name_en in CONDITIONS:
        _, new = Condition.objects.get_or_create(icd10_code=code, defaults={"name_da": name_da, "name_en": name_en})
        created += new
    return created
