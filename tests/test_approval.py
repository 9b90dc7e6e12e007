"""Who may approve an amendment: authority is given from above (an agent cannot approve a delegation to agents)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage.approval import check_approver, empowered_tiers
from servicetriage.cli import main
from servicetriage.errors import TransitionError
from servicetriage.model import DEFAULT_TIERS
from servicetriage.store import Store
from servicetriage.versions import Amendment, DocumentRef, Operation

AUTHORITY = DocumentRef(kind="authority", id="default")
PLAYBOOK = DocumentRef(kind="playbook", id="flight_disruption")
T0 = datetime(2026, 5, 1, 9, tzinfo=timezone(timedelta(hours=8)))

BASE_POLICY: dict[str, Any] = {
    "grants": [
        {"id": "sup-rebook", "tier": "supervisor", "action": "rebooking", "limits": {"max_amount": "3000 CNY"}},
        {"id": "agent-refund", "tier": "agent", "action": "refund", "limits": {"max_amount": "500 CNY"}},
    ]
}


def amendment(target: DocumentRef, *operations: Operation) -> Amendment:
    return Amendment(id="A-1", target=target, base="base-hash", operations=operations)


def add_grant(tier: str, action: str = "rebooking") -> Amendment:
    value = {"id": f"{tier}-{action}", "tier": tier, "action": action}
    return amendment(AUTHORITY, Operation(op="add", path="grants", value=value))


# -------------------------------------------------------------------------- the method's cases


def test_an_agent_cannot_approve_a_delegation_to_agents() -> None:
    with pytest.raises(TransitionError) as raised:
        check_approver(add_grant("agent"), BASE_POLICY, tier="agent")
    message = str(raised.value)
    assert "amendment A-1: changes the authority of agent" in message
    assert "an approver of tier agent may not approve it" in message
    assert "supervisor, manager, department_head, executive may" in message


def test_a_supervisor_may_approve_a_delegation_to_agents() -> None:
    check_approver(add_grant("agent"), BASE_POLICY, tier="supervisor")
    check_approver(add_grant("agent"), BASE_POLICY, tier="executive")


def test_raising_a_supervisors_limit_needs_a_manager() -> None:
    raise_limit = amendment(AUTHORITY, Operation(op="set", path="grants[0].limits.max_amount", value="9000 CNY"))
    assert empowered_tiers(raise_limit, BASE_POLICY) == ("supervisor",)
    with pytest.raises(TransitionError, match="tier supervisor may not approve"):
        check_approver(raise_limit, BASE_POLICY, tier="supervisor")
    check_approver(raise_limit, BASE_POLICY, tier="manager")


def test_taking_authority_away_is_also_decided_from_above() -> None:
    remove = amendment(AUTHORITY, Operation(op="remove", path="grants[1]"))
    assert empowered_tiers(remove, BASE_POLICY) == ("agent",)


def test_rewording_a_grant_changes_nobodys_authority_and_needs_no_tier() -> None:
    reword = amendment(AUTHORITY, Operation(op="set", path="grants[1].note", value="by procedure"))
    assert empowered_tiers(reword, BASE_POLICY) == ()
    check_approver(reword, BASE_POLICY, tier=None)


def test_a_delegation_to_a_person_counts_for_its_tier() -> None:
    value = {"id": "d1", "to": "li", "tier": "manager", "valid_from": "2026-05-01T00:00:00+08:00"}
    lend = amendment(AUTHORITY, Operation(op="set", path="delegations", value=[value]))
    assert empowered_tiers(lend, BASE_POLICY) == ("manager",)
    with pytest.raises(TransitionError, match="one of department_head, executive may"):
        check_approver(lend, BASE_POLICY, tier="manager")


def test_a_playbook_step_taken_at_a_tier_is_a_delegation_to_it() -> None:
    base = {"id": "flight_disruption", "steps": [{"action": "listen"}]}
    step = {"action": "rebooking", "authority": "agent", "note": "rebook by procedure"}
    add = amendment(PLAYBOOK, Operation(op="add", path="steps", value=step))
    assert empowered_tiers(add, base) == ("agent",)
    with pytest.raises(TransitionError, match="name the approver's tier"):
        check_approver(add, base, tier=None)
    with pytest.raises(TransitionError, match="unknown approver tier 'boss'"):
        check_approver(add, base, tier="boss")
    check_approver(add, base, tier="supervisor")


def test_the_tier_order_is_the_policys_own() -> None:
    base = {"tiers": ["clerk", "lead"], "grants": []}
    with pytest.raises(TransitionError, match="one of lead may"):
        check_approver(add_grant("clerk"), base, tier="clerk")
    check_approver(add_grant("clerk"), base, tier="lead")


# -------------------------------------------------------------------------- properties


@given(granted=st.sampled_from(DEFAULT_TIERS), approver=st.sampled_from(DEFAULT_TIERS))
def test_an_approver_may_approve_exactly_when_above_the_tier_given_authority(granted: str, approver: str) -> None:
    above = DEFAULT_TIERS.index(approver) > DEFAULT_TIERS.index(granted)
    try:
        check_approver(add_grant(granted), BASE_POLICY, tier=approver)
    except TransitionError:
        assert not above
    else:
        assert above


@given(
    tiers=st.lists(st.sampled_from(DEFAULT_TIERS), min_size=1, max_size=4),
    approver=st.sampled_from(DEFAULT_TIERS),
)
def test_a_higher_approver_may_approve_whatever_a_lower_one_may(tiers: list[str], approver: str) -> None:
    operations = [
        Operation(op="add", path="grants", value={"id": f"g{i}", "tier": t, "action": "refund"})
        for i, t in enumerate(tiers)
    ]
    change = amendment(AUTHORITY, *operations)
    assert set(empowered_tiers(change, BASE_POLICY)) == set(tiers)
    rank = DEFAULT_TIERS.index(approver)

    def may(tier: str) -> bool:
        try:
            check_approver(change, BASE_POLICY, tier=tier)
        except TransitionError:
            return False
        return True

    if may(approver):
        assert all(may(higher) for higher in DEFAULT_TIERS[rank:])


# -------------------------------------------------------------------------- the store and the command line


def _proposed(path: Path) -> str:
    with Store(path) as store:
        head = store.create(AUTHORITY, BASE_POLICY, author="ops", at=T0)
        change = Amendment(
            id="A-agents",
            target=AUTHORITY,
            base=head.hash,
            operations=[
                Operation(op="add", path="grants", value={"id": "agent-rebook", "tier": "agent", "action": "rebooking"})
            ],
        )
        store.propose(change, author="li", at=T0)
    return change.id


def test_the_store_refuses_an_approval_from_below_and_keeps_the_amendment_proposed(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    amendment_id = _proposed(path)
    with Store(path) as store:
        with pytest.raises(TransitionError, match="changes the authority of agent"):
            store.advance_review("amendment", amendment_id, "approve", actor="zhang", at=T0, reason="ok", tier="agent")
        with pytest.raises(TransitionError, match="name the approver's tier"):
            store.advance_review("amendment", amendment_id, "approve", actor="zhang", at=T0, reason="ok")
        assert store.review("amendment", amendment_id).state.value == "proposed"
        store.advance_review("amendment", amendment_id, "approve", actor="wang", at=T0, reason="ok", tier="supervisor")
        assert store.review("amendment", amendment_id).state.value == "approved"


def test_review_approve_names_the_tiers_that_may_approve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.db"
    amendment_id = _proposed(path)
    common = ["--reason", "ok", "--at", T0.isoformat(), "--store", str(path)]
    assert main(["review", "approve", amendment_id, "--actor", "zhang", "--tier", "agent", *common]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "supervisor, manager, department_head, executive may" in err[0]
    assert main(["review", "approve", amendment_id, "--actor", "wang", "--tier", "supervisor", *common]) == 0
    assert "approved" in capsys.readouterr().out
