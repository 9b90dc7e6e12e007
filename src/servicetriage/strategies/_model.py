"""Strategies for the shared model: customers, tickets, money, aware times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import strategies as st

from servicetriage.model import (
    Channel,
    Customer,
    CustomerTier,
    DeclaredUrgency,
    Flag,
    Money,
    Pause,
    Ticket,
    TicketStatus,
)

__all__ = ["aware_datetimes", "customers", "money", "tickets"]

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
)
_WORDS = st.sampled_from(
    [
        "refund", "delay", "stranded", "flight", "invoice", "password", "broken", "angry", "lawyer",
        "退款", "投诉", "航班", "延误", "咨询", "发票", "维修", "SOS", "help", "police", "报警", "急",
    ]
)  # fmt: skip
_TEXTS = st.lists(_WORDS, max_size=6)
_IDS = st.integers(0, 99_999_999)
_CATEGORIES = st.sampled_from(["general", "billing", "flight", "ride", "repair", "account"])
_LANGUAGES = st.sampled_from(["zh", "en", "de", "ja"])
_ATTRIBUTES = st.dictionaries(
    st.sampled_from(["plan", "region", "order_id"]),
    st.sampled_from(["basic", "gold", "north", "south", "A-17", "订单", ""]),
    max_size=3,
)
_FLAGS = st.frozensets(st.sampled_from(Flag))
_STATUSES = st.sampled_from(TicketStatus)
_DUE_MINUTES = st.none() | st.integers(-3 * 24 * 60, 14 * 24 * 60)


def aware_datetimes(
    *, min_value: datetime = _EPOCH, max_value: datetime = _EPOCH + timedelta(days=365)
) -> st.SearchStrategy[datetime]:
    """Aware datetimes between two aware bounds, in a few fixed-offset zones.

    The instants are whole seconds; the zones include UTC+8 and UTC+5:30.
    """
    span = int((max_value - min_value).total_seconds())
    return st.builds(
        lambda seconds, zone: (min_value + timedelta(seconds=seconds)).astimezone(zone),
        st.integers(0, max(span, 0)),
        _ZONES,
    )


def money(
    *, currencies: tuple[str, ...] = ("CNY", "EUR", "USD"), max_amount: int = 100_000
) -> st.SearchStrategy[Money]:
    """Non-negative amounts with two decimals in one of *currencies*."""
    return st.builds(
        lambda cents, cur: Money(Decimal(cents) / 100, cur),
        st.integers(0, max_amount * 100),
        st.sampled_from(currencies),
    )


_MONEY = money()


def customers(*, tiers: st.SearchStrategy[CustomerTier] | None = None) -> st.SearchStrategy[Customer]:
    """Customers of any tier, with the protected attributes drawn freely."""
    return st.builds(
        Customer,
        id=st.integers(0, 999_999).map(lambda n: f"C{n}"),
        tier=tiers if tiers is not None else st.sampled_from(CustomerTier),
        reach=st.integers(0, 100_000),
        nationality=st.none() | st.sampled_from(["CN", "US", "DE", "JP", "NG", "BR"]),
        gender=st.none() | st.sampled_from(["female", "male", "other"]),
        age=st.none() | st.integers(0, 150),
    )


_CUSTOMERS = customers()


@st.composite
def _pauses(draw: st.DrawFn, opened_at: datetime) -> tuple[Pause, ...]:
    count = draw(st.integers(0, 2))
    pauses: list[Pause] = []
    cursor = opened_at
    for index in range(count):
        start = cursor + timedelta(minutes=draw(st.integers(0, 600)))
        open_ended = index == count - 1 and draw(st.booleans())
        end = None if open_ended else start + timedelta(minutes=draw(st.integers(1, 600)))
        pauses.append(Pause(start, end))
        if end is None:
            break
        cursor = end
    return tuple(pauses)


@st.composite
def tickets(
    draw: st.DrawFn,
    *,
    opened_at: st.SearchStrategy[datetime] | None = None,
    customer: st.SearchStrategy[Customer] | None = None,
    flags: st.SearchStrategy[frozenset[Flag]] | None = None,
    statuses: st.SearchStrategy[TicketStatus] | None = None,
    with_levels: bool | None = None,
    max_level: int = 3,
) -> Ticket:
    """Valid tickets, in Chinese and English, with any mix of signals.

    :param opened_at: a strategy for the opening time (default: within 2026).
    :param customer: a strategy for the customer (default: `customers`).
    :param flags: a strategy for the flag set (default: any subset).
    :param statuses: a strategy for the status (default: any).
    :param with_levels: force explicit impact/urgency levels on (``True``) or
        off (``False``); by default some tickets carry them.
    :param max_level: the largest impact/urgency level drawn (levels start at 1).
    """
    opened = draw(opened_at if opened_at is not None else aware_datetimes())
    has_levels = draw(st.booleans()) if with_levels is None else with_levels
    words = draw(_TEXTS)
    due_minutes = draw(_DUE_MINUTES)
    return Ticket(
        id=f"T{draw(_IDS)}",
        opened_at=opened,
        customer=draw(customer if customer is not None else _CUSTOMERS),
        due=None if due_minutes is None else opened + timedelta(minutes=due_minutes),
        channel=draw(st.sampled_from(Channel)),
        category=draw(_CATEGORIES),
        subject=" ".join(words[:2]),
        text=" ".join(words),
        language=draw(_LANGUAGES),
        declared_urgency=draw(st.sampled_from(DeclaredUrgency)),
        impact=draw(st.integers(1, max_level)) if has_levels else None,
        urgency=draw(st.integers(1, max_level)) if has_levels else None,
        affected_customers=draw(st.integers(1, 10_000)),
        money_at_stake=draw(st.none() | _MONEY),
        flags=draw(flags if flags is not None else _FLAGS),
        repeat_contacts=draw(st.integers(0, 10)),
        status=draw(statuses if statuses is not None else _STATUSES),
        pauses=draw(_pauses(opened)),
        attributes=draw(_ATTRIBUTES),
    )
