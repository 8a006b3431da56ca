"""The shape of a measurement in ``/api/v1/observations/`` (in a module of its own: it writes its
fields out by hand, and ``serializers`` is long enough)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from citizens.api.serializers import OrganisationNameSerializer

from ..models import Observation


class ObservationSerializer(serializers.ModelSerializer):
    citizen = serializers.UUIDField(source="citizen_id", read_only=True, help_text=_("The citizen's id."))
    entered_by_organisation = OrganisationNameSerializer(read_only=True)
    replaces = serializers.UUIDField(
        source="replaces_id", read_only=True, allow_null=True, help_text=_("The observation this one corrects.")
    )
    replaced_by = serializers.SerializerMethodField(help_text=_("The observation that corrects this one, if any."))
    display_value = serializers.CharField(read_only=True, help_text=_("e.g. 135/85 mmHg"))

    class Meta:
        model = Observation
        fields = [
            "id",
            "citizen",
            "code",
            "value",
            "value_2",
            "unit",
            "display_value",
            "effective_at",
            "source",
            "status",
            "replaces",
            "replaced_by",
            "entered_by_organisation",
            "entered_at",
            "device_id",
            "external_id",
            "note",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
    def get_replaced_by(self, observation: Observation) -> str | None:
        if hasattr(observation, "replaced_by_pk"):  # annotated by observation_list
            return None if observation.replaced_by_pk is None else str(observation.replaced_by_pk)
        try:
            return str(observation.replaced_by.pk)
        except Observation.DoesNotExist:
            return None

    def to_representation(self, instance: Observation) -> dict[str, Any]:
        """The fields written out: the generic way (each field's ``get_attribute`` and checks)
        cost more than reading a page of observations from the database. The answer is
        ``ModelSerializer``'s to the letter: ``test_observation_serializer`` compares the two."""
        fields = self.fields
        organisation = instance.entered_by_organisation
        return {
            "id": str(instance.pk),
            "citizen": str(instance.citizen_id),
            "code": instance.code,
            "value": fields["value"].to_representation(instance.value),
            "value_2": None if instance.value_2 is None else fields["value_2"].to_representation(instance.value_2),
            "unit": instance.unit,
            "display_value": instance.display_value,
            "effective_at": fields["effective_at"].to_representation(instance.effective_at),
            "source": instance.source,
            "status": instance.status,
            "replaces": None if instance.replaces_id is None else str(instance.replaces_id),
            "replaced_by": self.get_replaced_by(instance),
            "entered_by_organisation": {"id": organisation.pk, "name": organisation.name},
            "entered_at": fields["entered_at"].to_representation(instance.entered_at),
            "device_id": instance.device_id,
            "external_id": instance.external_id,
            "note": instance.note,
        }
