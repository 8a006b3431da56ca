"""``organisation_by_identifier``: the one way an organisation named by an id, a SOR code or a GLN
is found (the API's message addresses and the FHIR intake's senders and receivers)."""

import pytest

from sectors.models import Organisation
from sectors.selectors import IdentifierConflict, organisation_by_identifier

pytestmark = pytest.mark.django_db


# --- one identifier of any kind ----------------------------------------------------------------


def test_a_number_is_an_id(clinic):
    assert organisation_by_identifier(identifier=clinic.pk) == clinic


def test_a_short_string_of_digits_is_an_id(clinic):
    assert organisation_by_identifier(identifier=f" {clinic.pk} ") == clinic


def test_a_longer_string_is_a_sor_code_or_a_gln(clinic):
    assert organisation_by_identifier(identifier=clinic.sor_code) == clinic
    assert organisation_by_identifier(identifier=clinic.gln) == clinic


def test_a_long_number_is_still_an_id(clinic):
    """A JSON number is an id, however long: only a string can be a SOR code or a GLN."""
    assert organisation_by_identifier(identifier=int(clinic.gln)) is None


def test_the_sor_code_comes_before_the_gln(clinic, other_clinic):
    """A value that is one organisation's SOR code and another's GLN names the first, whatever
    their order by name."""
    Organisation.objects.filter(pk=other_clinic.pk).update(gln="5790000000012", name="Alpha")
    Organisation.objects.filter(pk=clinic.pk).update(sor_code="5790000000012", name="Zeta")
    assert organisation_by_identifier(identifier="5790000000012") == clinic


@pytest.mark.parametrize("value", ["", "abc", "12a", "-1", "1" * 19, "١٢٣", True, False])
def test_what_is_no_number_names_nothing(clinic, value):
    assert organisation_by_identifier(identifier=value) is None


def test_an_unknown_identifier_names_nothing(clinic):
    assert organisation_by_identifier(identifier=clinic.pk + 1000) is None
    assert organisation_by_identifier(identifier="99999999999") is None


def test_an_identifier_and_codes_together_are_a_mistake(clinic):
    with pytest.raises(TypeError):
        organisation_by_identifier(identifier=clinic.pk, sor_code=clinic.sor_code)


# --- a SOR code and a GLN ----------------------------------------------------------------------


def test_either_code_alone_names_the_organisation(clinic, other_clinic):
    assert organisation_by_identifier(sor_code=clinic.sor_code) == clinic
    assert organisation_by_identifier(gln=clinic.gln) == clinic


def test_both_codes_of_one_organisation_name_it(clinic, other_clinic):
    assert organisation_by_identifier(sor_code=clinic.sor_code, gln=clinic.gln) == clinic


def test_codes_of_two_organisations_conflict(clinic, other_clinic):
    with pytest.raises(IdentifierConflict):
        organisation_by_identifier(sor_code=clinic.sor_code, gln=other_clinic.gln)


def test_a_known_code_with_an_unknown_other_code_conflicts(clinic):
    """The organisation one of them finds has another value for the other."""
    with pytest.raises(IdentifierConflict):
        organisation_by_identifier(sor_code=clinic.sor_code, gln="5790000000012")
    with pytest.raises(IdentifierConflict):
        organisation_by_identifier(sor_code="99999999999", gln=clinic.gln)


def test_unknown_codes_name_nothing(clinic):
    assert organisation_by_identifier(sor_code="99999999999", gln="5790000000012") is None
    assert organisation_by_identifier() is None
    assert organisation_by_identifier(sor_code="", gln="") is None


def test_codes_are_found_in_one_query(clinic, django_assert_num_queries):
    with django_assert_num_queries(1):
        organisation_by_identifier(sor_code=clinic.sor_code, gln=clinic.gln)


# --- within a queryset -------------------------------------------------------------------------


def test_only_the_queryset_is_searched(clinic, other_clinic):
    within = Organisation.objects.filter(pk=other_clinic.pk)
    assert organisation_by_identifier(identifier=clinic.pk, queryset=within) is None
    assert organisation_by_identifier(identifier=clinic.sor_code, queryset=within) is None
    assert organisation_by_identifier(sor_code=clinic.sor_code, gln=clinic.gln, queryset=within) is None
    assert organisation_by_identifier(identifier=other_clinic.gln, queryset=within) == other_clinic


def test_a_code_outside_the_queryset_still_conflicts(clinic, other_clinic):
    """The GLN finds ``other_clinic`` in the queryset; the SOR code (``clinic``'s, outside it) is not its."""
    within = Organisation.objects.filter(pk=other_clinic.pk)
    with pytest.raises(IdentifierConflict):
        organisation_by_identifier(sor_code=clinic.sor_code, gln=other_clinic.gln, queryset=within)
