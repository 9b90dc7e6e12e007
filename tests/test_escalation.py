"""Example tests for escalation chains, ownership, work orders and escalation checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from servicetriage.calendar import BusinessCalendar, WeeklyHours
from servicetriage.config import load_section, structure
from servicetriage.errors import PolicyError, TicketError, TransitionError
from servicetriage.escalation import (
    ActionType,
    Case,
    Chain,
    EscalationPolicy,
    Event,
    EventKind,
    ProgressReport,
    Recipient,
    RecipientKind,
    Status,
    Step,
    WhenEmpty,
    advance_escalation,
    check_escalation_policy,
    open_work_order,
    start,
)
from servicetriage.model import Customer, Flag, Level, Mark, ObligationKind, Quadrant, Ticket, Triage

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)


def ticket(**kwargs: object) -> Ticket:
    return Ticket(id="T1", opened_at=T0, customer=Customer(id="C1"), **kwargs)  # type: ignore[arg-type]


def triage(quadrant: Quadrant = Quadrant.Q1, marks: frozenset[Mark] = frozenset(), priority: int = 1) -> Triage:
    return Triage(
        ticket_id="T1",
        quadrant=quadrant,
        priority=priority,
        urgency=Level(2, "high"),
        importance=Level(2, "high"),
        due=None,
        reasons=(),
        marks=marks,
    )


Q1_CHAIN = Chain(
    id="q1",
    quadrants=frozenset({Quadrant.Q1}),
    steps=(
        Step(tiers=("supervisor",)),
        Step(tiers=("manager",), delay=15 * M, repeat=2, repeat_every=5 * M),
        Step(tiers=("executive",), delay=30 * M),
    ),
    reports=(ProgressReport(to="manager", every=30 * M),),
)
POLICY = EscalationPolicy(chains=(Q1_CHAIN, Chain(id="rest", steps=(Step(tiers=("agent",), delay=60 * M),))))


def notify_times(actions: tuple[object, ...]) -> list[tuple[datetime, int | None, int]]:
    return [(a.due, a.step, a.round) for a in actions if a.type is ActionType.NOTIFY]  # type: ignore[attr-defined]


def test_steps_fall_due_after_their_delays_counted_from_the_previous_steps_last_notice() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    _, actions = advance_escalation(state, T0 + 2 * timedelta(hours=1))
    assert notify_times(actions) == [
        (T0, 0, 0),
        (T0 + 15 * M, 1, 0),
        (T0 + 20 * M, 1, 1),
        (T0 + 25 * M, 1, 2),
        (T0 + 55 * M, 2, 0),
    ]


def test_late_advancing_reports_every_action_with_its_own_due_time() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    _, late = advance_escalation(state, T0 + timedelta(hours=5))
    reports = [a.due for a in late if a.type is ActionType.REPORT_PROGRESS]
    assert reports == [T0 + k * 30 * M for k in range(1, 11)]
    assert [a.due for a in late] == sorted(a.due for a in late)


def test_the_direct_line_reaches_the_executive_at_the_start_when_the_triage_says_so() -> None:
    state = start(ticket(), triage(marks=frozenset({Mark.DIRECT_TO_TOP})), POLICY, T0, owner="agent.li")
    _, actions = advance_escalation(state, T0)
    assert actions[0].type is ActionType.DIRECT_TO_TOP
    assert actions[0].targets == (Recipient(RecipientKind.TIER, "executive"),)
    assert actions[0].due == T0


def test_without_the_mark_the_direct_line_stays_closed() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    _, actions = advance_escalation(state, T0)
    assert [a.type for a in actions] == [ActionType.NOTIFY]


def test_acknowledgement_stops_the_climb_but_not_the_progress_reports() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    state, _ = advance_escalation(state, T0 + 16 * M, [Event(kind=EventKind.ACKNOWLEDGED, at=T0 + 16 * M)])
    assert state.status is Status.ACKNOWLEDGED
    _, actions = advance_escalation(state, T0 + timedelta(hours=3))
    assert {a.type for a in actions} == {ActionType.REPORT_PROGRESS}


def test_a_progress_report_restarts_the_report_timer() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    state, _ = advance_escalation(state, T0 + 20 * M, [Event(kind=EventKind.PROGRESS, at=T0 + 20 * M)])
    _, actions = advance_escalation(state, T0 + 80 * M)
    assert [a.due for a in actions if a.type is ActionType.REPORT_PROGRESS] == [T0 + 50 * M, T0 + 80 * M]


def test_resolution_ends_everything_and_reopening_restarts_from_the_first_step() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    state, _ = advance_escalation(state, T0 + 10 * M, [Event(kind=EventKind.RESOLVED, at=T0 + 10 * M)])
    quiet, actions = advance_escalation(state, T0 + timedelta(days=2))
    assert actions == ()
    assert quiet.wake is None
    reopened_at = T0 + timedelta(days=2)
    _, actions = advance_escalation(quiet, reopened_at + 15 * M, [Event(kind=EventKind.REOPENED, at=reopened_at)])
    assert notify_times(actions) == [(reopened_at, 0, 0), (reopened_at + 15 * M, 1, 0)]


def test_a_notification_due_at_the_instant_of_resolution_is_still_emitted() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    _, actions = advance_escalation(state, T0 + 15 * M, [Event(kind=EventKind.RESOLVED, at=T0 + 15 * M)])
    assert notify_times(actions) == [(T0, 0, 0), (T0 + 15 * M, 1, 0)]


def test_manual_escalation_notifies_the_next_step_at_once_and_past_the_end_the_executive() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    state, actions = advance_escalation(
        state, T0 + 2 * M, [Event(kind=EventKind.ESCALATE, at=T0 + 2 * M, by="agent.li")]
    )
    assert notify_times(actions) == [(T0, 0, 0), (T0 + 2 * M, 1, 0)]
    state, actions = advance_escalation(state, T0 + 3 * M, [Event(kind=EventKind.ESCALATE, at=T0 + 3 * M)])
    assert notify_times(actions) == [(T0 + 3 * M, 2, 0)]
    _, actions = advance_escalation(state, T0 + 4 * M, [Event(kind=EventKind.ESCALATE, at=T0 + 4 * M)])
    assert [a.type for a in actions] == [ActionType.DIRECT_TO_TOP]


def test_an_earlier_time_is_an_error_naming_both_times() -> None:
    state, _ = advance_escalation(start(ticket(), triage(), POLICY, T0, owner="agent.li"), T0 + 10 * M)
    with pytest.raises(TransitionError, match=r"2026-05-06T09:05:00\+00:00.*2026-05-06T09:10:00\+00:00"):
        advance_escalation(state, T0 + 5 * M)
    with pytest.raises(TransitionError, match=r"event progress at 2026-05-06T09:05:00\+00:00 is earlier"):
        advance_escalation(state, T0 + 20 * M, [Event(kind=EventKind.PROGRESS, at=T0 + 5 * M)])


def test_an_event_after_now_is_an_error() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    with pytest.raises(TransitionError, match="later than now"):
        advance_escalation(state, T0, [Event(kind=EventKind.ACKNOWLEDGED, at=T0 + M)])


@pytest.mark.parametrize(
    ("events", "state_name", "event_name"),
    [
        ((EventKind.RESOLVED, EventKind.ESCALATE), "resolved", "escalate"),
        ((EventKind.RESOLVED, EventKind.PROGRESS), "resolved", "progress"),
        ((EventKind.RESOLVED, EventKind.ACKNOWLEDGED), "resolved", "acknowledged"),
        ((EventKind.REOPENED,), "climbing", "reopened"),
    ],
)
def test_an_illegal_event_names_the_state_and_the_event(
    events: tuple[EventKind, ...], state_name: str, event_name: str
) -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    with pytest.raises(
        TransitionError, match=f"event {event_name} at .* not allowed while the escalation is {state_name}"
    ):
        advance_escalation(state, T0 + M, [Event(kind=kind, at=T0 + M) for kind in events])


def test_an_empty_step_is_skipped_by_default_and_its_delay_does_not_count() -> None:
    chain = Chain(id="c", steps=(Step(tiers=("agent",)), Step(delay=10 * M), Step(tiers=("manager",), delay=5 * M)))
    state = start(ticket(), triage(), EscalationPolicy(chains=(chain,)), T0, owner="a")
    _, actions = advance_escalation(state, T0 + timedelta(hours=1))
    assert notify_times(actions) == [(T0, 0, 0), (T0 + 5 * M, 2, 0)]


def test_an_empty_wait_step_is_a_pause_that_notifies_nobody() -> None:
    chain = Chain(
        id="c",
        steps=(
            Step(tiers=("agent",)),
            Step(delay=10 * M, when_empty=WhenEmpty.WAIT),
            Step(tiers=("manager",), delay=5 * M),
        ),
    )
    state = start(ticket(), triage(), EscalationPolicy(chains=(chain,)), T0, owner="a")
    _, actions = advance_escalation(state, T0 + timedelta(hours=1))
    assert notify_times(actions) == [(T0, 0, 0), (T0 + 15 * M, 2, 0)]


def test_a_running_escalation_keeps_the_chain_it_started_with() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    edited = attrs.evolve(POLICY, chains=(attrs.evolve(Q1_CHAIN, steps=(Step(tiers=("agent",), delay=M),)),))
    assert edited.chains[0] != state.chain
    _, actions = advance_escalation(state, T0 + timedelta(hours=1))
    assert len(notify_times(actions)) == 5


def test_the_first_chain_that_covers_the_triage_is_selected() -> None:
    state = start(ticket(), triage(Quadrant.Q4), POLICY, T0, owner="agent.li")
    assert state.chain.id == "rest"


def test_a_triage_no_chain_covers_starts_an_escalation_that_notifies_nobody() -> None:
    policy = EscalationPolicy(chains=(Q1_CHAIN,))
    state = start(ticket(), triage(Quadrant.Q3), policy, T0, owner="agent.li")
    assert advance_escalation(state, T0 + timedelta(days=1))[1] == ()


def test_business_time_delays_skip_closed_hours() -> None:
    calendar = BusinessCalendar(zone="UTC", hours=WeeklyHours.weekdays("09:00-18:00"))
    chain = Chain(
        id="c", business_time=True, steps=(Step(tiers=("agent",)), Step(tiers=("manager",), delay=2 * 60 * M))
    )
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)  # a Wednesday
    state = start(ticket(), triage(), EscalationPolicy(chains=(chain,), calendar=calendar), evening, owner="a")
    _, actions = advance_escalation(state, evening + timedelta(days=1))
    assert notify_times(actions)[1] == (datetime(2026, 5, 7, 10, 0, tzinfo=UTC), 1, 0)


def test_a_calendar_passed_to_start_still_counts_with_a_deprecation_warning() -> None:
    """The old way (``start(..., calendar=...)``) warns, names the policy field, and counts as before."""
    calendar = BusinessCalendar(zone="UTC", hours=WeeklyHours.weekdays("09:00-18:00"))
    chain = Chain(id="c", business_time=True, steps=(Step(tiers=("manager",), delay=2 * 60 * M),))
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)  # a Wednesday
    with pytest.warns(DeprecationWarning, match=r"escalation\.start\(calendar=\.\.\.\) .*EscalationPolicy\.calendar"):
        old = start(ticket(), triage(), EscalationPolicy(chains=(chain,)), evening, owner="a", calendar=calendar)
    new = start(ticket(), triage(), EscalationPolicy(chains=(chain,), calendar=calendar), evening, owner="a")
    assert old.wake == new.wake == datetime(2026, 5, 7, 10, 0, tzinfo=UTC)


def test_a_business_time_chain_ignores_no_calendar_and_a_wall_clock_chain_ignores_the_calendar() -> None:
    """Only a chain with ``business_time`` counts in the policy's calendar."""
    calendar = BusinessCalendar(zone="UTC", hours=WeeklyHours.weekdays("09:00-18:00"))
    chain = Chain(id="c", steps=(Step(tiers=("manager",), delay=2 * 60 * M),))
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)
    state = start(ticket(), triage(), EscalationPolicy(chains=(chain,), calendar=calendar), evening, owner="a")
    assert state.wake == evening + timedelta(hours=2)


def test_an_escalation_policy_reads_its_calendar_from_the_same_table_as_a_triage_policy() -> None:
    """``[escalation.calendar]`` is written like ``[triage.calendar]``; a bad one names its path."""
    hours = {"mon": ["09:00-18:00"]}
    policy = structure({"calendar": {"zone": "Asia/Shanghai", "hours": hours}}, EscalationPolicy)
    assert policy.calendar == BusinessCalendar(zone="Asia/Shanghai", hours=WeeklyHours(mon=("09:00-18:00",)))
    with pytest.raises(PolicyError, match=r"calendar\.zone: .*Mars/Olympus"):
        structure({"calendar": {"zone": "Mars/Olympus"}}, EscalationPolicy)


def test_an_escalation_policy_calendar_must_be_a_business_calendar() -> None:
    with pytest.raises(
        PolicyError, match=r"escalationpolicy\.calendar: expected a BusinessCalendar or none, got 'UTC'"
    ):
        EscalationPolicy(calendar="UTC")  # type: ignore[arg-type]


def test_without_a_calendar_business_time_chains_count_wall_clock_time() -> None:
    chain = Chain(id="c", business_time=True, steps=(Step(tiers=("manager",), delay=2 * 60 * M),))
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)
    state = start(ticket(), triage(), EscalationPolicy(chains=(chain,)), evening, owner="a")
    assert state.wake == evening + timedelta(hours=2)


def test_escalation_adds_approvers_and_watchers_and_keeps_the_owner() -> None:
    chain = Chain(id="c", steps=(Step(tiers=("supervisor",), roles=("duty_officer",)), Step(people=("li.wei",))))
    state = start(ticket(), triage(), EscalationPolicy(chains=(chain,)), T0, owner="agent.chen")
    state, _ = advance_escalation(state, T0)
    assert state.owner == "agent.chen"
    assert state.case.approvers == (Recipient(RecipientKind.TIER, "supervisor"),)
    assert state.case.watchers == (
        Recipient(RecipientKind.TIER, "supervisor"),
        Recipient(RecipientKind.ROLE, "duty_officer"),
        Recipient(RecipientKind.PERSON, "li.wei"),
    )


def test_a_work_order_gives_the_owner_notify_follow_up_and_report_back_obligations() -> None:
    case = Case(ticket_id="T1", owner="agent.chen")
    order, obligations = open_work_order(case, "dispatch", "send a replacement car", T0, 30 * M)
    assert order.owner == "agent.chen"
    assert order.due == T0 + 30 * M
    assert [(o.kind, o.to, o.due) for o in obligations] == [
        (ObligationKind.NOTIFY_DEPARTMENT, "dispatch", T0),
        (ObligationKind.FOLLOW_UP, "dispatch", T0 + 30 * M),
        (ObligationKind.REPORT_TO_CUSTOMER, "customer", T0 + 90 * M),
    ]


def test_a_work_order_due_counts_business_time_in_the_escalation_policys_calendar() -> None:
    policy = EscalationPolicy(calendar=BusinessCalendar(zone="UTC", hours=WeeklyHours.weekdays("09:00-18:00")))
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)
    case = Case(ticket_id="T1", owner="a")
    order, _ = open_work_order(case, "billing", "refund", evening, 2 * 60 * M, policy=policy)
    assert order.due == datetime(2026, 5, 7, 10, 0, tzinfo=UTC)
    wall, _ = open_work_order(case, "billing", "refund", evening, 2 * 60 * M, policy=EscalationPolicy())
    assert wall.due == evening + 2 * 60 * M


def test_a_calendar_passed_to_open_work_order_still_counts_with_a_deprecation_warning() -> None:
    calendar = BusinessCalendar(zone="UTC", hours=WeeklyHours.weekdays("09:00-18:00"))
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)
    with pytest.warns(DeprecationWarning, match=r"open_work_order\(calendar=\.\.\.\) .*EscalationPolicy\.calendar"):
        order, _ = open_work_order(
            Case(ticket_id="T1", owner="a"), "billing", "refund", evening, 2 * 60 * M, calendar=calendar
        )
    assert order.due == datetime(2026, 5, 7, 10, 0, tzinfo=UTC)


def test_a_work_order_rejects_a_follow_up_earlier_than_its_opening() -> None:
    with pytest.raises(PolicyError, match="follow_up_before"):
        open_work_order(Case(ticket_id="T1", owner="a"), "billing", "refund", T0, M, follow_up_before=2 * M)


def test_start_rejects_a_triage_of_another_ticket() -> None:
    other = attrs.evolve(triage(), ticket_id="T2")
    with pytest.raises(TicketError, match=r"triage\.ticket_id"):
        start(ticket(), other, POLICY, T0, owner="a")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"chains": [{"id": "a", "steps": [{"tiers": ["agent"], "delay": "-5m"}]}]},
            "chains[0].steps[0].delay: expected a duration >= 0, got '-5m'",
        ),
        (
            {"chains": [{"id": "a", "steps": [{"repeat": 2}]}]},
            "chains[0].steps[0].repeat_every: a step with repeat = 2 needs",
        ),
        ({"chains": [{"id": "a", "quadrants": ["Q7"]}]}, "chains[0].quadrants"),
        (
            {"chains": [{"id": "a", "reports": [{"to": "manager", "every": "0m"}]}]},
            "chains[0].reports[0].every: expected a duration > 0",
        ),
        ({"chains": [{"id": "a"}, {"id": "a"}]}, "chains[1].id: duplicate id 'a'"),
        ({"tiers": ["a", "b"], "executive": "c"}, "executive: expected one of the tiers"),
    ],
)
def test_a_bad_policy_file_names_the_path_of_the_bad_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError) as info:
        structure(data, EscalationPolicy)
    assert message in str(info.value)


def test_the_example_policy_loads_and_passes_its_own_checks() -> None:
    policy = load_section(ROOT / "examples" / "escalation.toml", "escalation", EscalationPolicy, required=True)
    assert policy is not None
    assert [f for f in check_escalation_policy(policy) if f.severity.value == "error"] == []
    assert policy.chains[0].quadrants == frozenset({Quadrant.Q1})


def codes(policy: EscalationPolicy) -> set[tuple[str, str]]:
    return {(f.code, f.path) for f in check_escalation_policy(policy)}


def test_check_finds_a_q1_chain_that_never_reaches_the_executive() -> None:
    policy = EscalationPolicy(
        chains=(Chain(id="q1", quadrants=frozenset({Quadrant.Q1}), steps=(Step(tiers=("manager",)),)),)
    )
    assert ("escalation.q1-no-executive", "escalation.chains[0]") in codes(policy)
    direct = EscalationPolicy(chains=(attrs.evolve(policy.chains[0], direct_to_top=True),))
    assert "escalation.q1-no-executive" not in {code for code, _ in codes(direct)}


def test_check_finds_steps_after_a_step_that_repeats_forever() -> None:
    chain = Chain(
        id="c",
        steps=(Step(tiers=("executive",), repeat=-1, repeat_every=10 * M), Step(tiers=("manager",))),
    )
    assert ("escalation.unreachable-step", "escalation.chains[0].steps[1]") in codes(EscalationPolicy(chains=(chain,)))


def test_check_finds_zero_delay_duplicates_unknown_tiers_gaps_and_shadowed_chains() -> None:
    policy = EscalationPolicy(
        chains=(
            Chain(id="all", steps=(Step(tiers=("executive",)), Step(tiers=("executive",)), Step(tiers=("boss",)))),
            Chain(id="q2", quadrants=frozenset({Quadrant.Q2}), steps=(Step(tiers=("agent",)),)),
        )
    )
    found = codes(policy)
    assert ("escalation.duplicate-step", "escalation.chains[0].steps[1]") in found
    assert ("escalation.unknown-tier", "escalation.chains[0].steps[2].tiers[0]") in found
    assert ("escalation.shadowed-chain", "escalation.chains[1]") in found
    gaps = EscalationPolicy(
        chains=(Chain(id="q4", quadrants=frozenset({Quadrant.Q4}), steps=(Step(tiers=("agent",)),)),)
    )
    severities = {f.message: f.severity.value for f in check_escalation_policy(gaps) if f.code == "escalation.gap"}
    assert severities == {
        "no chain covers Q1": "error",
        "no chain covers Q2": "warning",
        "no chain covers Q3": "warning",
    }


def test_a_safety_ticket_is_just_data_to_escalation() -> None:
    state = start(ticket(flags=frozenset({Flag.SAFETY})), triage(), POLICY, T0, owner="agent.li")
    assert state.chain is Q1_CHAIN


# --------------------------------------------------------------------------
# Exhaustion, repeated acknowledgements, repeated deliveries, acknowledgement timeouts


def types_at(actions: tuple[object, ...]) -> list[tuple[timedelta, str]]:
    return [(a.due - T0, a.type.value) for a in actions]  # type: ignore[attr-defined]


def test_a_chain_that_runs_out_with_nobody_acknowledging_tells_the_owner_it_is_exhausted() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    state, _ = advance_escalation(state, T0 + 54 * M)
    assert state.status is Status.CLIMBING
    assert not state.exhausted
    state, actions = advance_escalation(state, T0 + 55 * M)
    exhausted = [a for a in actions if a.type is ActionType.EXHAUSTED]
    assert [(a.due, a.targets) for a in exhausted] == [(T0 + 55 * M, (Recipient(RecipientKind.PERSON, "agent.li"),))]
    assert state.exhausted
    assert state.status is Status.EXHAUSTED
    assert state.wake == T0 + 60 * M  # the progress reports go on


def test_exhaustion_waits_the_chains_exhausted_after_from_the_last_notice() -> None:
    chain = attrs.evolve(Q1_CHAIN, exhausted_after=20 * M)
    state = start(ticket(), triage(), EscalationPolicy(chains=(chain,)), T0, owner="a")
    state, actions = advance_escalation(state, T0 + 74 * M)
    assert ActionType.EXHAUSTED not in {a.type for a in actions}
    _, actions = advance_escalation(state, T0 + 75 * M)
    assert types_at(actions) == [(75 * M, "exhausted")]


def test_an_acknowledgement_before_the_end_of_the_chain_prevents_exhaustion() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="a")
    state, _ = advance_escalation(state, T0 + 54 * M, [Event(kind=EventKind.ACKNOWLEDGED, at=T0 + 54 * M)])
    _, actions = advance_escalation(state, T0 + timedelta(days=1))
    assert {a.type for a in actions} == {ActionType.REPORT_PROGRESS}


def test_an_exhausted_chain_can_still_be_escalated_by_hand_acknowledged_and_resolved() -> None:
    state, _ = advance_escalation(start(ticket(), triage(), POLICY, T0, owner="a"), T0 + 56 * M)
    assert state.exhausted
    at = T0 + 57 * M
    state, actions = advance_escalation(state, at, [Event(kind=EventKind.ESCALATE, at=at)])
    assert [(a.type, a.targets) for a in actions] == [
        (ActionType.DIRECT_TO_TOP, (Recipient(RecipientKind.TIER, "executive"),))
    ]
    assert state.status is Status.EXHAUSTED
    state, _ = advance_escalation(state, at, [Event(kind=EventKind.ACKNOWLEDGED, at=at, by="exec.zhao")])
    assert state.status is Status.ACKNOWLEDGED
    state, _ = advance_escalation(state, at, [Event(kind=EventKind.RESOLVED, at=at)])
    assert state.status is Status.RESOLVED


def test_a_chain_that_repeats_forever_or_has_no_step_never_exhausts() -> None:
    forever = Chain(id="f", steps=(Step(tiers=("executive",), repeat=-1, repeat_every=10 * M),))
    nothing = Chain(id="n", steps=(Step(delay=5 * M),))  # one empty step, skipped
    for chain in (forever, nothing):
        state = start(ticket(), triage(), EscalationPolicy(chains=(chain,)), T0, owner="a")
        state, actions = advance_escalation(state, T0 + timedelta(days=2))
        assert ActionType.EXHAUSTED not in {a.type for a in actions}
        assert state.status is Status.CLIMBING


def test_a_trailing_wait_step_counts_before_exhaustion() -> None:
    chain = Chain(id="c", steps=(Step(tiers=("agent",)), Step(delay=30 * M, when_empty=WhenEmpty.WAIT)))
    state = start(ticket(), triage(), EscalationPolicy(chains=(chain,)), T0, owner="a")
    _, actions = advance_escalation(state, T0 + timedelta(hours=2))
    assert types_at(actions) == [(0 * M, "notify"), (30 * M, "exhausted")]


def test_a_second_acknowledgement_by_another_responder_is_recorded_not_refused() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    first, second = T0 + 16 * M, T0 + 18 * M
    state, _ = advance_escalation(state, first, [Event(kind=EventKind.ACKNOWLEDGED, at=first, by="supervisor.wu")])
    state, actions = advance_escalation(
        state, second, [Event(kind=EventKind.ACKNOWLEDGED, at=second, by="manager.zhao")]
    )
    assert actions == ()
    assert state.status is Status.ACKNOWLEDGED
    assert state.acknowledged_by == ("supervisor.wu", "manager.zhao")
    state, _ = advance_escalation(
        state, second + M, [Event(kind=EventKind.ACKNOWLEDGED, at=second + M, by="supervisor.wu")]
    )
    assert state.acknowledged_by == ("supervisor.wu", "manager.zhao")


def test_a_repeated_delivery_of_the_same_event_at_the_same_instant_is_ignored() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    at = T0 + 20 * M
    escalate = Event(kind=EventKind.ESCALATE, at=at, by="agent.li")
    resolve = Event(kind=EventKind.RESOLVED, at=at, by="agent.li")
    once, once_actions = advance_escalation(state, at, [escalate, resolve])
    twice, twice_actions = advance_escalation(state, at, [escalate, escalate, resolve, resolve])
    assert (twice, twice_actions) == (once, once_actions)
    again, actions = advance_escalation(once, at, [resolve, escalate])  # a retry in a later call
    assert (again, actions) == (once, ())


def test_the_same_event_from_two_people_at_one_instant_applies_twice() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    at = T0 + 2 * M
    events = [Event(kind=EventKind.ESCALATE, at=at, by="agent.li"), Event(kind=EventKind.ESCALATE, at=at, by="wu")]
    _, actions = advance_escalation(state, at, events)
    assert notify_times(actions) == [(T0, 0, 0), (at, 1, 0), (at, 2, 0)]


def test_the_same_event_at_a_later_instant_is_not_a_repeat() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    state, _ = advance_escalation(state, T0 + M, [Event(kind=EventKind.RESOLVED, at=T0 + M)])
    with pytest.raises(TransitionError, match=r"event resolved at .* while the escalation is resolved"):
        advance_escalation(state, T0 + 2 * M, [Event(kind=EventKind.RESOLVED, at=T0 + 2 * M)])


ACK_CHAIN = attrs.evolve(Q1_CHAIN, ack_timeout=30 * M)


def test_an_acknowledgement_that_times_out_restarts_the_climb_in_a_new_episode() -> None:
    state = start(ticket(), triage(), EscalationPolicy(chains=(ACK_CHAIN,)), T0, owner="agent.li")
    ack = T0 + 16 * M
    state, _ = advance_escalation(state, ack, [Event(kind=EventKind.ACKNOWLEDGED, at=ack, by="supervisor.wu")])
    assert state.ack_expires == ack + 30 * M
    state, actions = advance_escalation(state, ack + 45 * M)
    assert [(a.due - ack, a.type.value, a.step, a.episode) for a in actions] == [
        (14 * M, "report_progress", None, 0),
        (30 * M, "ack_expired", None, 0),
        (30 * M, "notify", 0, 1),
        (44 * M, "report_progress", None, 1),
        (45 * M, "notify", 1, 1),
    ]
    assert actions[1].targets == (Recipient(RecipientKind.PERSON, "supervisor.wu"),)
    assert state.status is Status.CLIMBING
    assert state.episode == 1
    assert state.acknowledged_by == ()


def test_acknowledging_again_or_reporting_progress_restarts_the_acknowledgement_timeout() -> None:
    state = start(ticket(), triage(), EscalationPolicy(chains=(ACK_CHAIN,)), T0, owner="agent.li")
    ack = T0 + 16 * M
    state, _ = advance_escalation(state, ack, [Event(kind=EventKind.ACKNOWLEDGED, at=ack, by="wu")])
    state, _ = advance_escalation(state, ack + 20 * M, [Event(kind=EventKind.ACKNOWLEDGED, at=ack + 20 * M, by="wu")])
    assert state.ack_expires == ack + 50 * M
    state, _ = advance_escalation(state, ack + 40 * M, [Event(kind=EventKind.PROGRESS, at=ack + 40 * M)])
    assert state.ack_expires == ack + 70 * M
    state, actions = advance_escalation(state, ack + 69 * M)
    assert state.status is Status.ACKNOWLEDGED
    assert {a.type for a in actions} <= {ActionType.REPORT_PROGRESS}


def test_without_an_acknowledgement_timeout_an_acknowledged_case_never_climbs_again() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    state, _ = advance_escalation(state, T0 + M, [Event(kind=EventKind.ACKNOWLEDGED, at=T0 + M)])
    assert state.ack_expires is None
    state, _ = advance_escalation(state, T0 + timedelta(days=3))
    assert state.status is Status.ACKNOWLEDGED


def test_reopening_starts_a_new_episode() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="agent.li")
    state, _ = advance_escalation(state, T0 + M, [Event(kind=EventKind.RESOLVED, at=T0 + M)])
    state, actions = advance_escalation(state, T0 + 2 * M, [Event(kind=EventKind.REOPENED, at=T0 + 2 * M)])
    assert state.episode == 1
    assert [(a.step, a.episode) for a in actions] == [(0, 1)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"id": "a", "exhausted_after": "-1m"}, "chains[0].exhausted_after: expected a duration >= 0, got '-1m'"),
        ({"id": "a", "ack_timeout": "0s"}, "chains[0].ack_timeout: expected a duration > 0, got '0s'"),
    ],
)
def test_bad_timeouts_are_policy_errors_naming_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError) as info:
        structure({"chains": [data]}, EscalationPolicy)
    assert str(info.value) == message


def test_a_work_orders_follow_up_counts_business_time_before_the_due_time() -> None:
    calendar = BusinessCalendar(zone="UTC", hours=WeeklyHours.weekdays("09:00-18:00"))
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)  # a Wednesday; two business hours end at 10:00 Thursday
    order, obligations = open_work_order(
        Case(ticket_id="T1", owner="a"),
        "billing",
        "refund",
        evening,
        2 * 60 * M,
        follow_up_before=90 * M,
        policy=EscalationPolicy(calendar=calendar),
    )
    follow_up = next(o for o in obligations if o.kind is ObligationKind.FOLLOW_UP)
    assert order.due == datetime(2026, 5, 7, 10, 0, tzinfo=UTC)
    assert follow_up.due == evening + 30 * M  # not 08:30 Thursday, before the office opens


def test_an_acknowledgement_timeout_counts_business_time_on_a_business_time_chain() -> None:
    calendar = BusinessCalendar(zone="UTC", hours=WeeklyHours.weekdays("09:00-18:00"))
    chain = Chain(id="c", business_time=True, ack_timeout=2 * 60 * M, steps=(Step(tiers=("agent",)),))
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)
    state = start(ticket(), triage(), EscalationPolicy(chains=(chain,), calendar=calendar), evening, owner="a")
    state, _ = advance_escalation(state, evening, [Event(kind=EventKind.ACKNOWLEDGED, at=evening, by="wu")])
    assert state.ack_expires == datetime(2026, 5, 7, 10, 0, tzinfo=UTC)


def test_check_finds_a_chain_whose_steps_all_lack_a_target() -> None:
    hollow = Chain(id="h", quadrants=frozenset({Quadrant.Q2}), steps=(Step(delay=5 * M), Step(delay=M)))
    assert ("escalation.no-steps", "escalation.chains[0].steps") in codes(EscalationPolicy(chains=(hollow,)))


def test_a_naive_now_or_a_stray_event_is_an_input_error_naming_it() -> None:
    state = start(ticket(), triage(), POLICY, T0, owner="a")
    with pytest.raises(TicketError, match="now: expected an aware datetime"):
        advance_escalation(state, datetime(2026, 5, 6, 10, 0))
    with pytest.raises(TicketError, match=r"events\[1\]: expected an Event, got 'ack'"):
        advance_escalation(state, T0 + M, [Event(kind=EventKind.PROGRESS, at=T0), "ack"])  # type: ignore[list-item]
