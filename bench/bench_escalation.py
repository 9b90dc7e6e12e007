"""Benchmark: `advance_escalation` calls per second on realistic escalation states.

Run: python bench/bench_escalation.py

Three workloads on the Q1 chain of examples/escalation.toml (4 steps, an
executive step that repeats, an exhaustion timer, two progress-report
cadences):

- poll: a worker advances every open escalation once a minute; most calls
  find nothing due (the common case on a CRM's hot path);
- busy: advance one escalation through 8 hours in 5-minute ticks, so many
  calls emit notifications and reports;
- events: every call carries a progress report (the slow path).

Beside them, the practical limit measured in the same run: a bare loop that
only compares `now` with a stored next-due time and builds nothing.
Target: at least 200,000 `advance_escalation` calls per second on the poll workload.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from servicetriage.config import load_section
from servicetriage.escalation import EscalationPolicy, EscalationState, Event, EventKind, advance_escalation, start
from servicetriage.model import Customer, Level, Quadrant, Ticket, Triage

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 5, 6, 23, 12, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def states(count: int) -> list[EscalationState]:
    policy = load_section(ROOT / "examples" / "escalation.toml", "escalation", EscalationPolicy, required=True)
    assert policy is not None
    out = []
    for i in range(count):
        ticket = Ticket(id=f"T{i}", opened_at=T0, customer=Customer(id=f"C{i}"))
        triage = Triage(
            ticket_id=ticket.id,
            quadrant=Quadrant.Q1,
            priority=1,
            urgency=Level(3, "critical"),
            importance=Level(3, "critical"),
            due=None,
            reasons=(),
        )
        state = start(ticket, triage, policy, T0 + (i % 500) * timedelta(seconds=7), owner="agent")
        state, _ = advance_escalation(
            state, T0 + timedelta(hours=1)
        )  # mid-incident: the chain climbed, reports running
        out.append(state)
    return out


def poll(population: list[EscalationState], minutes: int) -> tuple[float, int]:
    calls = 0
    start_clock = time.perf_counter()
    current = list(population)
    now = T0 + timedelta(hours=1)
    for _ in range(minutes):
        now += timedelta(seconds=20)
        for index, state in enumerate(current):
            current[index], _ = advance_escalation(state, now)
        calls += len(current)
    return time.perf_counter() - start_clock, calls


def busy(population: list[EscalationState]) -> tuple[float, int]:
    calls = 0
    start_clock = time.perf_counter()
    for initial in population:
        state, now = initial, initial.last
        for _ in range(96):
            now += 5 * MINUTE
            state, _ = advance_escalation(state, now)
            calls += 1
    return time.perf_counter() - start_clock, calls


def events(population: list[EscalationState]) -> tuple[float, int]:
    calls = 0
    start_clock = time.perf_counter()
    for initial in population:
        state, now = initial, initial.last
        for _ in range(50):
            now += 2 * MINUTE
            state, _ = advance_escalation(state, now, (Event(kind=EventKind.PROGRESS, at=now),))
            calls += 1
    return time.perf_counter() - start_clock, calls


def bare(population: list[EscalationState], minutes: int) -> tuple[float, int]:
    due = [s.wake for s in population]
    calls = 0
    start_clock = time.perf_counter()
    now = T0 + timedelta(hours=1)
    for _ in range(minutes):
        now += timedelta(seconds=20)
        for index, wake in enumerate(due):
            if wake is not None and wake <= now:
                due[index] = wake + 15 * MINUTE
        calls += len(due)
    return time.perf_counter() - start_clock, calls


def main() -> None:
    population = states(2_000)
    rows = []
    workloads: tuple[tuple[str, Callable[[], tuple[float, int]]], ...] = (
        ("poll (20 s ticks, 2,000 open Q1 cases)", lambda: poll(population, 30)),
        ("busy (5 min ticks through 8 h)", lambda: busy(population[:500])),
        ("events (a progress report every call)", lambda: events(population[:500])),
        ("bare next-due comparison (the limit)", lambda: bare(population, 30)),
    )
    for name, run in workloads:
        results = [run() for _ in range(3)]
        seconds, calls = min(results)
        rows.append((name, calls / seconds, seconds / calls * 1e6))
    limit = rows[-1][1]
    print(f"{'workload':<42} {'calls/s':>12} {'us/call':>9} {'vs bare':>8}")
    for name, rate, micros in rows:
        print(f"{name:<42} {rate:>12,.0f} {micros:>9.2f} {limit / rate:>7.1f}x")
    target = rows[0][1]
    verdict = "met" if target >= 200_000 else "NOT met"
    print(f"target >= 200,000 advance_escalation calls/s on the poll workload: {verdict} ({target:,.0f}/s)")


if __name__ == "__main__":
    main()
