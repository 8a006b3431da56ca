"""Shapes of ``/api/v1/citizens/`` and ``/api/v1/conditions/``.

Reading and writing use different serializers: a response nests the municipality, GP clinic and
current stay, a request names them by id. The write serializers only parse input; the service
decides (CPR rules, duplicates, the registering organisation's relationship, onset dates).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sectors.choices import OrganisationKind
from sectors.models import Organisation
from smartcare.api.fields import DateTimeField

from ..choices import AccessReason, Sex, StayKind
from ..models import Citizen, CitizenCondition, CitizenIdentifier, Condition, ContactPerson, HospitalStay
from ..selectors import conditions_list
from ..services import ConditionItem, ContactItem

# --- responses ---------------------------------------------------------------------------------


class ConditionSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text=_("Name in the language of the request (Danish default)."))

    class Meta:
        model = Condition
        fields = ["icd10_code", "name", "name_da", "name_en"]
        extra_kwargs = {
            "icd10_code": {"help_text": _("ICD-10 code, e.g. J44 or E11.")},
            "name_da": {"help_text": _("Danish name.")},
            "name_en": {"help_text": _("English name.")},
        }


class MunicipalityRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "municipality_code"]
        extra_kwargs = {
            "id": {"help_text": _("Organisation id of the municipality.")},
            "municipality_code": {"help_text": _("Four-digit municipality code (kommunekode), e.g. 0461.")},
        }


class OrganisationNameSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name"]
        extra_kwargs = {"id": {"help_text": _("Organisation id.")}}


class CitizenConditionSerializer(serializers.ModelSerializer):
    icd10_code = serializers.CharField(source="condition.icd10_code", read_only=True, help_text=_("ICD-10 code."))
    name = serializers.CharField(
        source="condition.name", read_only=True, help_text=_("Name of the condition in the language of the request.")
    )

    class Meta:
        model = CitizenCondition
        fields = ["icd10_code", "name", "onset_date"]
        extra_kwargs = {"onset_date": {"help_text": _("When the condition was diagnosed, if known.")}}


class ContactPersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactPerson
        fields = ["name", "relation", "phone", "is_primary"]
        extra_kwargs = {
            "name": {"help_text": _("Full name of the contact person.")},
            "relation": {"help_text": _("Relation to the citizen, e.g. daughter or spouse.")},
            "phone": {"help_text": _("Phone number.")},
            "is_primary": {"help_text": _("The primary contact; at most one per citizen.")},
        }


class ConsentSerializer(serializers.Serializer):
    consent_to_share = serializers.BooleanField(
        allow_null=True,
        read_only=True,
        help_text=_("Consent to sharing health data across sectors (Sundhedsloven §41-42); null: not asked yet."),
    )
    recorded_at = DateTimeField(
        source="consent_recorded_at", allow_null=True, read_only=True, help_text=_("When the consent was recorded.")
    )


@extend_schema_field({"type": "string", "example": StayKind.INPATIENT.value})
class StayKindField(serializers.CharField):
    """The kind of stay. A plain string in the schema: an enum named ``kind`` would collide with the
    organisation kind elsewhere in the schema and rename that one."""


class CurrentStaySerializer(serializers.ModelSerializer):
    department = OrganisationNameSerializer(read_only=True, help_text=_("The hospital department."))
    kind = StayKindField(read_only=True, help_text=_("“inpatient” (admitted) or “acute_ambulant”."))
    unit = serializers.CharField(
        source="department.parent.name", read_only=True, help_text=_("Name of the hospital unit of the department.")
    )

    class Meta:
        model = HospitalStay
        fields = ["department", "unit", "kind", "admitted_at", "on_leave"]
        extra_kwargs = {
            "admitted_at": {"help_text": _("When the stay began.")},
            "on_leave": {"help_text": _("The citizen is on leave from the stay.")},
        }


class CitizenIdentifierSerializer(serializers.ModelSerializer):
    class Meta:
        model = CitizenIdentifier
        fields = ["system", "value"]
        read_only_fields = fields
        extra_kwargs = {
            "system": {"help_text": _("The issuer's system, an OID under urn:oid:1.2.208.176.1.6.1.")},
            "value": {"help_text": _("The replacement number, exactly as issued.")},
        }


class CitizenSerializer(serializers.ModelSerializer):
    """A citizen as the acting organisation may see them. Expects the selectors' prefetches
    (conditions, current stays) and, in lists, contact persons, so it makes no query per row."""

    id = serializers.UUIDField(read_only=True, help_text=_("Stable identifier of the citizen in SmartCare."))
    cpr = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_("CPR number, 10 digits (DDMMYYSSSS); null when the person has none."),
    )
    cpr_formatted = serializers.CharField(
        read_only=True,
        help_text=_("CPR number as DDMMYY-SSSS; without one, the first replacement number with its label."),
    )
    identifiers = CitizenIdentifierSerializer(
        many=True, read_only=True, help_text=_("Replacement numbers (E-CPR) with their issuing systems.")
    )
    birth_date = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text=_("Derived from the CPR number; without one, as the registering message gave it (or null)."),
    )
    sex = serializers.ChoiceField(
        choices=Sex.choices,
        read_only=True,
        help_text=_("Derived from the CPR number; without one, as the registering message gave it."),
    )
    municipality = MunicipalityRefSerializer(read_only=True, help_text=_("Municipality of residence."))
    gp_clinic = OrganisationNameSerializer(read_only=True, allow_null=True, help_text=_("GP clinic; null if none."))
    conditions = CitizenConditionSerializer(many=True, read_only=True, help_text=_("Chronic conditions."))
    contact_persons = ContactPersonSerializer(many=True, read_only=True, help_text=_("Relatives and other contacts."))
    consent = ConsentSerializer(source="*", read_only=True, help_text=_("Consent to sharing across sectors."))
    current_stay = CurrentStaySerializer(
        read_only=True, allow_null=True, help_text=_("The current hospital stay; null when the citizen is at home.")
    )
    access_via = serializers.ChoiceField(
        choices=AccessReason.choices,
        read_only=True,
        help_text=_("The relationship that lets the acting organisation see this citizen; it is in the access log."),
    )

    class Meta:
        model = Citizen
        fields = [
            "id",
            "cpr",
            "cpr_formatted",
            "identifiers",
            "birth_date",
            "sex",
            "first_name",
            "last_name",
            "family_name_unknown",
            "registered_from_message",
            "street",
            "postal_code",
            "city",
            "phone",
            "municipality",
            "gp_clinic",
            "receives_home_care",
            "conditions",
            "contact_persons",
            "consent",
            "current_stay",
            "access_via",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "first_name": {"help_text": _("First name(s).")},
            "last_name": {"help_text": _("Last name.")},
            "family_name_unknown": {"help_text": _("The family name is unknown (last_name is empty).")},
            "registered_from_message": {
                "help_text": _("Registered from an incoming message rather than by a GP clinic or municipality.")
            },
            "street": {"help_text": _("Street address.")},
            "postal_code": {"help_text": _("Postal code (4 digits).")},
            "city": {"help_text": _("City.")},
            "phone": {"help_text": _("Phone number.")},
            "receives_home_care": {"help_text": _("The citizen receives municipal home care.")},
        }


# --- requests ----------------------------------------------------------------------------------


class ConditionInputSerializer(serializers.Serializer):
    icd10_code = serializers.SlugRelatedField(
        slug_field="icd10_code",
        queryset=conditions_list(),
        help_text=_("ICD-10 code from the maintained list at /api/v1/conditions/."),
    )
    onset_date = serializers.DateField(
        required=False,
        allow_null=True,
        help_text=_("When the condition was diagnosed; not in the future nor before the birth date."),
    )


class ContactPersonInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text=_("Full name of the contact person."))
    relation = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text=_("e.g. daughter, spouse")
    )
    phone = serializers.CharField(max_length=30, help_text=_("Phone number."))
    is_primary = serializers.BooleanField(
        required=False, default=False, help_text=_("The primary contact; at most one per citizen.")
    )


class CitizenUpdateSerializer(serializers.Serializer):
    """Input for changing a citizen (PUT, PATCH). Optional fields that are left out keep their
    value; a ``conditions`` or ``contact_persons`` list that is sent replaces the current one."""

    first_name = serializers.CharField(max_length=100, help_text=_("First name(s)."))
    last_name = serializers.CharField(max_length=100, help_text=_("Last name."))
    street = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text=_("Street address."))
    postal_code = serializers.CharField(max_length=4, required=False, allow_blank=True, help_text=_("Postal code."))
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, help_text=_("City."))
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, help_text=_("Phone number."))
    municipality = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.in_portal().filter(kind=OrganisationKind.MUNICIPALITY),
        help_text=_("Organisation id of the municipality of residence."),
    )
    gp_clinic = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.in_portal().filter(kind=OrganisationKind.GP_CLINIC),
        required=False,
        allow_null=True,
        help_text=_("Organisation id of the GP clinic, or null."),
    )
    receives_home_care = serializers.BooleanField(
        required=False, help_text=_("The citizen receives municipal home care.")
    )
    conditions = ConditionInputSerializer(many=True, required=False, help_text=_("Chronic conditions."))
    contact_persons = ContactPersonInputSerializer(many=True, required=False, help_text=_("Contact persons."))

    def service_arguments(self) -> dict[str, Any]:
        """The validated input as keyword arguments for ``citizen_create`` / ``citizen_update``."""
        data = dict(self.validated_data)
        if "conditions" in data:
            data["conditions"] = [
                ConditionItem(condition=c["icd10_code"], onset_date=c.get("onset_date")) for c in data["conditions"]
            ]
        if "contact_persons" in data:
            data["contact_persons"] = [ContactItem(**c) for c in data["contact_persons"]]
        return data


class CitizenCreateSerializer(CitizenUpdateSerializer):
    """Input for registering a citizen: the CPR number is given once, here; birth date and sex
    follow from it."""

    cpr = serializers.CharField(
        max_length=11, help_text=_("CPR number as DDMMYY-SSSS or DDMMYYSSSS. It cannot be changed later.")
    )
    # Declared again so that they follow the CPR number in the documentation.
    conditions = ConditionInputSerializer(many=True, required=False, help_text=_("Chronic conditions."))
    contact_persons = ContactPersonInputSerializer(many=True, required=False, help_text=_("Contact persons."))
