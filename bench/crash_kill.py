"""Kill a store writer with SIGKILL at random moments; check that nothing it confirmed is lost or half-written.

Run: python bench/crash_kill.py [--trials 1000] [--seed 1] [--per-store 25] [--max-delay 0.3] [--old-every 2]
       [--dir DIR]

Each trial forks a child that opens the store (creating it, for the first
trial on a store; every ``--old-every``-th store starts instead as a copy of
a schema-3 file holding about a thousand rows, which the child migrates:
sealing every row into the audit chain, adding the newer tables) and makes
random writes to every table
(`crash_world.Writer`): amendments proposed, approved, rejected and applied,
documents created and rolled back, reports filed, edited, reviewed and
penalised as false alarms, ledger batches, obligations tracked and settled,
work orders opened and stepped, drills, plain and keyed chain anchors. After
each commit the child confirms the write to the parent through a pipe. The
parent kills it with SIGKILL after a random delay (from the fork, so some
kills land while the store is being opened or migrated), then opens the
store and checks every write confirmed on it so far, by this child and the
ones before, and the rows the schema-3 file held (`crash_check.check`): none lost, no invariant broken, the audit
chain, the review trails, the document chains and every anchor verify, and
``PRAGMA integrity_check`` is ``ok``. A store takes ``--per-store`` trials
in a row, so later children start on a file a killed one left behind.

Prints figures and exits 1 on any anomaly (0 otherwise).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from crash_check import Findings, check, table_rows
from crash_world import TABLES, Confirmation, Writer, fork, parse
from servicetriage.store import MIGRATIONS, Store


def _child(path: Path, seed: int, name: str) -> Callable[[Callable[[Confirmation], None]], int]:
    def body(confirm: Callable[[Confirmation], None]) -> int:
        store = Store(path, timeout=60)
        writer = Writer(store=store, name=name, rng=random.Random(seed))
        while True:  # until killed (or the parent is gone: then the pipe breaks)
            done = writer.step()
            if done is not None:
                confirm(done)

    return body


#: The tables a schema-3 store has (before the audit chain and the follow-up tables).
_OLD_TABLES = ("reports", "transitions", "amendments", "versions", "drills", "penalties")


def old_store(folder: Path, seed: int, writes: int = 100) -> tuple[Path, list[Confirmation]]:
    """A store file at schema 3 holding *writes* rounds of the writes it knew, and their confirmations.

    Written with today's store and copied row by row into a file made by the
    first three migrations only, so the child that opens it migrates it
    (sealing every row into the audit chain, adding the new tables) while
    it may be killed.
    """
    modern, old = folder / "template-modern.db", folder / "template-v3.db"
    confirmed: list[Confirmation] = []
    with Store(modern, synchronous="NORMAL") as store:
        writer = Writer(store=store, name="old", rng=random.Random(seed))
        for _ in range(writes):
            for op in (writer.create, writer.propose, writer.approve, writer.apply, writer.report, writer.drill):
                plan = op()
                done = plan() if plan is not None else None
                if done is not None:
                    confirmed.append(done)
            plan = writer.penalty()
            if plan is not None and (done := plan()) is not None:
                confirmed.append(done)
        writer.close()
    db = sqlite3.connect(old)
    db.executescript(";".join(MIGRATIONS[:3]) + "; PRAGMA user_version=3;")
    db.execute("ATTACH DATABASE ? AS modern", (str(modern),))
    with db:
        for table in _OLD_TABLES:
            db.execute(f"INSERT INTO main.{table} SELECT * FROM modern.{table}")
    db.execute("DETACH DATABASE modern")
    db.close()
    return old, confirmed


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def run(
    trials: int, seed: int, per_store: int, max_delay: float, folder: Path, *, old_every: int = 2, quiet: bool = False
) -> int:
    rng = random.Random(seed)
    started = time.perf_counter()
    template, template_confirmed = old_store(folder, rng.randrange(2**32))
    unmigrated = old_stores = 0
    confirmed: list[Confirmation] = []
    kinds: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    anomalies: list[str] = []
    findings = Findings()
    early = errors = 0
    path = folder / "kill-0.db"
    for trial in range(trials):
        if trial % per_store == 0:
            if trial:
                rows.update(table_rows(path))
            number = trial // per_store
            path = folder / f"kill-{number}.db"
            confirmed = []
            if old_every and number % old_every == old_every - 1:  # this store starts at schema 3, to migrate
                shutil.copyfile(template, path)
                confirmed = list(template_confirmed)
                old_stores += 1
        pid, fd = fork(_child(path, rng.randrange(2**32), f"w{trial:05d}"))
        time.sleep(rng.uniform(0, max_delay))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        mine = parse(_read_all(fd))
        if path.exists() and _schema(path) == 3:
            unmigrated += 1
        if not os.WIFSIGNALED(status) or os.WTERMSIG(status) != signal.SIGKILL:
            errors += 1
            anomalies.append(f"trial {trial}: the writer ended by itself (status {status}): {mine[-1:]}")
        for item in mine:
            if item["op"] == "error":
                errors += 1
                anomalies.append(f"trial {trial}: the writer failed: {item['error']}")
        mine = [item for item in mine if item["op"] != "error"]
        early += not mine
        confirmed.extend(mine)
        kinds.update(item["op"] for item in mine)
        try:
            found = check(path, confirmed) if path.exists() else Findings()
        except Exception as exc:
            found = Findings(corrupted=[f"the store cannot be checked: {type(exc).__name__}: {exc}"])
        findings.lost.extend(found.lost)
        findings.corrupted.extend(found.corrupted)
        findings.chain.extend(found.chain)
        anomalies.extend(f"trial {trial}: {p}" for p in found.all())
        if not quiet and (trial + 1) % 100 == 0:
            print(
                f"  {trial + 1} trials, {sum(kinds.values())} confirmed writes, {len(anomalies)} anomalies", flush=True
            )
    if path.exists():
        rows.update(table_rows(path))
    elapsed = time.perf_counter() - started
    covered = [t for t in TABLES if rows[t]]
    print(f"crash_kill: {trials} trials (SIGKILL each), seed {seed}, {per_store} trials per store, ", end="")
    print(f"kill after 0-{max_delay:g} s")
    print(f"confirmed writes: {sum(kinds.values())} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    print(f"kills before the first confirmed write: {early}")
    print(
        f"stores started at schema 3: {old_stores} ({len(template_confirmed)} confirmed writes each), "
        f"of which the first child was killed before its migration committed: {unmigrated} (the next open migrates)"
    )
    print(f"tables written: {len(covered)} of {len(TABLES)}; rows left in the stores: {sum(rows.values())}")
    print(
        f"lost: {len(findings.lost)}, corrupted: {len(findings.corrupted)}, chain failures: {len(findings.chain)}, "
        f"writer errors: {errors}"
    )
    print(f"elapsed: {elapsed:.1f} s ({elapsed / max(trials, 1) * 1000:.0f} ms per trial)")
    for line in anomalies[:20]:
        print("ANOMALY", line)
    return 1 if anomalies else 0


def _schema(path: Path) -> int:
    db = sqlite3.connect(path, timeout=60)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-store", type=int, default=25, help="trials on one store file before a fresh one")
    parser.add_argument("--max-delay", type=float, default=0.3, help="seconds from the fork to the kill, at most")
    parser.add_argument("--dir", type=Path, default=None, help="where the stores go (a temporary folder by default)")
    parser.add_argument("--old-every", type=int, default=2, help="every Nth store starts at schema 3 (0: none)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        return run(
            args.trials, args.seed, args.per_store, args.max_delay, args.dir, old_every=args.old_every, quiet=args.quiet
        )
    with tempfile.TemporaryDirectory(prefix="crash-kill-") as folder:
        return run(
            args.trials,
            args.seed,
            args.per_store,
            args.max_delay,
            Path(folder),
            old_every=args.old_every,
            quiet=args.quiet,
        )


if __name__ == "__main__":
    sys.exit(main())
