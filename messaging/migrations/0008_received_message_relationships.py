"""A message received about a citizen is a care relationship for CITIZEN_ACCESS_MESSAGE_DAYS
(``messaging.relationships``): backfill the ones still valid."""

import datetime

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def backfill(apps, schema_editor):
    Recipient = apps.get_model("messaging", "Recipient")
    Relationship = apps.get_model("citizens", "CareRelationship")
    now = timezone.now()
    window = datetime.timedelta(days=getattr(settings, "CITIZEN_ACCESS_MESSAGE_DAYS", 30))
    received = Recipient.objects.filter(received_at__gt=now - window).exclude(message__type="acknowledgement")
    rows = [
        Relationship(
            citizen_id=citizen_id,
            organisation_id=organisation_id,
            kind="received_message",
            source_type="recipient",
            source_id=str(pk),
            valid_from=received_at,
            valid_to=received_at + window,
            created_via="backfill",
            created_at=now,
        )
        for pk, citizen_id, organisation_id, received_at in received.order_by()
        .values_list("pk", "message__citizen_id", "organisation_id", "received_at")
        .iterator(chunk_size=2000)
    ]
    Relationship.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0007_kept_upload"),
        ("citizens", "0008_backfill_care_relationships"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
