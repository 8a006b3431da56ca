"""The access log is sealed in the background (citizens.accesslog): requests insert entries without
their chain fields, and the sealer fills in ``seq``, ``prev_hash`` and ``hash`` later.

The entries already chained keep their hashes and get their place in id order, which was their
chain order. On PostgreSQL the append-only trigger now lets one update through: an unsealed row
getting its three chain fields with the rest of the row unchanged. Rows once sealed, and every
DELETE, are refused as before. The hash is no longer unique: the chain itself proves it, and an
index on it would be rewritten by every seal.
"""

from django.conf import settings
from django.db import migrations, models

BACKFILL = """
    UPDATE citizens_accesslogentry SET seq = numbered.n
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM citizens_accesslogentry) AS numbered
    WHERE citizens_accesslogentry.id = numbered.id
"""
CHAIN_FIELDS = "'seq' - 'prev_hash' - 'hash'"
SEAL_ONLY = f"""
    CREATE OR REPLACE FUNCTION citizens_accesslog_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
           AND to_jsonb(OLD) - {CHAIN_FIELDS} = to_jsonb(NEW) - {CHAIN_FIELDS} THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the access log is append-only';
    END;
    $$ LANGUAGE plpgsql
"""
APPEND_ONLY = """
    CREATE OR REPLACE FUNCTION citizens_accesslog_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'the access log is append-only';
    END;
    $$ LANGUAGE plpgsql
"""
TRIGGER = """
    CREATE TRIGGER citizens_accesslog_append_only
    BEFORE UPDATE OR DELETE ON citizens_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION citizens_accesslog_append_only()
"""
DROP_TRIGGER = "DROP TRIGGER IF EXISTS citizens_accesslog_append_only ON citizens_accesslogentry"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(BACKFILL)  # SQLite has no trigger
        return
    schema_editor.execute(DROP_TRIGGER)
    schema_editor.execute(BACKFILL)
    schema_editor.execute(SEAL_ONLY)
    schema_editor.execute(TRIGGER)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


class Migration(migrations.Migration):

    dependencies = [
        ('citizens', '0005_review_conclusion'),
        ('sectors', '0003_date_bounds'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='accesslogentry',
            name='seq',
            field=models.PositiveBigIntegerField(null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='accesslogentry',
            name='hash',
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name='accesslogentry',
            name='prev_hash',
            field=models.CharField(max_length=64, null=True),
        ),
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name='accesslogentry',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='accesslog_unsealed'),
        ),
        migrations.AddConstraint(
            model_name='accesslogentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('hash__isnull', True), ('prev_hash__isnull', True), ('seq__isnull', True)), models.Q(('hash__isnull', False), ('prev_hash__isnull', False), ('seq__isnull', False)), _connector='OR'), name='accesslog_sealed_whole', violation_error_message='An access-log entry is sealed with its place and both hashes, or not at all.'),
        ),
    ]
