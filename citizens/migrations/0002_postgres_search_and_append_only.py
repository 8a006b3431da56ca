"""Database-level guarantees that depend on the engine.

PostgreSQL: trigram index for name search, a pattern index for CPR prefixes, and a trigger that
refuses UPDATE and DELETE on the access log (defence in depth beside the hash chain). SQLite is
only the demo database and gets none of them (Django's test flush deletes rows there).
Also: the access-log chain head row and the maintained list of chronic conditions.
"""

from django.db import migrations

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

PG_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS citizen_search_name_trgm ON citizens_citizen USING gin (search_name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS citizen_cpr_pattern ON citizens_citizen (cpr varchar_pattern_ops)",
    """
    CREATE OR REPLACE FUNCTION citizens_accesslog_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the access log is append-only';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER citizens_accesslog_append_only
    BEFORE UPDATE OR DELETE ON citizens_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION citizens_accesslog_append_only()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS citizens_accesslog_append_only ON citizens_accesslogentry",
    "DROP FUNCTION IF EXISTS citizens_accesslog_append_only()",
    "DROP INDEX IF EXISTS citizen_cpr_pattern",
    "DROP INDEX IF EXISTS citizen_search_name_trgm",
]
def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, []):
            schema_editor.execute(sql)

    return run


def seed(apps, schema_editor):
    Condition = apps.get_model("citizens", "Condition")
    AccessLogHead = apps.get_model("citizens", "AccessLogHead")
    for code, da, en in CONDITIONS:
        Condition.objects.get_or_create(icd10_code=code, defaults={"name_da": da, "name_en": en})
    AccessLogHead.objects.get_or_create(id=1, defaults={"last_hash": "0" * 64, "count": 0})


class Migration(migrations.Migration):
    dependencies = [("citizens", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD}),
            _run({"postgresql": PG_BACKWARD}),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
