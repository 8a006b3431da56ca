"""Every participant of an open plan has a care relationship for its period (citizens 0007);
the ``beyond_own_list`` flag the old access rule read is no longer needed."""

import datetime

from django.db import migrations
from django.utils import timezone

OPEN_PLAN_STATUSES = ("draft", "active", "on-hold")


def _midnight(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def backfill(apps, schema_editor):
    Participant = apps.get_model("careplans", "CareTeamParticipant")
    Relationship = apps.get_model("citizens", "CareRelationship")
    now = timezone.now()
    today = timezone.localdate(now)
    participants = Participant.objects.filter(care_plan__status__in=OPEN_PLAN_STATUSES).exclude(period_end__lt=today)
    rows = [
        Relationship(
            citizen_id=citizen_id,
            organisation_id=organisation_id,
            kind="care_team",
            source_type="participant",
            source_id=str(pk),
            valid_from=_midnight(start),
            valid_to=None if end is None else _midnight(end + datetime.timedelta(days=1)),
            created_via="backfill",
            created_at=now,
        )
        for pk, citizen_id, organisation_id, start, end in participants.order_by()
        .values_list("pk", "care_plan__citizen_id", "organisation_id", "period_start", "period_end")
        .iterator(chunk_size=2000)
    ]
    Relationship.objects.bulk_create(rows, batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("careplans", "0004_date_bounds"),
        ("citizens", "0008_backfill_care_relationships"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.RemoveIndex(model_name="careteamparticipant", name="careteam_beyond_own_list"),
        migrations.RemoveField(model_name="careteamparticipant", name="beyond_own_list"),
    ]
