"""The messages section of the citizen overview (registered with ``citizens.overview``): the
citizen's messages the acting organisation may see."""

from __future__ import annotations

from citizens.access import Actor
from citizens.models import Citizen
from citizens.overview import Section, register_section

from . import selectors


@register_section("messaging", order=20)
def citizen_overview_section(actor: Actor, citizen: Citizen) -> Section:
    """templates/messaging/_citizen_messages.html"""
    return Section(
        "messaging/_citizen_messages.html",
        {"citizen_messages": selectors.citizen_messages(actor=actor, citizen=citizen)},
    )
