"""Backfill the care relationships from the facts (the same rows ``relationships_check`` expects:
``citizens.relationships``), written here against the historical models."""

import datetime

from django.conf import settings
from django.db import migrations
from django.utils import timezone

CHUNK = 2000


def _write(Relationship, rows):
    Relationship.objects.bulk_create(rows, batch_size=CHUNK)


def backfill(apps, schema_editor):
    Citizen = apps.get_model("citizens", "Citizen")
    HospitalStay = apps.get_model("citizens", "HospitalStay")
    BreakGlassAccess = apps.get_model("citizens", "BreakGlassAccess")
    Relationship = apps.get_model("citizens", "CareRelationship")
    now = timezone.now()
    window = datetime.timedelta(days=getattr(settings, "CITIZEN_ACCESS_HOSPITAL_DAYS", 30))
    common = {"created_via": "backfill", "created_at": now}
    rows = []
    citizens = Citizen.objects.order_by().values_list("pk", "municipality_id", "gp_clinic_id")
    for pk, municipality_id, gp_clinic_id in citizens.iterator(chunk_size=CHUNK):
        for kind, org in (("municipality", municipality_id), ("gp_clinic", gp_clinic_id)):
            if org is not None:
                rows.append(
                    Relationship(
                        citizen_id=pk, organisation_id=org, kind=kind, source_type="citizen", source_id=str(pk), **common
                    )
                )
        if len(rows) >= CHUNK:
            _write(Relationship, rows)
            rows = []
    # Stays still giving access: current ones and those discharged within the window.
    stays = HospitalStay.objects.filter(discharged_at__isnull=True) | HospitalStay.objects.filter(
        discharged_at__gt=now - window
    )
    for pk, citizen_id, department_id, admitted_at, discharged_at in (
        stays.order_by().values_list("pk", "citizen_id", "department_id", "admitted_at", "discharged_at").iterator()
    ):
        rows.append(
            Relationship(
                citizen_id=citizen_id,
                organisation_id=department_id,
                kind="hospital_stay",
                source_type="stay",
                source_id=str(pk),
                valid_from=admitted_at,
                valid_to=None if discharged_at is None else discharged_at + window,
                current=discharged_at is None,
                **common,
            )
        )
    grants = BreakGlassAccess.objects.filter(expires_at__gt=now).order_by()
    for pk, citizen_id, organisation_id, user_id, started_at, expires_at in grants.values_list(
        "pk", "citizen_id", "organisation_id", "user_id", "started_at", "expires_at"
    ):
        rows.append(
            Relationship(
                citizen_id=citizen_id,
                organisation_id=organisation_id,
                user_id=user_id,
                kind="break_the_glass",
                source_type="grant",
                source_id=str(pk),
                valid_from=started_at,
                valid_to=expires_at,
                created_by_id=user_id,
                **common,
            )
        )
    _write(Relationship, rows)


class Migration(migrations.Migration):
    dependencies = [("citizens", "0007_care_relationships")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
