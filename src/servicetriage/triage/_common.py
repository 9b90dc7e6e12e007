"""Small helpers shared by the parts of triage."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage.errors import PolicyError
from servicetriage.model import (
    FrozenMap,
    Mark,
    Reason,
    TicketStatus,
)
from servicetriage.signals import Signal

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from servicetriage.triage._policy import Condition

_ZERO = timedelta(0)


def _reason(code: str, message: str, rule: str | None = None, evidence: Mapping[str, str] | None = None) -> Reason:
    """Build a reason with string evidence (prepared once, when the policy is compiled)."""
    return Reason(code, message, rule, FrozenMap(evidence or {}))


def _as_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _optional_tuple(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _fail(path: str, message: str) -> None:
    raise PolicyError(f"{path}: {message}")


def _level_name(instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        _fail(f"{type(instance).__name__.lower()}.{attribute.name}", f"expected a level name, got {value!r}")


#: Deadline cutoffs at one instant: the overdue bound, and ``(bound, rank, reason)`` per deadline step.
_Cutoffs = tuple[datetime, tuple[tuple[datetime, int, Reason], ...]]
#: How many instants of "now" an engine keeps deadline cutoffs for.
_CUTOFFS_KEPT = 16

_EMPTY: dict[str, str] = {}
_EMPTY_SET: frozenset[str] = frozenset()
_OPEN = frozenset(s.value for s in TicketStatus if s.is_open)
_KNOWN = frozenset(s.value for s in Signal)
_SIGNAL_BIT = {s.value: 1 << index for index, s in enumerate(Signal)}
_SAFETY_BIT = _SIGNAL_BIT["safety"]
_DEADLINE_BIT = _SIGNAL_BIT["deadline"]
_DECLARED_BIT = _SIGNAL_BIT["declared_urgency"]
_REACH_BIT = _SIGNAL_BIT["reach"]
_VIP_BIT = _SIGNAL_BIT["vip"]
_MONEY_BIT = _SIGNAL_BIT["money"]
_AFFECTED_BIT = _SIGNAL_BIT["affected"]
_REPEAT_BIT = _SIGNAL_BIT["repeat_contacts"]
_ITSM_BIT = _SIGNAL_BIT["itsm"]
_MARK_ORDER = (
    Mark.VERIFY_AFTERWARDS,
    Mark.POSSIBLY_DECEPTIVE,
    Mark.COMPLAINT_RISK,
    Mark.OVERDUE,
    Mark.DIRECT_TO_TOP,
    Mark.HUMAN_REVIEW,
)
_VERIFY, _DECEPTIVE, _RISK, _OVERDUE, _TOP, _REVIEW = (1 << k for k in range(len(_MARK_ORDER)))
#: The signals whose neglect turns a need into a public or formal complaint.
_COMPLAINT_RISK = frozenset({"regulator", "public_exposure", "discrimination"})
_SIGNAL_NAMES = tuple((bit, name) for name, bit in _SIGNAL_BIT.items())


def _mark_bits(marks: Iterable[Mark]) -> int:
    return sum(1 << _MARK_ORDER.index(m) for m in set(marks))


def _marks_of(bits: int) -> frozenset[Mark]:
    return frozenset(m for k, m in enumerate(_MARK_ORDER) if bits >> k & 1)


_NO_MARKS: frozenset[Mark] = frozenset()


def _truthy(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1", "y", "是")
    return bool(value)


def _condition_text(condition: Condition) -> str:
    if condition.equals is not None:
        return f"equals {condition.equals}"
    if condition.one_of is not None:
        return "one of " + ", ".join(condition.one_of)
    if condition.contains is not None:
        return f"contains {condition.contains}"
    return f"at least {condition.at_least:g}"


def _shown(value: object) -> object:
    """A duration as written in files ("-4h"); anything else as it is."""
    if isinstance(value, timedelta):
        return ("-" + _fmt(-value)) if value < _ZERO else _fmt(value)
    return value


def _fmt(value: timedelta) -> str:
    total = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
