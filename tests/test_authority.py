"""Delegated authority: the method's cases, loading, checks and the command line."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from servicetriage import config
from servicetriage.authority import (
    TICKET_FACTS,
    Actor,
    AuthorityPolicy,
    Conditions,
    Delegation,
    Grant,
    Guardrail,
    Limits,
    Outcome,
    Request,
    Tiers,
    Usage,
    authorize,
    check_authority_policy,
    compile_policy,
)
from servicetriage.cli import main
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import (
    ActionKind,
    Customer,
    CustomerTier,
    Level,
    Money,
    ObligationKind,
    Quadrant,
    Ticket,
    Triage,
)

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=CST)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def cny(amount: str) -> Money:
    return Money.parse(f"{amount} CNY")


def ticket(category: str = "flight", customer_tier: CustomerTier = CustomerTier.STANDARD) -> Ticket:
    return Ticket(
        id="T-1",
        opened_at=NOW - timedelta(minutes=20),
        customer=Customer(id="C-1", tier=customer_tier),
        category=category,
    )


def triage(quadrant: Quadrant) -> Triage:
    level = Level(0, "given")
    return Triage(
        ticket_id="T-1",
        quadrant=quadrant,
        priority=quadrant.value,
        urgency=level,
        importance=level,
        due=None,
        reasons=(),
    )


def example_policy() -> AuthorityPolicy:
    policy = config.load_section(EXAMPLES / "authority.toml", "authority", AuthorityPolicy, required=True)
    assert policy is not None
    return policy


def request(
    action: str,
    amount: str | None = None,
    tier: str = "agent",
    person: str = "zhang.min",
    **kwargs: object,
) -> Request:
    # The tickets of these cases state every fact, and the prior usage is what the case passes (none by default).
    values: dict[str, object] = {"ticket": ticket(), "usage": (), "given": TICKET_FACTS}
    values.update(kwargs)
    return Request(
        actor=Actor(id=person, tier=tier),
        action=action,
        amount=cny(amount) if amount is not None else None,
        **values,  # type: ignore[arg-type]
    )


# -------------------------------------------------------------------------- the airline case


def test_frontline_agent_rebooks_a_stranded_passenger_on_another_airline_at_once() -> None:
    decision = authorize(request("rebooking", "2400", triage=triage(Quadrant.Q1)), example_policy(), NOW)
    assert decision.outcome is Outcome.ALLOWED
    assert decision.lowest_tier == "agent"
    assert decision.headroom == cny("600")
    codes = [r.code for r in decision.reasons]
    assert "fallback.delegated_authority" in codes
    kinds = {(o.kind, o.to, o.due) for o in decision.obligations}
    assert (ObligationKind.REPORT_UPWARD, "supervisor", NOW + timedelta(minutes=15)) in kinds
    assert (ObligationKind.FILE_SUMMARY, "supervisor", NOW + timedelta(hours=24)) in kinds


def test_a_matched_contingency_plan_means_no_fallback_to_delegated_authority() -> None:
    decision = authorize(
        request("rebooking", "2400", triage=triage(Quadrant.Q1), playbook="stranded-passenger"), example_policy(), NOW
    )
    assert decision.allowed
    assert "fallback.delegated_authority" not in [r.code for r in decision.reasons]


def test_the_rebooking_grant_is_for_q1_only() -> None:
    decision = authorize(request("rebooking", "2400", triage=triage(Quadrant.Q3)), example_policy(), NOW)
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.lowest_tier == "executive"
    assert ("grant.condition", "agent-rebook-stranded") in [(r.code, r.rule) for r in decision.reasons]


def test_compensation_above_the_agents_grant_needs_a_supervisor_and_a_call_back() -> None:
    decision = authorize(request("compensation", "800"), example_policy(), NOW)
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.lowest_tier == "supervisor"
    assert decision.headroom == cny("300")
    call_backs = [o for o in decision.obligations if o.kind is ObligationKind.CALL_BACK]
    assert [(o.to, o.due) for o in call_backs] == [("customer", NOW + timedelta(hours=2))]
    assert any(o.kind is ObligationKind.REPORT_UPWARD and o.to == "supervisor" for o in decision.obligations)


def test_compensation_within_the_agents_grant_is_allowed_with_no_call_back() -> None:
    decision = authorize(request("compensation", "300"), example_policy(), NOW)
    assert decision.allowed
    assert decision.headroom == cny("0")
    assert not [o for o in decision.obligations if o.kind is ObligationKind.CALL_BACK]


def test_the_angry_customers_refund_beyond_the_agents_limit_goes_to_the_supervisor() -> None:
    policy = example_policy()
    angry = request("refund", "1200")
    decision = authorize(angry, policy, NOW)
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.lowest_tier == "supervisor"
    assert decision.headroom == cny("500")
    assert "call you back" in next(o.note for o in decision.obligations if o.kind is ObligationKind.CALL_BACK)
    approved = Request(
        actor=angry.actor,
        action="refund",
        amount=angry.amount,
        ticket=angry.ticket,
        approver=Actor(id="wang.fang", tier="supervisor"),
    )
    after = authorize(approved, policy, NOW)
    assert after.allowed
    assert "approval.granted" in [r.code for r in after.reasons]


# -------------------------------------------------------------------------- guardrails


def test_a_guardrail_forbids_even_the_executive() -> None:
    decision = authorize(request("refund", "6000", tier="executive", person="ceo"), example_policy(), NOW)
    assert decision.outcome is Outcome.FORBIDDEN
    assert decision.guardrail == "no-cash-refund-above-5000"
    assert decision.lowest_tier is None


def test_the_guardrail_limit_is_inclusive() -> None:
    decision = authorize(request("refund", "5000", tier="manager"), example_policy(), NOW)
    assert decision.allowed


def test_no_refund_on_a_forbidden_category_whatever_the_amount() -> None:
    decision = authorize(request("refund", "1", ticket=ticket("award_ticket")), example_policy(), NOW)
    assert decision.outcome is Outcome.FORBIDDEN
    assert decision.guardrail == "no-refund-on-award-tickets"


def test_a_guardrail_that_needs_the_missing_amount_fails_closed() -> None:
    decision = authorize(request("refund", None, tier="executive", person="ceo"), example_policy(), NOW)
    assert decision.outcome is Outcome.NEEDS_INFO
    assert decision.missing == ("amount",)
    assert ("guardrail.needs_info", "no-cash-refund-above-5000") in [(r.code, r.rule) for r in decision.reasons]


def test_a_guardrail_on_the_quadrant_fails_closed_without_a_triage() -> None:
    policy = AuthorityPolicy(
        grants=[Grant(id="any", tier="agent", action="refund")],
        guardrails=[Guardrail(id="no-q4-refunds", actions={"refund"}, when=Conditions(quadrants={Quadrant.Q4}))],
    )
    assert authorize(request("refund"), policy, NOW).missing == ("triage.quadrant",)
    assert authorize(request("refund", triage=triage(Quadrant.Q4)), policy, NOW).outcome is Outcome.FORBIDDEN
    assert authorize(request("refund", triage=triage(Quadrant.Q1)), policy, NOW).allowed


def test_an_amount_in_another_currency_than_the_guardrail_is_forbidden() -> None:
    eur = Request(actor=Actor(id="a", tier="manager"), action="refund", ticket=ticket(), amount=Money.parse("10 EUR"))
    decision = authorize(eur, example_policy(), NOW)
    assert decision.outcome is Outcome.FORBIDDEN
    assert decision.reasons[0].code == "guardrail.unevaluable"


def test_the_requester_may_not_approve_their_own_request_and_is_told_who_may() -> None:
    own = request("refund", "1200", approver=Actor(id="zhang.min", tier="manager"))
    decision = authorize(own, example_policy(), NOW)
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.guardrail is None
    assert decision.lowest_tier == "supervisor"
    sod = [r for r in decision.reasons if r.code == "guardrail.separation_of_duties"]
    assert len(sod) == 1
    assert "zhang.min may not approve their own request" in sod[0].message
    assert "another approver may: supervisor, manager" in sod[0].message
    # The same request approved by someone else at that tier is allowed.
    other = attrs.evolve(own, approver=Actor(id="wang.fang", tier="supervisor"))
    assert authorize(other, example_policy(), NOW).allowed


def test_a_self_approval_within_the_requesters_own_authority_is_allowed_and_says_so() -> None:
    own = request("refund", "100", approver=Actor(id="zhang.min", tier="manager"))
    decision = authorize(own, example_policy(), NOW)
    assert decision.allowed
    assert any(
        r.code == "guardrail.separation_of_duties" and "own authority is enough" in r.message
        for r in decision.reasons
    )


def test_without_separation_of_duties_a_self_approval_counts() -> None:
    policy = attrs.evolve(example_policy(), separation_of_duties=False)
    own = request("refund", "1200", approver=Actor(id="zhang.min", tier="manager"))
    assert authorize(own, policy, NOW).allowed


def test_an_approver_without_enough_authority_does_not_allow() -> None:
    decision = authorize(
        request("refund", "3000", approver=Actor(id="wang.fang", tier="supervisor")), example_policy(), NOW
    )
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.lowest_tier == "manager"


# -------------------------------------------------------------------------- gaps, info, limits


def test_an_action_no_tier_may_approve_goes_to_the_top_tier_never_allowed() -> None:
    decision = authorize(request("fee_waiver", "10", tier="executive", person="ceo"), example_policy(), NOW)
    assert decision.outcome is Outcome.NEEDS_APPROVAL
    assert decision.lowest_tier == "executive"
    assert decision.reasons[-1].code == "authority.gap"


def test_a_refund_without_an_amount_needs_the_amount() -> None:
    policy = AuthorityPolicy(
        grants=[Grant(id="r", tier="agent", action="refund", limits=Limits(max_amount=cny("500")))]
    )
    decision = authorize(request("refund"), policy, NOW)
    assert decision.outcome is Outcome.NEEDS_INFO
    assert decision.missing == ("amount",)


def test_a_custom_action_kind_can_be_granted() -> None:
    policy = AuthorityPolicy(grants=[Grant(id="lounge", tier="agent", action="lounge_pass")])
    assert authorize(request("lounge_pass"), policy, NOW).allowed
    assert not authorize(request("upgrade"), policy, NOW).allowed


def test_the_count_per_ticket_counts_prior_use_on_this_ticket_only() -> None:
    policy = example_policy()
    vip = ticket(customer_tier=CustomerTier.VIP_PRIVATE)
    first = request("goodwill_gift", "100", ticket=vip)
    assert authorize(first, policy, NOW).allowed
    used_here = Usage(action="goodwill_gift", at=NOW - timedelta(hours=1), amount=cny("100"), ticket_id="T-1")
    used_elsewhere = Usage(action="goodwill_gift", at=NOW - timedelta(hours=1), amount=cny("100"), ticket_id="T-0")
    assert not authorize(request("goodwill_gift", "100", ticket=vip, usage=[used_here]), policy, NOW).allowed
    assert authorize(request("goodwill_gift", "100", ticket=vip, usage=[used_elsewhere]), policy, NOW).allowed


def test_goodwill_gifts_are_for_vip_customers_only() -> None:
    decision = authorize(request("goodwill_gift", "100"), example_policy(), NOW)
    assert not decision.allowed


def test_the_cumulative_limit_counts_usage_within_the_period_only() -> None:
    policy = example_policy()
    recent = Usage(action="compensation", at=NOW - timedelta(days=10), amount=cny("400"))
    old = Usage(action="compensation", at=NOW - timedelta(days=40), amount=cny("400"))
    assert authorize(request("compensation", "200", usage=[old]), policy, NOW).allowed
    blocked = authorize(request("compensation", "250", usage=[recent]), policy, NOW)
    assert blocked.outcome is Outcome.NEEDS_APPROVAL
    assert blocked.headroom == cny("200")
    assert authorize(request("compensation", "200", usage=[recent]), policy, NOW).allowed


def test_a_department_instruction_names_the_department_and_notifies_it() -> None:
    policy = example_policy()
    missing = authorize(request("department_instruction", tier="supervisor"), policy, NOW)
    assert missing.outcome is Outcome.NEEDS_INFO
    assert missing.missing == ("department",)
    decision = authorize(request("department_instruction", tier="supervisor", department="ground_ops"), policy, NOW)
    assert decision.allowed
    [notice] = [o for o in decision.obligations if o.kind is ObligationKind.NOTIFY_DEPARTMENT]
    assert (notice.to, notice.due) == ("ground_ops", NOW + timedelta(hours=1))


# -------------------------------------------------------------------------- delegation


def test_a_delegation_raises_authority_only_within_its_period() -> None:
    policy = example_policy()
    asked = request("refund", "4000", tier="supervisor", person="li.wei")
    during = authorize(asked, policy, NOW)
    assert during.allowed
    assert (during.tier, during.delegation) == ("manager", "may-day-cover")
    before = authorize(asked, policy, datetime(2026, 4, 30, 23, 59, tzinfo=CST))
    assert before.outcome is Outcome.NEEDS_APPROVAL
    assert before.delegation is None
    at_end = authorize(asked, policy, datetime(2026, 5, 6, 0, 0, tzinfo=CST))
    assert not at_end.allowed


def test_a_delegation_covers_only_its_actions_and_its_person() -> None:
    policy = example_policy()
    assert not authorize(request("goodwill_gift", "100", tier="supervisor", person="li.wei"), policy, NOW).allowed
    assert not authorize(request("refund", "4000", tier="supervisor", person="someone.else"), policy, NOW).allowed


# -------------------------------------------------------------------------- tiers and building


def test_tiers_compare_by_rank() -> None:
    tiers = Tiers()
    assert tiers.at_least("executive", "agent")
    assert not tiers.at_least("agent", "supervisor")
    assert tiers.above("manager") == "department_head"
    assert tiers.above("executive") == "executive"
    assert tiers.highest("agent", "manager", "supervisor") == "manager"
    assert (tiers.bottom, tiers.top, len(tiers)) == ("agent", "executive", 5)
    assert "boss" not in tiers
    with pytest.raises(PolicyError, match="unknown tier 'boss'"):
        tiers.rank("boss")


def test_custom_tiers_order_the_authority() -> None:
    policy = AuthorityPolicy(tiers=("l1", "l2"), grants=[Grant(id="g", tier="l2", action="refund")])
    assert authorize(request("refund", tier="l2"), policy, NOW).allowed
    decision = authorize(request("refund", tier="l1"), policy, NOW)
    assert decision.lowest_tier == "l2"
    assert policy.tier_order.top == "l2"


def test_with_grant_returns_a_new_policy_and_leaves_the_old_one() -> None:
    policy = AuthorityPolicy()
    grant = Grant(id="rebook", tier="agent", action=ActionKind.REBOOKING)
    wider = policy.with_grant(grant)
    assert wider.grants == (grant,)
    assert policy.grants == ()
    assert authorize(request("rebooking"), wider, NOW).allowed
    assert wider.without_grant("rebook") == policy
    assert compile_policy(wider) is wider.compiled
    assert wider.grants_for("rebooking") == (grant,)


def test_an_unknown_actor_tier_and_a_naive_now_are_input_errors() -> None:
    policy = example_policy()
    with pytest.raises(TicketError, match=r"request\.actor\.tier: expected one of agent"):
        authorize(request("refund", "1", tier="boss"), policy, NOW)
    with pytest.raises(TicketError, match="now: expected an aware datetime"):
        authorize(request("refund", "1"), policy, datetime(2026, 5, 1, 9, 0))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"grants": [{"id": "a", "tier": "boss", "action": "refund"}]}, "grants[0].tier: expected one of agent"),
        (
            {"grants": [{"id": "a", "tier": "agent", "action": "refund"}, {"id": "a", "tier": "agent", "action": "x"}]},
            "grants[1].id: expected a unique id, got 'a'",
        ),
        (
            {"grants": [{"id": "a", "tier": "agent", "action": "refund", "limits": {"max_amount": "-5 CNY"}}]},
            "grants[0].limits.max_amount: expected money >= 0 such as '500 CNY', got '-5 CNY'",
        ),
        (
            {
                "grants": [
                    {"id": "a", "tier": "agent", "action": "refund", "limits": {"max_total_per_customer": "5 CNY"}}
                ]
            },
            "grants[0].limits.period: expected a duration",
        ),
        (
            {"grants": [{"id": "a", "tier": "agent", "action": "refund", "when": {"quadrants": ["Q5"]}}]},
            "grants[0].when.quadrants: expected one of 'Q1', 'Q2', 'Q3', 'Q4', got 'Q5'",
        ),
        ({"guardrails": [{"id": "g", "colour": "red"}]}, "guardrails[0]"),
        ({"tiers": ["a", "a"]}, "tiers[1]: expected a tier name not listed before"),
        (
            {
                "delegations": [
                    {
                        "id": "d",
                        "to": "p",
                        "tier": "manager",
                        "valid_from": "2026-05-02T00:00:00+08:00",
                        "valid_until": "2026-05-01T00:00:00+08:00",
                    }
                ]
            },
            "delegations[0].valid_until: expected a time after valid_from",
        ),
        ({"deadlines": {"call_back_within": "-1h"}}, "deadlines.call_back_within: expected a duration > 0, got '-1h'"),
    ],
)
def test_bad_policies_name_the_path_of_the_fault(data: dict[str, object], message: str) -> None:
    with pytest.raises(PolicyError) as info:
        config.structure(data, AuthorityPolicy)
    assert message in str(info.value)


def test_the_example_policy_names_the_file_and_section_in_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[authority]\n[[authority.grants]]\nid = "a"\ntier = "agent"\naction = "refund"\n'
        'limits = { max_amount = "lots" }\n'
    )
    with pytest.raises(PolicyError, match=r"bad\.toml: authority\.grants\[0\]\.limits\.max_amount"):
        config.load_section(bad, "authority", AuthorityPolicy)


def test_the_example_policy_round_trips_through_toml_json_and_yaml() -> None:
    policy = example_policy()
    for fmt in ("toml", "json", "yaml"):
        assert config.load(config.dump(policy, fmt), AuthorityPolicy, fmt) == policy


# -------------------------------------------------------------------------- checks


def test_the_example_policy_passes_the_checks_but_for_ungranted_kinds() -> None:
    findings = check_authority_policy(example_policy())
    assert {f.code for f in findings} == {"authority.no_grant"}


def test_checks_find_inverted_duplicate_shadowed_and_blanket_rules() -> None:
    flight = Conditions(categories={"flight"})
    policy = AuthorityPolicy(
        grants=[
            Grant(id="agent", tier="agent", action="refund", when=flight, limits=Limits(max_amount=cny("500"))),
            Grant(id="sup", tier="supervisor", action="refund", when=flight, limits=Limits(max_amount=cny("300"))),
            Grant(id="agent-again", tier="agent", action="refund", when=flight, limits=Limits(max_amount=cny("500"))),
            Grant(
                id="narrow",
                tier="manager",
                action="refund",
                when=Conditions(categories={"flight"}, quadrants={"Q1"}),
                limits=Limits(max_amount=cny("100")),
            ),
            Grant(id="euro", tier="agent", action="refund", limits=Limits(max_amount=Money.parse("50 EUR"))),
        ],
        guardrails=[
            Guardrail(id="nothing-goes", actions={"gift"}),
            Guardrail(id="no-wires", actions={"wire_transfer"}, above=cny("10")),
        ],
    )
    found = {(f.code, f.path) for f in check_authority_policy(policy)}
    assert ("authority.limit_shrinks", "grants[1].limits") in found
    assert ("authority.duplicate_grant", "grants[2]") in found
    assert ("authority.shadowed_grant", "grants[3]") in found
    assert ("authority.forbids_everything", "guardrails[0]") in found
    assert ("authority.unapprovable", "guardrails[0].actions") in found
    assert ("authority.unapprovable", "guardrails[1].actions") in found
    assert ("authority.mixed_currencies", "grants") in found
    assert ("authority.shadowed_grant", "grants[0]") not in found


# -------------------------------------------------------------------------- the command line


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["authorize", "--policy", str(EXAMPLES / "authority.toml"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_the_decision_and_exits_3_when_approval_is_needed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--request", str(EXAMPLES / "request.toml"), "--now", "2026-05-01T09:00:00+08:00")
    assert code == 3
    assert out.startswith("needs_approval: zhang.min (agent) compensation")
    assert "lowest tier that may approve: supervisor" in out
    assert "call_back to customer by 2026-05-01T11:00:00+08:00" in out


def test_cli_json_output_and_exit_codes_follow_the_outcome(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    small = tmp_path / "small.json"
    small.write_text(
        json.dumps(
            {
                "action": "refund",
                "amount": "100 CNY",
                "actor": {"id": "a", "tier": "agent"},
                "ticket": {
                    "id": "T",
                    "opened_at": "2026-05-01T08:00:00+08:00",
                    "category": "flight",
                    "customer": {"id": "C"},
                },
            }
        )
    )
    code, out, _ = run_cli(capsys, "--request", str(small), "--now", "2026-05-01T09:00:00+08:00", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert (document["outcome"], document["lowest_tier"], document["headroom"]) == ("allowed", "agent", "400 CNY")
    big = tmp_path / "big.json"
    big.write_text(small.read_text().replace("100 CNY", "9000 CNY"))
    assert run_cli(capsys, "--request", str(big), "--now", "2026-05-01T09:00:00+08:00")[0] == 1
    none = tmp_path / "none.json"
    none.write_text(small.read_text().replace('"amount": "100 CNY", ', ""))
    assert run_cli(capsys, "--request", str(none), "--now", "2026-05-01T09:00:00+08:00")[0] == 4


def test_cli_reports_bad_input_with_paths_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('action = "refund"\namount = "many"\n[actor]\nid = "a"\ntier = "agent"\n')
    code, _, err = run_cli(capsys, "--request", str(bad), "--now", "2026-05-01T09:00:00+08:00")
    assert code == 2
    assert "bad.toml: amount" in err
    assert "ticket" in err
    code, _, err = run_cli(capsys, "--request", str(EXAMPLES / "request.toml"), "--now", "2026-05-01T09:00:00")
    assert code == 2
    assert "--now" in err


def test_the_cli_decision_matches_the_library() -> None:
    from servicetriage.cli._authority import load_policy, load_request  # noqa: PLC0415

    req = load_request(EXAMPLES / "request.toml")
    assert req.triage is not None
    assert req.triage.quadrant is Quadrant.Q1
    assert req.usage is not None
    assert req.usage[0].amount == Money(Decimal(100), "CNY")
    decision = authorize(req, load_policy(EXAMPLES / "authority.toml"), NOW)
    assert decision.outcome is Outcome.NEEDS_APPROVAL


def test_with_delegation_lends_a_tier_to_a_named_person_for_a_period() -> None:
    policy = example_policy().with_delegation(
        Delegation(id="night", to="chen.jie", tier="supervisor", valid_from=NOW, valid_until=NOW + timedelta(hours=8))
    )
    asked = request("refund", "1500", person="chen.jie")
    assert authorize(asked, policy, NOW + timedelta(hours=7)).allowed
    assert not authorize(asked, policy, NOW + timedelta(hours=8)).allowed
    with pytest.raises(PolicyError, match=r"delegations\[2\]\.tier"):
        policy.with_delegation(
            Delegation(id="x", to="p", tier="boss", valid_from=NOW, valid_until=NOW + timedelta(hours=1))
        )


def test_an_unknown_approver_tier_and_a_naive_usage_time_are_input_errors() -> None:
    with pytest.raises(TicketError, match=r"request\.approver\.tier: expected one of agent"):
        authorize(request("refund", "1", approver=Actor(id="x", tier="boss")), example_policy(), NOW)
    with pytest.raises(TicketError, match=r"usage\.at: expected an aware datetime"):
        Usage(action="refund", at=datetime(2026, 5, 1, 9, 0))


def test_a_request_with_an_empty_actor_id_is_a_ticket_error() -> None:
    with pytest.raises(TicketError, match=r"actor\.id: expected a non-empty string"):
        Actor(id=" ", tier="agent")
    with pytest.raises(TicketError, match=r"request\.action: expected a non-empty string"):
        Request(actor=Actor(id="a", tier="agent"), action="", ticket=ticket())


def test_the_private_fast_constructors_build_objects_equal_to_the_public_ones() -> None:
    from servicetriage.authority import _fast as authority  # noqa: PLC0415
    from servicetriage.model import Obligation, Reason  # noqa: PLC0415

    due = NOW + timedelta(hours=2)
    assert authority._fast_money(Decimal("2.50"), "CNY") == Money(Decimal("2.50"), "CNY")
    made = authority._fast_obligation(ObligationKind.CALL_BACK, due, "customer", "n", "g")
    assert made == Obligation(kind=ObligationKind.CALL_BACK, due=due, to="customer", note="n", rule="g")
    assert hash(made) == hash(Obligation(kind=ObligationKind.CALL_BACK, due=due, to="customer", note="n", rule="g"))
    reason = authority._fast_reason("c", "m", None, authority._NO_EVIDENCE)
    assert reason == Reason("c", "m", None, {})
    public = authorize(request("refund", "100"), example_policy(), NOW)
    fields = [getattr(public, name) for name in authority._DECISION_FIELDS]
    assert authority._fast_decision(*fields) == public
    from servicetriage._fast import constructor  # noqa: PLC0415

    with pytest.raises(TypeError, match="field 'to' has no default and is not among the positional fields"):
        constructor(Obligation, "kind", "due")


def test_an_amount_equal_to_a_limit_is_within_it_and_a_cent_more_is_not() -> None:
    policy = example_policy()
    assert authorize(request("refund", "500"), policy, NOW).headroom == cny("0")
    over = authorize(request("refund", "500.01"), policy, NOW)
    assert (over.outcome, over.lowest_tier, over.headroom) == (Outcome.NEEDS_APPROVAL, "supervisor", cny("500"))


def test_a_higher_tier_grant_that_covers_a_lower_one_with_a_smaller_limit_is_reported() -> None:
    policy = AuthorityPolicy(
        grants=[
            Grant(
                id="agent-flight",
                tier="agent",
                action="refund",
                when=Conditions(categories={"flight"}),
                limits=Limits(max_amount=cny("500")),
            ),
            Grant(id="sup-any", tier="supervisor", action="refund", limits=Limits(max_amount=cny("300"))),
        ]
    )
    [finding] = [f for f in check_authority_policy(policy) if f.code == "authority.limit_shrinks"]
    assert finding.path == "grants[1].limits"
    assert "'agent-flight'" in finding.message


def test_a_grant_that_a_guardrail_always_forbids_is_reported_dead() -> None:
    policy = AuthorityPolicy(
        grants=[
            Grant(id="award", tier="agent", action="refund", when=Conditions(categories={"award_ticket"})),
            Grant(id="flight", tier="agent", action="refund", when=Conditions(categories={"flight"})),
        ],
        guardrails=[Guardrail(id="no-award", actions={"refund"}, when=Conditions(categories={"award_ticket"}))],
    )
    dead = [(f.path, f.message) for f in check_authority_policy(policy) if f.code == "authority.dead_grant"]
    assert dead == [
        ("grants[0]", "grant 'award' never allows anything: guardrail 'no-award' forbids every request it covers")
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"actor": "zhang.min"}, "request.actor: expected an Actor, got 'zhang.min'"),
        ({"ticket": {"id": "T"}}, "request.ticket: expected a Ticket, got {'id': 'T'}"),
        ({"triage": "Q1"}, "request.triage: expected None or a Triage, got 'Q1'"),
        ({"approver": "boss"}, "request.approver: expected None or an Actor, got 'boss'"),
        ({"usage": ["refund"]}, "request.usage[0]: expected a Usage, got 'refund'"),
        ({"amount": Money.parse("-5 CNY")}, "request.amount: expected money >= 0 such as '500 CNY', got '-5 CNY'"),
    ],
)
def test_a_malformed_request_names_the_field_and_the_value(fields: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"actor": Actor(id="a", tier="agent"), "action": "refund", "ticket": ticket()}
    values.update(fields)
    with pytest.raises(TicketError) as info:
        Request(**values)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_a_policy_built_from_the_wrong_objects_names_the_entry() -> None:
    with pytest.raises(PolicyError, match=r"grants\[0\]: expected a Grant, got \{'id': 'g'\}"):
        AuthorityPolicy(grants=[{"id": "g"}])  # type: ignore[list-item]
    with pytest.raises(PolicyError, match=r"grant\.obligations\[0\]: expected an ObligationRule, got 'call'"):
        Grant(id="g", tier="agent", action="refund", obligations=["call"])  # type: ignore[list-item]


def test_the_cumulative_period_excludes_its_first_instant_and_other_customers() -> None:
    policy = example_policy()
    at_start = Usage(action="compensation", at=NOW - timedelta(days=30), amount=cny("400"))
    just_inside = Usage(action="compensation", at=NOW - timedelta(days=30) + timedelta(seconds=1), amount=cny("400"))
    elsewhere = Usage(action="compensation", at=NOW - timedelta(days=1), amount=cny("400"), customer_id="C-9")
    assert authorize(request("compensation", "300", usage=[at_start, elsewhere]), policy, NOW).allowed
    inside = authorize(request("compensation", "300", usage=[just_inside]), policy, NOW)
    assert (inside.outcome, inside.lowest_tier) == (Outcome.NEEDS_APPROVAL, "supervisor")


# -------------------------------------------------------------------------- missing facts fail closed

REGULATOR_POLICY = """
[authority]
[[authority.grants]]
id = "agent-refund"
tier = "agent"
action = "refund"
limits = { max_amount = "500 CNY" }

[[authority.guardrails]]
id = "no-refund-to-regulator-cases"
actions = ["refund"]
when = { channels = ["regulator"] }
"""


@pytest.mark.parametrize(
    ("channel", "code", "shown"),
    [
        (None, 4, "missing: ticket.channel"),
        ("email", 0, "allowed: a (agent) refund"),
        ("regulator", 1, "forbidden by: no-refund-to-regulator-cases"),
    ],
)
def test_a_guardrail_on_the_channel_is_not_bypassed_by_leaving_the_channel_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, channel: str | None, code: int, shown: str
) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text(REGULATOR_POLICY)
    ticket_lines = 'id = "T"\nopened_at = "2026-05-01T08:00:00+08:00"\n'
    if channel is not None:
        ticket_lines += f'channel = "{channel}"\n'
    req = tmp_path / "r.toml"
    req.write_text(
        f'action = "refund"\namount = "100 CNY"\n[actor]\nid = "a"\ntier = "agent"\n'
        f'[ticket]\n{ticket_lines}[ticket.customer]\nid = "C"\n'
    )
    argv = ["authorize", "--policy", str(policy), "--request", str(req), "--now", "2026-05-01T09:00:00+08:00"]
    assert main(argv) == code
    assert shown in capsys.readouterr().out


def _plain_request(**kwargs: object) -> Request:
    base = Ticket(id="T-1", opened_at=NOW - timedelta(minutes=5), customer=Customer(id="C-1"))
    values: dict[str, object] = {"actor": Actor(id="a", tier="agent"), "action": "refund", "ticket": base}
    values.update(kwargs)
    return Request(**values)  # type: ignore[arg-type]


def test_a_ticket_fact_at_its_default_counts_only_when_the_request_says_it_was_given() -> None:
    policy = config.load(REGULATOR_POLICY, dict)["authority"]
    policy = config.structure(policy, AuthorityPolicy)
    unstated = authorize(_plain_request(amount=cny("100")), policy, NOW)
    assert (unstated.outcome, unstated.missing) == (Outcome.NEEDS_INFO, ("ticket.channel",))
    assert unstated.reasons[0].message == "guardrail needs the channel: fails closed"
    stated = _plain_request(amount=cny("100"), given={"ticket.channel"})
    assert stated.known_ticket_facts == {"ticket.channel"}
    assert authorize(stated, policy, NOW).allowed
    chat = _plain_request(amount=cny("100"), ticket=attrs.evolve(_plain_request().ticket, channel="chat"))
    assert chat.known_ticket_facts == {"ticket.channel"}
    assert authorize(chat, policy, NOW).allowed
    both = authorize(_plain_request(), policy, NOW)
    assert both.missing == ("amount", "ticket.channel")
    assert "guardrail needs the channel and the amount: fails closed" not in both.explain()


@pytest.mark.parametrize(
    ("when", "fact"),
    [
        (Conditions(customer_tiers={"standard"}), "ticket.customer.tier"),
        (Conditions(categories={"general"}), "ticket.category"),
        (Conditions(channels={"email"}), "ticket.channel"),
    ],
)
def test_a_grant_on_a_fact_the_request_lacks_needs_it_even_when_the_default_would_satisfy_it(
    when: Conditions, fact: str
) -> None:
    policy = AuthorityPolicy(grants=[Grant(id="g", tier="agent", action="refund", when=when)])
    decision = authorize(_plain_request(), policy, NOW)
    assert (decision.outcome, decision.missing) == (Outcome.NEEDS_INFO, (fact,))
    assert [(r.code, r.rule) for r in decision.reasons] == [("grant.needs_info", "g")]
    assert authorize(_plain_request(given={fact}), policy, NOW).allowed


def test_a_guardrail_on_a_category_applies_to_a_request_whose_category_is_not_given() -> None:
    policy = example_policy()  # no refund on award tickets; refunds up to 500 CNY for agents
    decision = authorize(_plain_request(amount=cny("100")), policy, NOW)
    assert (decision.outcome, decision.missing) == (Outcome.NEEDS_INFO, ("ticket.category",))
    assert authorize(_plain_request(amount=cny("100"), given="ticket.category"), policy, NOW).allowed
    award = attrs.evolve(_plain_request().ticket, category="award_ticket")
    assert authorize(_plain_request(amount=cny("100"), ticket=award), policy, NOW).outcome is Outcome.FORBIDDEN


def test_a_limit_on_prior_usage_needs_the_usage() -> None:
    policy = AuthorityPolicy(
        grants=[
            Grant(id="once", tier="agent", action="rebooking", limits=Limits(max_count_per_ticket=1)),
            Grant(
                id="total",
                tier="agent",
                action="refund",
                limits=Limits(max_total_per_customer=cny("600"), period=timedelta(days=30)),
            ),
        ]
    )
    unknown = authorize(_plain_request(action="rebooking"), policy, NOW)
    assert (unknown.outcome, unknown.missing) == (Outcome.NEEDS_INFO, ("usage",))
    assert authorize(_plain_request(action="rebooking", usage=()), policy, NOW).allowed
    # A record that does not name its ticket counts against this one.
    earlier = Usage(action="rebooking", at=NOW - timedelta(hours=1))
    assert authorize(_plain_request(action="rebooking", usage=[earlier]), policy, NOW).outcome is (
        Outcome.NEEDS_APPROVAL
    )
    no_amount = Usage(action="refund", at=NOW - timedelta(days=1))
    lacking = authorize(_plain_request(amount=cny("100"), usage=[no_amount]), policy, NOW)
    assert (lacking.outcome, lacking.missing) == (Outcome.NEEDS_INFO, ("usage.amount",))
    no_usage = authorize(_plain_request(amount=cny("100")), policy, NOW)
    assert (no_usage.outcome, no_usage.missing) == (Outcome.NEEDS_INFO, ("usage",))
    over = authorize(_plain_request(amount=cny("700"), usage=[no_amount]), policy, NOW)
    assert over.outcome is Outcome.NEEDS_APPROVAL


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"ticket.colour"},
            (
                "request.given: expected one of 'ticket.category', 'ticket.channel', "
                "'ticket.customer.tier', got 'ticket.colour'"
            ),
        ),
        (5, "request.given: expected a set of 'ticket.category', 'ticket.channel', 'ticket.customer.tier', got 5"),
    ],
)
def test_given_names_only_ticket_facts(given: object, message: str) -> None:
    with pytest.raises(TicketError) as info:
        _plain_request(given=given)
    assert str(info.value) == message


def test_a_request_file_states_its_facts_by_its_keys(tmp_path: Path) -> None:
    from servicetriage.cli._authority import load_request  # noqa: PLC0415

    path = tmp_path / "r.json"
    body = {
        "action": "refund",
        "actor": {"id": "a", "tier": "agent"},
        "ticket": {"id": "T", "opened_at": "2026-05-01T08:00:00+08:00", "customer": {"id": "C", "tier": "standard"}},
    }
    path.write_text(json.dumps(body))
    loaded = load_request(path)
    assert loaded.given == {"ticket.customer.tier"}
    assert loaded.usage is None
    path.write_text(json.dumps({**body, "usage": [], "given": ["ticket.channel"]}))
    with pytest.raises(TicketError, match="given: not a request file key"):
        load_request(path)
    path.write_text(json.dumps({**body, "usage": []}))
    assert load_request(path).usage == ()
