"""Proposals no broader than their evidence, and aware of the grants already in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage._scope import against
from servicetriage.authority import AuthorityPolicy, Conditions, Grant, Limits
from servicetriage.errors import PolicyError
from servicetriage.learning import LearningConfig, Proposal, ProposalKind, Scope, propose
from servicetriage.model import Channel, CustomerTier, Money, Quadrant
from servicetriage.review import Deviation, IncidentReport

NOW = datetime(2026, 4, 1, tzinfo=UTC)
CNY = Money.parse


def _rebooking(
    n: int, *, quadrant: Quadrant | None = Quadrant.Q1, amount: str = "600 CNY", **fields: object
) -> IncidentReport:
    return IncidentReport(
        id=f"R{n}",
        ticket_id=f"T{n}",
        owner="li",
        opened_at=NOW - timedelta(days=n + 1),
        category="flight_disruption",
        quadrant=quadrant,
        deviations=(Deviation(kind="rebooking", authorized_by="zhao", tier="supervisor", amount=CNY(amount)),),
        **fields,  # type: ignore[arg-type]
    )


def _delegation(reports: list[IncidentReport], authority: AuthorityPolicy | None = None) -> Proposal | None:
    found = [p for p in propose(reports, LearningConfig(), NOW, authority=authority) if p.tier is not None]
    assert len(found) <= 1
    return found[0] if found else None


def test_three_supervisor_rebookings_in_q1_delegate_rebooking_in_q1_only() -> None:
    """The evidence is three Q1 rebookings by phone for business VIPs: so is the grant."""
    reports = [_rebooking(n, channel=Channel.PHONE, customer_tier=CustomerTier.VIP_BUSINESS) for n in range(3)]
    proposal = _delegation(reports)
    assert proposal is not None
    assert proposal.item["when"] == {
        "categories": ("flight_disruption",),
        "quadrants": ("Q1",),
        "customer_tiers": ("vip_business",),
        "channels": ("phone",),
    }
    assert "for flight_disruption; quadrants Q1; customer tiers vip_business; channels phone" in proposal.summary
    assert proposal.notes == ()


def test_the_grant_holds_for_every_quadrant_and_tier_seen_and_no_other() -> None:
    """Rebookings in Q1 and Q2, for business and private VIPs: the grant names those values only."""
    reports = [
        _rebooking(0, customer_tier=CustomerTier.VIP_PRIVATE),
        _rebooking(1, quadrant=Quadrant.Q2, customer_tier=CustomerTier.VIP_PRIVATE),
        _rebooking(2, customer_tier=CustomerTier.VIP_BUSINESS),
    ]
    proposal = _delegation(reports)
    assert proposal is not None
    assert proposal.item["when"]["quadrants"] == ("Q1", "Q2")
    assert proposal.item["when"]["customer_tiers"] == ("vip_business", "vip_private")


def test_a_fact_some_report_leaves_out_is_no_condition_and_the_proposal_says_so() -> None:
    """One report of three has no quadrant: the grant cannot hold for it with a quadrant condition."""
    reports = [_rebooking(0), _rebooking(1), _rebooking(2, quadrant=None)]
    proposal = _delegation(reports)
    assert proposal is not None
    assert "quadrants" not in proposal.item["when"]
    assert "not limited by quadrant or customer tier or channel: some reports do not record it" in proposal.notes


def test_a_default_customer_tier_is_not_taken_for_a_recorded_one() -> None:
    """Standard is the tier a report holds when none was given: it makes no condition, as in authorize."""
    proposal = _delegation([_rebooking(n) for n in range(3)])
    assert proposal is not None
    assert "customer_tiers" not in proposal.item["when"]
    assert proposal.evidence.scope.unrecorded == ("customer tier", "channel")


def test_a_delegation_the_policy_already_allows_is_not_proposed() -> None:
    """Agents may already rebook in Q1 up to 800 CNY: nothing to delegate."""
    policy = AuthorityPolicy(
        grants=[
            Grant(
                id="agent-rebooking",
                tier="agent",
                action="rebooking",
                when=Conditions(quadrants={"Q1", "Q2"}),
                limits=Limits(max_amount=CNY("800 CNY")),
            )
        ]
    )
    assert _delegation([_rebooking(n) for n in range(3)], policy) is None
    # A grant in another quadrant, or a smaller limit, does not cover it: the proposal says what it extends.
    narrow = AuthorityPolicy(
        grants=[
            Grant(
                id="agent-rebooking",
                tier="agent",
                action="rebooking",
                when=Conditions(quadrants={"Q3"}),
                limits=Limits(max_amount=CNY("300 CNY")),
            )
        ]
    )
    proposal = _delegation([_rebooking(n) for n in range(3)], narrow)
    assert proposal is not None
    assert proposal.notes[0] == (
        "extends grant 'agent-rebooking' (agent): quadrants Q1 (the grant: Q3); up to 600 CNY (the grant: 300 CNY)"
    )


def test_a_capped_grant_does_not_count_as_allowing_everything() -> None:
    """An agent grant with a per-ticket cap leaves room: the proposal is made and names the cap."""
    policy = AuthorityPolicy(
        grants=[Grant(id="g", tier="agent", action="rebooking", limits=Limits(max_count_per_ticket=1))]
    )
    proposal = _delegation([_rebooking(n) for n in range(3)], policy)
    assert proposal is not None
    assert proposal.notes[0] == "extends grant 'g' (agent): without the grant's cap (at most 1 per ticket)"


def test_a_tier_the_policy_does_not_know_is_named() -> None:
    """Learning tiers that differ from the policy's: the error names learning.tiers and the tier."""
    policy = AuthorityPolicy(tiers=("frontline", "lead"))
    reports = [attrs_evolve_tier(_rebooking(n), "lead") for n in range(3)]
    config = LearningConfig(tiers=("agent", "lead"))
    with pytest.raises(PolicyError, match=r"learning\.tiers: tier 'agent' is not a tier of the authority policy"):
        propose(reports, config, NOW, authority=policy)


def attrs_evolve_tier(report: IncidentReport, tier: str) -> IncidentReport:
    import attrs  # noqa: PLC0415

    deviation = attrs.evolve(report.deviations[0], tier=tier)
    return attrs.evolve(report, deviations=(deviation,))


_REPORTS = st.lists(
    sts.incident_reports(
        opened_at=st.integers(1, 29 * 24).map(lambda h: NOW - timedelta(hours=h)),
        categories=st.sampled_from(["flight", "hotel"]),
        deviations=sts.deviations(
            kinds=st.sampled_from(["rebooking", "refund"]),
            tiers=st.sampled_from(["supervisor", "manager"]),
            amounts=st.none() | st.integers(1, 900).map(lambda n: Money.parse(f"{n} CNY")),
        ),
        false_alarm=st.just(False),
    ),
    max_size=10,
    unique_by=lambda r: r.id,
)


@given(_REPORTS, st.none() | sts.authority_policies())
def test_a_proposal_holds_for_its_evidence_and_never_widens_beyond_it(
    reports: list[IncidentReport], policy: AuthorityPolicy | None
) -> None:
    """Every report behind a proposal meets its conditions; each condition names only values the reports show."""
    by_id = {r.id: r for r in reports}
    config = LearningConfig(min_count=2, min_success_rate=0)
    proposals = propose(reports, config, NOW, authority=policy)
    for proposal in proposals:
        evidence = [by_id[i] for i in proposal.evidence.incidents]
        scope = proposal.evidence.scope
        assert scope == Scope.of(evidence)
        assert all(scope.holds_for(r) for r in evidence)
        assert set(scope.quadrants) <= {r.quadrant.name for r in evidence if r.quadrant is not None}
        assert set(scope.channels) <= {r.channel.value for r in evidence if r.channel is not None}
        assert set(scope.customer_tiers) <= {r.customer_tier.value for r in evidence}
        assert set(scope.categories) == {r.category for r in evidence}  # never the default 'general' here
        # A fact every report records is always kept as a condition.
        if all(r.quadrant is not None for r in evidence):
            assert scope.quadrants
        if all(r.channel is not None for r in evidence):
            assert scope.channels
        if all(r.customer_tier is not CustomerTier.STANDARD for r in evidence):
            assert scope.customer_tiers
        if proposal.kind is ProposalKind.DELEGATE_AUTHORITY:
            assert {k: list(v) for k, v in proposal.item["when"].items()} == scope.when()
            if policy is not None:
                assert proposal.tier is not None
                relation = against(
                    policy,
                    action=proposal.signature.kind,
                    tier=proposal.tier,
                    scope=scope,
                    limit=proposal.evidence.max_amount,
                )
                assert relation.covered_by is None  # the policy in force does not allow it yet
            grant = Grant(id="x", tier="agent", action="x", when=scope.conditions)
            assert all(
                (not grant.when.quadrants or (r.quadrant is not None and r.quadrant.name in grant.when.quadrants))
                and (not grant.when.customer_tiers or r.customer_tier in grant.when.customer_tiers)
                and (not grant.when.channels or r.channel in grant.when.channels)
                and (not grant.when.categories or r.category in grant.when.categories)
                for r in evidence
            )
