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
    """Expects ``memberships`` and ``acting`` in the context, so the view controls the queries."""

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
