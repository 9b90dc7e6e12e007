"""The learning loop: typical deviations, delegation proposals, false alarms and upkeep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.errors import PolicyError, TicketError
from servicetriage.learning import (
    Drill,
    LearningConfig,
    PenaltyAction,
    PenaltyRule,
    ProposalKind,
    figures,
    penalize,
    propose,
    stale,
)
from servicetriage.model import Money, Quadrant
from servicetriage.review import Deviation, IncidentOutcome, IncidentReport, PlaybookRef
from servicetriage.versions import DocumentRef, apply, create

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def _delay(
    n: int, *, days_ago: int = 1, tier: str = "agent", amount: str = "800 CNY", **changes: object
) -> IncidentReport:
    fields: dict[str, object] = {
        "id": f"R{n}",
        "ticket_id": f"T{n}",
        "owner": "li",
        "opened_at": NOW - timedelta(days=days_ago),
        "category": "flight_delay",
        "quadrant": Quadrant.Q1,
        "deviations": (Deviation(kind="rebooking", authorized_by="li", tier=tier, amount=Money.parse(amount)),),
        "satisfaction_before": 2,
        "satisfaction_after": 4,
    }
    fields.update(changes)
    return IncidentReport(**fields)  # type: ignore[arg-type]


def test_a_deviation_recurring_three_times_becomes_a_playbook_step() -> None:
    reports = [_delay(n, amount=f"{500 + 100 * n} CNY") for n in range(3)]
    (proposal,) = propose(reports, LearningConfig(delegate=False), NOW)
    assert proposal.kind is ProposalKind.PLAYBOOK_STEP
    assert proposal.target.id == "flight_delay"
    assert proposal.trigger == "recurring"
    assert proposal.evidence.incidents == ("R0", "R1", "R2")
    assert proposal.evidence.satisfaction_before == Decimal("2.00")
    assert proposal.evidence.satisfaction_after == Decimal("4.00")
    assert proposal.evidence.max_amount == Money.parse("700 CNY")
    assert proposal.item["action"] == "rebooking"


def test_two_occurrences_are_not_yet_typical_but_an_exemplary_one_is() -> None:
    config = LearningConfig(delegate=False)
    assert propose([_delay(1), _delay(2)], config, NOW) == ()
    (proposal,) = propose([_delay(1, exemplary=True)], config, NOW)
    assert proposal.trigger == "exemplary"
    assert proposal.evidence.exemplary == ("R1",)


def test_reports_outside_the_window_and_false_alarms_do_not_count() -> None:
    config = LearningConfig(delegate=False, window=timedelta(days=30))
    old = [_delay(n, days_ago=40) for n in range(3)]
    alarms = [_delay(n + 10, false_alarm=True, reporter="C1") for n in range(3)]
    assert propose(old + alarms, config, NOW) == ()


def test_deviations_that_mostly_fail_are_not_proposed() -> None:
    reports = [_delay(n, outcome=IncidentOutcome.COMPLAINT) for n in range(3)]
    assert propose(reports, LearningConfig(delegate=False), NOW) == ()


def test_different_conditions_make_different_signatures() -> None:
    reports = [_delay(1), _delay(2), _delay(3, quadrant=Quadrant.Q3)]
    assert propose(reports, LearningConfig(delegate=False), NOW) == ()
    by_category_only = LearningConfig(delegate=False, conditions=())
    assert len(propose(reports, by_category_only, NOW)) == 1


def test_repeated_approvals_at_a_tier_propose_delegation_to_the_tier_below() -> None:
    reports = [_delay(n, tier="supervisor", amount=f"{300 * (n + 1)} CNY") for n in range(4)]
    delegations = [p for p in propose(reports, LearningConfig(), NOW) if p.kind is ProposalKind.DELEGATE_AUTHORITY]
    (proposal,) = delegations
    assert proposal.tier == "agent"
    assert proposal.item["tier"] == "agent"
    assert proposal.item["limits"]["max_amount"] == "1200 CNY"
    assert proposal.target.kind == "authority"


def test_the_lowest_tier_is_never_delegated_further() -> None:
    reports = [_delay(n, tier="agent") for n in range(4)]
    assert all(p.kind is ProposalKind.PLAYBOOK_STEP for p in propose(reports, LearningConfig(), NOW))


def test_a_proposal_creates_a_playbook_then_updates_its_step() -> None:
    config = LearningConfig(delegate=False)
    (first,) = propose([_delay(n) for n in range(3)], config, NOW)
    v1 = apply(None, first.amendment(None), author="lead", at=NOW)
    assert v1.document["steps"][0]["note"].startswith("[learned-rebooking-standard-q1]")
    assert v1.document["version"] == 1
    (again,) = propose([_delay(n, amount="1000 CNY") for n in range(5)], config, NOW)
    v2 = apply(v1, again.amendment(v1), author="lead", at=NOW)
    assert len(v2.document["steps"]) == 1
    assert "up to 1000 CNY" in v2.document["steps"][0]["note"]
    assert v2.document["version"] == 2


def test_an_existing_playbook_gets_a_new_step() -> None:
    base = create(
        DocumentRef(kind="playbook", id="flight_delay"),
        {"id": "flight_delay", "steps": [{"id": "listen"}]},
        author="ops",
        at=NOW,
    )
    (proposal,) = propose([_delay(n) for n in range(3)], LearningConfig(delegate=False), NOW)
    version = apply(base, proposal.amendment(base), author="lead", at=NOW)
    assert [s.get("action") for s in version.document["steps"]] == [None, "rebooking"]


def test_an_authority_proposal_needs_an_existing_policy() -> None:
    reports = [_delay(n, tier="manager") for n in range(3)]
    (delegation,) = [p for p in propose(reports, LearningConfig(), NOW) if p.tier]
    with pytest.raises(PolicyError, match="does not exist yet"):
        delegation.amendment(None)


@settings(max_examples=25)
@given(
    st.lists(sts.incident_reports(opened_at=sts.aware_datetimes(max_value=NOW)), max_size=15, unique_by=lambda r: r.id),
    st.randoms(),
)
def test_proposals_are_deterministic_whatever_the_order(reports: list[IncidentReport], random: object) -> None:
    config = LearningConfig(min_count=2, window=timedelta(days=365))
    first = propose(reports, config, NOW)
    shuffled = list(reports)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert propose(shuffled, config, NOW) == first
    ids = {r.id for r in reports}
    for proposal in first:
        assert set(proposal.evidence.incidents) <= ids
        assert proposal.evidence.count >= len(proposal.evidence.incidents) >= 1


def test_false_alarms_climb_the_penalty_ladder_within_the_window() -> None:
    rule = PenaltyRule(window=timedelta(days=90))
    history: list = []  # type: ignore[type-arg]
    actions = []
    for n in range(4):
        report = _delay(n, false_alarm=True, reporter="C7", deviations=())
        penalty = penalize(report, rule, history, now=NOW + timedelta(days=n))
        assert penalty is not None
        history.append(penalty)
        actions.append(penalty.action)
    assert actions == [PenaltyAction.WARNING, PenaltyAction.WARNING, PenaltyAction.FEE, PenaltyAction.FEE]
    assert history[2].fee == Money.parse("200 CNY")
    # Long after, the count starts again.
    later = penalize(_delay(9, false_alarm=True, reporter="C7"), rule, history, now=NOW + timedelta(days=200))
    assert later is not None
    assert later.count == 1
    # Idempotent for a report already penalised; nothing for a real alarm.
    assert penalize(_delay(0, false_alarm=True, reporter="C7"), rule, history, now=NOW) == history[0]
    assert penalize(_delay(20), rule, history, now=NOW) is None


def test_a_false_alarm_without_a_reporter_is_an_error() -> None:
    with pytest.raises(TicketError, match="reporter: a false alarm needs"):
        penalize(_delay(1, false_alarm=True), PenaltyRule(), (), now=NOW)


def test_stale_lists_playbooks_not_drilled_or_used_in_their_interval() -> None:
    drills = [Drill(playbook_id="sos", at=NOW - timedelta(days=10), by="ops")]
    used = [_delay(1, days_ago=200, playbook=PlaybookRef(id="flight_delay", version=2))]
    playbooks = ["sos", "flight_delay", {"id": "earthquake", "drill_every": timedelta(days=365)}]
    found = stale(playbooks, NOW, drills=drills, reports=used)
    assert [e.playbook_id for e in found] == ["earthquake", "flight_delay"]
    assert found[1].last_use == NOW - timedelta(days=200)
    assert "never drilled or used" in str(found[0])


def test_figures_count_uses_deviations_and_satisfaction_per_playbook() -> None:
    ref = PlaybookRef(id="flight_delay", version=1)
    reports = [_delay(1, playbook=ref), _delay(2, playbook=ref, deviations=(), satisfaction_after=5), _delay(3)]
    (fig,) = figures(reports)
    assert (fig.uses, fig.deviations, fig.satisfaction_after) == (2, 1, Decimal("4.50"))
    assert dict(fig.versions) == {1: 2}


def test_stale_reads_a_real_playbooks_interval_and_last_drill() -> None:
    from servicetriage.playbooks import Playbook, PlaybookStep  # noqa: PLC0415

    plan = Playbook(
        id="typhoon",
        title="Typhoon",
        steps=(PlaybookStep(action="rebooking"),),
        drill_every=timedelta(days=30),
        last_drilled=NOW - timedelta(days=20),
    )
    assert stale([plan], NOW) == ()
    assert [e.playbook_id for e in stale([plan], NOW + timedelta(days=15))] == ["typhoon"]
