"""The suite's one cast, as plain code a test module may import (``World``, ``actor_for``).

The fixtures that build it are in the root ``conftest.py``: ``clinic``, ``gp``, ``colleague``,
``other_clinic`` and ``outsider`` are people and organisations of the small ``world``, so a test
that asks for both gets the same objects, never a second cast.
"""

from __future__ import annotations

from dataclasses import dataclass

from citizens.access import Actor
from citizens.models import Citizen
from sectors.acting import resolve
from sectors.models import Organisation, User


@dataclass
class World:
    """Two municipalities, two GP clinics, a hospital unit with two departments, and one citizen
    listed at clinic A and living in municipality A; ``users`` by name (``"gp_a"``, ...)."""

    municipality_a: Organisation
    municipality_b: Organisation
    clinic_a: Organisation
    clinic_b: Organisation
    unit: Organisation
    department: Organisation
    other_department: Organisation
    citizen: Citizen
    users: dict[str, User]


def actor_for(user: User, organisation: Organisation | None = None) -> Actor:
    """The services take an actor: a user acting for one organisation (the default one unless given)."""
    return Actor(user=user, acting=resolve(user, organisation.pk if organisation else None), ip_address="127.0.0.1")
