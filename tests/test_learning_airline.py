"""The airline case end to end: deviations above the agent's authority become procedure and delegated authority."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from servicetriage.authority import Actor, AuthorityPolicy, Conditions, Grant, Limits, Request, authorize
from servicetriage.authority import Outcome as DecisionOutcome
from servicetriage.config import structure, unstructure
from servicetriage.effect import effect
from servicetriage.errors import TicketError, TransitionError
from servicetriage.learning import LearningConfig, ProposalKind, propose
from servicetriage.model import Customer, Level, Money, Quadrant, Ticket, Triage
from servicetriage.playbooks import Playbook, PlaybookStep, Trigger, match
from servicetriage.review import Deviation, IncidentOutcome, IncidentReport, PlaybookRef, validate_report
from servicetriage.store import Store
from servicetriage.versions import DocumentRef

CST = timezone(timedelta(hours=8))
T0 = datetime(2017, 4, 1, 22, tzinfo=CST)
CNY = Money.parse

POLICY_V1 = AuthorityPolicy(
    grants=(
        Grant(
            id="supervisor-rebooking",
            tier="supervisor",
            action="rebooking",
            when=Conditions(categories={"flight_disruption"}),
            limits=Limits(max_amount=CNY("2000 CNY")),
        ),
    )
)
PLAYBOOK_V1 = Playbook(
    id="flight_disruption",
    title="Flight disruption",
    triggers=(Trigger(categories=frozenset({"flight_disruption"})),),
    steps=(PlaybookStep(action="listen"), PlaybookStep(action="apologise")),
)
AUTHORITY = DocumentRef(kind="authority", id="default")
PLAYBOOK = DocumentRef(kind="playbook", id="flight_disruption")


def _case(n: int, amount: str) -> IncidentReport:
    """Agent Li asks; supervisor Zhao authorizes a partner-flight rebooking the agent may not grant alone."""
    opened = T0 + timedelta(days=n)
    return IncidentReport(
        id=f"R-{n}",
        ticket_id=f"T-{n}",
        owner="agent.li",
        opened_at=opened,
        resolved_at=opened + timedelta(minutes=40),
        category="flight_disruption",
        quadrant=Quadrant.Q1,
        customer_id=f"C-{n}",
        deviations=(
            Deviation(
                kind="rebooking",
                authorized_by="sup.zhao",
                tier="supervisor",
                amount=CNY(amount),
                grant="supervisor-rebooking",
                at=opened + timedelta(minutes=20),
            ),
        ),
        playbook=PlaybookRef(id="flight_disruption", version=1),
        satisfaction_before=1,
        satisfaction_after=4,
    )


def _next_request(amount: str, at: datetime, quadrant: Quadrant = Quadrant.Q1) -> Request:
    ticket = Ticket(
        id="T-next",
        opened_at=at,
        customer=Customer(id="C-next"),
        category="flight_disruption",
    )
    level = Level(0, "as placed")
    triage = Triage(
        ticket_id=ticket.id, quadrant=quadrant, priority=1, urgency=level, importance=level, due=None, reasons=()
    )
    return Request(
        actor=Actor(id="agent.li", tier="agent"),
        action="rebooking",
        ticket=ticket,
        amount=CNY(amount),
        triage=triage,
    )


def test_the_airline_loop_makes_the_next_case_allowed_at_agent_tier(tmp_path: Path) -> None:
    now = T0 + timedelta(days=10)
    with Store(tmp_path / "airline.db") as store:
        store.create(AUTHORITY, unstructure(POLICY_V1), author="ops", at=T0)
        store.create(PLAYBOOK, unstructure(PLAYBOOK_V1), author="ops", at=T0)
        # Under version 1 the agent may not rebook alone.
        before = authorize(_next_request("620 CNY", now), POLICY_V1, now)
        assert before.outcome is DecisionOutcome.NEEDS_APPROVAL
        assert before.lowest_tier == "supervisor"

        # Three reports, each held to the policy in force, each reviewed by someone else.
        for n, amount in enumerate(["480 CNY", "620 CNY", "550 CNY"]):
            report = _case(n, amount)
            store.add_report(report, authority=POLICY_V1)
            at = report.opened_at + timedelta(days=1)
            store.advance_review("report", report.id, "submit", actor="agent.li", at=at, reason="summary complete")
            store.advance_review("report", report.id, "start", actor="sup.zhao", at=at, reason="weekly review")
            store.advance_review("report", report.id, "accept", actor="sup.zhao", at=at, reason="typical case")

        proposals = propose(store.reports("accepted"), LearningConfig(min_count=3), now, authority=POLICY_V1)
        by_kind = {p.kind: p for p in proposals}
        assert set(by_kind) == {ProposalKind.PLAYBOOK_STEP, ProposalKind.DELEGATE_AUTHORITY}
        delegation = by_kind[ProposalKind.DELEGATE_AUTHORITY]
        assert delegation.tier == "agent"
        assert delegation.evidence.incidents == ("R-0", "R-1", "R-2")
        assert delegation.evidence.max_amount == CNY("620 CNY")
        # No broader than its evidence: three Q1 rebookings in one category.
        assert delegation.item["when"] == {"categories": ("flight_disruption",), "quadrants": ("Q1",)}
        assert delegation.notes == (
            (
                "narrower than grant 'supervisor-rebooking' (supervisor): quadrants Q1 (the grant: any); "
                "up to 620 CNY (the grant: 2000 CNY)"
            ),
            "not limited by customer tier or channel: some reports do not record it",
        )

        ids = []
        for proposal in proposals:
            amendment = proposal.amendment(store.head(proposal.target))
            store.propose(amendment, author="agent.li", at=now, reason=proposal.summary)
            with pytest.raises(TransitionError, match="nobody approves their own amendment"):
                store.advance_review("amendment", amendment.id, "approve", actor="agent.li", at=now, reason="mine")
            store.advance_review(
                "amendment", amendment.id, "approve", actor="mgr.wu", at=now, reason="typical deviation", tier="manager"
            )
            ids.append(amendment.id)
        for amendment_id in ids:
            store.apply(amendment_id, actor="mgr.wu", at=now)

        authority_v2 = store.head(AUTHORITY)
        playbook_v2 = store.head(PLAYBOOK)
        assert authority_v2 is not None
        assert playbook_v2 is not None
        assert authority_v2.number == playbook_v2.number == 2
        assert store.verify() == ()
        policy = structure(authority_v2.document, AuthorityPolicy)
        playbook = structure(playbook_v2.document, Playbook)
        # Under version 2 the same evidence proposes no delegation: the policy in force allows it already.
        again = propose(store.reports("accepted"), LearningConfig(min_count=3), now, authority=policy)
        assert [p.kind for p in again] == [ProposalKind.PLAYBOOK_STEP]

    # The next identical case is allowed at agent tier, by procedure, under the new version ...
    later = now + timedelta(days=1)
    decision = authorize(_next_request("620 CNY", later), policy, later)
    assert decision.outcome is DecisionOutcome.ALLOWED
    assert decision.lowest_tier == "agent"
    # ... within the limit the evidence supports, and only for the incidents' category.
    assert authorize(_next_request("621 CNY", later), policy, later).outcome is DecisionOutcome.NEEDS_APPROVAL
    # ... in the quadrant the evidence shows: a Q3 rebooking still needs the supervisor ...
    q3 = authorize(_next_request("300 CNY", later, Quadrant.Q3), policy, later)
    assert q3.outcome is DecisionOutcome.NEEDS_APPROVAL
    assert q3.lowest_tier == "supervisor"
    elsewhere = attrs.evolve(
        _next_request("300 CNY", later), ticket=attrs.evolve(_next_request("1 CNY", later).ticket, category="hotel")
    )
    assert authorize(elsewhere, policy, later).outcome is not DecisionOutcome.ALLOWED
    # The playbook, a real Playbook at version 2, now has the rebooking step and still matches the case.
    assert playbook.version == 2
    assert [s.action for s in playbook.steps] == ["listen", "apologise", "rebooking"]
    assert "up to 620 CNY" in playbook.steps[2].note
    ticket = _next_request("620 CNY", later).ticket
    level = Level(0, "high")
    triage = Triage(
        ticket_id=ticket.id, quadrant=Quadrant.Q1, priority=1, urgency=level, importance=level, due=None, reasons=()
    )
    (found,) = match(ticket, triage, [playbook])
    assert (found.playbook.id, found.playbook.version) == ("flight_disruption", 2)
    # The report of the next case names the new version, has the agent's own deviation, and holds.
    next_report = attrs.evolve(
        _case(20, "620 CNY"),
        deviations=(Deviation(kind="rebooking", authorized_by="agent.li", tier="agent", amount=CNY("620 CNY")),),
        playbook=PlaybookRef(id="flight_disruption", version=2),
    )
    assert validate_report(next_report, policy) is next_report
    with pytest.raises(TicketError, match="lacked the authority"):
        validate_report(next_report, POLICY_V1)


def _year_of_reports(version: int, n: int, *, satisfied: int, complaints: int) -> list[IncidentReport]:
    """A year of hotline incidents handled under one playbook version: *satisfied* and *complaints* in percent."""
    start = T0 + timedelta(days=365 * (version - 1))
    happy, unhappy = n * satisfied // 100, n * complaints // 100
    return [
        IncidentReport(
            id=f"Y{version}-{i}",
            ticket_id=f"TY{version}-{i}",
            owner="agent.li",
            opened_at=start + timedelta(hours=2 * i),
            category="flight_disruption",
            quadrant=Quadrant.Q1,
            playbook=PlaybookRef(id="flight_disruption", version=version),
            outcome=IncidentOutcome.COMPLAINT if i >= n - unhappy else IncidentOutcome.RESOLVED,
            satisfaction_before=2,
            satisfaction_after=(5 if i % 2 else 4) if i < happy else 3,
            escalated=i >= n - 2 * unhappy,
        )
        for i in range(n)
    ]


def test_the_airline_satisfaction_rose_three_points_after_the_amendment() -> None:
    """A year under playbook v1 against a year under v2: satisfied travellers 88% -> 91%, complaints 5% -> 2%.

    The method's own evidence: after the typical deviations became procedure,
    complaints fell and satisfaction rose three points on the year before.
    With a year of incidents on each side the rise is beyond chance.
    """
    before = _year_of_reports(1, 3000, satisfied=88, complaints=5)
    after = _year_of_reports(2, 3000, satisfied=91, complaints=2)
    (found,) = effect([*before, *after], playbook="flight_disruption")
    assert (found.previous, found.version, found.uses_before, found.uses_after) == (1, 2, 3000, 3000)
    satisfied = found.comparison("satisfied")
    assert (satisfied.before.value, satisfied.after.value) == (Decimal("0.88"), Decimal("0.91"))
    assert satisfied.difference == Decimal("0.03")
    assert satisfied.low is not None
    assert satisfied.high is not None
    assert Decimal("0.01") < satisfied.low < satisfied.difference < satisfied.high < Decimal("0.05")
    assert satisfied.verdict == "better"
    complaints = found.comparison("complaints")
    assert complaints.difference == Decimal("-0.03")
    assert complaints.verdict == "better"
    assert found.comparison("escalations").verdict == "better"
    assert found.comparison("satisfaction").verdict == "better"
    # Nothing was recorded about SLA breaches or reuse: nothing is claimed about them.
    assert found.comparison("reuse").before.n == 0
    assert found.comparison("reuse").verdict == "unclear"


def test_three_points_on_a_month_of_incidents_is_not_yet_evidence() -> None:
    """The same three-point rise over 300 incidents a side: the interval spans zero, so the verdict is unclear."""
    before = _year_of_reports(1, 300, satisfied=88, complaints=5)
    after = _year_of_reports(2, 300, satisfied=91, complaints=2)
    (found,) = effect([*before, *after])
    satisfied = found.comparison("satisfied")
    assert satisfied.difference == Decimal("0.03")
    assert satisfied.low is not None
    assert satisfied.low < 0 < Decimal("0.03") < (satisfied.high or 0)
    assert satisfied.verdict == "unclear"
