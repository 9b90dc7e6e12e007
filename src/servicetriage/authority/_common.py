"""Small helpers shared by the parts of authority: the facts a request may lack, validators and messages."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any

import attrs

from servicetriage._inputs import duration, money
from servicetriage._validators import check_non_empty, field_path
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import (
    Customer,
    FrozenMap,
    Money,
    Reason,
    Ticket,
)

#: The ticket facts a grant or a guardrail reads that the ticket model fills with a default when they are
#: not given: a request names those it was given in `Request.given`.
TICKET_FACTS = frozenset({"ticket.category", "ticket.channel", "ticket.customer.tier"})
_FACT_CATEGORY = "ticket.category"
_FACT_CHANNEL = "ticket.channel"
_FACT_CUSTOMER_TIER = "ticket.customer.tier"
# What the model puts in place of a fact that was not given.
_DEFAULT_CATEGORY: Any = attrs.fields(Ticket).category.default
_DEFAULT_CHANNEL: Any = attrs.fields(Ticket).channel.default
_DEFAULT_CUSTOMER_TIER: Any = attrs.fields(Customer).tier.default


# --------------------------------------------------------------------------
# Validators


def _reason(code: str, message: str, rule: str | None, evidence: dict[str, str] | None = None) -> Reason:
    """Build a Reason (the evidence becomes an immutable mapping)."""
    frozen: Any = FrozenMap(evidence or {})
    return Reason(code, message, rule, frozen)


def _show(value: object) -> str:
    """How a policy message shows a value: money as ``'500 CNY'``, anything else as its repr."""
    return f"'{value}'" if isinstance(value, Money) else repr(value)


def _fail(field: str, expected: str, value: object) -> PolicyError:
    return PolicyError(f"{field}: expected {expected}, got {_show(value)}")


def _name(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    check_non_empty(field_path(instance, attribute), value, show=_show)


def _input_name(instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    """Like ``_name`` for request data: a bad value is a `TicketError`."""
    check_non_empty(field_path(instance, attribute), value, error=TicketError)


def _optional_name(instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        _input_name(instance, attribute, value)


def _optional_money(value: Any, path: str, error: type[Exception] = PolicyError) -> Money | None:
    """*value* as money >= 0 (a `Money` or text such as ``'500 CNY'``) or None, naming *path* on error."""
    result: Money | None = None if value is None else money(value, path, error)
    return result


def _positive_duration(instance: Any, attribute: attrs.Attribute[Any], value: timedelta | None) -> None:
    if value is not None:
        duration(value, f"{type(instance).__name__.lower()}.{attribute.name}", PolicyError)


def _to_action(value: str | enum.Enum) -> str:
    return str(value) if isinstance(value, enum.Enum) else value


def _period(value: timedelta | None) -> str:
    """Render a period in words: '30 days', '12 hours', '90 minutes'."""
    if value is None:
        return "any time"
    seconds = int(value.total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


# The facts a grant or a guardrail may lack, as a decision names them in `Decision.missing`.
_NEEDS_QUADRANT = "triage.quadrant"
_NEEDS_AMOUNT = "amount"
_NEEDS_DEPARTMENT = "department"
_NEEDS_USAGE = "usage"
_NEEDS_USAGE_AMOUNT = "usage.amount"
