"""MessageHeader and Bundle ids as strings, step 2 of 3: every message's MessageHeader id is its
own id, and every id is written in the form ``str(uuid)`` gives (lower case, hyphens), which is
what the portal exported and how it compared ids. PostgreSQL's cast wrote that form already;
SQLite kept UUIDs as 32 hex digits, which get their hyphens here. One UPDATE per column, in SQL
both databases speak, so millions of messages take seconds."""

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
    UUID ``ids.message_key`` derives from it (as the message's own id was); every value is
    written as 32 hex digits, which both databases read as a UUID. Each row is written once."""
    _Message, columns = _columns(apps)
    for model, column in columns[1:]:
        uuids = {f"{column}__regex": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"}
        for pk, value in model.objects.exclude(**uuids).values_list("pk", column):
            model.objects.filter(pk=pk).update(**{column: messaging.ids.message_key(value).hex})
        model.objects.filter(**uuids).update(**{column: Replace(F(column), Value("-"), Value(""))})


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0012_message_header_id"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
