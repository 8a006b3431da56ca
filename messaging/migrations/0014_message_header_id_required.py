"""MessageHeader ids, step 3 of 3: every message has its MessageHeader id (0013 filled it), once."""

from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0013_message_header_id_fill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="message",
            name="header_id",
            field=models.CharField(editable=False, max_length=64, verbose_name="MessageHeader id"),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.UniqueConstraint(
                fields=("header_id",),
                name="message_header_id_unique",
                violation_error_message="A message with this MessageHeader id already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.CheckConstraint(
                condition=Q(("header_id", ""), _negated=True),
                name="message_header_id_set",
                violation_error_message="A message must have a MessageHeader id.",
            ),
        ),
    ]
