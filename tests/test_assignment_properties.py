"""Properties of `assign`: capacity, the VIP share, queue order, equal treatment, determinism."""

from __future__ import annotations

import random as _random
from collections import Counter
from datetime import UTC, datetime

import attrs
from hypothesis import given
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.assignment import Agent, Assignment, AssignmentPolicy, Needs, assign
from servicetriage.model import PROTECTED_ATTRIBUTES, Ticket, Triage
from servicetriage.triage import DEFAULT_POLICY, rank

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TICKETS = st.lists(sts.tickets(opened_at=sts.aware_datetimes(max_value=NOW)), max_size=12, unique_by=lambda t: t.id)
AGENTS = st.lists(sts.agents(max_capacity=3), max_size=6, unique_by=lambda a: a.id)
POLICIES = sts.assignment_policies()


def ranked(tickets: list[Ticket]) -> list[tuple[Ticket, Triage]]:
    return rank(tickets, DEFAULT_POLICY, NOW)


def at_work(agents: list[Agent]) -> list[Agent]:
    return [a for a in agents if a.available]


def meets(agent: Agent, needs: Needs, tiers: tuple[str, ...]) -> bool:
    """A plain reading of "the agent can take a ticket with these needs", for checking the indexed walk."""
    s = agent.skills
    return (
        tiers.index(agent.tier) >= tiers.index(needs.tier)
        and (needs.language is None or needs.language in s.language or needs.language.split("-")[0] in s.language)
        and (needs.channel is None or needs.channel.value in s.channel)
        and all(area in s.expert for area in needs.experts)
        and (
            s.category.get(needs.category, 0) >= needs.level
            if needs.category is not None
            else needs.level <= 1 or max(s.category.values(), default=0) >= needs.level
        )
    )


@given(TICKETS, AGENTS, POLICIES)
def test_no_agent_goes_over_capacity_and_every_ticket_appears_once(
    tickets: list[Ticket], agents: list[Agent], policy: AssignmentPolicy
) -> None:
    """New tickets never exceed an agent's free slots; away agents get none; each ticket is reported once."""
    result = assign(ranked(tickets), agents, policy, NOW)
    given_to = Counter(t.agent for t in result.assigned)
    for agent in agents:
        assert given_to[agent.id] <= (agent.free if agent.available else 0)
        assert result.loads[agent.id] == agent.load + given_to[agent.id]
    assert sorted(t.ticket_id for t in result.tickets) == sorted(t.id for t in tickets)
    assert [t.position for t in result.tickets] == list(range(1, len(tickets) + 1))


@given(TICKETS, AGENTS, POLICIES)
def test_every_assignment_meets_the_needs_and_every_refusal_says_why(
    tickets: list[Ticket], agents: list[Agent], policy: AssignmentPolicy
) -> None:
    """Assigned agents meet every need; a ticket said to have no able agent has none (checked by a plain scan)."""
    result = assign(ranked(tickets), agents, policy, NOW)
    by_id = {a.id: a for a in agents}
    for item in result.tickets:
        assert item.reasons
        if item.agent is not None:
            assert meets(by_id[item.agent], item.needs, policy.tiers)
            assert {"assign.order", "assign.tier", "assign.fit"} <= {r.code for r in item.reasons}
        else:
            code = item.reasons[-1].code
            assert code.startswith("unassigned.")
            if code == "unassigned.no_agent":
                assert not any(meets(a, item.needs, policy.tiers) for a in at_work(agents))


@given(TICKETS, AGENTS, POLICIES)
def test_the_reserved_share_holds_while_vip_work_waits(
    tickets: list[Ticket], agents: list[Agent], policy: AssignmentPolicy
) -> None:
    """While a VIP ticket waits, non-VIP work in hand stays within the capacity outside the share; none is lent."""
    result = assign(ranked(tickets), agents, policy, NOW)
    working = at_work(agents)
    capacity = sum(a.capacity for a in working)
    assert result.capacity == capacity
    assert result.reserved == policy.reserved(capacity)
    assert result.reserved >= policy.vip_share * capacity - 1e-9
    before = sum(a.load - a.vip_load for a in working)
    others = before + sum(1 for t in result.assigned if not t.needs.vip)
    if result.vip_waiting:
        assert others <= max(capacity - result.reserved, before)
        assert not any(t.borrowed for t in result.tickets)
    else:
        assert others - sum(t.borrowed for t in result.tickets) <= max(capacity - result.reserved, before)


@given(TICKETS, AGENTS, POLICIES)
def test_a_higher_ticket_is_never_left_while_a_lower_one_with_the_same_needs_is_assigned(
    tickets: list[Ticket], agents: list[Agent], policy: AssignmentPolicy
) -> None:
    """Among open tickets with equal needs, the assigned ones are a prefix of the queue."""
    result = assign(ranked(tickets), agents, policy, NOW)
    open_ids = {t.id for t in tickets if t.status.is_open}
    seen_unassigned: set[Needs] = set()
    for item in result.tickets:
        if item.ticket_id not in open_ids:
            continue
        if item.agent is None:
            seen_unassigned.add(item.needs)
        else:
            assert item.needs not in seen_unassigned


def _blur(ticket: Ticket, nationality: str | None, gender: str | None, age: int | None) -> Ticket:
    customer = attrs.evolve(ticket.customer, nationality=nationality, gender=gender, age=age)
    attributes = {k: v for k, v in ticket.attributes.items() if k not in PROTECTED_ATTRIBUTES}
    attributes["nationality"] = nationality or "none"
    return attrs.evolve(ticket, customer=customer, attributes=attributes)


@given(TICKETS, AGENTS, POLICIES, st.data())
def test_protected_customer_attributes_never_change_an_assignment(
    tickets: list[Ticket], agents: list[Agent], policy: AssignmentPolicy, data: st.DataObject
) -> None:
    """Nationality, gender, age (on the customer or among the attributes) change nothing."""
    other = [
        _blur(
            t,
            data.draw(st.none() | st.sampled_from(["CN", "US", "NG", "IN"])),
            data.draw(st.none() | st.sampled_from(["female", "male", "other"])),
            data.draw(st.none() | st.integers(0, 150)),
        )
        for t in tickets
    ]
    assert assign(ranked(tickets), agents, policy, NOW) == assign(ranked(other), agents, policy, NOW)


@given(TICKETS, AGENTS, POLICIES, st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_of_agents_or_queue(
    tickets: list[Ticket], agents: list[Agent], policy: AssignmentPolicy, random: _random.Random
) -> None:
    """Shuffling the agents and the queue gives the same assignment."""
    queue = ranked(tickets)
    first: Assignment = assign(queue, agents, policy, NOW)
    random.shuffle(queue)
    random.shuffle(agents)
    assert assign(queue, agents, policy, NOW) == first
