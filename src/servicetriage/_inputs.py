"""One rule for each input that several parts of the library accept: quadrants, channels, tiers, durations, money.

A quadrant, a channel or a customer tier may be given as the member itself
or as it is written in a file; a set of them as any iterable, a single value
(one member), or ``None`` (none). Every place that accepts one (the
authority conditions, the escalation chains, the playbook triggers, the
assignment rules, the ticket, the incident report, the policy files) reads
it with the functions below, so it accepts the same spellings and rejects
the same values with the same message:
``conditions.quadrants: expected one of 'Q1', 'Q2', 'Q3', 'Q4', got 'Q5'``.

- a quadrant is written by its name, in any case and with spaces around it
  (``"Q1"``, ``" q1 "``), or by its handling order (``1``; not ``True``);
- any other member is written by its value, exactly (``"phone"``,
  ``"vip_business"``);
- a duration is a `timedelta` (``> 0``, or ``>= 0`` for an offset), shown
  in messages as a file writes it (``'-5m'``);
- an amount of money is a `Money` or text `Money.parse` reads
  (``'500 CNY'``), never below zero.

This module is core: it imports nothing but the standard library.
"""

from __future__ import annotations

import contextlib
import enum
from datetime import timedelta
from typing import Any, TypeVar

E = TypeVar("E", bound=enum.Enum)
_ZERO = timedelta(0)


def choices(enum_cls: type[enum.Enum]) -> str:
    """How a message lists the spellings of *enum_cls*: ``'Q1', 'Q2', 'Q3', 'Q4'`` or ``'email', 'phone', ...``."""
    by_name = _by_name(enum_cls)
    return ", ".join(repr(m.name if by_name else m.value) for m in enum_cls)


def _by_name(enum_cls: type[enum.Enum]) -> bool:
    # Quadrants are written as people say them ("Q1"); their values are the handling order.
    return enum_cls.__name__ == "Quadrant"


def member(enum_cls: type[E], value: object, path: str | None, error: type[Exception] = ValueError) -> E:
    """*value* as a member of *enum_cls*, or *error* naming *path* (if any) and the value.

    >>> from servicetriage.model import Channel, Quadrant
    >>> member(Quadrant, " q2 ", "report.quadrant")
    <Quadrant.Q2: 2>
    >>> member(Channel, "fax", "ticket.channel")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ticket.channel: expected one of 'phone', 'chat', ..., 'regulator', got 'fax'
    """
    if isinstance(value, enum_cls):
        return value
    if not isinstance(value, bool):
        try:
            if _by_name(enum_cls) and isinstance(value, str):
                return enum_cls[value.strip().upper()]
            if not _by_name(enum_cls) or isinstance(value, int):
                return enum_cls(value)
        except (KeyError, ValueError, TypeError):
            pass
    message = f"expected one of {choices(enum_cls)}, got {value!r}"
    raise error(f"{path}: {message}" if path else message)


def members(enum_cls: type[E], value: object, path: str | None, error: type[Exception] = ValueError) -> frozenset[E]:
    """*value* as a set of members of *enum_cls*: an iterable, a single member or value, or None for none.

    >>> from servicetriage.model import Quadrant
    >>> sorted(q.name for q in members(Quadrant, ["Q1", 3], "chain.quadrants"))
    ['Q1', 'Q3']
    >>> members(Quadrant, "q4", "chain.quadrants")
    frozenset({<Quadrant.Q4: 4>})
    """
    if value is None:
        return frozenset()
    if isinstance(value, enum_cls | str | int):
        return frozenset((member(enum_cls, value, path, error),))
    try:
        items: Any = iter(value)  # type: ignore[call-overload]
    except TypeError:
        message = f"expected a list of {choices(enum_cls)}, got {value!r}"
        raise error(f"{path}: {message}" if path else message) from None
    return frozenset(member(enum_cls, item, path, error) for item in items)


def _shown(value: timedelta) -> str:
    from servicetriage.digest import format_duration  # noqa: PLC0415 - only to word an error; digest imports the model

    return format_duration(value)


def duration(value: object, path: str, error: type[Exception] = ValueError, *, positive: bool = True) -> timedelta:
    """*value* as a duration: a `timedelta` above zero (or at least zero unless *positive*).

    A policy file writes durations as text (``"15m"``, ``"PT45M"``), read by
    `servicetriage.config.parse_duration`; in code a duration is a `timedelta`.

    >>> duration(timedelta(minutes=-5), "step.due", positive=False)
    Traceback (most recent call last):
    ...
    ValueError: step.due: expected a duration >= 0, got '-5m'
    """
    if not isinstance(value, timedelta):
        raise error(f"{path}: expected a duration such as '15m', got {value!r}")
    if value < _ZERO or (positive and value == _ZERO):
        raise error(f"{path}: expected a duration {'> 0' if positive else '>= 0'}, got '{_shown(value)}'")
    return value


def money(value: object, path: str, error: type[Exception] = ValueError) -> Any:
    """*value* as an amount of money at least zero: a `Money`, or text such as ``'500 CNY'``.

    >>> money("500 CNY", "limits.max_amount")
    Money(amount=Decimal('500'), currency='CNY')
    >>> money(-5, "request.amount")
    Traceback (most recent call last):
    ...
    ValueError: request.amount: expected money >= 0 such as '500 CNY', got -5
    """
    from servicetriage.model import Money  # noqa: PLC0415 - the model reads its enums with this module

    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not money: named below
            value = Money.parse(value)
    if not isinstance(value, Money) or value.amount < 0:
        shown = f"'{value}'" if isinstance(value, Money) else repr(value)
        raise error(f"{path}: expected money >= 0 such as '500 CNY', got {shown}")
    return value
