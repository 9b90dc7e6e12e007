"""Tests of the shared model: validation, money, frozen maps, quadrants, pauses and pickling."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import (
    Channel,
    Customer,
    CustomerTier,
    DeclaredUrgency,
    Finding,
    Flag,
    FrozenMap,
    Level,
    Mark,
    Money,
    Obligation,
    ObligationKind,
    Pause,
    Quadrant,
    Reason,
    Severity,
    Ticket,
    TicketStatus,
    Triage,
    require_aware,
)

T0 = datetime(2026, 5, 4, 9, tzinfo=UTC)
NAIVE = datetime(2026, 5, 4, 9)
ALICE = Customer(id="C1")


def ticket(**changes: Any) -> Ticket:
    fields: dict[str, Any] = {"id": "T1", "opened_at": T0, "customer": ALICE, **changes}
    return Ticket(**fields)


# ---------------------------------------------------------------------------
# Validators: every bad value names the field and the value


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": ""}, r"^ticket\.id: expected a non-empty string, got ''$"),
        ({"id": "  "}, r"^ticket\.id: .*'  '"),
        ({"opened_at": NAIVE}, r"^ticket\.opened_at: .*naive '2026-05-04T09:00:00'"),
        ({"opened_at": "2026-05-04"}, r"^ticket\.opened_at: expected an aware datetime, got '2026-05-04'"),
        ({"customer": "C1"}, r"^ticket\.customer: expected a Customer, got 'C1'"),
        ({"due": NAIVE}, r"^ticket\.due: .*naive"),
        ({"channel": "fax"}, r"^ticket\.channel: expected one of .*'phone'.*, got 'fax'"),
        ({"category": ""}, r"^ticket\.category: .*got ''"),
        ({"subject": 5}, r"^ticket\.subject: expected a string, got 5"),
        ({"text": None}, r"^ticket\.text: expected a string, got None"),
        ({"language": ""}, r"^ticket\.language: .*got ''"),
        ({"declared_urgency": "asap"}, r"^ticket\.declared_urgency: .*got 'asap'"),
        ({"impact": 0}, r"^ticket\.impact: expected a level >= 1 .*got 0"),
        ({"impact": True}, r"^ticket\.impact: .*got True"),
        ({"urgency": "1"}, r"^ticket\.urgency: .*got '1'"),
        ({"affected_customers": 0}, r"^ticket\.affected_customers: expected a whole number >= 1, got 0"),
        ({"money_at_stake": "-5 CNY"}, r"^ticket\.money_at_stake: expected money >= 0 such as '500 CNY', got '-5 CNY'"),
        ({"money_at_stake": "five yuan"}, r"^ticket\.money_at_stake: .*'five yuan'"),
        ({"money_at_stake": 500}, r"^ticket\.money_at_stake: expected money >= 0 such as '500 CNY', got 500$"),
        ({"flags": ["sos"]}, r"^ticket\.flags\[0\]: expected one of .*got 'sos'"),
        ({"repeat_contacts": -1}, r"^ticket\.repeat_contacts: expected a whole number >= 0, got -1"),
        ({"repeat_contacts": 1.0}, r"^ticket\.repeat_contacts: .*got 1\.0"),
        ({"status": "done"}, r"^ticket\.status: .*got 'done'"),
        ({"attributes": {"": 1}}, r"^ticket\.attributes: expected non-empty string keys, got ''"),
        ({"attributes": {"plan": [1]}}, r"^ticket\.attributes\.plan: .*got \[1\]"),
        ({"attributes": [("plan", "gold")]}, r"^ticket\.attributes: expected a mapping .*"),
        ({"pauses": ["later"]}, r"^ticket\.pauses\[0\]: expected a Pause, got 'later'"),
        ({"pauses": [Pause(T0 - timedelta(hours=1), T0)]}, r"^ticket\.pauses\[0\]\.start: .*at or after opened_at"),
        (
            {"pauses": [Pause(T0, T0 + timedelta(hours=2)), Pause(T0 + timedelta(hours=1), None)]},
            r"^ticket\.pauses\[1\]\.start: pauses must be in order and not overlap",
        ),
        (
            {"pauses": [Pause(T0, None), Pause(T0 + timedelta(hours=1), None)]},
            r"^ticket\.pauses\[1\]\.start: ",
        ),
    ],
)
def test_bad_ticket_fields_raise_ticket_error_naming_field_and_value(changes: dict[str, Any], message: str) -> None:
    """Every ticket validator names the field and the value."""
    with pytest.raises(TicketError, match=message):
        ticket(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": ""}, r"^customer\.id: .*got ''"),
        ({"tier": "gold"}, r"^customer\.tier: expected one of .*got 'gold'"),
        ({"reach": -1}, r"^customer\.reach: expected a whole number >= 0, got -1"),
        ({"reach": True}, r"^customer\.reach: .*got True"),
        ({"nationality": 86}, r"^customer\.nationality: expected a string, got 86"),
        ({"gender": 1}, r"^customer\.gender: expected a string, got 1"),
        ({"age": 151}, r"^customer\.age: expected a whole number from 0 to 150, got 151"),
        ({"age": False}, r"^customer\.age: .*got False"),
    ],
)
def test_bad_customer_fields_raise_ticket_error(changes: dict[str, Any], message: str) -> None:
    """Every customer validator names the field and the value."""
    fields: dict[str, Any] = {"id": "C1", **changes}
    with pytest.raises(TicketError, match=message):
        Customer(**fields)


def test_pause_validates_its_times() -> None:
    """Pauses need aware times and an end at or after the start."""
    with pytest.raises(TicketError, match=r"^pause\.start: .*naive"):
        Pause(NAIVE)
    with pytest.raises(TicketError, match=r"^pause\.end: .*naive"):
        Pause(T0, NAIVE)
    with pytest.raises(TicketError, match=r"^pause\.end: expected a time at or after start .*got 2026-05-04T08:00"):
        Pause(T0, T0 - timedelta(hours=1))
    assert Pause(T0, T0).end == T0


def test_require_aware_uses_the_error_class_given() -> None:
    """require_aware raises the error class the caller names."""
    with pytest.raises(PolicyError, match=r"^policy\.since: .*naive"):
        require_aware("policy.since", NAIVE, PolicyError)
    assert require_aware("x", T0) is T0


def test_ticket_accepts_plain_values_for_enums_money_and_flags() -> None:
    """Strings convert to enums, money, flags and a frozen attribute map."""
    t = ticket(
        channel="phone",
        declared_urgency="high",
        money_at_stake="500 CNY",
        flags="safety",
        status="new",
        attributes={"plan": "gold"},
    )
    assert t.channel is Channel.PHONE
    assert t.declared_urgency is DeclaredUrgency.HIGH
    assert t.money_at_stake == Money(Decimal(500), "CNY")
    assert t.flags == frozenset({Flag.SAFETY})
    assert t.status is TicketStatus.NEW
    assert isinstance(t.attributes, FrozenMap)
    assert t.attributes == {"plan": "gold"}


def test_tickets_are_immutable() -> None:
    """Assigning a field raises."""
    t = ticket()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.id = "T2"  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Money


def test_money_parses_and_renders() -> None:
    """'500 CNY' parses, lower-case currencies are upper-cased, str() renders back."""
    assert Money.parse("500 CNY") == Money(Decimal(500), "CNY")
    assert Money.parse(" 12.50 eur ") == Money(Decimal("12.50"), "EUR")
    assert str(Money.parse("12.50 EUR")) == "12.50 EUR"


@pytest.mark.parametrize("text", ["500", "CNY 500", "5e2 CNY", "500 YUAN", "", "1,000 CNY"])
def test_money_parse_rejects_other_shapes(text: str) -> None:
    """Anything but '<amount> <code>' raises PolicyError quoting the text."""
    with pytest.raises(PolicyError, match=r"^money: expected '<amount> <currency>'"):
        Money.parse(text)


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (1.5, "CNY", r"money\.amount: .*never a float.*1\.5"),
        ("abc", "CNY", r"money\.amount: expected a decimal number, got 'abc'"),
        (Decimal("NaN"), "CNY", r"money\.amount: expected a finite amount"),
        ("1", "cny", r"money\.currency: .*got 'cny'"),
        ("1", "EURO", r"money\.currency: .*got 'EURO'"),
    ],
)
def test_money_rejects_bad_parts(amount: Any, currency: str, message: str) -> None:
    """Floats, non-numbers, non-finite amounts and bad currency codes raise PolicyError."""
    with pytest.raises(PolicyError, match=message):
        Money(amount, currency)


def test_money_arithmetic_and_comparison_within_a_currency() -> None:
    """Add, subtract and compare work within one currency."""
    a, b = Money.parse("10.50 CNY"), Money.parse("2.25 CNY")
    assert a + b == Money.parse("12.75 CNY")
    assert a - b == Money.parse("8.25 CNY")
    assert b < a
    assert b <= a
    assert a > b
    assert a >= a
    assert Money.parse("1.0 CNY") == Money.parse("1 CNY")
    assert hash(Money.parse("1.0 CNY")) == hash(Money.parse("1 CNY"))


def test_money_refuses_to_mix_currencies() -> None:
    """Arithmetic or comparison across currencies raises a ValueError; non-money raises TypeError."""
    cny, eur = Money.parse("1 CNY"), Money.parse("1 EUR")
    with pytest.raises(ValueError, match="currencies differ"):
        _ = cny + eur
    with pytest.raises(ValueError, match="currencies differ"):
        _ = cny < eur
    with pytest.raises(TypeError, match="expected Money"):
        _ = cny + 1  # type: ignore[operator]


@given(sts.money(), sts.money())
def test_money_sum_is_commutative_and_ordered(a: Money, b: Money) -> None:
    """Within a currency, a + b == b + a and a + b >= both."""
    b = Money(b.amount, a.currency)
    total = a + b
    assert total == b + a
    assert total >= a
    assert total >= b
    assert total - b == a


# ---------------------------------------------------------------------------
# FrozenMap


def test_frozen_map_equals_dicts_and_hashes_by_content() -> None:
    """Equal contents give equal maps and equal hashes; a dict compares equal too."""
    a = FrozenMap({"x": 1, "y": "z"})
    b = FrozenMap([("y", "z"), ("x", 1)])
    assert a == b
    assert hash(a) == hash(b)
    assert a == {"x": 1, "y": "z"}
    assert a != FrozenMap({"x": 2, "y": "z"})
    assert a != 5
    assert len({a, b}) == 1
    assert repr(FrozenMap({"x": 1})) == "FrozenMap({'x': 1})"


def test_frozen_map_is_immutable() -> None:
    """A FrozenMap has no item assignment and copies its input."""
    source = {"x": 1}
    frozen = FrozenMap(source)
    source["x"] = 2
    assert frozen["x"] == 1
    with pytest.raises(TypeError):
        frozen["x"] = 3  # type: ignore[index]


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.integers() | st.text(max_size=5) | st.booleans()))
def test_frozen_map_pickles_to_an_equal_map(data: dict[str, Any]) -> None:
    """Pickling keeps contents, equality and hash."""
    frozen = FrozenMap(data)
    copy = pickle.loads(pickle.dumps(frozen))
    assert copy == frozen
    assert hash(copy) == hash(frozen)
    assert dict(copy) == data


# ---------------------------------------------------------------------------
# Enumerations and results


@pytest.mark.parametrize(
    ("urgent", "important", "quadrant"),
    [(True, True, Quadrant.Q1), (False, True, Quadrant.Q2), (True, False, Quadrant.Q3), (False, False, Quadrant.Q4)],
)
def test_quadrant_of_and_back(urgent: bool, important: bool, quadrant: Quadrant) -> None:
    """Quadrant.of places the pair, and the quadrant reports the pair back."""
    assert Quadrant.of(urgent=urgent, important=important) is quadrant
    assert (quadrant.urgent, quadrant.important) == (urgent, important)
    assert str(quadrant) == quadrant.name


def test_each_quadrant_has_its_own_handling() -> None:
    """Q1 is handled at once, Q2 by planned playbook work, Q3 by standard answers, Q4 in order."""
    handling = {q: q.handling for q in Quadrant}
    assert len(set(handling.values())) == 4
    assert "at once" in handling[Quadrant.Q1]
    assert "playbooks" in handling[Quadrant.Q2]
    assert "standard answer" in handling[Quadrant.Q3]
    assert "in order" in handling[Quadrant.Q4]
    assert sorted(Quadrant, key=lambda q: q.value) == [Quadrant.Q1, Quadrant.Q2, Quadrant.Q3, Quadrant.Q4]


def test_enum_helpers() -> None:
    """Declared urgency ranks, VIP tiers and open statuses."""
    assert [d.rank for d in DeclaredUrgency] == [0, 1, 2, 3]
    assert {t for t in CustomerTier if t.vip} == {CustomerTier.VIP_BUSINESS, CustomerTier.VIP_PRIVATE}
    assert {s for s in TicketStatus if s.is_open} == {TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING}


def test_results_render_as_text() -> None:
    """Reasons, findings, obligations and triages render readably."""
    reason = Reason("signal.safety", "SOS in the text", rule="safety", evidence=FrozenMap({"keyword": "SOS"}))
    assert str(reason) == "SOS in the text [safety]"
    assert str(Reason("x", "plain")) == "plain"
    assert reason.evidence == FrozenMap({"keyword": "SOS"})
    assert str(Finding("c", Severity.WARNING, "a.b", "msg")) == "warning: a.b: msg (c)"
    obligation = Obligation(kind=ObligationKind.CALL_BACK, due=T0, to="customer", note="we will call you back")
    assert str(obligation) == "call_back to customer by 2026-05-04T09:00:00+00:00: we will call you back"
    assert Level(0, "low") < Level(1, "high")
    triage = Triage(
        ticket_id="T1",
        quadrant=Quadrant.Q1,
        priority=1,
        urgency=Level(3, "critical"),
        importance=Level(2, "high"),
        due=None,
        reasons=(reason,),
        marks=frozenset({Mark.VERIFY_AFTERWARDS}),
    )
    assert triage.explain().splitlines() == [
        "T1: Q1 priority 1 (urgency critical, importance high)",
        "  - SOS in the text [safety]",
        "  marks: verify_afterwards",
    ]


# ---------------------------------------------------------------------------
# Pauses on tickets


@settings(max_examples=50)
@given(sts.tickets(), st.integers(-600, 3000), st.integers(0, 3000), st.integers(0, 3000))
def test_paused_between_is_bounded_and_additive(t: Ticket, a: int, b: int, c: int) -> None:
    """Paused time lies within [0, span] and splits additively at any point."""
    first = t.opened_at + timedelta(minutes=a)
    middle = first + timedelta(minutes=b)
    last = middle + timedelta(minutes=c)
    whole = t.paused_between(first, last)
    assert timedelta(0) <= whole <= last - first
    assert whole == t.paused_between(first, middle) + t.paused_between(middle, last)


@settings(max_examples=50)
@given(sts.tickets(), st.integers(0, 2000), st.integers(1, 240))
def test_paused_between_agrees_with_is_paused_at(t: Ticket, offset: int, minutes: int) -> None:
    """Counting paused minutes one by one gives paused_between (pauses start on whole minutes)."""
    start = t.opened_at + timedelta(minutes=offset)
    count = sum(1 for k in range(minutes) if t.is_paused_at(start + timedelta(minutes=k)))
    assert t.paused_between(start, start + timedelta(minutes=minutes)) == timedelta(minutes=count)


def test_open_pause_runs_until_the_end_of_the_window() -> None:
    """An open pause counts up to the end asked for."""
    t = ticket(pauses=[Pause(T0 + timedelta(hours=1))])
    assert t.paused_between(T0, T0 + timedelta(hours=5)) == timedelta(hours=4)
    assert t.is_paused_at(T0 + timedelta(days=300))
    assert not t.is_paused_at(T0)


# ---------------------------------------------------------------------------
# Pickling and hashing


@settings(max_examples=40)
@given(sts.tickets())
def test_tickets_pickle_hash_and_compare(t: Ticket) -> None:
    """A ticket survives pickling, hashes, and equals its copy."""
    copy = pickle.loads(pickle.dumps(t))
    assert copy == t
    assert hash(copy) == hash(t)
    assert attrs.evolve(t, id=t.id + "x") != t
