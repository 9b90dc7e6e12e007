"""Benchmark: assigning 10,000 and 100,000 ranked tickets over 100 and 1,000 agents.

Run from the repository root::

    python bench/bench_assign.py            # the full grid, about a minute
    python bench/bench_assign.py --quick    # 10,000 tickets only

The queue is synthetic but shaped like a contact centre's: eight languages
(most tickets in two), twelve categories, five channels, 10% VIP customers,
a few safety and regulator signals that need an expert area and a higher
tier, and quadrants from Q1 to Q4. Agents speak one to three languages,
handle two to five categories, work two to four channels, hold three to
eight tickets at once and are already a third full. The policy is the
example's need table with a 20% VIP share.

For each size it prints the processor time of ``assign`` (best of three,
``time.process_time``, so that other work on the machine does not count; the
queue is built and ranked once, outside the timing), the microseconds per ticket,
how many distinct sets of needs the queue holds and how many tickets were
assigned. Beside it, at 10,000 tickets only, a peer: the obvious scan that
tries every agent for every ticket (same needs, same capacity, no reserve,
no reasons), to show what tickets x agents costs. The last lines give the
growth: time at 100,000 / time at 10,000 tickets (10 would be linear), and
time at 1,000 / time at 100 agents. Figures are not pass/fail.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from servicetriage.assignment import Agent, AssignmentPolicy, NeedRule, Skills, assign, needs_of
from servicetriage.model import Channel, Customer, CustomerTier, Level, Mark, Quadrant, Ticket, Triage
from servicetriage.triage import rank_key

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
LANGUAGES = ["zh", "en", "es", "de", "fr", "ja", "ar", "pt"]
LANGUAGE_WEIGHTS = [40, 30, 8, 6, 6, 4, 3, 3]
CATEGORIES = ["flight", "ride", "billing", "refund", "repair", "account", "platform", "product", "delivery",
              "service", "broadband", "general"]  # fmt: skip
CHANNELS = [Channel.PHONE, Channel.CHAT, Channel.EMAIL, Channel.SOCIAL_MEDIA, Channel.REGULATOR]
CHANNEL_WEIGHTS = [30, 35, 30, 4, 1]
TIERS = ("agent", "supervisor", "manager")
POLICY = AssignmentPolicy(
    tiers=("agent", "supervisor", "manager", "department_head", "executive"),
    rules=(
        NeedRule(quadrants=frozenset({Quadrant.Q1}), level=2),
        NeedRule(signals=frozenset({"safety"}), expert="safety"),
        NeedRule(signals=frozenset({"regulator"}), tier="supervisor", expert="regulatory"),
        NeedRule(marks=frozenset({Mark.DIRECT_TO_TOP}), tier="manager"),
    ),
)
LEVELS = (Level(0, "low"), Level(1, "medium"), Level(2, "high"), Level(3, "critical"))


def make_queue(count: int, rng: random.Random) -> list[tuple[Ticket, Triage]]:
    """A ranked queue of *count* synthetic tickets with their triage."""
    pairs = []
    for n in range(count):
        quadrant = rng.choices(list(Quadrant), [10, 25, 25, 40])[0]
        signals: set[str] = set()
        marks: set[Mark] = set()
        if quadrant is Quadrant.Q1 and rng.random() < 0.2:
            signals.add("safety")
        if rng.random() < 0.01:
            signals.add("regulator")
            if rng.random() < 0.3:
                marks.add(Mark.DIRECT_TO_TOP)
        vip = rng.random() < 0.1
        ticket = Ticket(
            id=f"T{n:07d}",
            opened_at=NOW - timedelta(minutes=rng.randrange(0, 5000)),
            customer=Customer(id=f"C{n}", tier=CustomerTier.VIP_BUSINESS if vip else CustomerTier.STANDARD),
            language=rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0],
            category=rng.choice(CATEGORIES),
            channel=rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0],
        )
        priority = quadrant.value + rng.randrange(0, 2)
        triage = Triage(
            ticket_id=ticket.id,
            quadrant=quadrant,
            priority=priority,
            urgency=rng.choice(LEVELS),
            importance=rng.choice(LEVELS),
            due=None,
            reasons=(),
            marks=frozenset(marks),
            signals=frozenset(signals),
        )
        pairs.append((ticket, triage))
    pairs.sort(key=lambda pair: rank_key(*pair))
    return pairs


def make_agents(count: int, rng: random.Random) -> list[Agent]:
    """*count* agents with a realistic spread of skills, tiers and loads."""
    agents = []
    for n in range(count):
        tier = rng.choices(TIERS, [80, 15, 5])[0]
        languages = set(rng.choices(LANGUAGES, LANGUAGE_WEIGHTS, k=rng.randint(1, 3)))
        categories = rng.sample(CATEGORIES[:-1], rng.randint(2, 5))
        channels = rng.sample(CHANNELS, rng.randint(2, 4))
        experts = [area for area in ("safety", "regulatory") if rng.random() < 0.15]
        capacity = rng.randint(3, 8)
        skills = Skills.of(
            {
                "language": {name: rng.randint(2, 5) for name in languages},
                "category": {name: rng.randint(1, 5) for name in categories},
                "channel": {c.value: rng.randint(1, 5) for c in channels},
                "expert": {area: rng.randint(1, 5) for area in experts},
            }
        )
        agents.append(Agent(id=f"A{n:05d}", tier=tier, skills=skills, capacity=capacity, load=capacity // 3))
    return agents


def naive(queue: list[tuple[Ticket, Triage]], agents: list[Agent]) -> int:
    """The obvious peer: for each ticket, scan every agent for the first able one with a free slot."""
    ranks = {name: index for index, name in enumerate(POLICY.tiers)}
    free = [agent.free for agent in agents]
    assigned = 0
    for ticket, triage in queue:
        needs = needs_of(ticket, triage, POLICY)
        for index, agent in enumerate(agents):
            if free[index] == 0 or ranks[agent.tier] < ranks[needs.tier]:
                continue
            s = agent.skills
            if needs.language is not None and needs.language not in s.language:
                continue
            if needs.category is not None and s.category.get(needs.category, 0) < needs.level:
                continue
            if needs.channel is not None and needs.channel.value not in s.channel:
                continue
            if any(area not in s.expert for area in needs.experts):
                continue
            free[index] -= 1
            assigned += 1
            break
    return assigned


def best_of(rounds: int, run: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        result = run()
        best = min(best, time.process_time() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="10,000 tickets only")
    args = parser.parse_args()
    rng = random.Random(12)
    ticket_counts = (10_000,) if args.quick else (10_000, 100_000)
    agent_counts = (100, 1000)
    queues = {n: make_queue(n, rng) for n in ticket_counts}
    rosters = {m: make_agents(m, rng) for m in agent_counts}
    times: dict[tuple[int, int], float] = {}
    print(f"{'tickets':>8} {'agents':>7} {'assign s':>9} {'us/ticket':>10} {'needs':>6} {'assigned':>9}")
    for n in ticket_counts:
        for m in agent_counts:
            seconds, result = best_of(3, lambda n=n, m=m: assign(queues[n], rosters[m], POLICY, NOW))
            distinct = len({t.needs for t in result.tickets})
            assigned = len(result.assigned)
            times[n, m] = seconds
            print(f"{n:>8,} {m:>7,} {seconds:>9.3f} {seconds / n * 1e6:>10.1f} {distinct:>6,} {assigned:>9,}")
    print()
    for m in agent_counts:
        n = ticket_counts[0]
        seconds, assigned = best_of(1, lambda n=n, m=m: naive(queues[n], rosters[m]))
        print(
            f"peer: scan every agent per ticket, {n:,} x {m:,}: {seconds:.3f} s "
            f"({assigned:,} assigned; {seconds / times[n, m]:.1f}x the time of assign)"
        )
    print()
    if len(ticket_counts) > 1:
        for m in agent_counts:
            print(f"growth with tickets (x10), {m:,} agents: {times[100_000, m] / times[10_000, m]:.1f}x")
    for n in ticket_counts:
        print(f"growth with agents (x10), {n:,} tickets: {times[n, 1000] / times[n, 100]:.1f}x")


if __name__ == "__main__":
    main()
