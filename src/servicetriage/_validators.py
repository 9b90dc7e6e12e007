"""Shared attrs converters and checks for the policy and record types.

One place for each small input rule, so a fix to a rule or to its message
lands in every module that applies it. Each check takes the field path that
its message names (``chain.priorities``, ``learning.min_count``...) and the
error class to raise, so every caller keeps its own wording of *where*.

Private to the package: the names here are not part of the public API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from servicetriage.errors import PolicyError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import attrs

    from servicetriage.errors import ServiceTriageError

__all__ = [
    "check_non_empty",
    "check_non_empty_items",
    "check_priorities",
    "check_whole_number",
    "field_path",
    "non_empty",
    "to_tuple",
]


def field_path(instance: object, attribute: attrs.Attribute[Any]) -> str:
    """The path ``<class name in lower case>.<field>`` that messages name, e.g. ``chain.id``."""
    return f"{type(instance).__name__.lower()}.{attribute.name}"


def to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    """Convert *value* to a tuple; a lone string becomes a one-item tuple (not its characters)."""
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def check_non_empty(
    path: str,
    value: object,
    *,
    error: type[ServiceTriageError] = PolicyError,
    show: Callable[[object], str] = repr,
) -> None:
    """Raise *error* ``"<path>: expected a non-empty string, got <value>"``.

    Unless *value* is a string with a non-blank character. *show* renders
    the value in the message (``repr`` by default).
    """
    if not isinstance(value, str) or not value.strip():
        msg = f"{path}: expected a non-empty string, got {show(value)}"
        raise error(msg)


def non_empty(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """An attrs validator: `check_non_empty` at `field_path`, raising `PolicyError`."""
    check_non_empty(field_path(instance, attribute), value)


def check_non_empty_items(
    path: str,
    values: Iterable[object],
    *,
    show: Callable[[object], str] = repr,
) -> None:
    """Raise `PolicyError` ``"<path>: expected non-empty strings, got <item>"``.

    At the first blank or non-string item. *show* renders the item in the
    message (``repr`` by default).
    """
    for item in values:
        if not isinstance(item, str) or not item.strip():
            msg = f"{path}: expected non-empty strings, got {show(item)}"
            raise PolicyError(msg)


def check_priorities(path: str, values: Iterable[object]) -> None:
    """Raise `PolicyError` ``"<path>: expected priorities >= 1, got <item>"``.

    At the first item that is not a whole number >= 1 (booleans are not numbers).
    """
    for item in values:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            msg = f"{path}: expected priorities >= 1, got {item!r}"
            raise PolicyError(msg)


def check_whole_number(path: str, value: object, *, error: type[ServiceTriageError] = PolicyError) -> None:
    """Raise *error* ``"<path>: expected a whole number >= 1, got <value>"``.

    Unless *value* is an int >= 1 (booleans are not numbers).
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{path}: expected a whole number >= 1, got {value!r}"
        raise error(msg)
