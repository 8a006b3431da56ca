"""Indexes for the care-team access rule at the size of the region (scripts/benchmark_careplans.py).

``careplans.access_rules.care_team`` lists the citizens an organisation sees only through its care
teams: its current memberships of open plans, minus the citizens it already sees through its own
column (a municipality's residents, a GP clinic's listed citizens). Every gated read runs it. For
Odense Kommune, on about 50,000 teams at 1.2 million citizens, it took about half a second: the
memberships were fetched from the heap and each membership's citizen was looked up on its own.

- ``careteam_org_plan``: an organisation's memberships with their plan and period, from the index
  alone.
- ``careplan_open_citizen``: the open plans' citizens, from a small index instead of the whole
  plan table (Odense 170 -> 140 ms, Esbjerg 120 -> 80 ms, Kolding 110 -> 65 ms).
- ``citizen_municipality_id``: a municipality's citizen ids, from the index alone, which the rule's
  anti-join hashes. It is on the citizens table but serves this app's rule, so it lives here; the
  citizens app's own index on the municipality is ordered by name for its lists.

Created with SQL, not in the models' Meta: ``INCLUDE`` is PostgreSQL's, and the citizens model is
not this app's. SQLite (the demo database) gets plain composite indexes.
"""

from django.db import migrations

# careplans.models.OPEN_PLAN_STATUSES, as the rule's query spells it (the index must match it).
OPEN = "('draft', 'active', 'on-hold')"
FORWARD = {
    "postgresql": [
        "CREATE INDEX IF NOT EXISTS careteam_org_plan ON careplans_careteamparticipant "
        "(organisation_id, care_plan_id) INCLUDE (period_start, period_end)",
        "CREATE INDEX IF NOT EXISTS careplan_open_citizen ON careplans_careplan (id) INCLUDE (citizen_id) "
        f"WHERE status IN {OPEN}",
        "CREATE INDEX IF NOT EXISTS citizen_municipality_id ON citizens_citizen (municipality_id, id)",
    ],
    "sqlite": [
        "CREATE INDEX IF NOT EXISTS careteam_org_plan ON careplans_careteamparticipant "
        "(organisation_id, care_plan_id, period_start, period_end)",
        "CREATE INDEX IF NOT EXISTS careplan_open_citizen ON careplans_careplan (id, citizen_id) "
        f"WHERE status IN {OPEN}",
        "CREATE INDEX IF NOT EXISTS citizen_municipality_id ON citizens_citizen (municipality_id, id)",
    ],
}
BACKWARD = [
    "DROP INDEX IF EXISTS careteam_org_plan",
    "DROP INDEX IF EXISTS careplan_open_citizen",
    "DROP INDEX IF EXISTS citizen_municipality_id",
]


def forward(apps, schema_editor):
    for sql in FORWARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor in FORWARD:
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("careplans", "0001_initial"),
        ("citizens", "0002_postgres_search_and_append_only"),
    ]

    operations = [migrations.RunPython(forward, backward)]
