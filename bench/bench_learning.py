"""Benchmark the learning loop: proposals from 100,000 reports, and store write throughput.

Run: python bench/bench_learning.py [--reports 100000] [--checks 20000] [--writes 300]

Prints figures, not pass/fail. The target is proposing from 100,000 reports
in under 5 s. For the store the peer measured in the same run is a bare
``sqlite3`` insert of the same JSON rows with the same durability settings,
so the ratio shows what the store's checks and transactions cost. Checking
reports against an authority policy is compared with calling ``authorize``
alone on requests built beforehand: the difference is building the requests.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from servicetriage.authority import AuthorityPolicy, Conditions, Grant, Guardrail, Limits, authorize
from servicetriage.learning import LearningConfig, propose
from servicetriage.model import CustomerTier, Money, Quadrant
from servicetriage.review import (
    AuthorityVerdict,
    Deviation,
    IncidentOutcome,
    IncidentReport,
    check_deviations,
    deviation_request,
)
from servicetriage.store import Store, report_to_data
from servicetriage.versions import Amendment, DocumentRef, Operation, apply

NOW = datetime(2026, 6, 1, tzinfo=UTC)
KINDS = ("rebooking", "refund", "compensation", "goodwill_gift", "fee_waiver")
CATEGORIES = ("flight_disruption", "baggage", "billing", "ride_safety", "repair")
TIERS = ("agent", "supervisor", "manager")


def make_reports(count: int, seed: int = 7) -> list[IncidentReport]:
    rng = random.Random(seed)
    reports = []
    for n in range(count):
        deviations = tuple(
            Deviation(
                kind=rng.choice(KINDS),
                authorized_by=f"a{rng.randrange(50)}",
                tier=rng.choice(TIERS),
                amount=Money(rng.randrange(50, 2000), "CNY"),
            )
            for _ in range(rng.randrange(0, 3))
        )
        reports.append(
            IncidentReport(
                id=f"R{n}",
                ticket_id=f"T{n}",
                owner=f"a{rng.randrange(50)}",
                opened_at=NOW - timedelta(minutes=rng.randrange(60 * 24 * 60)),
                category=rng.choice(CATEGORIES),
                quadrant=rng.choice(list(Quadrant)),
                customer_tier=rng.choice(list(CustomerTier)),
                deviations=deviations,
                outcome=IncidentOutcome.RESOLVED if rng.random() < 0.8 else IncidentOutcome.COMPLAINT,
                satisfaction_before=rng.randint(1, 3),
                satisfaction_after=rng.randint(2, 5),
                exemplary=rng.random() < 0.001,
            )
        )
    return reports


def bench_propose(count: int) -> None:
    reports = make_reports(count)
    config = LearningConfig(window=timedelta(days=30))
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        proposals = propose(reports, config, NOW)
        best = min(best, time.perf_counter() - start)
    print(f"propose: {count:,} reports -> {len(proposals)} proposals in {best:.3f} s (best of 3; target < 5 s)")
    print(f"propose: {count / best:,.0f} reports/s")


POLICY = AuthorityPolicy(
    grants=tuple(
        Grant(
            id=f"{tier}-{kind}",
            tier=tier,
            action=kind,
            when=Conditions(quadrants={"Q1", "Q2"}) if kind == "rebooking" else Conditions(),
            limits=Limits(max_amount=Money(500 * (rank + 1), "CNY"), max_count_per_ticket=2),
        )
        for rank, tier in enumerate(TIERS)
        for kind in KINDS
    ),
    guardrails=(Guardrail(id="no-big-refund", actions={"refund"}, above=Money(1800, "CNY")),),
)


def bench_check(count: int) -> None:
    """Checking reports against a policy, against the floor of calling authorize once per deviation."""
    reports = make_reports(count, seed=13)
    deviations = sum(len(r.deviations) for r in reports)
    requests = [(deviation_request(r, i), d.at or r.opened_at) for r in reports for i, d in enumerate(r.deviations)]
    best_check = best_floor = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        lacked = sum(
            c.verdict is AuthorityVerdict.LACKED for report in reports for c in check_deviations(report, POLICY)
        )
        best_check = min(best_check, time.perf_counter() - start)
        start = time.perf_counter()
        for request, at in requests:
            authorize(request, POLICY, at)
        best_floor = min(best_floor, time.perf_counter() - start)
    print(
        f"check: {count:,} reports ({deviations:,} deviations, {lacked:,} lacked) in {best_check:.3f} s "
        f"= {deviations / best_check:,.0f} deviations/s; authorize alone on prebuilt requests "
        f"{deviations / best_floor:,.0f}/s (check at {best_floor / best_check:.2f}x)"
    )


def bench_store(writes: int) -> None:
    reports = make_reports(writes, seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        for sync in ("FULL", "NORMAL"):
            path = Path(tmp) / f"store-{sync}.db"
            with Store(path, synchronous=sync) as store:
                start = time.perf_counter()
                for report in reports:
                    store.add_report(report)
                report_rate = writes / (time.perf_counter() - start)
                target = DocumentRef(kind="playbook", id="bench")
                head = store.create(target, {"id": "bench", "steps": []}, author="bench", at=NOW)
                start = time.perf_counter()
                for n in range(writes):
                    amendment = Amendment(
                        id=f"A{n}",
                        target=target,
                        base=head.hash,
                        operations=[Operation(op="add", path="steps", value={"id": f"s{n}", "text": "step"})],
                    )
                    head = store.append(apply(head, amendment, author="bench", at=NOW))
                version_rate = writes / (time.perf_counter() - start)
                start = time.perf_counter()
                problems = store.verify()
                verify_time = time.perf_counter() - start
            # The peer: bare sqlite3 inserts of the same rows, one transaction each, same settings.
            raw = sqlite3.connect(Path(tmp) / f"raw-{sync}.db", isolation_level=None)
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute(f"PRAGMA synchronous={sync}")
            raw.execute("CREATE TABLE reports (id TEXT PRIMARY KEY, data TEXT)")
            rows = [(r.id, json.dumps(report_to_data(r), sort_keys=True)) for r in reports]
            start = time.perf_counter()
            for row in rows:
                raw.execute("BEGIN IMMEDIATE")
                raw.execute("INSERT INTO reports VALUES (?, ?)", row)
                raw.execute("COMMIT")
            raw_rate = writes / (time.perf_counter() - start)
            raw.close()
            print(
                f"store ({sync}): {report_rate:,.0f} reports/s, {version_rate:,.0f} versions/s; "
                f"bare sqlite3 {raw_rate:,.0f} rows/s (store reports at {report_rate / raw_rate:.2f}x); "
                f"verify {writes + 1} versions in {verify_time * 1000:.0f} ms ({'ok' if not problems else 'TAMPERED'})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--checks", type=int, default=20_000, help="reports to check against a policy")
    args = parser.parse_args()
    bench_propose(args.reports)
    bench_check(args.checks)
    bench_store(args.writes)


if __name__ == "__main__":
    main()
