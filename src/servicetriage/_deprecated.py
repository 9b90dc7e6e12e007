"""Deprecations kept for one release: old names, and calendars passed as arguments.

A module that renamed a public name lists it in a ``{old: new}`` table and
answers unknown attributes with `renamed`:

    _RENAMED = {"Target": "Recipient"}

    def __getattr__(name: str) -> Any:
        return renamed(__name__, name, _RENAMED, globals())

``from servicetriage.escalation import Target`` and
``escalation.Target`` then both give `Recipient` itself, with a
`DeprecationWarning` that names the new name. A function that still takes
a calendar calls `warn_calendar_argument` when it gets one.

Private to the package: the names here are not part of the public API.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["renamed", "warn_calendar_argument"]

#: The release that removes the old names.
REMOVED_IN = "0.3.0"


def renamed(module: str, name: str, table: Mapping[str, str], namespace: Mapping[str, Any]) -> Any:
    """The object that *name*, an old name of *module*, now goes by; `AttributeError` for any other name."""
    new = table.get(name)
    if new is None:
        msg = f"module {module!r} has no attribute {name!r}"
        raise AttributeError(msg)
    warnings.warn(
        f"{module}.{name} is deprecated and goes in {REMOVED_IN}; use {module}.{new} (the same object)",
        DeprecationWarning,
        stacklevel=3,
    )
    return namespace[new]


def warn_calendar_argument(function: str, instead: str) -> None:
    """Warn that *function* was given a calendar: a deadline counts in the calendar of the policy that sets it."""
    warnings.warn(
        f"{function}(calendar=...) is deprecated and goes in {REMOVED_IN}; set {instead}: a deadline counts "
        "in the calendar of the policy that sets it",
        DeprecationWarning,
        stacklevel=3,
    )
