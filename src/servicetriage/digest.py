"""Content hashes of policies and playbooks, computed in the core.

Every result says which policy made it: a `Triage`, an authority `Decision`
and an escalation `Action` carry the content hash of the policy that
produced it. The hash is computed **once**, when the policy is built (or
compiled), never per ticket.

`plain` turns a library value into plain data exactly as the file converter
(`servicetriage.config.unstructure`) does: durations as ``"1h30m"``, money as
``"500 CNY"``, quadrants as ``"Q1"``, enums by value, sets sorted, fields
left at their default omitted, a preset matrix by its name. So
`content_hash` of a policy equals the hash of the document a store version
of it holds (`servicetriage.ledger.content_hash`), and a stamped result
traces to that version. The equality is property-checked against the
converter in the test suite.

>>> from servicetriage.triage import TriagePolicy
>>> content_hash(TriagePolicy()) == TriagePolicy().content_hash
True
>>> format_duration(timedelta(hours=1, minutes=30))
'1h30m'
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from servicetriage.calendar import Shift
from servicetriage.matrix import PriorityMatrix, preset_name
from servicetriage.model import FrozenMap, Money, Quadrant

__all__ = ["content_hash", "format_duration", "plain"]

_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60}


def format_duration(value: timedelta) -> str:
    """Render a duration compactly (``"1h30m"``, ``"2d"``, ``"0.5s"``, ``"-15m"``)."""
    micros = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    micros = abs(micros)
    if micros == 0:
        return "0s"
    whole, frac = divmod(micros, 1_000_000)
    parts = []
    for unit in ("d", "h", "m"):
        count, whole = divmod(whole, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    if whole or frac:
        seconds = f"{whole}" if not frac else f"{whole}.{frac:06d}".rstrip("0")
        parts.append(f"{seconds}s")
    return sign + "".join(parts)


def _time(value: time) -> str:
    return value.isoformat(timespec="minutes") if not value.second else value.isoformat()


def _attrs_plain(value: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in attrs.fields(type(value)):
        if not field.init or field.name in skip:
            continue
        item = getattr(value, field.name)
        default = field.default
        if default is not attrs.NOTHING:
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                default = default.factory(value) if default.takes_self else default.factory()
            if item == default:
                continue
        out[field.name] = plain(item)
    return out


def plain(value: Any) -> Any:
    """The plain-data form of *value*, equal to the file converter's ``unstructure``."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Quadrant):
        return value.name
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return _time(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Decimal | Money | Shift):
        return str(value)
    if isinstance(value, ZoneInfo):
        return value.key
    if isinstance(value, FrozenMap | Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted((plain(v) for v in value), key=repr)
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, PriorityMatrix):
        return preset_name(value) or _attrs_plain(value)
    if attrs.has(type(value)):
        return _attrs_plain(value, _SKIP.get(type(value).__name__, frozenset()))
    msg = f"plain: {type(value).__name__} is not a library value, got {value!r}"
    raise TypeError(msg)


# Fields that are Python objects, never written to a file (the converter omits them too).
_SKIP = {"TriagePolicy": frozenset({"detectors"})}


def content_hash(value: Any) -> str:
    """The SHA-256 of the canonical JSON (sorted keys, no spaces) of ``plain(value)``.

    Build-time work: a policy computes it once and keeps it (``policy.content_hash``).
    """
    text = json.dumps(plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
