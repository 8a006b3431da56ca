"""The citizen overview's sections come from a registry the apps above ``citizens`` fill from
their ``AppConfig.ready()``: the page shows them in their order, without ``citizens`` importing
those apps."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from citizens import overview
from citizens.overview import Section, overview_sections, register_section


def test_the_apps_register_their_sections_in_page_order():
    order = sorted((order, name) for name, (order, _provider) in overview._PROVIDERS.items())
    assert [name for _order, name in order] == ["careplans", "messaging"]


def test_sections_are_shown_by_order_and_a_name_registered_again_replaces_it(monkeypatch):
    monkeypatch.setattr(overview, "_PROVIDERS", {})
    register_section("late", order=20)(lambda actor, citizen: Section("late.html", {"late": citizen}))
    register_section("early", order=10)(lambda actor, citizen: Section("first.html", {"early": 1}))
    register_section("early", order=10)(lambda actor, citizen: Section("early.html", {"early": actor}))
    templates, context = overview_sections(actor="actor", citizen="citizen")
    assert templates == ["early.html", "late.html"]
    assert context == {"early": "actor", "late": "citizen"}


def test_two_sections_may_not_use_the_same_variable(monkeypatch):
    monkeypatch.setattr(overview, "_PROVIDERS", {})
    register_section("a", order=1)(lambda actor, citizen: Section("a.html", {"shared": 1}))
    register_section("b", order=2)(lambda actor, citizen: Section("b.html", {"shared": 2}))
    with pytest.raises(ImproperlyConfigured):
        overview_sections(actor=None, citizen=None)
