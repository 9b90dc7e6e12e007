"""The typed bridge: amendments to real playbooks and authority policies load back as typed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.authority import AuthorityPolicy, Grant, Limits
from servicetriage.config import structure
from servicetriage.errors import TicketError
from servicetriage.learning import LearningConfig, ProposalKind, propose
from servicetriage.model import Money, Quadrant
from servicetriage.playbooks import Playbook, PlaybookStep, Trigger
from servicetriage.review import Deviation, IncidentReport, validate_report
from servicetriage.store import authority_check, document_as, document_of
from servicetriage.versions import DocumentRef, Version, apply, create

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def _reports(tier: str) -> list[IncidentReport]:
    return [
        IncidentReport(
            id=f"R{n}",
            ticket_id=f"T{n}",
            owner="li",
            opened_at=NOW - timedelta(days=n + 1),
            category="flight_disruption",
            quadrant=Quadrant.Q1,
            deviations=(Deviation(kind="rebooking", authorized_by="zhao", tier=tier, amount=Money.parse("600 CNY")),),
        )
        for n in range(3)
    ]


def test_a_learned_step_lands_in_a_real_playbook() -> None:
    playbook = Playbook(
        id="flight_disruption",
        title="Flight disruption",
        triggers=(Trigger(categories=frozenset({"flight_disruption"})),),
        steps=(PlaybookStep(action="listen"),),
    )
    target = DocumentRef(kind="playbook", id="flight_disruption")
    v1 = create(target, document_of(playbook), author="ops", at=NOW)
    (proposal,) = propose(_reports("agent"), LearningConfig(delegate=False), NOW)
    v2 = apply(v1, proposal.amendment(v1), author="lead", at=NOW)
    amended = document_as(v2, Playbook)
    assert amended.version == 2
    assert [s.action for s in amended.steps] == ["listen", "rebooking"]
    assert amended.steps[1].authority == "agent"


def test_a_new_learned_playbook_is_a_valid_playbook() -> None:
    (proposal,) = propose(_reports("agent"), LearningConfig(delegate=False), NOW)
    created = document_as(apply(None, proposal.amendment(None), author="lead", at=NOW), Playbook)
    assert created.steps[0].action == "rebooking"


def test_a_delegation_lets_the_tier_below_take_the_deviation() -> None:
    policy = AuthorityPolicy(
        grants=(
            Grant(
                id="sup-rebook",
                tier="supervisor",
                action="rebooking",
                limits=Limits(max_amount=Money.parse("2000 CNY")),
            ),
        )
    )
    reports = _reports("supervisor")
    for report in reports:
        assert validate_report(report, policy) is report
    agent_case = Deviation(kind="rebooking", authorized_by="li", tier="agent", amount=Money.parse("500 CNY"))
    report = IncidentReport(
        id="R9", ticket_id="T9", owner="li", opened_at=NOW, category="flight_disruption", deviations=(agent_case,)
    )
    with pytest.raises(TicketError, match=r"R9\.deviations\[0\]: li at tier 'agent' lacked the authority"):
        validate_report(report, policy)
    target = DocumentRef(kind="authority", id="default")
    v1 = create(target, document_of(policy), author="ops", at=NOW)
    (delegation,) = [p for p in propose(reports, LearningConfig(), NOW) if p.kind is ProposalKind.DELEGATE_AUTHORITY]
    amended = document_as(apply(v1, delegation.amendment(v1), author="board", at=NOW), AuthorityPolicy)
    assert authority_check(amended) is amended
    assert validate_report(report, amended) is report
    too_much = attrs.evolve(report, deviations=(attrs.evolve(agent_case, amount=Money.parse("700 CNY")),))
    with pytest.raises(TicketError, match="lacked the authority for 'rebooking' of 700 CNY"):
        validate_report(too_much, amended)


_BASE_POLICY = AuthorityPolicy(
    grants=(Grant(id="sup-refund", tier="supervisor", action="refund", limits=Limits(max_amount=Money.parse("1 CNY"))),)
)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        sts.incident_reports(
            opened_at=sts.aware_datetimes(min_value=NOW - timedelta(days=20), max_value=NOW),
            deviations=sts.deviations(kinds=st.sampled_from(["refund", "rebooking"])),
        ),
        max_size=12,
        unique_by=lambda r: r.id,
    ),
    st.booleans(),
)
def test_every_proposal_applies_to_a_document_that_loads_as_its_type(
    reports: list[IncidentReport], existing: bool
) -> None:
    config = LearningConfig(min_count=2)
    heads: dict[DocumentRef, Version | None] = {DocumentRef(kind="authority", id="default"): None}
    for proposal in propose(reports, config, NOW):
        target = proposal.target
        if target not in heads:
            playbook = Playbook(id=target.id, title="Plan", steps=(PlaybookStep(action="listen"),))
            heads[target] = create(target, document_of(playbook), author="ops", at=NOW) if existing else None
        if heads[target] is None and target.kind == "authority":
            heads[target] = create(target, document_of(_BASE_POLICY), author="ops", at=NOW)
        version = apply(heads[target], proposal.amendment(heads[target]), author="lead", at=NOW)
        heads[target] = version
        if target.kind == "playbook":
            playbook = structure(version.document, Playbook)
            assert any(s.action == proposal.signature.kind for s in playbook.steps)
        else:
            policy = structure(version.document, AuthorityPolicy)
            assert proposal.item["id"] in {g.id for g in policy.grants}
