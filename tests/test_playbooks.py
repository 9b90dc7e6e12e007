"""Tests for contingency plans: matching, starting, file round trips and checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.calendar import BusinessCalendar, WeeklyHours
from servicetriage.config import dump, dump_file, load, load_file, load_section, structure
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import (
    Channel,
    Customer,
    Flag,
    Level,
    Mark,
    Money,
    ObligationKind,
    Pause,
    Quadrant,
    Reason,
    Ticket,
    Triage,
)
from servicetriage.playbooks import (
    ANGRY_CUSTOMER,
    RIDE_SAFETY_SOS,
    WORKED_PLAYBOOKS,
    Playbook,
    PlaybookSet,
    PlaybookStep,
    Trigger,
    check_playbooks,
    match,
    start_playbook,
)
from servicetriage.triage import DEFAULT_POLICY, classify

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 5, 6, 23, 12, tzinfo=UTC)
M = timedelta(minutes=1)


def ticket(**kwargs: object) -> Ticket:
    fields: dict[str, object] = {"id": "T1", "opened_at": T0, "customer": Customer(id="C1")}
    fields.update(kwargs)
    return Ticket(**fields)  # type: ignore[arg-type]


def triage(quadrant: Quadrant = Quadrant.Q1, marks: frozenset[Mark] = frozenset()) -> Triage:
    return Triage(
        ticket_id="T1",
        quadrant=quadrant,
        priority=1,
        urgency=Level(2, "high"),
        importance=Level(2, "high"),
        due=None,
        reasons=(),
        marks=marks,
    )


def plan(id: str, *triggers: Trigger, priority: int = 0, version: int = 1) -> Playbook:
    return Playbook(
        id=id,
        version=version,
        title=id,
        triggers=triggers,
        steps=(PlaybookStep(action="act"),),
        priority=priority,
    )


def test_an_sos_from_a_rider_starts_the_ride_safety_plan_first() -> None:
    sos = ticket(flags={Flag.SAFETY}, category="ride", subject="SOS")
    found = match(sos, triage(), WORKED_PLAYBOOKS)
    assert [m.playbook.id for m in found] == ["ride-safety-sos"]
    assert found[0].reasons[0].code in {"trigger.flags", "trigger.category"}


@pytest.mark.parametrize(
    "text",
    [
        "乘客说:救命!",
        "乘客說：司機不讓我下車",
        "Help! The driver won't let me out of the car",
        "Hilfe! Der Fahrer lässt mich nicht aussteigen",
        "¡Socorro! El conductor no me deja salir",
        "助けて！運転手が降ろしてくれない",
    ],
)
def test_early_signs_in_any_language_start_the_safety_plan_before_any_flag_is_set(text: str) -> None:
    early = ticket(category="ride", text=text)
    found = match(early, classify(early, DEFAULT_POLICY, T0), WORKED_PLAYBOOKS)
    assert [m.playbook.id for m in found] == ["ride-safety-sos"]
    assert "trigger.signal" in [r.code for r in found[0].reasons]


def test_an_sos_in_any_category_starts_the_safety_plan_and_a_stranded_flight_does_not() -> None:
    sos = ticket(category="general", text="SOS 司机不让我下车")
    assert [m.playbook.id for m in match(sos, classify(sos, DEFAULT_POLICY, T0), WORKED_PLAYBOOKS)] == [
        "ride-safety-sos"
    ]
    stranded = ticket(category="flight", text="Flight cancelled, I am stranded at the airport with two children")
    placed = classify(stranded, DEFAULT_POLICY, T0)
    assert placed.quadrant is Quadrant.Q1
    assert match(stranded, placed, WORKED_PLAYBOOKS) == ()


def test_an_angry_customer_starts_the_seven_step_method() -> None:
    angry = ticket(text="This is unacceptable, I am furious")
    found = match(angry, classify(angry, DEFAULT_POLICY, T0), WORKED_PLAYBOOKS)
    assert [m.playbook.id for m in found] == ["angry-customer"]
    assert found[0].reasons[0].code == "trigger.signal"


def test_a_trigger_reads_signals_and_concepts_by_name_or_family() -> None:
    found = attrs.evolve(triage(), signals=frozenset({"safety"}), concepts=frozenset({"safety.trapped"}))
    assert Trigger(concepts=frozenset({"safety"})).evaluate(ticket(), found) is not None
    assert Trigger(concepts=frozenset({"safety.trapped"})).evaluate(ticket(), found) is not None
    assert Trigger(concepts=frozenset({"safety.medical"})).evaluate(ticket(), found) is None
    assert Trigger(signals=frozenset({"regulator"})).evaluate(ticket(), found) is None
    reasons = Trigger(signals=frozenset({"safety", "police"})).evaluate(ticket(), found)
    assert reasons is not None
    assert [str(r) for r in reasons] == [str(Reason("trigger.signal", "signal safety"))]


def test_a_trigger_on_an_unknown_signal_is_refused() -> None:
    with pytest.raises(PolicyError, match=r"trigger.signals: unknown signal 'safty'"):
        Trigger(signals=frozenset({"safty"}))


def test_the_seven_steps_are_in_the_method_order() -> None:
    words = ["compose", "listen", "restate", "empathise", "propose", "act", "feed back"]
    assert len(ANGRY_CUSTOMER.steps) == 7
    for step, word in zip(ANGRY_CUSTOMER.steps, words, strict=True):
        assert word in step.action.lower()


def test_a_q1_ticket_no_plan_matches_gets_no_match() -> None:
    assert match(ticket(text="my invoice is wrong"), triage(Quadrant.Q1), WORKED_PLAYBOOKS) == ()


def test_matches_are_ordered_by_specificity_then_priority_then_id_then_newest_version() -> None:
    plans = (
        plan("b", Trigger(quadrants={Quadrant.Q1}), priority=5),
        plan("a", Trigger(quadrants={Quadrant.Q1}), priority=5),
        plan("z", Trigger(quadrants={Quadrant.Q1}, flags={Flag.SAFETY})),
        plan("c", Trigger(quadrants={Quadrant.Q1}), priority=9),
        plan("a", Trigger(quadrants={Quadrant.Q1}), priority=5, version=2),
    )
    found = match(ticket(flags={Flag.SAFETY}), triage(), plans)
    assert [(m.playbook.id, m.playbook.version) for m in found] == [("z", 1), ("c", 1), ("a", 2), ("a", 1), ("b", 1)]


def test_a_playbook_matches_through_its_most_specific_trigger() -> None:
    both = plan("p", Trigger(flags={Flag.SAFETY}), Trigger(flags={Flag.SAFETY}, channels={Channel.PHONE}))
    (found,) = match(ticket(flags={Flag.SAFETY}, channel="phone"), triage(), (both,))
    assert (found.trigger, found.specificity) == (1, 2)


@given(sts.tickets(), sts.playbook_sets())
@settings(max_examples=60)
def test_match_order_does_not_depend_on_the_order_of_the_playbooks(ticket: Ticket, plans: PlaybookSet) -> None:
    tri = attrs.evolve(triage(), ticket_id=ticket.id)
    forward = match(ticket, tri, plans.playbooks)
    backward = match(ticket, tri, tuple(reversed(plans.playbooks)))
    key = [(m.playbook.id, m.playbook.version, m.specificity) for m in forward]
    assert key == [(m.playbook.id, m.playbook.version, m.specificity) for m in backward]
    assert [m.specificity for m in forward] == sorted((m.specificity for m in forward), reverse=True)


def test_starting_a_plan_gives_absolute_deadlines_on_the_wall_clock() -> None:
    steps = start_playbook(RIDE_SAFETY_SOS, ticket(), T0)
    assert [s.due for s in steps[:4]] == [T0, T0 + 2 * M, T0 + 5 * M, T0 + 10 * M]
    assert steps[5].as_obligation() is not None
    obligation = steps[5].as_obligation()
    assert obligation is not None
    assert (obligation.kind, obligation.to) == (ObligationKind.VERIFY, "safety_team")
    assert steps[0].as_obligation() is None


def test_a_business_time_plan_counts_open_hours_in_its_calendar() -> None:
    calendar = BusinessCalendar(zone="UTC", hours=WeeklyHours.weekdays("09:00-18:00"))
    office = attrs.evolve(ANGRY_CUSTOMER, business_time=True, calendar=calendar)
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)
    steps = start_playbook(office, ticket(opened_at=evening), evening)
    assert steps[5].due == datetime(2026, 5, 7, 12, 0, tzinfo=UTC)  # 1 h on Wednesday + 3 h on Thursday
    wall_clock = attrs.evolve(RIDE_SAFETY_SOS, calendar=calendar)  # business_time is false: the calendar waits
    assert start_playbook(wall_clock, ticket(opened_at=evening), evening)[1].due == evening + 2 * M


def test_a_calendar_passed_to_start_playbook_still_counts_with_a_deprecation_warning() -> None:
    calendar = BusinessCalendar(zone="UTC", hours=WeeklyHours.weekdays("09:00-18:00"))
    office = attrs.evolve(ANGRY_CUSTOMER, business_time=True)
    evening = datetime(2026, 5, 6, 17, 0, tzinfo=UTC)
    with pytest.warns(DeprecationWarning, match=r"start_playbook\(calendar=\.\.\.\) .*Playbook\.calendar"):
        steps = start_playbook(office, ticket(opened_at=evening), evening, calendar)
    assert steps[5].due == datetime(2026, 5, 7, 12, 0, tzinfo=UTC)


def test_a_playbook_calendar_must_be_a_business_calendar() -> None:
    with pytest.raises(PolicyError, match=r"playbook\.calendar: expected a BusinessCalendar or none"):
        attrs.evolve(ANGRY_CUSTOMER, calendar="Asia/Shanghai")  # type: ignore[arg-type]


def test_a_business_time_plan_skips_the_tickets_pauses() -> None:
    calendar = BusinessCalendar(zone="UTC", hours=WeeklyHours.every_day("00:00-24:00"))
    office = attrs.evolve(ANGRY_CUSTOMER, business_time=True, calendar=calendar)
    paused = ticket(pauses=(Pause(T0, T0 + 30 * M),))
    assert start_playbook(office, paused, T0)[1].due == T0 + 31 * M


def test_a_playbook_calendar_round_trips_through_a_file(tmp_path: Path) -> None:
    """A plan's ``[playbooks.calendar]`` table loads as its `BusinessCalendar` and is written back the same."""
    calendar = BusinessCalendar(zone="Asia/Shanghai", hours=WeeklyHours.weekdays("09:00-18:00"))
    plans = PlaybookSet(playbooks=(attrs.evolve(ANGRY_CUSTOMER, business_time=True, calendar=calendar),))
    path = tmp_path / "plans.toml"
    dump_file(plans, path)
    assert "[playbooks.calendar]" in path.read_text(encoding="utf-8")
    assert load_file(path, PlaybookSet) == plans


def test_worked_playbooks_round_trip_through_every_format() -> None:
    worked = PlaybookSet(playbooks=WORKED_PLAYBOOKS)
    for fmt in ("toml", "json", "yaml"):
        assert load(dump(worked, fmt), PlaybookSet, fmt) == worked


def test_the_example_file_holds_the_worked_playbooks() -> None:
    assert load_file(ROOT / "examples" / "playbooks.toml", PlaybookSet) == PlaybookSet(playbooks=WORKED_PLAYBOOKS)


@given(sts.playbook_sets())
@settings(max_examples=60)
def test_any_playbook_set_round_trips_through_toml(plans: PlaybookSet) -> None:
    assert load(dump(plans), PlaybookSet) == plans


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            {"action": "x", "due": "-5m"},
            "playbooks[0].steps[2].due: expected a duration >= 0, got '-5m'",
        ),
        ({"action": ""}, "playbooks[0].steps[2].action: expected a non-empty string"),
        ({"action": "x", "obligation": "pray"}, "playbooks[0].steps[2].obligation: expected one of"),
        ({"action": "x", "when": "now"}, "playbooks[0].steps[2]: extra fields found (when)"),
    ],
)
def test_a_bad_step_names_its_path(step: dict[str, object], message: str) -> None:
    data = {"playbooks": [{"id": "p", "title": "t", "steps": [{"action": "a"}, {"action": "b"}, step]}]}
    with pytest.raises(PolicyError) as info:
        structure(data, PlaybookSet)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("playbook", "message"),
    [
        ({"id": "p", "title": "t", "steps": []}, "playbooks[0].steps: expected at least one step"),
        (
            {"id": "p", "title": "t", "version": 0, "steps": [{"action": "a"}]},
            "playbooks[0].version: expected a whole number >= 1",
        ),
        (
            {"id": "p", "title": "t", "triggers": [{}], "steps": [{"action": "a"}]},
            "playbooks[0].triggers[0]: expected at least one condition in a trigger",
        ),
        (
            {"id": "p", "title": "t", "triggers": [{"attributes": {"nationality": "CN"}}], "steps": [{"action": "a"}]},
            "playbooks[0].triggers[0].attributes.nationality: a trigger may not read the protected attribute",
        ),
        (
            {"id": "p", "title": "t", "triggers": [{"quadrants": ["Q9"]}], "steps": [{"action": "a"}]},
            "playbooks[0].triggers[0].quadrants",
        ),
    ],
)
def test_a_bad_playbook_names_its_path(playbook: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError) as info:
        structure({"playbooks": [playbook]}, PlaybookSet)
    assert message in str(info.value)


def test_match_rejects_a_triage_of_another_ticket() -> None:
    with pytest.raises(TicketError, match=r"triage\.ticket_id"):
        match(ticket(), attrs.evolve(triage(), ticket_id="T9"), WORKED_PLAYBOOKS)


def findings(plans: tuple[Playbook, ...], **kwargs: object) -> set[tuple[str, str]]:
    return {(f.code, f.path) for f in check_playbooks(plans, **kwargs)}  # type: ignore[arg-type]


def test_the_worked_playbooks_pass_the_checks() -> None:
    assert check_playbooks(WORKED_PLAYBOOKS) == ()


def test_check_finds_a_trigger_that_can_never_match() -> None:
    never = plan("p", Trigger(quadrants={Quadrant.Q4}, flags={Flag.SAFETY}))
    assert ("playbook.never-matches", "playbooks[0].triggers[0]") in findings((never,))
    fine = plan("p", Trigger(quadrants={Quadrant.Q1, Quadrant.Q4}, flags={Flag.SAFETY}))
    assert findings((fine,)) == set()


def test_check_finds_duplicates_backward_deadlines_unknown_tiers_and_manual_only_plans() -> None:
    odd = Playbook(
        id="p",
        title="t",
        steps=(PlaybookStep(action="a", due=10 * M), PlaybookStep(action="b", due=5 * M, authority="boss")),
    )
    found = findings((odd, odd))
    assert ("playbook.duplicate", "playbooks[1].id") in found
    assert ("playbook.deadline-backwards", "playbooks[0].steps[1].due") in found
    assert ("playbook.unknown-tier", "playbooks[0].steps[1].authority") in found
    assert ("playbook.no-triggers", "playbooks[0].triggers") in found


def test_check_flags_a_rare_plan_that_has_not_been_drilled_within_its_interval() -> None:
    drilled = attrs.evolve(RIDE_SAFETY_SOS, last_drilled=T0)
    assert findings((drilled,), now=T0 + timedelta(days=89)) == set()
    assert ("playbook.drill-overdue", "playbooks[0].last_drilled") in findings((drilled,), now=T0 + timedelta(days=91))
    assert ("playbook.drill-overdue", "playbooks[0].last_drilled") in findings((RIDE_SAFETY_SOS,), now=T0)


SOS_WORDS = Trigger(categories=frozenset({"ride"}), keywords=("SOS", "救命"))
KEYWORD_PLAN = PlaybookSet(playbooks=(plan("sos-words", SOS_WORDS),))


def test_an_english_keyword_matches_whole_words_only() -> None:
    overcharged = ticket(category="ride", text="The driver charged me 300 pesos for a short trip")
    assert match(overcharged, triage(Quadrant.Q3), KEYWORD_PLAN) == ()
    sos = ticket(category="ride", text="sos! please help")
    assert [m.playbook.id for m in match(sos, triage(), KEYWORD_PLAN)] == ["sos-words"]


def test_a_chinese_keyword_matches_inside_a_sentence() -> None:
    sos = ticket(category="ride", text="乘客在车上喊救命，请马上处理")
    assert [m.playbook.id for m in match(sos, triage(), KEYWORD_PLAN)] == ["sos-words"]
    mixed = ticket(category="ride", text="乘客按下了SOS按钮")
    assert [m.playbook.id for m in match(mixed, triage(), KEYWORD_PLAN)] == ["sos-words"]


def test_a_formal_complaint_starts_the_seven_step_method() -> None:
    complaint = ticket(text="I want to file a complaint about your agent")
    found = match(complaint, classify(complaint, DEFAULT_POLICY, T0), WORKED_PLAYBOOKS)
    assert [m.playbook.id for m in found] == ["angry-customer"]


@given(
    sts.tickets(),
    sts.playbook_sets(),
    st.frozensets(st.sampled_from(["safety.trapped", "safety.medical", "police", "public_exposure.press"])),
)
@settings(max_examples=60)
def test_match_returns_exactly_the_playbooks_with_a_matching_trigger(
    ticket: Ticket, plans: PlaybookSet, concepts: frozenset[str]
) -> None:
    signals = frozenset(c.split(".", 1)[0] for c in concepts)
    tri = attrs.evolve(triage(), ticket_id=ticket.id, signals=signals, concepts=concepts)
    found = match(ticket, tri, plans)
    expected = [p for p in plans.playbooks if any(t.evaluate(ticket, tri) is not None for t in p.triggers)]
    assert sorted(id(m.playbook) for m in found) == sorted(id(p) for p in expected)
    for m in found:
        best = max(t.specificity for t in m.playbook.triggers if t.evaluate(ticket, tri) is not None)
        assert m.specificity == best
        assert m.playbook.triggers[m.trigger].specificity == best


@given(sts.playbooks(), sts.tickets(), sts.aware_datetimes())
@settings(max_examples=60)
def test_a_started_plan_keeps_every_step_and_puts_each_at_now_plus_its_offset(
    plan: Playbook, ticket: Ticket, now: datetime
) -> None:
    steps = start_playbook(plan, ticket, now)
    assert [s.index for s in steps] == list(range(len(plan.steps)))
    assert [s.due for s in steps] == [now + step.due for step in plan.steps]
    assert {(s.playbook_id, s.version, s.ticket_id) for s in steps} == {(plan.id, plan.version, ticket.id)}


def test_a_q1_ticket_without_a_plan_is_decided_under_delegated_authority() -> None:
    from servicetriage.authority import Actor, AuthorityPolicy, Request, authorize  # noqa: PLC0415

    policy = load_section(ROOT / "examples" / "authority.toml", "authority", AuthorityPolicy, required=True)
    assert policy is not None
    stranded = ticket(category="flight", text="My last flight home was cancelled; I am stuck at the airport")
    placed = triage(Quadrant.Q1)
    assert match(stranded, placed, WORKED_PLAYBOOKS) == ()
    request = Request(
        actor=Actor(id="agent.li", tier="agent"),
        action="rebooking",
        ticket=stranded,
        amount=Money.parse("2400 CNY"),
        triage=placed,
        playbook=None,
    )
    decision = authorize(request, policy, T0)
    assert "fallback.delegated_authority" in [r.code for r in decision.reasons]
    with_plan = authorize(attrs.evolve(request, playbook="stranded-traveller"), policy, T0)
    assert "fallback.delegated_authority" not in [r.code for r in with_plan.reasons]
