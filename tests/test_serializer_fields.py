"""ModelSerializer fields are built from the model once per class; each instance gets its own copy."""

from __future__ import annotations

from unittest import mock

from rest_framework import serializers

from citizens.api.serializers import CitizenSerializer
from sectors.models import Organisation


def _organisation_serializer(**attrs):
    meta = type("Meta", (), {"model": Organisation, "fields": ["id", "name", "kind"]})
    return type("OrganisationTestSerializer", (serializers.ModelSerializer,), {"Meta": meta, **attrs})


def test_a_serializer_class_builds_its_model_fields_once():
    serializer_class = _organisation_serializer()
    with mock.patch.object(serializer_class, "build_field", wraps=serializer_class().build_field) as build:
        first = serializer_class().fields
        second = serializer_class().fields
    assert build.call_count == 3
    assert list(first) == list(second) == ["id", "name", "kind"]


def test_each_instance_has_fields_of_its_own():
    first, second = CitizenSerializer(), CitizenSerializer()
    for name, field in first.fields.items():
        other = second.fields[name]
        assert other is not field and type(other) is type(field)
        assert field.parent is first and other.parent is second
    del first.fields["cpr"]
    assert "cpr" in CitizenSerializer().fields


def test_a_serializer_that_decides_its_fields_itself_is_asked_every_time():
    def get_fields(self):
        fields = super(serializer_class, self).get_fields()
        if not self.context.get("with_kind"):
            del fields["kind"]
        return fields

    serializer_class = _organisation_serializer(get_fields=get_fields)
    assert list(serializer_class().fields) == ["id", "name"]
    assert list(serializer_class(context={"with_kind": True}).fields) == ["id", "name", "kind"]
    assert list(serializer_class().fields) == ["id", "name"]


def test_a_nested_serializer_and_a_many_field_belong_to_their_instance():
    """Fields are copied shallowly, except those that hold a field bound to themselves (many=True):
    each instance's nested fields reach its own context, never another instance's."""
    first, second = CitizenSerializer(context={"who": 1}), CitizenSerializer(context={"who": 2})
    for serializer, who in ((first, 1), (second, 2)):
        conditions = serializer.fields["conditions"]
        assert conditions.child.parent is conditions and conditions.parent is serializer
        assert conditions.child.context == {"who": who}
        nested = serializer.fields["municipality"].fields["name"]
        assert nested.context == {"who": who}
    assert first.fields["conditions"].child is not second.fields["conditions"].child
    assert first.fields["municipality"] is not second.fields["municipality"]
