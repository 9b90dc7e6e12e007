"""Strategies for escalation chains, escalation states, event sequences and playbooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import attrs
from hypothesis import strategies as st

from servicetriage.escalation import (
    Chain,
    EscalationPolicy,
    EscalationState,
    Event,
    EventKind,
    ProgressReport,
    Status,
    Step,
    WhenEmpty,
    start,
)
from servicetriage.model import (
    DEFAULT_TIERS,
    Channel,
    Customer,
    CustomerTier,
    Flag,
    Level,
    Mark,
    ObligationKind,
    Quadrant,
    Ticket,
    Triage,
)
from servicetriage.playbooks import Playbook, PlaybookSet, PlaybookStep, Trigger
from servicetriage.strategies._model import aware_datetimes

if TYPE_CHECKING:
    from servicetriage.calendar import BusinessCalendar

__all__ = [
    "escalation_chains",
    "escalation_events",
    "escalation_policies",
    "escalation_states",
    "escalation_steps",
    "playbook_sets",
    "playbook_steps",
    "playbook_triggers",
    "playbooks",
    "triages_for",
]

_NAMES = st.sampled_from(["duty_officer", "safety_team", "pr_team", "li.wei", "wang.fang", "night_lead"])


def _minutes(max_minutes: int, *, min_minutes: int = 0) -> st.SearchStrategy[timedelta]:
    return st.integers(min_minutes, max_minutes).map(lambda m: timedelta(minutes=m))


@st.composite
def _steps(draw: st.DrawFn, *, tiers: tuple[str, ...], max_delay_minutes: int, forever: bool) -> Step:
    empty = draw(st.integers(0, 9)) == 0
    step_tiers = () if empty else tuple(draw(st.lists(st.sampled_from(tiers), max_size=2, unique=True)))
    roles = () if empty else tuple(draw(st.lists(_NAMES, max_size=1, unique=True)))
    if not empty and not step_tiers and not roles:
        step_tiers = (draw(st.sampled_from(tiers)),)
    repeat = draw(st.sampled_from([0, 0, 0, 1, 2] + ([-1] if forever else [])))
    return Step(
        tiers=step_tiers,
        roles=roles,
        delay=draw(_minutes(max_delay_minutes)),
        repeat=repeat,
        repeat_every=draw(_minutes(max_delay_minutes, min_minutes=1)) if repeat else None,
        when_empty=draw(st.sampled_from(WhenEmpty)),
    )


def escalation_steps(
    *, tiers: tuple[str, ...] = DEFAULT_TIERS, max_delay: timedelta = timedelta(hours=1), forever: bool = True
) -> st.SearchStrategy[Step]:
    """Draw valid chain steps: tiers and roles as targets (sometimes none), whole-minute delays, repeats.

    ``forever=False`` never draws ``repeat = -1``.
    """
    return _steps(tiers=tiers, max_delay_minutes=max(int(max_delay.total_seconds() // 60), 1), forever=forever)


@st.composite
def _chains(
    draw: st.DrawFn,
    *,
    tiers: tuple[str, ...],
    quadrants: st.SearchStrategy[frozenset[Quadrant]],
    max_steps: int,
    max_delay: timedelta,
) -> Chain:
    max_delay_minutes = max(int(max_delay.total_seconds() // 60), 1)
    steps = tuple(draw(st.lists(escalation_steps(tiers=tiers, max_delay=max_delay), min_size=0, max_size=max_steps)))
    reports = tuple(
        draw(
            st.lists(
                st.builds(ProgressReport, to=st.sampled_from(tiers), every=_minutes(120, min_minutes=5)),
                max_size=2,
            )
        )
    )
    return Chain(
        id=draw(st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True)),
        quadrants=draw(quadrants),
        steps=steps,
        reports=reports,
        direct_to_top=draw(st.booleans()),
        business_time=draw(st.booleans()),
        exhausted_after=draw(_minutes(max_delay_minutes)),
        ack_timeout=draw(st.none() | _minutes(3 * max_delay_minutes, min_minutes=1)),
    )


def escalation_chains(
    *,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    quadrants: st.SearchStrategy[frozenset[Quadrant]] | None = None,
    max_steps: int = 5,
    max_delay: timedelta = timedelta(hours=1),
) -> st.SearchStrategy[Chain]:
    """Draw valid chains: up to ``max_steps`` steps, up to two progress-report cadences.

    Exhaustion waits up to ``max_delay``; the acknowledgement timeout, when
    drawn, is up to three times ``max_delay``.
    """
    return _chains(
        tiers=tiers,
        quadrants=quadrants if quadrants is not None else st.frozensets(st.sampled_from(Quadrant), max_size=2),
        max_steps=max_steps,
        max_delay=max_delay,
    )


@st.composite
def _policies(draw: st.DrawFn, *, tiers: tuple[str, ...], max_chains: int, max_steps: int) -> EscalationPolicy:
    chains = draw(st.lists(escalation_chains(tiers=tiers, max_steps=max_steps), max_size=max_chains))
    unique = {chain.id: chain for chain in chains}
    return EscalationPolicy(tiers=tiers, chains=tuple(unique.values()))


def escalation_policies(
    *, tiers: tuple[str, ...] = DEFAULT_TIERS, max_chains: int = 4, max_steps: int = 5
) -> st.SearchStrategy[EscalationPolicy]:
    """Draw valid escalation policies (chains with distinct ids, possibly gaps and shadowed chains)."""
    return _policies(tiers=tiers, max_chains=max_chains, max_steps=max_steps)


def triages_for(ticket: Ticket, *, quadrants: st.SearchStrategy[Quadrant] | None = None) -> st.SearchStrategy[Triage]:
    """Triage results for *ticket*: any quadrant, priority 1-5, sometimes marked direct-to-top."""
    return st.builds(
        lambda quadrant, priority, marks: Triage(
            ticket_id=ticket.id,
            quadrant=quadrant,
            priority=priority,
            urgency=Level(1, "high"),
            importance=Level(1, "high"),
            due=None,
            reasons=(),
            marks=marks,
        ),
        quadrants if quadrants is not None else st.sampled_from(Quadrant),
        st.integers(1, 5),
        st.frozensets(st.sampled_from([Mark.DIRECT_TO_TOP, Mark.COMPLAINT_RISK]), max_size=2),
    )


@st.composite
def _states(
    draw: st.DrawFn,
    *,
    policies: st.SearchStrategy[EscalationPolicy],
    calendars: st.SearchStrategy[BusinessCalendar] | None,
    ticket_strategy: st.SearchStrategy[Ticket] | None,
) -> EscalationState:
    ticket = draw(ticket_strategy) if ticket_strategy is not None else _plain_ticket(draw)
    triage = draw(triages_for(ticket))
    policy = draw(policies)
    if calendars is not None:
        policy = attrs.evolve(policy, calendar=draw(calendars))
    now = ticket.opened_at + draw(_minutes(60))
    return start(ticket, triage, policy, now, owner=draw(st.sampled_from(["agent.li", "agent.chen"])))


def escalation_states(
    *,
    policies: st.SearchStrategy[EscalationPolicy] | None = None,
    calendars: st.SearchStrategy[BusinessCalendar] | None = None,
    tickets: st.SearchStrategy[Ticket] | None = None,
) -> st.SearchStrategy[EscalationState]:
    """Draw freshly started escalations under drawn policies.

    Pass ``calendars`` (for example `calendars`)
    to draw business-time escalations (the drawn calendar becomes the drawn
    policy's ``calendar``); by default delays are wall-clock.
    Escalation reads only a ticket's id, so by default the tickets are plain;
    pass ``tickets`` (for example `tickets`)
    to escalate fully drawn ones.
    """
    return _states(
        policies=policies if policies is not None else escalation_policies(),
        calendars=calendars,
        ticket_strategy=tickets,
    )


def _plain_ticket(draw: st.DrawFn) -> Ticket:
    return Ticket(id=f"T{draw(st.integers(0, 999))}", opened_at=draw(aware_datetimes()), customer=Customer(id="C1"))


_OPEN_KINDS = (EventKind.ACKNOWLEDGED, EventKind.PROGRESS, EventKind.ESCALATE, EventKind.RESOLVED)
_NEXT_KINDS: dict[Status, tuple[EventKind, ...]] = {
    Status.CLIMBING: _OPEN_KINDS,
    Status.EXHAUSTED: _OPEN_KINDS,
    Status.ACKNOWLEDGED: _OPEN_KINDS,
    Status.RESOLVED: (EventKind.REOPENED,),
}
_RESPONDERS = st.sampled_from(["agent.li", "agent.chen", "supervisor.wu"])
_AFTER: dict[EventKind, Status | None] = {
    EventKind.ACKNOWLEDGED: Status.ACKNOWLEDGED,
    EventKind.RESOLVED: Status.RESOLVED,
    EventKind.REOPENED: Status.CLIMBING,
    EventKind.PROGRESS: None,
    EventKind.ESCALATE: None,
}


@st.composite
def _events(
    draw: st.DrawFn, *, after: datetime, status: Status, max_events: int, max_gap_minutes: int
) -> tuple[Event, ...]:
    count = draw(st.integers(0, max_events))
    at = after
    events = []
    for _ in range(count):
        at += timedelta(minutes=draw(st.integers(0, max_gap_minutes)))
        kind = draw(st.sampled_from(_NEXT_KINDS[status]))
        events.append(Event(kind=kind, at=at, by=draw(_RESPONDERS)))
        status = _AFTER[kind] or status
    return tuple(events)


def escalation_events(
    *,
    after: datetime,
    status: Status = Status.CLIMBING,
    max_events: int = 6,
    max_gap: timedelta = timedelta(hours=1),
) -> st.SearchStrategy[tuple[Event, ...]]:
    """Legal event sequences in time order, starting at or after *after* from *status*.

    Each event is legal in the state the previous ones leave (reopen only
    when resolved, nothing but reopen once resolved), so the whole sequence
    can be passed to `advance_escalation`. Timers
    (exhaustion, acknowledgement timeouts) never make an event illegal.
    """
    return _events(
        after=after,
        status=status,
        max_events=max_events,
        max_gap_minutes=max(int(max_gap.total_seconds() // 60), 0),
    )


# --------------------------------------------------------------------------
# Playbooks

_CONCEPTS = ["safety", "safety.trapped", "public_exposure"]
_KEYWORDS = st.sampled_from(["SOS", "angry", "refund", "投诉", "救命", "delay", "lawyer", "报警"])


@st.composite
def _triggers(draw: st.DrawFn) -> Trigger:
    while True:
        trigger_fields = {
            "quadrants": draw(st.frozensets(st.sampled_from(Quadrant), max_size=2)),
            "flags": draw(st.frozensets(st.sampled_from(Flag), max_size=2)),
            "marks": draw(st.frozensets(st.sampled_from(Mark), max_size=1)),
            "categories": draw(st.frozensets(st.sampled_from(["ride", "refund", "flight", "general"]), max_size=2)),
            "channels": draw(st.frozensets(st.sampled_from(Channel), max_size=2)),
            "customer_tiers": draw(st.frozensets(st.sampled_from(CustomerTier), max_size=1)),
            "keywords": tuple(draw(st.lists(_KEYWORDS, max_size=3, unique=True))),
            "signals": draw(st.frozensets(st.sampled_from(["safety", "police", "regulator", "anger"]), max_size=2)),
            "concepts": draw(st.frozensets(st.sampled_from(_CONCEPTS), max_size=1)),
        }
        if any(trigger_fields.values()):
            return Trigger(**trigger_fields)


def playbook_triggers() -> st.SearchStrategy[Trigger]:
    """Draw valid triggers with at least one condition, over every kind of condition."""
    return _triggers()


def playbook_steps(*, tiers: tuple[str, ...] = DEFAULT_TIERS) -> st.SearchStrategy[PlaybookStep]:
    """Draw valid playbook steps with whole-minute due offsets up to two days."""
    return st.builds(
        PlaybookStep,
        action=st.sampled_from(["Call the customer", "Contact the police", "Locate the vehicle", "Apologise"]),
        role=st.sampled_from(["owner", "safety_team", "supervisor"]),
        due=_minutes(2 * 24 * 60),
        authority=st.none() | st.sampled_from(tiers),
        obligation=st.none() | st.sampled_from(ObligationKind),
    )


def playbooks(
    *, tiers: tuple[str, ...] = DEFAULT_TIERS, ids: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[Playbook]:
    """Draw valid playbooks: up to three triggers, one to six steps, optional drill data."""
    return st.builds(
        Playbook,
        id=ids if ids is not None else st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True),
        version=st.integers(1, 5),
        title=st.sampled_from(["Ride safety", "Angry customer", "Stranded traveller", "刷单核实"]),
        triggers=st.lists(playbook_triggers(), max_size=3).map(tuple),
        steps=st.lists(playbook_steps(tiers=tiers), min_size=1, max_size=6).map(tuple),
        priority=st.integers(-5, 100),
        business_time=st.booleans(),
        drill_every=st.none() | _minutes(180 * 24 * 60, min_minutes=60),
        last_drilled=st.none() | aware_datetimes(),
        last_used=st.none() | aware_datetimes(),
    )


def playbook_sets(*, max_size: int = 4) -> st.SearchStrategy[PlaybookSet]:
    """Draw sets of playbooks as a ``[[playbooks]]`` file holds them."""
    return st.lists(playbooks(), max_size=max_size).map(lambda items: PlaybookSet(playbooks=tuple(items)))
