"""The identifier rules of DOMAIN.md: GLN (GS1 mod-10), SOR, municipality code, ydernummer."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from sectors.identifiers import synthetic_gln, synthetic_sor
from sectors.validators import (
    gs1_check_digit,
    validate_gln,
    validate_municipality_code,
    validate_sor,
    validate_ydernummer,
)

# Deterministic property tests: the same examples on every run, nothing stored between runs.
deterministic = settings(derandomize=True, database=None, max_examples=200, deadline=None)

ASCII_DIGITS = "0123456789"
# Characters for which str.isdigit() is true although they are not ASCII digits.
UNICODE_DIGITS = "\u0660\u0665\u0669\uff10\uff15\uff19\u00b2\u00b3\u0966"

VALID_GLNS = [
    "5790000000005",  # Danish GS1 prefix 579, check digit worked out by hand: 35 -> 5
    "5798000000001",  # 579 8...: 59 -> 1
    "4006381333931",  # the classic EAN-13 example from GS1 literature
    "5901234123457",  # GS1's own EAN-13 example
]


def expect_code(validator, value, code):
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    assert excinfo.value.code == code
    return excinfo.value


def independent_gs1_ok(number: str) -> bool:
    """A second, differently written GS1 check: left-to-right weights 1,3,1,3,... over all 13 digits."""
    return sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(number)) % 10 == 0


def to_script(number: str, zero: str) -> str:
    """The same number written with the digits of another script (``zero`` is that script's 0)."""
    return "".join(chr(ord(zero) + int(d)) for d in number)


# --- GLN --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "check"),
    [("579000000000", 5), ("579800000000", 1), ("400638133393", 1), ("590123412345", 7), ("9638507", 4)],
)
def test_gs1_check_digit_of_known_numbers(body, check):
    assert gs1_check_digit(body) == check


@pytest.mark.parametrize("gln", VALID_GLNS)
def test_valid_gln_is_accepted(gln):
    assert validate_gln(gln) is None


@pytest.mark.parametrize("gln", VALID_GLNS)
def test_every_other_check_digit_is_rejected(gln):
    for digit in ASCII_DIGITS.replace(gln[-1], ""):
        error = expect_code(validate_gln, gln[:-1] + digit, "gln_check_digit")
        assert gln[:-1] + digit in error.messages[0]


def test_the_round_number_5798000000000_has_a_wrong_check_digit():
    expect_code(validate_gln, "5798000000000", "gln_check_digit")


@pytest.mark.parametrize(
    "value",
    ["", "579000000000", "57900000000055", "57900000000051234", "5"],
    ids=["empty", "12-digits", "14-digits", "17-digits", "1-digit"],
)
def test_gln_of_wrong_length_is_rejected(value):
    expect_code(validate_gln, value, "gln_format")


@pytest.mark.parametrize(
    "value",
    ["579000000000A", "579000000 005", "-579000000005", "579000000000.", "57900000000O5", " 5790000000005"],
)
def test_gln_with_non_digits_is_rejected(value):
    expect_code(validate_gln, value, "gln_format")


@pytest.mark.parametrize(
    "value",
    [
        to_script("5790000000005", "\u0660"),  # Arabic-Indic digits
        to_script("5790000000005", "\uff10"),  # full-width digits
        "579000000000" + to_script("5", "\u0660"),  # a single non-ASCII digit at the end
        "57900000000\u00b25",  # superscript two
    ],
    ids=["arabic-indic", "full-width", "last-digit", "superscript"],
)
def test_gln_with_non_ascii_digits_is_rejected(value):
    assert value.isdigit() and len(value) == 13  # would pass a naive isdigit() check
    expect_code(validate_gln, value, "gln_format")


@deterministic
@given(body=st.text(alphabet=ASCII_DIGITS, min_size=12, max_size=12))
def test_property_gln_with_computed_check_digit_is_valid(body):
    gln = body + str(gs1_check_digit(body))
    assert independent_gs1_ok(gln)
    validate_gln(gln)


@deterministic
@given(body=st.text(alphabet=ASCII_DIGITS, min_size=12, max_size=12), wrong=st.integers(1, 9))
def test_property_gln_with_any_other_check_digit_is_rejected(body, wrong):
    digit = (gs1_check_digit(body) + wrong) % 10
    gln = body + str(digit)
    assert not independent_gs1_ok(gln)
    expect_code(validate_gln, gln, "gln_check_digit")


@deterministic
@given(value=st.text(max_size=20))
def test_property_gln_is_valid_exactly_when_13_ascii_digits_with_check_digit(value):
    well_formed = len(value) == 13 and all(c in ASCII_DIGITS for c in value)
    if well_formed and independent_gs1_ok(value):
        validate_gln(value)
    else:
        expect_code(validate_gln, value, "gln_check_digit" if well_formed else "gln_format")


@deterministic
@given(value=st.text(alphabet=ASCII_DIGITS + UNICODE_DIGITS, min_size=13, max_size=13))
def test_property_gln_with_any_non_ascii_digit_is_a_format_error(value):
    if any(c not in ASCII_DIGITS for c in value):
        expect_code(validate_gln, value, "gln_format")


@deterministic
@given(namespace=st.integers(1, 9), number=st.integers(0, 99_999_999))
def test_property_synthetic_identifiers_are_valid(namespace, number):
    validate_gln(synthetic_gln(namespace, number))
    validate_sor(synthetic_sor(namespace, number))


# --- SOR --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1" * 11, "481901000016", "9" * 18, "00000000000"])
def test_valid_sor_code_is_accepted(value):
    assert validate_sor(value) is None


@pytest.mark.parametrize(
    "value",
    ["", "1" * 10, "1" * 19, "4819010000A6", "481901 000016", to_script("481901000016", "\u0660"), "-48190100001"],
    ids=["empty", "10-digits", "19-digits", "letter", "space", "arabic-indic", "sign"],
)
def test_invalid_sor_code_is_rejected(value):
    expect_code(validate_sor, value, "sor_format")


@deterministic
@given(value=st.text(max_size=25))
def test_property_sor_is_digits_only_and_at_least_11(value):
    if 11 <= len(value) <= 18 and all(c in ASCII_DIGITS for c in value):
        validate_sor(value)
    else:
        expect_code(validate_sor, value, "sor_format")


# --- Municipality code ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0461", "0479", "0621", "0101"])
def test_valid_municipality_code_is_accepted(value):
    assert validate_municipality_code(value) is None


@pytest.mark.parametrize(
    "value", ["", "461", "04610", "04a1", "04 1", to_script("0461", "\u0660"), to_script("0461", "\uff10")]
)
def test_invalid_municipality_code_is_rejected(value):
    expect_code(validate_municipality_code, value, "municipality_code")


# --- Ydernummer -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "012345", "1234567"])
def test_valid_ydernummer_is_accepted(value):
    assert validate_ydernummer(value) is None


@pytest.mark.parametrize("value", ["", "12345678", "12a45", "12 45", to_script("123", "\u0660"), "+123"])
def test_invalid_ydernummer_is_rejected(value):
    expect_code(validate_ydernummer, value, "ydernummer_format")
