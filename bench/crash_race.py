"""Race concurrent reviewers and appliers on one store; check that no write is lost, doubled or illegal.

Run: python bench/crash_race.py [--procs 2] [--rounds 1000] [--targets 2] [--seed 1] [--dir DIR]

``--procs`` processes (forked from this one, each with its own connection)
open a new store at the same moment and race to create its ``--targets``
shared documents (one wins each). Then for ``--rounds`` rounds each makes a
random write (`crash_world.Writer` with ``race=True``): propose an
amendment on the current head, approve or reject a proposal (as a reviewer),
apply an approved amendment, roll a document back, file and review reports,
penalise false alarms, record ledger batches, track and settle obligations,
open and step work orders, drill, anchor. They pick their work from what
they last read, so they collide: two approve the same proposal, two apply
amendments made on the same head, two settle the same obligation or take
the same step of a work order. The store must let exactly one win and turn
the other away with ``ConflictError`` or ``TransitionError`` (a race lost,
counted; any other error is an anomaly). Every round all processes choose
the same kind of write and plan it from what they read, then wait for each
other (a barrier) and write at once.

Then, with every process done, the store must hold exactly what they
confirmed (no lost update, nothing extra): as many versions, amendments,
transitions, decisions... as confirmed writes made; no amendment applied
twice, no obligation settled twice, no work-order step taken twice; every
document's content its parent's plus its amendment; and ``Store.verify``
(audit chain, review trails, document chains, anchors) and ``PRAGMA
integrity_check`` clean.

Prints figures and exits 1 on any anomaly (0 otherwise).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import selectors
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

from crash_check import check, table_rows
from crash_world import TABLES, Confirmation, Writer, fork, now, parse
from servicetriage.errors import ConflictError
from servicetriage.store import Store
from servicetriage.versions import DocumentRef


def _child(
    path: Path, seeds: tuple[int, int], name: str, rounds: int, targets: int, barrier: Barrier
) -> Callable[[Callable[[Confirmation], None]], int]:
    def body(confirm: Callable[[Confirmation], None]) -> int:
        barrier.wait(timeout=120)
        with Store(path, timeout=60) as store:  # all open the new file at once
            rng, ops_rng = random.Random(seeds[0]), random.Random(seeds[1])
            writer = Writer(store=store, name=name, rng=rng, race=True, ops_rng=ops_rng)
            for n in range(targets):  # and all create the shared documents: one wins each
                try:
                    version = store.create(
                        DocumentRef(kind="note", id=f"shared-{n}"), {"log": []}, author=name, at=now()
                    )
                except ConflictError:
                    writer.lost["create"] += 1
                else:
                    confirm({"op": "create", "id": version.target.id, "hash": version.hash})
            barrier.wait(timeout=120)
            for _ in range(rounds):
                done = writer.step(sync=lambda: barrier.wait(timeout=120))
                if done is not None:
                    confirm(done)
            writer.close()
            confirm({"op": "done", "lost": dict(writer.lost)})
        return 0

    return body


def _expected_rows(confirmed: list[Confirmation]) -> dict[str, int]:
    """The rows each table must hold after the confirmed writes, and nothing else."""
    ops = Counter(c["op"] for c in confirmed)
    reviews = sum(ops[e] for e in ("approve", "reject", "submit", "start", "accept", "request_changes"))
    return {
        "versions": ops["create"] + ops["apply"] + ops["rollback"],
        "amendments": ops["propose"],
        "reports": ops["report"],
        "transitions": ops["propose"] + ops["report"] + reviews + ops["apply"],
        "decisions": sum(len(c["subjects"]) for c in confirmed if c["op"] == "ledger"),
        "obligations": sum(len(c["ids"]) for c in confirmed if c["op"] == "track") + 3 * ops["open_order"],
        "obligation_events": ops["settle"],
        "work_orders": ops["open_order"],
        "work_order_events": ops["order_step"],
        "drills": ops["drill"],
        "anchors": ops["keyed_anchor"],
    }


def _doubles(confirmed: list[Confirmation]) -> list[str]:
    """A write that only one racer may make, confirmed to two (or an amendment both approved and rejected)."""
    problems: list[str] = []
    for op, limit in (("create", 1), ("apply", 1), ("approve", 1), ("reject", 1), ("settle", 1), ("order_step", 3)):
        counts = Counter(c["id"] for c in confirmed if c["op"] == op)
        problems.extend(f"{op} {i}: confirmed {n} times" for i, n in sorted(counts.items()) if n > limit)
    decided = Counter(c["id"] for c in confirmed if c["op"] in ("approve", "reject"))
    problems.extend(f"amendment {i}: both approved and rejected" for i, n in sorted(decided.items()) if n > 1)
    return problems


def run(procs: int, rounds: int, targets: int, seed: int, folder: Path) -> int:
    rng = random.Random(seed)
    path = folder / "race.db"
    started = time.perf_counter()
    barrier = multiprocessing.get_context("fork").Barrier(procs)  # every round, all plan first, then all write
    children: dict[int, str] = {}
    buffers: dict[int, bytearray] = {}
    selector = selectors.DefaultSelector()
    ops_seed = rng.randrange(2**32)  # the same for all: every round, all make the same kind of write
    for n in range(procs):
        pid, fd = fork(_child(path, (rng.randrange(2**32), ops_seed), f"p{n}", rounds, targets, barrier))
        children[pid] = f"p{n}"
        buffers[fd] = bytearray()
        selector.register(fd, selectors.EVENT_READ)
    while selector.get_map():  # drain every pipe until its writer is done, so none blocks on a full pipe
        for key, _ in selector.select():
            chunk = os.read(key.fd, 65536)
            if chunk:
                buffers[key.fd].extend(chunk)
            else:
                selector.unregister(key.fd)
                os.close(key.fd)
    anomalies = []
    for pid, name in children.items():
        _, status = os.waitpid(pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            anomalies.append(f"{name}: exited with status {status}")
    elapsed = time.perf_counter() - started
    confirmed: list[Confirmation] = []
    lost: Counter[str] = Counter()
    for output in buffers.values():
        for item in parse(bytes(output)):
            if item["op"] == "done":
                lost.update(item["lost"])
            elif item["op"] == "error":
                anomalies.append(f"a racer failed: {item['error']}")
            else:
                confirmed.append(item)
    found = check(path, confirmed)
    anomalies.extend(found.all())
    anomalies.extend(_doubles(confirmed))
    rows = table_rows(path)
    for table, expected in _expected_rows(confirmed).items():
        if rows[table] != expected:
            anomalies.append(f"{table}: {rows[table]} rows, {expected} confirmed writes (lost or extra)")
    ops = Counter(c["op"] for c in confirmed)
    if ops["create"] != targets:
        anomalies.append(f"{ops['create']} shared documents created, not {targets}")
    covered = [t for t in TABLES if rows[t]]
    calls = procs * rounds
    print(f"crash_race: {procs} processes x {rounds} rounds on one store ({targets} shared documents), seed {seed}")
    print(
        f"calls: {calls}; confirmed writes: {len(confirmed)} ({', '.join(f'{k} {n}' for k, n in sorted(ops.items()))})"
    )
    print(f"races lost (turned away): {sum(lost.values())} ({', '.join(f'{k} {n}' for k, n in sorted(lost.items()))})")
    print(f"versions: {rows['versions']}; tables written: {len(covered)} of {len(TABLES)}")
    doubles = _doubles(confirmed)
    print(
        f"lost: {len(found.lost)}, corrupted: {len(found.corrupted)}, chain failures: {len(found.chain)}, "
        f"applied or settled twice: {len(doubles)}"
    )
    print(f"elapsed: {elapsed:.1f} s ({calls / elapsed:.0f} calls/s)")
    for line in anomalies[:20]:
        print("ANOMALY", line)
    return 1 if anomalies else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1000, help="writes each process attempts")
    parser.add_argument("--targets", type=int, default=2, help="documents the processes share")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="where the store goes (a temporary folder by default)")
    args = parser.parse_args(argv)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        return run(args.procs, args.rounds, args.targets, args.seed, args.dir)
    with tempfile.TemporaryDirectory(prefix="crash-race-") as folder:
        return run(args.procs, args.rounds, args.targets, args.seed, Path(folder))


if __name__ == "__main__":
    sys.exit(main())
