"""One rule for each shared input: every place that accepts a quadrant, channel, tier, duration or money reads it alike.

Each place accepts the same spellings and rejects the same bad values with the
same message, ``<path>: expected one of <choices>, got <value>``; only the path
and the error class (a policy's `PolicyError`, a ticket's or a report's
`TicketError`) depend on the place.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage import config, escalation, learning
from servicetriage._inputs import choices
from servicetriage.assignment import AssignmentPolicy, NeedRule
from servicetriage.authority import Actor, Conditions, Deadlines, Guardrail, Limits, ObligationRule, Request, Usage
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import Channel, Customer, CustomerTier, Money, ObligationKind, Quadrant, Ticket
from servicetriage.playbooks import Playbook, PlaybookStep, Trigger
from servicetriage.review import Deviation, IncidentReport
from servicetriage.triage import DeadlineStep, MoneyStep

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
TICKET = Ticket(id="T1", opened_at=NOW, customer=Customer(id="C1"))
ACTOR = Actor(id="li", tier="agent")


def _report(**fields: Any) -> IncidentReport:
    return IncidentReport(id="R1", ticket_id="T1", owner="li", opened_at=NOW, **fields)


def _loaded(cls: type, field: str) -> Callable[[Any], Any]:
    """The field as a policy file gives it (the loader's errors name the path in the file)."""
    return lambda value: getattr(config.structure({field: value}, cls), field)


#: Each place: (name, read the value, error class, path in the message, takes a set).
Place = tuple[str, Callable[[Any], Any], type[Exception], str, bool]

QUADRANTS: list[Place] = [
    ("authority condition", lambda v: Conditions(quadrants=v).quadrants, PolicyError, "conditions.quadrants", True),
    (
        "escalation chain",
        lambda v: escalation.Chain(id="c", quadrants=v).quadrants,
        PolicyError,
        "chain.quadrants",
        True,
    ),
    (
        "playbook trigger",
        lambda v: Trigger(quadrants=v, categories={"x"}).quadrants,
        PolicyError,
        "trigger.quadrants",
        True,
    ),
    (
        "assignment need",
        lambda v: NeedRule(quadrants=v, tier="supervisor").quadrants,
        PolicyError,
        "needrule.quadrants",
        True,
    ),
    ("incident report", lambda v: _report(quadrant=v).quadrant, TicketError, "report.quadrant", False),
    ("playbook file", _loaded(Trigger, "quadrants"), PolicyError, "quadrants[0]", True),
    ("authority file", _loaded(Conditions, "quadrants"), PolicyError, "quadrants", True),
]
CHANNELS: list[Place] = [
    ("authority condition", lambda v: Conditions(channels=v).channels, PolicyError, "conditions.channels", True),
    (
        "playbook trigger",
        lambda v: Trigger(channels=v, categories={"x"}).channels,
        PolicyError,
        "trigger.channels",
        True,
    ),
    (
        "ticket",
        lambda v: Ticket(id="T", opened_at=NOW, customer=Customer(id="C"), channel=v).channel,
        TicketError,
        "ticket.channel",
        False,
    ),
    ("incident report", lambda v: _report(channel=v).channel, TicketError, "report.channel", False),
    ("playbook file", _loaded(Trigger, "channels"), PolicyError, "channels[0]", True),
    ("authority file", _loaded(Conditions, "channels"), PolicyError, "channels[0]", True),
]
TIERS: list[Place] = [
    (
        "authority condition",
        lambda v: Conditions(customer_tiers=v).customer_tiers,
        PolicyError,
        "conditions.customer_tiers",
        True,
    ),
    (
        "playbook trigger",
        lambda v: Trigger(customer_tiers=v, categories={"x"}).customer_tiers,
        PolicyError,
        "trigger.customer_tiers",
        True,
    ),
    (
        "assignment VIP tiers",
        lambda v: AssignmentPolicy(vip_tiers=v).vip_tiers,
        PolicyError,
        "assignment.vip_tiers",
        True,
    ),
    ("customer", lambda v: Customer(id="C", tier=v).tier, TicketError, "customer.tier", False),
    ("incident report", lambda v: _report(customer_tier=v).customer_tier, TicketError, "report.customer_tier", False),
    ("playbook file", _loaded(Trigger, "customer_tiers"), PolicyError, "customer_tiers[0]", True),
    ("authority file", _loaded(Conditions, "customer_tiers"), PolicyError, "customer_tiers[0]", True),
]
KINDS: dict[type[enum.Enum], list[Place]] = {Quadrant: QUADRANTS, Channel: CHANNELS, CustomerTier: TIERS}

#: The spellings every place accepts for one member, and values every place refuses.
GOOD: dict[type[enum.Enum], tuple[Any, ...]] = {
    Quadrant: (Quadrant.Q2, "Q2", "q2", " Q2 ", 2),
    Channel: (Channel.PHONE, "phone"),
    CustomerTier: (CustomerTier.VIP_PRIVATE, "vip_private"),
}
MEANT = {Quadrant: Quadrant.Q2, Channel: Channel.PHONE, CustomerTier: CustomerTier.VIP_PRIVATE}
BAD: dict[type[enum.Enum], tuple[Any, ...]] = {
    Quadrant: ("Q5", "2", "urgent", 0, 5, True, 2.5, ""),
    Channel: ("fax", "PHONE", " phone", 1, True, ""),
    CustomerTier: ("gold", "VIP", 0, True, ""),
}
CASES = [(kind, place) for kind, places in KINDS.items() for place in places]
#: The places in code that take a set (a file's lists are lists).
SETS = [(kind, place) for kind, place in CASES if place[4] and not place[0].endswith("file")]


def _names(members: Any) -> frozenset[Any]:
    """The members by name (the authority conditions hold quadrants by name)."""
    return frozenset(m.name if isinstance(m, enum.Enum) else m for m in members)


def _read(place: Place, value: Any) -> frozenset[Any]:
    _name, read, _error, _path, takes_set = place
    result = read([value] if takes_set else value)
    return _names(result if takes_set else {result})


def _refusal(place: Place, value: Any) -> str:
    _name, read, error, _path, takes_set = place
    with pytest.raises(error) as caught:
        read([value] if takes_set else value)
    return str(caught.value)


@pytest.mark.parametrize(("kind", "place"), CASES, ids=[f"{k.__name__}-{p[0]}" for k, p in CASES])
def test_every_place_accepts_the_same_spellings(kind: type[enum.Enum], place: Place) -> None:
    for spelling in GOOD[kind]:
        assert _read(place, spelling) == {MEANT[kind].name}, spelling


@pytest.mark.parametrize(("kind", "place"), CASES, ids=[f"{k.__name__}-{p[0]}" for k, p in CASES])
def test_every_place_refuses_the_same_values_naming_its_path_and_the_value(kind: type[enum.Enum], place: Place) -> None:
    path = place[3]
    for value in BAD[kind]:
        message = _refusal(place, value)
        expected = f"{path}: expected one of {choices(kind)}, got {value!r}"
        assert message == expected or message.endswith(f": {expected}"), message


@pytest.mark.parametrize(("kind", "place"), SETS, ids=[f"{k.__name__}-{p[0]}" for k, p in SETS])
def test_a_set_may_be_given_as_one_value_or_none(kind: type[enum.Enum], place: Place) -> None:
    read = place[1]
    assert _names(read(MEANT[kind])) == {MEANT[kind].name}
    assert read(None) == frozenset()


@given(data=st.data())
def test_all_places_of_a_kind_agree_on_any_value(data: st.DataObject) -> None:
    """Whatever the value, every place of its kind reads the same member or refuses it with the same words."""
    kind = data.draw(st.sampled_from(list(KINDS)))
    value = data.draw(
        st.one_of(
            st.sampled_from(list(kind)),
            st.sampled_from([m.name for m in kind] + [m.value for m in kind]).map(
                lambda s: data.draw(st.sampled_from([s, s.lower(), s.upper(), f" {s} "])) if isinstance(s, str) else s
            ),
            st.integers(-2, 6),
            st.text(max_size=4),
        )
    )
    outcomes: set[tuple[str, object]] = set()
    for place in KINDS[kind]:
        try:
            outcomes.add(("read", _read(place, value)))
        except (PolicyError, TicketError) as exc:
            outcomes.add(("refused", re.sub(r"^.*?: expected", "expected", str(exc))))
    assert len(outcomes) == 1, outcomes


# -------------------------------------------------------------------------- durations and money

CASE = escalation.Case(ticket_id="T1", owner="li")
MINUTES_5 = timedelta(minutes=5)

#: Each place that takes a duration: (name, build with the value, path in the message, zero allowed).
DURATIONS: list[tuple[str, Callable[[Any], object], str, bool]] = [
    (
        "grant obligation",
        lambda v: ObligationRule(kind=ObligationKind.CALL_BACK, within=v, to="customer"),
        "obligationrule.within",
        False,
    ),
    ("authority deadline", lambda v: Deadlines(call_back_within=v), "deadlines.call_back_within", False),
    ("escalation chain", lambda v: escalation.Chain(id="c", exhausted_after=v), "chain.exhausted_after", True),
    ("escalation reminder", lambda v: escalation.Chain(id="c", ack_timeout=v), "chain.ack_timeout", False),
    ("work order", lambda v: escalation.open_work_order(CASE, "billing", "refund", NOW, v), "due_in", True),
    ("playbook step", lambda v: PlaybookStep(action="call", due=v), "playbookstep.due", True),
    (
        "playbook drill",
        lambda v: Playbook(id="p", title="t", steps=(PlaybookStep(action="call"),), drill_every=v),
        "playbook.drill_every",
        False,
    ),
    ("learning window", lambda v: learning.LearningConfig(window=v), "learning.window", False),
    ("penalty window", lambda v: learning.PenaltyRule(window=v), "penalty.window", False),
    ("triage deadline step", lambda v: DeadlineStep(within=v, level="high"), "deadlinestep.within", False),
]


@pytest.mark.parametrize("place", DURATIONS, ids=[p[0] for p in DURATIONS])
def test_every_duration_reads_alike(place: tuple[str, Callable[[Any], object], str, bool]) -> None:
    _name, build, path, zero = place
    build(MINUTES_5)
    if zero:
        build(timedelta(0))
    bad: list[tuple[Any, str]] = [
        (timedelta(minutes=-5), f"{path}: expected a duration {'>=' if zero else '>'} 0, got '-5m'"),
        ("15m", f"{path}: expected a duration such as '15m', got '15m'"),
        (300, f"{path}: expected a duration such as '15m', got 300"),
    ]
    if not zero:
        bad.append((timedelta(0), f"{path}: expected a duration > 0, got '0s'"))
    for value, message in bad:
        with pytest.raises(PolicyError) as caught:
            build(value)
        assert str(caught.value) == message


#: Each place that takes money: (name, build with the value, error class, path in the message).
MONEY: list[tuple[str, Callable[[Any], Any], type[Exception], str]] = [
    ("grant limit", lambda v: Limits(max_amount=v).max_amount, PolicyError, "limits.max_amount"),
    ("guardrail", lambda v: Guardrail(id="g", above=v).above, PolicyError, "guardrail.above"),
    (
        "request",
        lambda v: Request(actor=ACTOR, action="refund", ticket=TICKET, amount=v).amount,
        TicketError,
        "request.amount",
    ),
    ("prior usage", lambda v: Usage(action="refund", at=NOW, amount=v).amount, TicketError, "usage.amount"),
    (
        "deviation",
        lambda v: Deviation(kind="refund", authorized_by="li", tier="agent", amount=v).amount,
        TicketError,
        "deviation.amount",
    ),
    (
        "penalty fee",
        lambda v: learning.PenaltyStep(after=1, action="fee", fee=v).fee,
        PolicyError,
        "penalty.steps[].fee",
    ),
    ("triage money step", lambda v: MoneyStep(at_least=v, level="high").at_least, PolicyError, "moneystep.at_least"),
    ("ticket", lambda v: attrs.evolve(TICKET, money_at_stake=v).money_at_stake, TicketError, "ticket.money_at_stake"),
]


@pytest.mark.parametrize("place", MONEY, ids=[p[0] for p in MONEY])
def test_every_amount_of_money_reads_alike(place: tuple[str, Callable[[Any], Any], type[Exception], str]) -> None:
    _name, build, error, path = place
    for spelling in (Money(Decimal(500), "CNY"), "500 CNY", " 500 cny "):
        assert build(spelling) == Money(Decimal(500), "CNY"), spelling
    for value, shown in (
        (Money(Decimal(-5), "CNY"), "'-5 CNY'"),
        ("-5 CNY", "'-5 CNY'"),
        ("a lot", "'a lot'"),
        (5, "5"),
    ):
        with pytest.raises(error) as caught:
            build(value)
        assert str(caught.value) == f"{path}: expected money >= 0 such as '500 CNY', got {shown}"
