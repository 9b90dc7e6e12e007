"""The checker of the crash scripts: judge a store against the writes a writer confirmed.

`check` opens a store and judges it against every confirmation given (see
`crash_world.Writer`): a confirmed write that is missing is **lost**; a
broken invariant (an applied amendment without its version or a version
without its applied amendment, a review without its subject, a decision
batch written in part, a work order without its obligations, a penalty
without its false alarm, events that do not replay through their state
machine, a document whose content is not its parent's plus its amendment, a
failed ``PRAGMA integrity_check``) is **corrupted**; a problem reported by
``Store.verify`` (the audit chain, the review trails, the document hash
chains, the plain and keyed anchors) is a **chain failure**. Every invariant
is checked on every row, confirmed or not: a write the writer never got to
confirm must still be whole or absent.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crash_world import KEY, TABLES, Confirmation
from servicetriage.chain import anchor_from_data
from servicetriage.errors import StoreError, TransitionError
from servicetriage.store import Store
from servicetriage.versions import DocumentRef, VersionKind, apply_operations


@dataclass
class Findings:
    """What `check` found: confirmed writes missing, broken invariants, chain problems."""

    lost: list[str] = field(default_factory=list)
    corrupted: list[str] = field(default_factory=list)
    chain: list[str] = field(default_factory=list)

    @property
    def anomalies(self) -> int:
        return len(self.lost) + len(self.corrupted) + len(self.chain)

    def all(self) -> list[str]:
        return (
            [f"lost: {p}" for p in self.lost]
            + [f"corrupted: {p}" for p in self.corrupted]
            + [f"chain: {p}" for p in self.chain]
        )


def _set(db: sqlite3.Connection, sql: str) -> set[Any]:
    return {row[0] if len(row) == 1 else tuple(row) for row in db.execute(sql)}


def _notes(db: sqlite3.Connection, table: str, column: str) -> set[tuple[str, str]]:
    return {(i, json.loads(d)["note"]) for i, d in db.execute(f"SELECT {column}, data FROM {table}")}


def check(path: Path, confirmed: Iterable[Confirmation]) -> Findings:
    """Judge the store at *path* against every *confirmed* write (see the module's docstring)."""
    found = Findings()
    confirmed = list(confirmed)
    with Store(path, timeout=60) as store:
        anchors = [anchor_from_data(c["anchor"]) for c in confirmed if c["op"] == "anchor"]
        db = sqlite3.connect(path, isolation_level=None, timeout=60)
        try:
            integrity = db.execute("PRAGMA integrity_check").fetchall()
            if integrity != [("ok",)]:
                found.corrupted.append(f"integrity_check: {integrity}")
            keyed = db.execute("SELECT COUNT(*) FROM anchors").fetchone()[0]
            found.chain.extend(store.verify(anchors=tuple(anchors), key=KEY if keyed else None))
            _check_confirmed(db, confirmed, found)
            _check_invariants(store, db, found)
        finally:
            db.close()
    return found


def _check_confirmed(db: sqlite3.Connection, confirmed: list[Confirmation], found: Findings) -> None:
    versions = dict(db.execute("SELECT hash, json_extract(data, '$.amendment') FROM versions").fetchall())
    amendments = _set(db, "SELECT id FROM amendments")
    reasons = _set(db, "SELECT subject, id, reason FROM transitions")
    reports = dict(db.execute("SELECT id, json_extract(data, '$.root_cause') FROM reports").fetchall())
    penalties = _set(db, "SELECT report_id FROM penalties")
    subjects = _set(db, "SELECT subject FROM decisions")
    obligations = _set(db, "SELECT id FROM obligations")
    settled = _notes(db, "obligation_events", "obligation_id")
    orders = _set(db, "SELECT id FROM work_orders")
    steps = _notes(db, "work_order_events", "order_id")
    drills = {json.loads(d)["note"] for (d,) in db.execute("SELECT data FROM drills")}
    keyed = _set(db, "SELECT chain_seq, hash, mac FROM anchors")
    for c in confirmed:
        op = c["op"]
        missing: bool
        if op in ("create", "rollback"):
            missing = c["hash"] not in versions
        elif op == "apply":
            missing = versions.get(c["hash"], "<none>") != c["id"]
        elif op == "propose":
            missing = c["id"] not in amendments
        elif op in ("approve", "reject", "submit", "start", "accept", "request_changes"):
            missing = (c["subject"], c["id"], c["reason"]) not in reasons
        elif op == "report":
            missing = c["id"] not in reports
        elif op == "update_report":
            missing = str(reports.get(c["id"], "")) < c["token"]  # this edit or a later one of the same writer
        elif op == "penalty":
            missing = c["id"] not in penalties
        elif op == "ledger":
            missing = not set(c["subjects"]) <= subjects
        elif op == "track":
            missing = not set(c["ids"]) <= obligations
        elif op == "settle":
            missing = (c["id"], c["token"]) not in settled
        elif op == "open_order":
            missing = c["id"] not in orders
        elif op == "order_step":
            missing = (c["id"], c["token"]) not in steps
        elif op == "drill":
            missing = c["token"] not in drills
        elif op == "keyed_anchor":
            a = c["anchor"]
            missing = (a["seq"], a["hash"], a["mac"]) not in keyed
        elif op == "anchor":
            continue  # checked by Store.verify(anchors=...)
        else:
            found.corrupted.append(f"unexpected confirmation {c}")
            continue
        if missing:
            found.lost.append(json.dumps(c))


def _check_invariants(store: Store, db: sqlite3.Connection, found: Findings) -> None:
    bad = found.corrupted
    # Every amendment and report has its review, and every review its subject.
    for subject, table in (("amendment", "amendments"), ("report", "reports")):
        rows = _set(db, f"SELECT id FROM {table}")
        trails = _set(db, f"SELECT id FROM transitions WHERE subject='{subject}' AND seq=0")
        bad.extend(f"{subject} {i}: stored without its review" for i in sorted(rows - trails))
        bad.extend(f"{subject} {i}: a review without the {subject}" for i in sorted(trails - rows))
    # An applied amendment has exactly one version, and a version made by an amendment has it applied.
    applies = Counter(
        i for (i,) in db.execute("SELECT id FROM transitions WHERE subject='amendment' AND event='apply'")
    )
    made = Counter(a for (a,) in db.execute("SELECT json_extract(data, '$.amendment') FROM versions") if a is not None)
    for amendment in sorted(set(applies) | set(made)):
        if applies[amendment] != 1 or made[amendment] != 1:
            bad.append(f"amendment {amendment}: applied {applies[amendment]} time(s), {made[amendment]} version(s)")
    # A decision batch is stored whole.
    batches: Counter[str] = Counter()
    sizes: dict[str, int] = {}
    for (subject,) in db.execute("SELECT subject FROM decisions"):
        batch, _, part = str(subject).rpartition("/")
        batches[batch] += 1
        sizes[batch] = int(part.partition("of")[2])
    bad.extend(f"decisions {b}: {n} of a batch of {sizes[b]}" for b, n in sorted(batches.items()) if n != sizes[b])
    # A work order is stored with its three obligations; penalties name a stored false alarm.
    obligations = _set(db, "SELECT id FROM obligations")
    for (order,) in db.execute("SELECT id FROM work_orders"):
        if {f"{order}#{n}" for n in (1, 2, 3)} - obligations:
            bad.append(f"work order {order}: stored without its obligations")
    alarms = _set(db, "SELECT id FROM reports WHERE json_extract(data, '$.false_alarm')")
    bad.extend(
        f"penalty {p}: no false-alarm report" for p in sorted(_set(db, "SELECT report_id FROM penalties") - alarms)
    )
    # Events replay through the state machines (an illegal sequence raises).
    for what, replay in (("obligations", store.obligations), ("work orders", store.work_orders)):
        try:
            replay()
        except (TransitionError, StoreError, ValueError) as exc:
            bad.append(f"{what}: {exc}")
    # Every document is its parent's content plus its amendment, or a rollback to an earlier content.
    for target in store.targets():
        _check_history(store, target, bad)


def _check_history(store: Store, target: DocumentRef, bad: list[str]) -> None:
    seen: list[str] = []
    documents: list[Mapping[str, Any]] = []
    for version in store.history(target).versions:
        where = f"{target} v{version.number}"
        if version.kind is VersionKind.CREATE:
            ok = version.number == 1
        elif version.kind is VersionKind.AMEND:
            amendment = store.amendment(str(version.amendment))
            ok = version.document == apply_operations(documents[-1], amendment.operations)
        else:
            ok = version.content in seen
        if not ok:
            bad.append(f"{where}: content is not what its {version.kind.value} makes (a lost or mixed update)")
        seen.append(version.content)
        documents.append(version.document)


def table_rows(path: Path) -> dict[str, int]:
    """How many rows each table of the store holds."""
    db = sqlite3.connect(path)
    try:
        return {t: int(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}
    finally:
        db.close()


def schema_tables(path: Path) -> set[str]:
    """Every table of the store's schema (SQLite's own left out)."""
    db = sqlite3.connect(path)
    try:
        return {
            n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'") if not n.startswith("sqlite_")
        }
    finally:
        db.close()
