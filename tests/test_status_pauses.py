"""A status history becomes pause intervals: the statuses a policy lists stop the SLA clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import Customer, Ticket, TicketStatus
from servicetriage.signals import status_key, status_pauses
from servicetriage.triage import TriagePolicy, classify

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)


def test_pending_and_waiting_on_customer_pause_the_clock_as_zendesk_and_jira_do() -> None:
    """Each stretch in a pausing status is a pause; the last one is still open."""
    policy = TriagePolicy(pause_statuses=("pending", "Waiting on customer"))
    history = [(T0, "open"), (T0 + H, TicketStatus.PENDING), (T0 + 3 * H, "open"), (T0 + 4 * H, "waiting-on-customer")]
    pauses = policy.pauses_from(history)
    assert [(p.start, p.end) for p in pauses] == [(T0 + H, T0 + 3 * H), (T0 + 4 * H, None)]
    ticket = Ticket(id="T1", opened_at=T0, customer=Customer(id="C1"), text="hello", due=T0 + 6 * H)
    now = T0 + 5 * H
    assert classify(ticket, policy, now).due == T0 + 6 * H
    assert classify(attrs.evolve(ticket, pauses=pauses), policy, now).due == T0 + 9 * H  # 2 h closed + 1 h open


def test_the_default_policy_pauses_on_pending_only_and_keeps_its_hash() -> None:
    """``pending`` pauses by default; the default is omitted from the policy's document."""
    assert TriagePolicy().pause_statuses == ("pending",)
    assert TriagePolicy().pauses_from([(T0, "on hold")]) == ()
    assert TriagePolicy(pause_statuses=("pending",)).content_hash == TriagePolicy().content_hash


def test_a_history_out_of_order_or_a_blank_status_is_named() -> None:
    """Bad input raises an error naming the change or the field."""
    with pytest.raises(TicketError, match=r"history\[1\].at: status changes must be in time order"):
        status_pauses([(T0 + H, "pending"), (T0, "open")], ["pending"])
    with pytest.raises(PolicyError, match=r"triage.pause_statuses\[0\]: expected a status name"):
        TriagePolicy(pause_statuses=(" ",))


@given(st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["open", "pending", "new", "Pending"])), max_size=12))
def test_pauses_are_ordered_disjoint_and_lie_in_pausing_stretches(changes: list[tuple[int, str]]) -> None:
    """The result is a valid pause list for a ticket: in order, not overlapping, each within a pausing stretch."""
    history = sorted((T0 + timedelta(minutes=m), s) for m, s in changes)
    pauses = status_pauses(history, ["pending"])
    ticket = Ticket(id="T1", opened_at=T0, customer=Customer(id="C1"), text="x", pauses=pauses)  # validates order
    for pause in ticket.pauses:
        status_at_start = [s for at, s in history if at <= pause.start][-1]
        assert status_key(status_at_start) == "pending"
