"""MessageHeader and Bundle ids as the strings the sender wrote (any FHIR id, not only a UUID;
``messaging.ids``), step 1 of 3: ``Message.header_id`` is added (empty until 0013 fills it),
``Message.bundle_id`` and ``FhirReceipt.header_id`` become text. PostgreSQL casts a uuid to the
text ``str(uuid)`` gives; SQLite keeps the 32 hex digits it stored (0013 adds the hyphens).

Schema, data and the unique constraint are three migrations, as Django advises for a unique field
added to a table with rows: PostgreSQL cannot alter a table with updates of it pending in the same
transaction, in either direction."""

from django.db import migrations, models

import messaging.ids


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0011_message_bundle_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="header_id",
            field=models.CharField(editable=False, max_length=64, null=True, verbose_name="MessageHeader id"),
        ),
        migrations.AlterField(
            model_name="message",
            name="bundle_id",
            field=models.CharField(
                default=messaging.ids.new_bundle_id, editable=False, max_length=64, verbose_name="Bundle id"
            ),
        ),
        migrations.AlterField(
            model_name="fhirreceipt",
            name="header_id",
            field=models.CharField(db_index=True, max_length=64, verbose_name="MessageHeader id"),
        ),
    ]
