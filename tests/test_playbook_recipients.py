"""Plans address real recipients; the seven-step call-back is promised only when the agent lacks the authority."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest

from servicetriage.authority import AuthorityPolicy, Outcome, authorize
from servicetriage.cli._authority import load_request
from servicetriage.config import load_section
from servicetriage.errors import PolicyError
from servicetriage.model import Customer, Money, ObligationKind, Ticket
from servicetriage.playbooks import ANGRY_CUSTOMER, RIDE_SAFETY_SOS, PlaybookStep, start_playbook

EXAMPLES = Path(__file__).parent.parent / "examples"
T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
TICKET = Ticket(id="T1", opened_at=T0, customer=Customer(id="C1"), text="This is unacceptable!")


def _decision(amount: str) -> object:
    policy = load_section(EXAMPLES / "authority.toml", "authority", AuthorityPolicy, required=True)
    assert policy is not None
    request = load_request(EXAMPLES / "request.toml")
    return authorize(attrs.evolve(request, amount=Money.parse(amount), usage=()), policy, T0)


def test_the_call_back_is_pending_until_authorize_decides() -> None:
    """Without a decision step 5 makes no promise yet; it is marked pending and addressed to the customer."""
    step = start_playbook(ANGRY_CUSTOMER, TICKET, T0)[4]
    assert (step.to, step.obligation, step.pending) == ("customer", ObligationKind.CALL_BACK, True)
    assert step.as_obligation() is None


def test_an_agent_without_the_authority_promises_the_call_back_to_the_customer() -> None:
    """A decision that is not ALLOWED keeps the call-back, owed to the customer, not to the owner."""
    decision = _decision("100000 CNY")
    assert decision.outcome is not Outcome.ALLOWED  # type: ignore[attr-defined]
    obligation = start_playbook(ANGRY_CUSTOMER, TICKET, T0, decision=decision)[4].as_obligation()  # type: ignore[arg-type]
    assert obligation is not None
    assert (obligation.kind, obligation.to) == (ObligationKind.CALL_BACK, "customer")


def test_an_agent_with_the_authority_acts_and_promises_nothing() -> None:
    """An ALLOWED decision drops the call-back: the agent solves it on the spot."""
    decision = _decision("50 CNY")
    assert decision.outcome is Outcome.ALLOWED  # type: ignore[attr-defined]
    step = start_playbook(ANGRY_CUSTOMER, TICKET, T0, decision=decision)[4]  # type: ignore[arg-type]
    assert step.obligation is None
    assert step.as_obligation() is None
    assert "holds the authority" in step.note


def test_the_sos_plan_notifies_the_police_the_safety_team_and_the_customer() -> None:
    """The SOS plan's recipients are parties, not 'owner'."""
    steps = start_playbook(RIDE_SAFETY_SOS, TICKET, T0)
    assert [s.to for s in steps[:5]] == ["customer", "police", "safety_team", "executive", "customer"]
    police = steps[1].as_obligation()
    assert police is not None
    assert police.to == "police"
    team = steps[2].as_obligation()
    assert team is not None
    assert (team.kind, team.to) == (ObligationKind.NOTIFY_DEPARTMENT, "safety_team")


def test_a_conditional_step_needs_an_obligation() -> None:
    """without_authority with nothing to make conditional is an error naming the field."""
    with pytest.raises(PolicyError, match=r"playbookstep.without_authority: true needs an obligation"):
        PlaybookStep(action="Propose a solution", without_authority=True)
