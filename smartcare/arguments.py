"""Explicit keyword parameters for partial updates.

Update services name every field they change as a keyword parameter, so the signature is the one
list of what may change (no ``**fields`` plus a field list kept again in the form and in the
service). A parameter the caller leaves out keeps its default, ``UNSET``, which means "leave this
field as it is"; ``None`` stays a real value (clearing a nullable field)."""

from __future__ import annotations

import enum
from typing import Any, Final, Literal, TypeVar

T = TypeVar("T")


class _Unset(enum.Enum):
    """A type of its own with one member, so type checkers narrow ``X | Unset`` to ``X``."""

    UNSET = enum.auto()

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> Literal[False]:
        return False


Unset = Literal[_Unset.UNSET]
UNSET: Final = _Unset.UNSET


def given(**values: Any) -> dict[str, Any]:
    """The values the caller passed, without those left ``UNSET``."""
    return {name: value for name, value in values.items() if value is not UNSET}
