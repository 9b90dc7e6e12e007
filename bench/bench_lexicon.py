"""Benchmark: the lexicon's fast matcher against the plain one it is checked against, in the same run.

The plain matcher (``servicetriage.signals._matching.PlainMatcher``) is the
definition the fast one must agree with; it is how every ticket was matched
before the fast one. Both are timed on the synthetic tickets of
``bench_triage.py`` and on the development corpus, in interleaved chunks
(the best of ``--rounds`` rounds is kept), first the detector alone, then
the whole triage: ``classify`` under the default policy, against the same
policy with the lexicon turned off and a detector with the plain matcher
plugged in (and, to show what plugging in costs, one with the fast matcher).
Every ticket is checked to get the same detections and the same triage from
both. Run::

    python bench/bench_lexicon.py            # 20,000 synthetic tickets, 3 rounds
    python bench/bench_lexicon.py --n 5000 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from bench_triage import NOW, synthetic_tickets
from servicetriage.model import Customer, Ticket
from servicetriage.signals.lexicon import LexiconDetector, LexiconSettings
from servicetriage.triage import DEFAULT_POLICY, classify

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "corpus" / "dev"


def corpus_tickets() -> list[Ticket]:
    """The development corpus as tickets (the held-back part is never read here)."""
    tickets = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                tickets.append(
                    Ticket(
                        id=row["id"],
                        opened_at=NOW,
                        customer=Customer(id="C-" + row["id"]),
                        category=row.get("category") or "general",
                        subject=row.get("subject") or "",
                        text=row.get("text") or "",
                    )
                )
    return tickets


def race(runs: dict[str, Callable[[Ticket], Any]], tickets: Sequence[Ticket], rounds: int) -> dict[str, float]:
    """Microseconds per ticket of each run: interleaved chunks, summed per round, the best round kept."""
    best = dict.fromkeys(runs, float("inf"))
    chunk = 500
    for _ in range(rounds):
        totals = dict.fromkeys(runs, 0.0)
        for index, start in enumerate(range(0, len(tickets), chunk)):
            part = tickets[start : start + chunk]
            order = list(runs.items()) if index % 2 else list(reversed(runs.items()))
            for name, run in order:
                began = time.perf_counter()
                for ticket in part:
                    run(ticket)
                totals[name] += time.perf_counter() - began
        for name, total in totals.items():
            best[name] = min(best[name], total / len(tickets) * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="synthetic tickets (default 20,000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (default 3)")
    args = parser.parse_args()

    fast = LexiconDetector()
    plain = LexiconDetector._build(LexiconSettings(), plain=True)  # noqa: SLF001 - the reference, uncached
    off = attrs.evolve(DEFAULT_POLICY, lexicon=LexiconSettings(enabled=False))
    plugged_plain = attrs.evolve(off, detectors=(plain,))
    plugged_fast = attrs.evolve(off, detectors=(fast,))

    def same(t: Ticket) -> bool:
        a, b = classify(t, DEFAULT_POLICY, NOW), classify(t, plugged_plain, NOW)
        return (a.quadrant, a.concepts, a.priority) == (b.quadrant, b.concepts, b.priority)

    for label, tickets in (("synthetic", synthetic_tickets(args.n)), ("development corpus", corpus_tickets())):
        assert all(fast.detect(t) == plain.detect(t) for t in tickets), "the matchers disagree"
        assert all(same(t) for t in tickets), "the triage differs"
        print(f"{label}: {len(tickets):,} tickets, same detections and triage with both matchers")
        detect = race({"plain": plain.detect, "fast": fast.detect}, tickets, args.rounds)
        triage = race(
            {
                "plain": lambda t: classify(t, plugged_plain, NOW),
                "fast plugged": lambda t: classify(t, plugged_fast, NOW),
                "fast": lambda t: classify(t, DEFAULT_POLICY, NOW),
            },
            tickets,
            args.rounds,
        )
        print(
            f"  detect:   plain {detect['plain']:7.1f} us, fast {detect['fast']:7.1f} us per ticket "
            f"= {detect['plain'] / detect['fast']:.2f}x"
        )
        print(
            f"  classify: plain matcher plugged in {triage['plain']:7.1f} us, fast plugged in "
            f"{triage['fast plugged']:7.1f} us ({triage['plain'] / triage['fast plugged']:.2f}x), "
            f"default policy {triage['fast']:7.1f} us per ticket ({triage['plain'] / triage['fast']:.2f}x)"
        )


if __name__ == "__main__":
    main()
