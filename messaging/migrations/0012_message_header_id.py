"""MessageHeader and Bundle ids as the strings the sender wrote (any FHIR id, not only a UUID;
``messaging.ids``): ``Message.header_id`` is added and filled with the message's own id,
``Message.bundle_id`` and ``FhirReceipt.header_id`` become text. 0013 makes ``header_id``
required and unique once it is filled (PostgreSQL cannot alter a table with updates pending in
the same transaction).

The values are written in the form ``str(uuid)`` gives (lower case, hyphens), which is what the
portal wrote in the bundles it exported and how it compared ids: PostgreSQL casts a uuid to text
in that form already, SQLite kept UUIDs as 32 hex digits, which get their hyphens here. One
UPDATE per column, in SQL both databases speak, so millions of messages take seconds."""

from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import Cast, Concat, Length, Replace, Substr

import messaging.ids

HEX_UUID = 32  # a UUID as SQLite's UUIDField stores it


def _hyphenated(column: str) -> Concat:
    parts = [(1, 8), (9, 4), (13, 4), (17, 4), (21, 12)]
    pieces: list = []
    for start, length in parts:
        if pieces:
            pieces.append(Value("-"))
        pieces.append(Substr(column, start, length))
    return Concat(*pieces, output_field=models.CharField())


def _columns(apps):
    Message = apps.get_model("messaging", "Message")
    FhirReceipt = apps.get_model("messaging", "FhirReceipt")
    return Message, [(Message, "header_id"), (Message, "bundle_id"), (FhirReceipt, "header_id")]


def forward(apps, schema_editor):
    Message, columns = _columns(apps)
    Message.objects.update(header_id=Cast("id", models.CharField(max_length=64)))
    for model, column in columns:
        model.objects.annotate(chars=Length(column)).filter(chars=HEX_UUID).update(**{column: _hyphenated(column)})


def backward(apps, schema_editor):
    """Back to UUID columns: a received Bundle id or MessageHeader id that is no UUID becomes the
    UUID ``ids.message_key`` derives from it (as the message's own id was), then every value loses
    its hyphens, which both databases read as a UUID."""
    _Message, columns = _columns(apps)
    for model, column in columns[1:]:
        for pk, value in model.objects.exclude(**{f"{column}__regex": r"^[0-9a-fA-F-]{32,36}$"}).values_list(
            "pk", column
        ):
            model.objects.filter(pk=pk).update(**{column: str(messaging.ids.message_key(value))})
        model.objects.update(**{column: Replace(F(column), Value("-"), Value(""))})


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
        migrations.RunPython(forward, backward),
    ]
