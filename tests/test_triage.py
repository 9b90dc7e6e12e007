"""Triage examples from the method, policy validation, loading and static checks."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest

from servicetriage import config
from servicetriage.calendar import BusinessCalendar, WeeklyHours
from servicetriage.errors import PolicyError
from servicetriage.matrix import GLPI, PriorityMatrix
from servicetriage.model import (
    Channel,
    Customer,
    CustomerTier,
    DeclaredUrgency,
    Flag,
    Mark,
    Money,
    Pause,
    Quadrant,
    Severity,
    Ticket,
    TicketStatus,
)
from servicetriage.triage import (
    DEFAULT_POLICY,
    Condition,
    CountStep,
    DeadlineStep,
    Keywords,
    Rule,
    Scale,
    TriagePolicy,
    check_triage_policy,
    classify,
    classify_many,
    rank,
    rank_key,
)

NOW = datetime(2026, 5, 6, 10, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).parent.parent / "examples" / "triage.toml"


def ticket(**fields: object) -> Ticket:
    base: dict[str, object] = {"id": "T1", "opened_at": NOW, "customer": Customer(id="C1")}
    base.update(fields)
    return Ticket(**base)  # type: ignore[arg-type]


def codes(triage: object) -> list[str]:
    return [r.code for r in triage.reasons]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------
# Examples from the method


def test_sos_from_a_ride_is_q1_at_once() -> None:
    result = classify(ticket(channel="phone", text="乘客在车上按下了SOS，说司机偏离路线"), DEFAULT_POLICY, NOW)
    assert result.quadrant is Quadrant.Q1
    assert result.priority == 1
    assert "signal.safety" in codes(result)
    assert Mark.VERIFY_AFTERWARDS not in result.marks


def test_safety_signal_is_q1_even_when_marked_doubtful() -> None:
    sure = classify(ticket(flags={Flag.SAFETY}, text="SOS pressed in the car"), DEFAULT_POLICY, NOW)
    doubtful = classify(
        ticket(flags={Flag.SAFETY}, text="SOS pressed in the car, the passenger says it was a false alarm"),
        DEFAULT_POLICY,
        NOW,
    )
    assert doubtful.quadrant is sure.quadrant is Quadrant.Q1
    assert doubtful.priority == sure.priority
    assert doubtful.urgency == sure.urgency
    assert Mark.VERIFY_AFTERWARDS in doubtful.marks
    assert "signal.doubt" in codes(doubtful)


def test_doubtful_attribute_only_adds_verify_afterwards() -> None:
    result = classify(ticket(flags={Flag.SAFETY}, attributes={"doubtful": True}), DEFAULT_POLICY, NOW)
    assert result.quadrant is Quadrant.Q1
    assert Mark.VERIFY_AFTERWARDS in result.marks


def test_police_call_is_q1() -> None:
    result = classify(ticket(channel="phone", text="This is the police, we need the trip record"), DEFAULT_POLICY, NOW)
    assert result.quadrant is Quadrant.Q1
    assert "signal.police" in codes(result)


def test_safety_and_police_together_go_direct_to_top() -> None:
    result = classify(ticket(flags={Flag.SAFETY, Flag.POLICE}, text="救命！已经报警"), DEFAULT_POLICY, NOW)
    assert result.quadrant is Quadrant.Q1
    assert Mark.DIRECT_TO_TOP in result.marks
    police_only = classify(ticket(flags={Flag.POLICE}), DEFAULT_POLICY, NOW)
    assert Mark.DIRECT_TO_TOP not in police_only.marks


def test_stranded_air_passenger_is_q1() -> None:
    result = classify(
        ticket(category="flight", text="Flight cancelled, I am stranded at the airport with two kids"),
        DEFAULT_POLICY,
        NOW,
    )
    assert result.quadrant is Quadrant.Q1
    chinese = classify(ticket(category="flight", text="航班取消了，我们被困在机场"), DEFAULT_POLICY, NOW)
    assert chinese.quadrant is Quadrant.Q1


def test_plain_enquiry_is_q4() -> None:
    result = classify(ticket(text="How do I change my invoice address?"), DEFAULT_POLICY, NOW)
    assert result.quadrant is Quadrant.Q4
    assert result.marks == frozenset()
    assert codes(result) == ["priority.matrix"]


def test_possibly_deceptive_q3_request_is_marked_not_lowered() -> None:
    plain = ticket(declared_urgency="high", text="Please process my refund today")
    deceptive = attrs.evolve(plain, text="Please process my refund today, as a gift card")
    a, b = classify(plain, DEFAULT_POLICY, NOW), classify(deceptive, DEFAULT_POLICY, NOW)
    assert a.quadrant is b.quadrant is Quadrant.Q3
    assert a.priority == b.priority
    assert Mark.POSSIBLY_DECEPTIVE in b.marks
    assert Mark.POSSIBLY_DECEPTIVE not in a.marks


def test_complaint_risk_lifts_q3_to_q1() -> None:
    q3 = ticket(declared_urgency="high", text="Where is my refund?")
    assert classify(q3, DEFAULT_POLICY, NOW).quadrant is Quadrant.Q3
    for risky in (
        attrs.evolve(q3, repeat_contacts=2),
        attrs.evolve(q3, channel=Channel.SOCIAL_MEDIA),
        attrs.evolve(q3, text="Where is my refund? 再不退款我就发微博曝光"),
    ):
        result = classify(risky, DEFAULT_POLICY, NOW)
        assert result.quadrant is Quadrant.Q1
        assert Mark.COMPLAINT_RISK in result.marks
    # Repeat contacts raise no importance by themselves: the lift does, and says so.
    lifted = classify(attrs.evolve(q3, repeat_contacts=2), DEFAULT_POLICY, NOW)
    assert "rule.complaint_risk" in codes(lifted)
    assert lifted.importance.name == "high"


def test_regulator_complaint_is_q1() -> None:
    assert classify(ticket(channel="regulator"), DEFAULT_POLICY, NOW).quadrant is Quadrant.Q1
    assert classify(ticket(text="我已经投诉到12315了"), DEFAULT_POLICY, NOW).quadrant is Quadrant.Q1


def test_vip_need_is_important_not_urgent() -> None:
    result = classify(ticket(customer=Customer(id="C9", tier=CustomerTier.VIP_PRIVATE)), DEFAULT_POLICY, NOW)
    assert result.quadrant is Quadrant.Q2
    assert "signal.vip" in codes(result)


def test_reach_money_and_affected_customers_raise_importance() -> None:
    assert classify(ticket(customer=Customer(id="C", reach=20_000)), DEFAULT_POLICY, NOW).quadrant is Quadrant.Q2
    assert classify(ticket(money_at_stake="20000 CNY"), DEFAULT_POLICY, NOW).quadrant is Quadrant.Q2
    assert classify(ticket(money_at_stake="20000 JPY"), DEFAULT_POLICY, NOW).quadrant is Quadrant.Q4
    assert classify(ticket(affected_customers=500), DEFAULT_POLICY, NOW).quadrant is Quadrant.Q2


# --------------------------------------------------------------------------
# Deadlines and due times


def test_deadline_coming_closer_raises_urgency() -> None:
    t = ticket(due=NOW + timedelta(hours=3))
    assert classify(t, DEFAULT_POLICY, NOW - timedelta(days=2)).urgency.name == "low"
    assert classify(t, DEFAULT_POLICY, NOW - timedelta(hours=12)).urgency.name == "medium"
    assert classify(t, DEFAULT_POLICY, NOW).urgency.name == "high"
    assert classify(t, DEFAULT_POLICY, NOW + timedelta(hours=2, minutes=30)).urgency.name == "critical"


def test_overdue_ticket_is_marked_and_critical() -> None:
    result = classify(ticket(due=NOW - timedelta(minutes=1)), DEFAULT_POLICY, NOW)
    assert Mark.OVERDUE in result.marks
    assert result.urgency.name == "critical"


def test_closed_ticket_is_never_overdue() -> None:
    result = classify(ticket(due=NOW - timedelta(hours=1), status="closed"), DEFAULT_POLICY, NOW)
    assert Mark.OVERDUE not in result.marks
    assert result.urgency.name == "low"


def test_pause_stops_the_clock_of_the_own_due_time() -> None:
    opened = NOW - timedelta(hours=5)
    t = ticket(opened_at=opened, due=NOW - timedelta(hours=1), pauses=[Pause(opened, opened + timedelta(hours=3))])
    result = classify(t, DEFAULT_POLICY, NOW)
    assert result.due == NOW + timedelta(hours=2)
    assert Mark.OVERDUE not in result.marks


def test_due_without_own_due_is_the_target_of_the_priority() -> None:
    result = classify(ticket(flags={Flag.SAFETY}), DEFAULT_POLICY, NOW)
    assert result.priority == 1
    assert result.due == NOW + timedelta(hours=1)
    enquiry = classify(ticket(), DEFAULT_POLICY, NOW)
    assert enquiry.due == NOW + timedelta(days=5)


def test_deadline_crossing_a_holiday_and_a_lunch_break_counts_business_time() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    calendar = BusinessCalendar(
        zone=shanghai, hours=WeeklyHours.weekdays("09:00-12:00", "13:00-18:00"), holidays=["2026-05-01"]
    )
    policy = TriagePolicy(calendar=calendar)
    # Thursday 30 April 17:30; Friday 1 May is a holiday, then the weekend.
    opened = datetime(2026, 4, 30, 17, 30, tzinfo=shanghai)
    safety = classify(ticket(opened_at=opened, flags={Flag.SAFETY}), policy, opened)
    assert safety.priority == 1
    # 1h: 17:30-18:00 on Thursday, then Monday 09:00-09:30.
    assert safety.due == datetime(2026, 5, 4, 9, 30, tzinfo=shanghai)
    p2 = classify(ticket(opened_at=opened, impact=1, urgency=2), policy, opened)
    assert p2.priority == 2
    # 8h: 0.5h on Thursday, Monday 09:00-12:00 (3h) and 13:00-17:30 (4.5h): the lunch break does not count.
    assert p2.due == datetime(2026, 5, 4, 17, 30, tzinfo=shanghai)
    # The ticket's own due time, Monday 10:00, is 1.5 business hours away: urgency high.
    own = ticket(opened_at=opened, due=datetime(2026, 5, 4, 10, 0, tzinfo=shanghai))
    assert classify(own, policy, opened).urgency.name == "high"
    assert classify(own, DEFAULT_POLICY, opened).urgency.name == "low"  # wall clock: 4 days away


def test_explicit_impact_and_urgency_use_the_matrix_alone() -> None:
    result = classify(ticket(impact=1, urgency=2), DEFAULT_POLICY, NOW)
    assert result.priority == 2
    assert "priority.explicit" in codes(result)
    sos = classify(ticket(impact=3, urgency=3, flags={Flag.SAFETY}), DEFAULT_POLICY, NOW)
    assert sos.quadrant is Quadrant.Q1
    assert sos.priority == 5
    glpi = TriagePolicy(matrix="glpi")
    assert classify(ticket(impact=1, urgency=5), glpi, NOW).priority == GLPI.priority(1, 5)


def test_levels_above_the_matrix_are_read_as_its_lowest_level() -> None:
    assert classify(ticket(impact=9, urgency=9), DEFAULT_POLICY, NOW).priority == 5


# --------------------------------------------------------------------------
# Ranking


def test_rank_puts_q1_first_and_breaks_ties_by_priority_due_opened_and_id() -> None:
    tickets = [
        ticket(id="enquiry", text="invoice address?"),
        ticket(id="sos", flags={Flag.SAFETY}),
        ticket(id="b-old", opened_at=NOW - timedelta(hours=2), text="invoice address?"),
        ticket(id="a-old", opened_at=NOW - timedelta(hours=2), text="invoice address?"),
        ticket(id="vip", customer=Customer(id="V", tier="vip_business")),
    ]
    order = [t.id for t, _ in rank(tickets, DEFAULT_POLICY, NOW)]
    assert order == ["sos", "vip", "a-old", "b-old", "enquiry"]


def test_rank_key_puts_missing_due_last() -> None:
    policy = TriagePolicy(targets=())
    with_due = ticket(id="z", due=NOW + timedelta(days=30))
    without = ticket(id="a")
    pairs = rank([without, with_due], policy, NOW)
    assert [t.id for t, _ in pairs] == ["z", "a"]
    assert rank_key(without, pairs[1][1])[5] is True  # the 'no due time' field


def test_a_life_at_stake_ranks_before_a_long_overdue_complaint_of_the_same_priority() -> None:
    """Within one priority the finer importance level decides before the due time."""
    complaint = ticket(
        id="complaint",
        opened_at=NOW - timedelta(hours=9),
        repeat_contacts=4,
        declared_urgency="high",
        text="4th call, still not fixed",
    )
    sos = ticket(id="sos", opened_at=NOW, flags={Flag.SAFETY})
    (first, t1), (second, t2) = rank([complaint, sos], DEFAULT_POLICY, NOW)
    assert (t1.quadrant, t1.priority) == (t2.quadrant, t2.priority)
    assert t2.due is not None
    assert t1.due is not None
    assert t2.due < t1.due
    assert [first.id, second.id] == ["sos", "complaint"]
    assert t1.importance > t2.importance


def test_classify_many_equals_classify_one_by_one() -> None:
    tickets = [ticket(id=f"T{i}", repeat_contacts=i) for i in range(5)]
    assert classify_many(tickets, DEFAULT_POLICY, NOW) == [classify(t, DEFAULT_POLICY, NOW) for t in tickets]


# --------------------------------------------------------------------------
# Custom rules and equal treatment


def test_custom_rule_raises_levels_and_explains_itself() -> None:
    rule = Rule(
        name="missed-connection",
        when=[Condition(field="category", equals="flight"), Condition(field="text", contains="CONNECTION")],
        urgency="high",
        importance="high",
    )
    policy = TriagePolicy(rules=[rule])
    result = classify(ticket(category="flight", text="I will miss my connection"), policy, NOW)
    assert result.quadrant is Quadrant.Q1
    reason = next(r for r in result.reasons if r.code == "rule.custom")
    assert reason.rule == "rules[0]"
    assert reason.evidence["category"] == "equals flight"
    assert classify(ticket(category="ride", text="I will miss my connection"), policy, NOW).quadrant is Quadrant.Q4


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (Condition(field="attributes.plan", one_of=("gold", "platinum")), True),
        (Condition(field="attributes.missing", equals="x"), False),
        (Condition(field="repeat_contacts", at_least=1), True),
        (Condition(field="customer.tier", equals="standard"), True),
        (Condition(field="flags", contains="police"), True),
        (Condition(field="money_at_stake.amount", at_least=100), True),
        (Condition(field="money_at_stake.currency", equals="EUR"), False),
        (Condition(field="channel", equals="chat"), True),
    ],
)
def test_conditions_read_fields_and_attributes(condition: Condition, expected: bool) -> None:
    policy = TriagePolicy(rules=[Rule(name="r", when=[condition], importance="critical")])
    t = ticket(
        channel="chat", attributes={"plan": "gold"}, repeat_contacts=1, flags={"police"}, money_at_stake="500 CNY"
    )
    assert ("rule.custom" in codes(classify(t, policy, NOW))) is expected


@pytest.mark.parametrize(
    ("field", "attribute"),
    [
        ("customer.nationality", "nationality"),
        ("language", "language"),
        ("attributes.gender", "gender"),
        ("customer.age", "age"),
    ],
)
def test_rule_reading_a_protected_attribute_is_rejected(field: str, attribute: str) -> None:
    rule = Rule(name="bad", when=[Condition(field="category", equals="x"), Condition(field=field, equals="y")])
    with pytest.raises(PolicyError, match=rf"rules\[0\]\.when\[1\]\.field: .*protected attribute '{attribute}'"):
        TriagePolicy(rules=[rule], strict=True)


def test_policy_may_name_more_protected_attributes() -> None:
    rule = Rule(name="by-caste", when=[Condition(field="attributes.caste", equals="x")], urgency="high")
    TriagePolicy(rules=[rule])
    with pytest.raises(PolicyError, match="caste"):
        TriagePolicy(rules=[rule], protected_attributes=("language", "caste"))


def test_lenient_policy_keeps_a_protected_rule_but_never_applies_it_and_check_reports_it() -> None:
    rule = Rule(name="by-nationality", when=[Condition(field="customer.nationality", equals="CN")], urgency="critical")
    policy = TriagePolicy(rules=[rule], strict=False)
    t = ticket(customer=Customer(id="C", nationality="CN"))
    assert classify(t, policy, NOW).quadrant is Quadrant.Q4
    findings = check_triage_policy(policy)
    assert [(f.code, f.severity, f.path) for f in findings if f.code == "protected-attribute"] == [
        ("protected-attribute", Severity.ERROR, "rules[0].when[0].field")
    ]


def test_loading_a_policy_with_a_protected_rule_names_the_path() -> None:
    text = """
[[rules]]
name = "by-language"
when = [{ field = "language", equals = "en" }]
urgency = "high"
"""
    with pytest.raises(PolicyError, match=r"rules\[0\]\.when\[0\]\.field: .*'language'"):
        config.load(text, TriagePolicy)


def test_unknown_signal_is_rejected_unless_lenient() -> None:
    with pytest.raises(PolicyError, match=r"signals\[1\]: unknown signal 'safty'"):
        TriagePolicy(signals=("deadline", "safty"))
    policy = TriagePolicy(signals=("deadline", "safty"), strict=False)
    found = {(f.code, f.path) for f in check_triage_policy(policy)}
    assert ("unknown-signal", "signals[1]") in found
    assert ("safety-disabled", "signals") in found


# --------------------------------------------------------------------------
# Building, loading and checking policies


def test_bad_values_name_the_path() -> None:
    with pytest.raises(PolicyError, match=r"deadline\[1\]\.level: .*'urgentt'"):
        TriagePolicy(
            deadline=[
                DeadlineStep(within=timedelta(hours=1), level="high"),
                DeadlineStep(within=timedelta(hours=2), level="urgentt"),
            ]
        )
    text = """
[[deadline]]
within = "1h"
level = "critical"

[[deadline]]
within = "-4h"
level = "high"
"""
    with pytest.raises(PolicyError, match=r"deadline\[1\]\.within: expected a duration > 0"):
        config.load(text, TriagePolicy)
    with pytest.raises(PolicyError, match=r"urgency\.threshold"):
        config.load('[urgency]\nlevels = ["a", "b"]\nthreshold = "c"\n', TriagePolicy)
    with pytest.raises(PolicyError, match=r"matrix: unknown priority matrix preset"):
        TriagePolicy(matrix="itil")


def test_example_policy_loads_and_checks_clean() -> None:
    policy = config.load_section(EXAMPLE, "triage", TriagePolicy, required=True)
    assert policy is not None
    assert policy.calendar is not None
    assert check_triage_policy(policy) == ()
    result = classify(ticket(category="flight", text="I will miss my connection"), policy, NOW)
    assert "rule.custom" in codes(result)


def test_default_policy_checks_clean() -> None:
    assert check_triage_policy(DEFAULT_POLICY) == ()


def test_policy_survives_pickling_and_classifies_the_same() -> None:
    policy = config.load_section(EXAMPLE, "triage", TriagePolicy, required=True)
    assert policy is not None
    copy = pickle.loads(pickle.dumps(policy))
    assert copy == policy
    t = ticket(text="SOS 司机偏离路线", attributes={"medical": "true"})
    assert classify(t, copy, NOW) == classify(t, policy, NOW)


def test_check_reports_unsorted_overlapping_and_non_monotone_thresholds() -> None:
    policy = TriagePolicy(
        deadline=[
            DeadlineStep(within=timedelta(hours=4), level="critical"),
            DeadlineStep(within=timedelta(hours=1), level="high"),
            DeadlineStep(within=timedelta(hours=1), level="medium"),
        ],
        reach=[CountStep(at_least=100, level="high"), CountStep(at_least=1000, level="medium")],
    )
    found = {(f.code, f.path) for f in check_triage_policy(policy)}
    assert ("unsorted-thresholds", "deadline") in found
    assert ("overlapping-thresholds", "deadline[2]") in found
    assert ("non-monotone-thresholds", "deadline[0]") in found
    assert ("non-monotone-thresholds", "reach[1]") in found


def test_larger_count_never_gives_a_lower_level_even_in_a_non_monotone_policy() -> None:
    policy = TriagePolicy(reach=[CountStep(at_least=100, level="high"), CountStep(at_least=1000, level="medium")])
    small = classify(ticket(customer=Customer(id="C", reach=500)), policy, NOW)
    large = classify(ticket(customer=Customer(id="C", reach=5000)), policy, NOW)
    assert small.importance == large.importance
    assert small.importance.name == "high"


def test_check_reports_unreachable_quadrants() -> None:
    only_safety = TriagePolicy(signals=("safety",), declared_urgency={"low": "low"})
    found = {(f.code, f.message) for f in check_triage_policy(only_safety)}
    assert ("unreachable-quadrant", "no ticket can reach Q2") in found
    assert ("unreachable-quadrant", "no ticket can reach Q3") in found
    assert not any("Q1" in m or "Q4" in m for c, m in found if c == "unreachable-quadrant")
    everything_urgent = TriagePolicy(urgency=Scale(threshold="low"))
    messages = {f.message for f in check_triage_policy(everything_urgent) if f.code == "unreachable-quadrant"}
    assert "no ticket can reach Q4" in messages


def test_check_delegates_to_the_matrix_check() -> None:
    crooked = PriorityMatrix(cells=[[2, 1], [3, 4]])
    findings = check_triage_policy(TriagePolicy(matrix=crooked, targets=()))
    assert any(f.code == "matrix.not_monotone" and f.path.startswith("matrix.cells") for f in findings)


def test_check_reports_a_rule_without_effect_and_disordered_targets() -> None:
    from servicetriage.triage import ResolutionTarget  # noqa: PLC0415

    policy = TriagePolicy(
        rules=[Rule(name="noop", when=[Condition(field="category", equals="x")])],
        targets=[
            ResolutionTarget(priority=1, within=timedelta(hours=8)),
            ResolutionTarget(priority=2, within=timedelta(hours=1)),
        ],
    )
    found = {(f.code, f.path) for f in check_triage_policy(policy)}
    assert ("rule-no-effect", "rules[0]") in found
    assert ("target-order", "targets") in found
    assert ("missing-target", "targets") in found


def test_keywords_extend_the_lexicons_and_can_replace_them() -> None:
    extended = TriagePolicy(keywords=Keywords(safety=("mayday",)))
    assert classify(ticket(text="Mayday, mayday"), extended, NOW).quadrant is Quadrant.Q1
    assert classify(ticket(text="SOS"), extended, NOW).quadrant is Quadrant.Q1
    replaced = TriagePolicy(keywords=Keywords(use_defaults=False, safety=("mayday",)))
    assert classify(ticket(text="SOS"), replaced, NOW).quadrant is Quadrant.Q4


def test_declared_urgency_and_money_work_with_enums_and_strings() -> None:
    t = ticket(declared_urgency=DeclaredUrgency.CRITICAL, money_at_stake=Money.parse("200000 CNY"))
    result = classify(t, DEFAULT_POLICY, NOW)
    assert result.quadrant is Quadrant.Q1
    assert result.urgency.name == result.importance.name == "critical"


def test_resolved_ticket_keeps_its_quadrant_from_other_signals() -> None:
    result = classify(ticket(status=TicketStatus.RESOLVED, flags={Flag.SAFETY}), DEFAULT_POLICY, NOW)
    assert result.quadrant is Quadrant.Q1


def test_naive_now_is_rejected_with_a_clear_error() -> None:
    from servicetriage.errors import TicketError  # noqa: PLC0415

    naive = NOW.replace(tzinfo=None)
    for call in (
        lambda: classify(ticket(), DEFAULT_POLICY, naive),
        lambda: classify_many([ticket()], DEFAULT_POLICY, naive),
        lambda: rank([ticket()], DEFAULT_POLICY, naive),
    ):
        with pytest.raises(TicketError, match="now: expected an aware datetime"):
            call()


def test_check_reports_a_declared_urgency_map_that_is_not_monotone() -> None:
    policy = TriagePolicy(declared_urgency={"low": "high", "normal": "low", "high": "high", "critical": "critical"})
    found = {(f.code, f.path) for f in check_triage_policy(policy)}
    assert ("non-monotone-declared-urgency", "declared_urgency.normal") in found


def test_an_overdue_level_below_a_deadline_step_is_rejected() -> None:
    """Past due, a need may not become less urgent than it was just before its due time."""
    with pytest.raises(PolicyError) as caught:
        TriagePolicy(deadline=[DeadlineStep(within=timedelta(hours=1), level="critical")], overdue="high")
    assert str(caught.value) == (
        "triage.overdue: expected a level at least as urgent as every deadline step, "
        "got 'high' below deadline[0].level 'critical'"
    )
