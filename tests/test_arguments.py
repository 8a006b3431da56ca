from smartcare.arguments import UNSET, given


def test_given_keeps_what_was_passed_none_included():
    assert given(a=1, b=UNSET, c=None, d="") == {"a": 1, "c": None, "d": ""}


def test_unset_is_falsy_and_named():
    assert not UNSET
    assert repr(UNSET) == "UNSET"
