"""Properties of the escalation state machine, on drawn policies, states and event sequences."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from servicetriage import strategies as sts
from servicetriage.escalation import (
    Action,
    ActionType,
    EscalationState,
    Event,
    EventKind,
    Status,
    WhenEmpty,
    advance_escalation,
)

MINUTE = timedelta(minutes=1)


@st.composite
def runs(draw: st.DrawFn) -> tuple[EscalationState, tuple[Event, ...], datetime]:
    state = draw(sts.escalation_states())
    events = draw(sts.escalation_events(after=state.last, max_gap=timedelta(minutes=90)))
    end = (events[-1].at if events else state.last) + draw(st.integers(0, 600)) * MINUTE
    return state, events, end


def split_run(
    state: EscalationState, events: tuple[Event, ...], cuts: list[datetime]
) -> tuple[EscalationState, list[Action]]:
    actions: list[Action] = []
    pending = list(events)
    for cut in cuts:
        batch = [e for e in pending if e.at <= cut]
        pending = pending[len(batch) :]
        state, emitted = advance_escalation(state, cut, batch)
        actions.extend(emitted)
    return state, actions


@given(runs(), st.data())
@settings(max_examples=50)
def test_advancing_in_one_call_or_many_gives_the_same_state_and_actions(
    run: tuple[EscalationState, tuple[Event, ...], datetime], data: st.DataObject
) -> None:
    state, events, end = run
    whole, once = advance_escalation(state, end, events)
    span = int((end - state.last) / MINUTE)
    offsets = data.draw(st.lists(st.integers(0, span), max_size=8))
    cuts = sorted({state.last + k * MINUTE for k in offsets} | {end})
    pieces, many = split_run(state, events, cuts)
    assert pieces == whole
    assert tuple(many) == once


@given(runs())
@settings(max_examples=50)
def test_each_action_is_emitted_exactly_once(run: tuple[EscalationState, tuple[Event, ...], datetime]) -> None:
    state, events, end = run
    _, actions = advance_escalation(state, end, events)
    keys = [
        (a.episode, a.type, a.due, a.step, a.round, a.report) for a in actions if a.type is not ActionType.DIRECT_TO_TOP
    ]
    # A reopened chain may notify the same step again at the same instant, but in a new episode;
    # manual escalations past the end (DIRECT_TO_TOP) may come from several people at once.
    assert len(keys) == len(set(keys))
    assert sum(a.type is ActionType.EXHAUSTED for a in actions) <= 1 + sum(
        e.kind in {EventKind.REOPENED, EventKind.ACKNOWLEDGED} for e in events
    )


@given(runs())
@settings(max_examples=50)
def test_delivering_every_event_twice_changes_nothing(run: tuple[EscalationState, tuple[Event, ...], datetime]) -> None:
    state, events, end = run
    doubled = tuple(e for event in events for e in (event, event))
    assert advance_escalation(state, end, doubled) == advance_escalation(state, end, events)


@given(runs())
@settings(max_examples=50)
def test_advancing_twice_to_the_same_time_emits_nothing_new(
    run: tuple[EscalationState, tuple[Event, ...], datetime],
) -> None:
    state, events, end = run
    once, _ = advance_escalation(state, end, events)
    again, actions = advance_escalation(once, end)
    assert actions == ()
    assert again == once


@given(sts.escalation_states(), st.integers(0, 300), st.integers(0, 24 * 60))
@settings(max_examples=50)
def test_acknowledgement_stops_the_climb(state: EscalationState, ack_after: int, later: int) -> None:
    ack = state.last + ack_after * MINUTE
    acked, _ = advance_escalation(state, ack, [Event(kind=EventKind.ACKNOWLEDGED, at=ack, by="wu")])
    assert acked.status is Status.ACKNOWLEDGED
    _, actions = advance_escalation(acked, ack + later * MINUTE)
    expires = acked.ack_expires
    assert (expires is None) == (state.chain.ack_timeout is None)
    before = [a for a in actions if expires is None or a.due < expires]
    assert all(a.type is ActionType.REPORT_PROGRESS for a in before)
    rest = [a for a in actions if a.type is not ActionType.REPORT_PROGRESS and a not in before]
    if rest:  # only an expired acknowledgement restarts the climb
        assert (rest[0].type, rest[0].due, rest[0].episode) == (ActionType.ACK_EXPIRED, expires, 0)


@given(runs(), st.integers(0, 3 * 24 * 60))
@settings(max_examples=50)
def test_after_resolution_nothing_is_emitted(
    run: tuple[EscalationState, tuple[Event, ...], datetime], later: int
) -> None:
    state, events, end = run
    state, _ = advance_escalation(state, end, events)
    if state.status is not Status.RESOLVED:
        state, _ = advance_escalation(state, end, [Event(kind=EventKind.RESOLVED, at=end)])
    quiet, actions = advance_escalation(state, end + later * MINUTE)
    assert actions == ()
    assert quiet.wake is None


@given(runs())
@settings(max_examples=50)
def test_the_owner_never_changes_and_watchers_only_grow(
    run: tuple[EscalationState, tuple[Event, ...], datetime],
) -> None:
    state, events, end = run
    final, actions = advance_escalation(state, end, events)
    assert final.owner == state.owner
    notified = {t for a in actions if a.type is not ActionType.EXHAUSTED for t in a.targets}
    assert set(final.case.watchers) == set(state.case.watchers) | notified
    assert set(final.case.approvers) <= set(final.case.watchers)


def reference_schedule(state: EscalationState, until: datetime) -> list[tuple[datetime, int | None, int]]:
    """Notices (and the exhaustion, as step None) computed straight from the rules, for wall-clock chains."""
    steps = state.chain.steps
    live = [i for i, s in enumerate(steps) if not (s.empty and s.when_empty is WhenEmpty.SKIP)]
    out: list[tuple[datetime, int | None, int]] = []
    at = state.started_at
    for i in live:
        step = steps[i]
        at += step.delay
        rounds = 0
        while at <= until:
            if not step.empty:
                out.append((at, i, rounds))
            if step.repeat != -1 and rounds >= step.repeat:
                break
            assert step.repeat_every is not None
            at += step.repeat_every
            rounds += 1
        if at > until:
            return out
    if live and at + state.chain.exhausted_after <= until:
        out.append((at + state.chain.exhausted_after, None, 0))
    return out


@given(sts.escalation_states(), st.integers(0, 24 * 60))
@settings(max_examples=50)
def test_notifications_fall_at_the_start_plus_the_sum_of_the_delays(state: EscalationState, minutes: int) -> None:
    until = state.last + minutes * MINUTE
    final, actions = advance_escalation(state, until)
    got = [(a.due, a.step, a.round) for a in actions if a.type in {ActionType.NOTIFY, ActionType.EXHAUSTED}]
    expected = reference_schedule(state, until)
    assert got == expected
    assert final.exhausted == (bool(expected) and expected[-1][1] is None)


@given(sts.escalation_states(calendars=sts.calendars()), st.integers(0, 3 * 24 * 60), st.data())
@settings(max_examples=40)
def test_business_time_escalations_are_also_split_invariant(
    state: EscalationState, minutes: int, data: st.DataObject
) -> None:
    end = state.last + minutes * MINUTE
    whole, once = advance_escalation(state, end)
    cuts = sorted({state.last + k * MINUTE for k in data.draw(st.lists(st.integers(0, minutes), max_size=5))} | {end})
    pieces, many = split_run(state, (), cuts)
    assert pieces == whole
    assert tuple(many) == once


class EscalationMachine(RuleBasedStateMachine):
    """Drive one escalation with random steps of time and events, checking it against a one-call replay."""

    def __init__(self) -> None:
        super().__init__()
        self.initial: EscalationState
        self.state: EscalationState
        self.events: list[Event] = []
        self.actions: list[Action] = []

    @initialize(state=sts.escalation_states())
    def begin(self, state: EscalationState) -> None:
        self.initial = self.state = state

    def _step(self, minutes: int, kind: EventKind | None) -> None:
        now = self.state.last + minutes * MINUTE
        batch = [Event(kind=kind, at=now)] if kind is not None else []
        before = self.state
        self.state, emitted = advance_escalation(self.state, now, batch)
        self.events.extend(batch)
        self.actions.extend(emitted)
        assert all(before.last <= a.due <= now for a in emitted)
        if before.status is Status.RESOLVED and kind is not EventKind.REOPENED:
            assert emitted == ()
        if before.status is Status.ACKNOWLEDGED and kind is not EventKind.ESCALATE:
            expires = before.ack_expires
            assert all(a.type is ActionType.REPORT_PROGRESS for a in emitted if expires is None or a.due < expires)
        if before.status is Status.EXHAUSTED and kind is not EventKind.ESCALATE:
            assert all(a.type is ActionType.REPORT_PROGRESS for a in emitted)

    @rule(minutes=st.integers(0, 180))
    def wait(self, minutes: int) -> None:
        self._step(minutes, None)

    @precondition(lambda self: self.state.status is not Status.RESOLVED)
    @rule(minutes=st.integers(0, 60))
    def acknowledge(self, minutes: int) -> None:
        self._step(minutes, EventKind.ACKNOWLEDGED)

    @precondition(lambda self: self.state.status is not Status.RESOLVED)
    @rule(
        minutes=st.integers(0, 60), kind=st.sampled_from([EventKind.PROGRESS, EventKind.ESCALATE, EventKind.RESOLVED])
    )
    def tell(self, minutes: int, kind: EventKind) -> None:
        self._step(minutes, kind)

    @precondition(lambda self: self.state.status is Status.RESOLVED)
    @rule(minutes=st.integers(0, 600))
    def reopen(self, minutes: int) -> None:
        self._step(minutes, EventKind.REOPENED)

    @invariant()
    def replay_in_one_call_agrees(self) -> None:
        if self.state is self.initial:
            return  # start() emits nothing; the first advance collects what is due at the start
        replayed, actions = advance_escalation(self.initial, self.state.last, self.events)
        assert replayed == self.state
        assert actions == tuple(self.actions)

    @invariant()
    def owner_is_kept(self) -> None:
        assert self.state.owner == self.initial.owner


EscalationMachine.TestCase.settings = settings(max_examples=25, stateful_step_count=20, deadline=None)
TestEscalationMachine = EscalationMachine.TestCase


def _reaches(wanted: object, run: tuple[EscalationState, tuple[Event, ...], datetime]) -> bool:
    state, events, end = run
    final, actions = advance_escalation(state, end, events)
    return final.status is wanted or any(a.type is wanted for a in actions)


@pytest.mark.parametrize("wanted", [*Status, *ActionType], ids=lambda v: f"{type(v).__name__}.{v.name}")
def test_the_strategies_reach_every_status_and_every_action(wanted: Status | ActionType) -> None:
    quick = settings(max_examples=2_000, database=None, phases=(Phase.generate,))  # the first find will do
    found = find(runs(), lambda run: _reaches(wanted, run), settings=quick)
    assert _reaches(wanted, found)
