"""Reports are held to the authority policy through authority.authorize, fact by fact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.authority import AuthorityPolicy, Conditions, Delegation, Grant, Guardrail, Limits, authorize
from servicetriage.authority import Outcome as DecisionOutcome
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import Channel, Money, Quadrant
from servicetriage.review import (
    AuthorityVerdict,
    Deviation,
    IncidentReport,
    check_deviations,
    deviation_request,
    validate_report,
)
from servicetriage.store import Store, authority_check

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
CNY = Money.parse

POLICY = AuthorityPolicy(
    grants=(
        Grant(
            id="agent-rebook-q1",
            tier="agent",
            action="rebooking",
            when=Conditions(quadrants={"Q1"}, categories={"flight"}),
            limits=Limits(max_amount=CNY("3000 CNY"), max_count_per_ticket=1),
        ),
        Grant(
            id="agent-compensation",
            tier="agent",
            action="compensation",
            limits=Limits(max_amount=CNY("300 CNY"), max_total_per_customer=CNY("600 CNY"), period=timedelta(days=30)),
        ),
        Grant(
            id="supervisor-compensation",
            tier="supervisor",
            action="compensation",
            limits=Limits(max_amount=CNY("2000 CNY")),
        ),
        Grant(id="agent-chat-gift", tier="agent", action="goodwill_gift", when=Conditions(channels={Channel.CHAT})),
        Grant(id="exec-refund", tier="executive", action="refund"),
    ),
    guardrails=(Guardrail(id="no-refund-above-5000", actions={"refund"}, above=CNY("5000 CNY")),),
    delegations=(
        Delegation(
            id="night-cover",
            to="li",
            tier="supervisor",
            valid_from=T0,
            valid_until=T0 + timedelta(hours=12),
        ),
    ),
)


def _dev(kind: str, amount: str | None = None, *, tier: str = "agent", by: str = "li", **more: object) -> Deviation:
    return Deviation(kind=kind, authorized_by=by, tier=tier, amount=CNY(amount) if amount else None, **more)  # type: ignore[arg-type]


def _report(*deviations: Deviation, **changes: object) -> IncidentReport:
    fields: dict[str, object] = {
        "id": "R1",
        "ticket_id": "T1",
        "owner": "li",
        "opened_at": T0 + timedelta(days=1),
        "category": "flight",
        "quadrant": Quadrant.Q1,
        "deviations": deviations,
    }
    fields.update(changes)
    return IncidentReport(**fields)  # type: ignore[arg-type]


def _verdicts(report: IncidentReport, **kwargs: object) -> list[AuthorityVerdict]:
    return [c.verdict for c in check_deviations(report, POLICY, **kwargs)]  # type: ignore[arg-type]


def test_a_deviation_within_a_grant_holds() -> None:
    (check,) = check_deviations(_report(_dev("rebooking", "620 CNY")), POLICY)
    assert check.verdict is AuthorityVerdict.HELD
    assert check.decision.lowest_tier == "agent"
    assert validate_report(_report(_dev("rebooking", "620 CNY")), POLICY).id == "R1"


def test_grant_conditions_on_category_and_quadrant_are_judged() -> None:
    assert _verdicts(_report(_dev("rebooking", "620 CNY"), category="hotel")) == [AuthorityVerdict.LACKED]
    assert _verdicts(_report(_dev("rebooking", "620 CNY"), quadrant=Quadrant.Q3)) == [AuthorityVerdict.LACKED]
    with pytest.raises(
        TicketError,
        match=r"report R1\.deviations\[0\]: li at tier 'agent' lacked the authority for 'rebooking' of 620 CNY: "
        r"needs approval; the lowest tier that may approve is executive",
    ):
        validate_report(_report(_dev("rebooking", "620 CNY"), category="hotel"), POLICY)


def test_an_unrecorded_quadrant_is_tried_in_every_quadrant() -> None:
    (check,) = check_deviations(_report(_dev("rebooking", "620 CNY"), quadrant=None), POLICY)
    assert check.verdict is AuthorityVerdict.HELD
    assert dict(check.assumed) == {"quadrant": "Q1"}
    hotel = _report(_dev("rebooking", "620 CNY"), quadrant=None, category="hotel")
    with pytest.raises(TicketError, match=r"lacked the authority for 'rebooking' of 620 CNY under any quadrant"):
        validate_report(hotel, POLICY)


def test_an_unrecorded_channel_is_tried_on_every_channel() -> None:
    assert _verdicts(_report(_dev("goodwill_gift"))) == [AuthorityVerdict.HELD]
    assert _verdicts(_report(_dev("goodwill_gift"), channel=Channel.PHONE)) == [AuthorityVerdict.LACKED]


def test_the_count_per_ticket_includes_the_reports_earlier_deviations() -> None:
    twice = _report(_dev("rebooking", "600 CNY"), _dev("rebooking", "600 CNY"))
    assert _verdicts(twice) == [AuthorityVerdict.HELD, AuthorityVerdict.LACKED]


def test_a_guardrail_forbids_even_the_top_tier() -> None:
    report = _report(_dev("refund", "6000 CNY", tier="executive", by="ceo"))
    with pytest.raises(
        TicketError, match=r"deviations\[0\]: ceo at tier 'executive' .*forbidden by no-refund-above-5000"
    ):
        validate_report(report, POLICY)
    assert _verdicts(_report(_dev("refund", "4000 CNY", tier="executive", by="ceo"))) == [AuthorityVerdict.HELD]


def test_a_missing_amount_leaves_the_deviation_unverified_not_rejected() -> None:
    report = _report(_dev("compensation"))
    (check,) = check_deviations(report, POLICY)
    assert check.verdict is AuthorityVerdict.UNVERIFIED
    assert "cannot be judged without amount" in check.message
    assert validate_report(report, POLICY) is report


def test_a_delegation_counts_only_while_it_is_active() -> None:
    within = _report(_dev("compensation", "1500 CNY", at=T0 + timedelta(hours=2)), opened_at=T0 + timedelta(hours=1))
    after = _report(_dev("compensation", "1500 CNY", at=T0 + timedelta(hours=13)), opened_at=T0 + timedelta(hours=1))
    assert _verdicts(within) == [AuthorityVerdict.HELD]
    assert _verdicts(after) == [AuthorityVerdict.LACKED]


def test_an_unknown_tier_is_named() -> None:
    with pytest.raises(TicketError, match=r"deviations\[0\]\.tier: expected one of the policy's tiers .* got 'intern'"):
        validate_report(_report(_dev("rebooking", "1 CNY", tier="intern")), POLICY)


def test_the_request_carries_what_the_report_records() -> None:
    report = _report(_dev("rebooking", "620 CNY"), customer_id="C1", channel="phone")
    request = deviation_request(report, 0)
    assert (request.actor.id, request.actor.tier, request.action) == ("li", "agent", "rebooking")
    assert (request.ticket.customer.id, request.ticket.channel, request.ticket.category) == (
        "C1",
        Channel.PHONE,
        "flight",
    )
    assert request.triage is not None
    assert request.triage.quadrant is Quadrant.Q1
    assert authorize(request, POLICY, report.opened_at).outcome is DecisionOutcome.ALLOWED
    with pytest.raises(TicketError, match=r"deviations\[1\]: no such deviation"):
        deviation_request(report, 1)


def test_the_store_counts_the_customers_earlier_reports_toward_their_total(tmp_path: Path) -> None:
    first = _report(_dev("compensation", "300 CNY"), customer_id="C1", category="billing")
    second = _report(_dev("compensation", "300 CNY"), id="R2", ticket_id="T2", customer_id="C1", category="billing")
    third = _report(_dev("compensation", "200 CNY"), id="R3", ticket_id="T3", customer_id="C1", category="billing")
    with Store(tmp_path / "s.db") as store:
        store.add_report(first, authority=POLICY)
        store.add_report(second, authority=POLICY)
        with pytest.raises(TicketError, match=r"report R3\.deviations\[0\]: li at tier 'agent' lacked .* supervisor"):
            store.add_report(third, authority=POLICY)
        assert [r.id for r in store.reports()] == ["R1", "R2"]
        # Without a customer id the other reports cannot be matched: only the report's own deviations count.
        store.add_report(
            _report(_dev("compensation", "200 CNY"), id="R4", ticket_id="T4", category="billing"), authority=POLICY
        )


def test_authority_check_loads_a_policy_file_and_names_bad_input(tmp_path: Path) -> None:
    policy = authority_check(Path("examples/authority.toml"))
    assert isinstance(policy, AuthorityPolicy)
    assert authority_check(POLICY) is POLICY
    bad = tmp_path / "a.toml"
    bad.write_text('[authority]\ntiers = ["agent"]\n[[authority.grants]]\nid = "g"\ntier = "boss"\naction = "refund"\n')
    with pytest.raises(PolicyError, match=r"a.toml: authority.*grants\[0\]\.tier: expected one of agent, got 'boss'"):
        authority_check(bad)
    with pytest.raises(PolicyError, match=r"authority: expected an AuthorityPolicy, a policy file or .* got 42"):
        authority_check(42)


_REPORTS = sts.incident_reports(
    opened_at=st.just(datetime(2026, 5, 1, 9, tzinfo=UTC)),
    categories=st.sampled_from(["flight", "billing", "ride"]),
    deviations=sts.deviations(
        kinds=st.sampled_from(["refund", "compensation", "rebooking"]),
        tiers=st.sampled_from(["agent", "supervisor", "manager"]),
    ),
)


@settings(max_examples=60, deadline=None)
@given(sts.authority_policies(max_grants=6), _REPORTS)
def test_a_fact_left_out_never_rejects_what_some_recorded_value_allows(
    policy: AuthorityPolicy, report: IncidentReport
) -> None:
    open_report = attrs.evolve(report, quadrant=None, channel=None)
    verdicts = [c.verdict for c in check_deviations(open_report, policy)]
    for quadrant in Quadrant:
        for channel in Channel:
            recorded = attrs.evolve(report, quadrant=quadrant, channel=channel)
            for check, verdict in zip(check_deviations(recorded, policy), verdicts, strict=True):
                if verdict is AuthorityVerdict.LACKED:
                    assert check.verdict is AuthorityVerdict.LACKED
                if check.verdict is AuthorityVerdict.HELD:
                    assert verdict is AuthorityVerdict.HELD
                # Each verdict agrees with what authorize says for the recorded facts.
                request = deviation_request(recorded, check.index)
                decision = authorize(request, policy, recorded.deviations[check.index].at or recorded.opened_at)
                assert (decision.outcome is DecisionOutcome.ALLOWED) == (check.verdict is AuthorityVerdict.HELD)
