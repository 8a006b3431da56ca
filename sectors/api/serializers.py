from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..choices import Sector
from ..models import Membership, Organisation, User


class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind"]


class OrganisationSerializer(serializers.ModelSerializer):
    sector = serializers.ChoiceField(choices=Sector.choices, read_only=True, help_text="Derived from the kind.")
    parent = OrganisationRefSerializer(read_only=True, allow_null=True)
    municipality = OrganisationRefSerializer(
        read_only=True, allow_null=True, help_text="The municipality the organisation is in."
    )
    identifiers = serializers.SerializerMethodField(help_text="FHIR-style identifiers (system, value).")

    class Meta:
        model = Organisation
        fields = [
            "id",
            "name",
            "kind",
            "sector",
            "sor_code",
            "gln",
            "municipality_code",
            "ydernummer",
            "identifiers",
            "parent",
            "municipality",
            "street",
            "postal_code",
            "city",
            "phone",
            "email",
            "is_active",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField(child=serializers.CharField())))
    def get_identifiers(self, obj: Organisation) -> list[dict[str, str]]:
        from ..identifiers import organisation_identifiers

        return organisation_identifiers(obj)


class MembershipSerializer(serializers.ModelSerializer):
    organisation = OrganisationRefSerializer(read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "organisation", "role", "start_date", "end_date", "is_active"]


class MeSerializer(serializers.ModelSerializer):
    """The schema of ``/api/v1/me/``, whose view builds the same body with ``me_representation``.
    Expects ``memberships`` and ``acting`` in the context."""

    memberships = serializers.SerializerMethodField()
    acting_organisation = serializers.SerializerMethodField()
    acting_roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "title",
            "phone",
            "memberships",
            "acting_organisation",
            "acting_roles",
        ]

    @extend_schema_field(MembershipSerializer(many=True))
    def get_memberships(self, obj: User) -> list:
        return MembershipSerializer(self.context["memberships"], many=True).data

    @extend_schema_field(OrganisationRefSerializer(allow_null=True))
    def get_acting_organisation(self, obj: User) -> dict | None:
        acting = self.context["acting"]
        return OrganisationRefSerializer(acting.organisation).data if acting else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_acting_roles(self, obj: User) -> list[str]:
        return sorted(self.context["acting"].roles)


def me_representation(user: User, *, memberships, acting) -> dict:
    """What ``MeSerializer`` gives (it stays the schema), built directly: /me/ is what an
    integration calls first and most often, and DRF's model serializers rebuild their fields from
    the models on every call, most of the cost of the request. A test holds the two equal."""
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "title": user.title,
        "phone": user.phone,
        "memberships": [
            {
                "id": m.pk,
                "organisation": _organisation_ref(m.organisation),
                "role": m.role,
                "start_date": m.start_date.isoformat(),
                "end_date": m.end_date.isoformat() if m.end_date else None,
                "is_active": m.is_active,
            }
            for m in memberships
        ],
        "acting_organisation": _organisation_ref(acting.organisation) if acting else None,
        "acting_roles": sorted(acting.roles),
    }


def _organisation_ref(organisation: Organisation) -> dict:
    return {"id": organisation.pk, "name": organisation.name, "kind": organisation.kind}
