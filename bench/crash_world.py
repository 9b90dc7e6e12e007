"""The shared part of the crash scripts: a writer that touches every store table, and its child process.

`Writer` makes one random store write at a time (amendments proposed,
approved, rejected and applied; documents created and rolled back; reports
filed, edited and moved through their review; false alarms penalised;
ledger records; obligations tracked and settled; work orders opened and
stepped; drills; plain and keyed chain anchors). After each commit it returns
a *confirmation*, a small JSON-able dict that names what must now be in the
store; `crash_check.check` judges a store against them.

`fork` starts a writer in a child process forked from the caller, which has
already imported the library, so a trial costs milliseconds rather than the
import. The child is a separate process with its own SQLite connection: a
``SIGKILL`` ends it with no clean-up of any kind.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from servicetriage.chain import anchor_to_data
from servicetriage.errors import ConflictError, StoreError, TransitionError
from servicetriage.escalation import WorkOrder
from servicetriage.followup import ObligationEvent, OrderEvent, track
from servicetriage.learning import Drill, PenaltyRule
from servicetriage.ledger import Record
from servicetriage.model import Money, Obligation, ObligationKind, Quadrant
from servicetriage.review import Deviation, IncidentReport
from servicetriage.store import Store
from servicetriage.versions import Amendment, DocumentRef, Operation

#: The HMAC secret of the keyed anchors the writers leave in the store.
KEY = b"crash-test-anchor-key-0123456789"
#: Expected losses of a race: someone else wrote first, or the step was taken already.
RACE_LOST = (ConflictError, TransitionError)
#: The tables a writer writes (every table of the schema but SQLite's own).
TABLES = (
    "reports",
    "transitions",
    "amendments",
    "versions",
    "drills",
    "penalties",
    "chain",
    "anchors",
    "decisions",
    "obligations",
    "obligation_events",
    "work_orders",
    "work_order_events",
)
_NEXT_REPORT_EVENTS = {
    "draft": ("submit",),
    "changes_requested": ("submit",),
    "submitted": ("start",),
    "in_review": ("accept", "reject", "request_changes"),
}
_ORDER_STEPS = ("acknowledged", "done", "reported")
_RULE = PenaltyRule()
_POLICY_HASH = "0" * 64

Confirmation = dict[str, Any]
#: A write planned from what a writer read, made later (after the other racers have planned theirs).
Plan = Callable[[], Confirmation | None]


def now() -> datetime:
    """The wall clock: later writes, even by another process, never go back in time."""
    return datetime.now(UTC)


@dataclass
class Writer:
    """Random writes to one store, each returning its confirmation (``None``: nothing to do, or a race lost).

    *name* is the writer's actor name and the prefix of every id and token
    it makes, so writers never collide on an id; tokens sort in the order a
    writer made them. It reviews amendments as ``<name>.reviewer``. With
    *race*, several writers share the store, and two writes are left out: a
    report's edit (the last writer wins, and "last" has no order to check)
    and a new document (so the writers keep racing on the same ones).
    Writers given *ops_rng* with the same seed choose the same kind of write
    at each step (all approve, all apply, all settle...), so they collide.
    """

    store: Store
    name: str
    rng: random.Random
    race: bool = False
    ops_rng: random.Random | None = None
    count: int = 0
    lost: Counter[str] = field(default_factory=Counter)
    _read: sqlite3.Connection | None = None

    def token(self) -> str:
        self.count += 1
        return f"{self.name}-{self.count:07d}"

    @property
    def read(self) -> sqlite3.Connection:
        if self._read is None:
            self._read = sqlite3.connect(self.store.path, isolation_level=None, timeout=60)
        return self._read

    def close(self) -> None:
        if self._read is not None:
            self._read.close()

    # ---- what there is to work on (read outside the writes: a race may make it stale)

    def _states(self, subject: str) -> list[tuple[str, str, str]]:
        return [
            (str(i), str(s), str(a))
            for i, s, a in self.read.execute(
                """SELECT t.id, t.state, (SELECT actor FROM transitions WHERE subject=t.subject AND id=t.id AND seq=0)
                   FROM transitions t WHERE t.subject=? AND t.seq =
                   (SELECT MAX(seq) FROM transitions WHERE subject=t.subject AND id=t.id) ORDER BY t.id""",
                (subject,),
            )
        ]

    def _targets(self) -> list[DocumentRef]:
        rows = self.read.execute("SELECT DISTINCT target_kind, target_id FROM versions ORDER BY 1, 2")
        return [DocumentRef(kind=k, id=i) for k, i in rows]

    def _pick(self, items: Sequence[Any]) -> Any:
        """A random one of *items*; racing writers pick among the oldest two, so they collide."""
        if not items:
            return None
        return self.rng.choice(items[:2] if self.race else items)

    # ---- the writes: each op reads what there is to work on and returns the write to make (a plan), or None

    def step(self, sync: Callable[[], object] | None = None) -> Confirmation | None:
        """Plan one random write, wait for *sync* (the other racers), make it; its confirmation, or ``None``.

        ``None`` when there was nothing to act on, or when the write lost a
        race (``ConflictError``, ``TransitionError``: counted in `lost`).
        """
        ops: list[Callable[[], Plan | None]] = [
            self.propose,
            self.propose,
            self.approve,
            self.approve,
            self.reject,
            self.apply,
            self.apply,
            self.rollback,
            self.report,
            self.advance_report,
            self.advance_report,
            self.penalty,
            self.ledger,
            self.track,
            self.settle,
            self.open_order,
            self.order_step,
            self.drill,
            self.anchor,
            self.keyed_anchor,
        ]
        if not self.race:
            ops.extend((self.create, self.update_report))
        op = (self.ops_rng or self.rng).choice(ops)
        plan = op()
        if sync is not None:
            sync()
        if plan is None:
            return None
        try:
            return plan()
        except RACE_LOST:
            self.lost[op.__name__] += 1
            return None

    def create(self) -> Plan:
        target = DocumentRef(kind="note", id=self.token())

        def write() -> Confirmation:
            version = self.store.create(target, {"log": []}, author=self.name, at=now())
            return {"op": "create", "id": target.id, "hash": version.hash}

        return write

    def propose(self) -> Plan | None:
        target = self._pick(self._targets())
        if target is None:
            return self.create()
        head = self.store.head(target)
        assert head is not None
        token = self.token()
        amendment = Amendment(
            id=token, target=target, base=head.hash, operations=[Operation(op="add", path="log", value=token)]
        )

        def write() -> Confirmation:
            self.store.propose(amendment, author=self.name, at=now(), reason=token)
            return {"op": "propose", "id": token}

        return write

    def _advance(self, subject: str, id: str, event: str, actor: str) -> Plan:
        token = self.token()

        def write() -> Confirmation:
            self.store.advance_review(subject, id, event, actor=actor, at=now(), reason=token)
            return {"op": event, "subject": subject, "id": id, "reason": token}

        return write

    def _review(self, event: str, state: str) -> Plan | None:
        actor = f"{self.name}.reviewer"  # not the author, even of the writer's own proposals: racers collide
        chosen = self._pick([i for i, s, author in self._states("amendment") if s == state and author != actor])
        return None if chosen is None else self._advance("amendment", chosen, event, actor)

    def approve(self) -> Plan | None:
        return self._review("approve", "proposed")

    def reject(self) -> Plan | None:
        return self._review("reject", "proposed")

    def apply(self) -> Plan | None:
        heads = {
            (k, i): h
            for k, i, h in self.read.execute(
                """SELECT target_kind, target_id, hash FROM versions v WHERE number =
                   (SELECT MAX(number) FROM versions WHERE target_kind=v.target_kind AND target_id=v.target_id)"""
            )
        }
        made_on = {
            i: ((k, t), b)
            for i, k, t, b in self.read.execute("SELECT id, target_kind, target_id, base FROM amendments")
        }
        ready = [
            i for i, s, _ in self._states("amendment") if s == "approved" and heads.get(made_on[i][0]) == made_on[i][1]
        ]
        chosen = self._pick(ready)
        if chosen is None:
            return None
        token = self.token()

        def write() -> Confirmation:
            version = self.store.apply(chosen, actor=self.name, at=now(), reason=token)
            return {"op": "apply", "id": chosen, "hash": version.hash}

        return write

    def rollback(self) -> Plan | None:
        target = self._pick(self._targets())
        head = self.store.head(target) if target is not None else None
        if head is None or head.number < 2:
            return None
        number = self.rng.randrange(1, head.number)
        token = self.token()

        def write() -> Confirmation:
            version = self.store.rollback(target, number, actor=self.name, at=now(), reason=token)
            return {"op": "rollback", "hash": version.hash}

        return write

    def report(self) -> Plan:
        token = self.token()
        false_alarm = self.rng.random() < 0.3
        customer = f"C{self.rng.randrange(5)}"
        reporter = f"caller-{self.rng.randrange(3)}" if false_alarm else None

        def write() -> Confirmation:
            report = IncidentReport(
                id=token,
                ticket_id=f"T-{token}",
                owner=self.name,
                opened_at=now(),
                category="flight_delay",
                quadrant=Quadrant.Q1,
                customer_id=customer,
                reporter=reporter,
                false_alarm=false_alarm,
                deviations=(
                    Deviation(kind="rebooking", authorized_by=self.name, tier="agent", amount=Money.parse("80 CNY")),
                ),
                root_cause=token,
            )
            self.store.add_report(report, at=now())
            return {"op": "report", "id": token}

        return write

    def update_report(self) -> Plan | None:
        chosen = self._pick([i for i, s, _ in self._states("report") if s in ("draft", "changes_requested")])
        if chosen is None:
            return None
        token = self.token()

        def write() -> Confirmation:
            report = self.store.report(chosen)
            self.store.update_report(attrs.evolve(report, root_cause=token))
            return {"op": "update_report", "id": chosen, "token": token}

        return write

    def advance_report(self) -> Plan | None:
        chosen = self._pick([(i, s) for i, s, _ in self._states("report") if s in _NEXT_REPORT_EVENTS])
        if chosen is None:
            return None
        return self._advance("report", chosen[0], self.rng.choice(_NEXT_REPORT_EVENTS[chosen[1]]), self.name)

    def penalty(self) -> Plan | None:
        candidates = [
            i
            for (i,) in self.read.execute(
                """SELECT id FROM reports WHERE json_extract(data, '$.false_alarm')
                   AND id NOT IN (SELECT report_id FROM penalties) ORDER BY id"""
            )
        ]
        chosen = self._pick(candidates)
        if chosen is None:
            return None

        def write() -> Confirmation:
            self.store.record_false_alarm(chosen, _RULE, now=now())
            return {"op": "penalty", "id": chosen}

        return write

    def ledger(self) -> Plan:
        token = self.token()
        size = self.rng.randint(1, 3)
        subjects = [f"{token}/{n}of{size}" for n in range(1, size + 1)]

        def write() -> Confirmation:
            at = now()
            self.store.record_decisions(
                Record(kind="triage", subject=s, at=at, input={"s": s}, result={"q": "Q4"}, policy_hash=_POLICY_HASH)
                for s in subjects
            )
            return {"op": "ledger", "subjects": subjects}

        return write

    def track(self) -> Plan:
        token = self.token()
        count = self.rng.randint(1, 3)

        def write() -> Confirmation:
            at = now()
            promises = [
                Obligation(kind=ObligationKind.CALL_BACK, due=at + timedelta(hours=n), to="customer")
                for n in range(1, count + 1)
            ]
            tracked = self.store.track_obligations(track(f"T-{token}", promises))
            return {"op": "track", "ids": [t.id for t in tracked]}

        return write

    def settle(self) -> Plan | None:
        open_ = [
            i
            for (i,) in self.read.execute(
                "SELECT id FROM obligations WHERE id NOT IN (SELECT obligation_id FROM obligation_events) ORDER BY id"
            )
        ]
        chosen = self._pick(open_)
        if chosen is None:
            return None
        token = self.token()
        status = self.rng.choice(("met", "met", "missed", "waived"))

        def write() -> Confirmation:
            event = ObligationEvent(obligation=chosen, status=status, at=now(), by=self.name, note=token)
            self.store.settle_obligations([event])
            return {"op": "settle", "id": chosen, "token": token}

        return write

    def open_order(self) -> Plan:
        token = self.token()

        def write() -> Confirmation:
            at = now()
            order = WorkOrder(
                id=f"WO-{token}",
                ticket_id=f"T-{token}",
                owner=self.name,
                department="engineering",
                task="fix the booking",
                opened_at=at,
                due=at + timedelta(days=1),
            )
            promises = [
                Obligation(kind=ObligationKind.NOTIFY_DEPARTMENT, due=at, to="engineering"),
                Obligation(kind=ObligationKind.FOLLOW_UP, due=order.due, to="engineering"),
                Obligation(kind=ObligationKind.REPORT_TO_CUSTOMER, due=order.due + timedelta(hours=1), to="customer"),
            ]
            self.store.open_work_order(order, promises)
            return {"op": "open_order", "id": order.id}

        return write

    def order_step(self) -> Plan | None:
        rows = self.read.execute(
            """SELECT w.id, (SELECT COUNT(*) FROM work_order_events e WHERE e.order_id=w.id)
               FROM work_orders w ORDER BY w.id"""
        ).fetchall()
        chosen = self._pick([(i, n) for i, n in rows if n < len(_ORDER_STEPS)])
        if chosen is None:
            return None
        token = self.token()

        def write() -> Confirmation:
            event = OrderEvent(order=chosen[0], status=_ORDER_STEPS[chosen[1]], at=now(), by=self.name, note=token)
            self.store.work_order_event(event)
            return {"op": "order_step", "id": chosen[0], "token": token}

        return write

    def drill(self) -> Plan:
        token = self.token()

        def write() -> Confirmation:
            self.store.record_drill(Drill(playbook_id="flight_delay", at=now(), by=self.name, note=token))
            return {"op": "drill", "token": token}

        return write

    def anchor(self) -> Plan:
        return self._anchor("anchor", None)

    def keyed_anchor(self) -> Plan:
        return self._anchor("keyed_anchor", KEY)

    def _anchor(self, op: str, key: bytes | None) -> Plan:
        def write() -> Confirmation | None:
            try:
                anchor = self.store.anchor(at=now(), key=key)
            except StoreError:  # nothing written yet
                return None
            return {"op": op, "anchor": anchor_to_data(anchor)}

        return write


# --------------------------------------------------------------------------
# The child process


def fork(body: Callable[[Callable[[Confirmation], None]], int]) -> tuple[int, int]:
    """Run *body* in a forked child; return its pid and the read end of its confirmation pipe.

    *body* gets a ``confirm`` function that writes one JSON line to the pipe
    (one ``write`` under ``PIPE_BUF`` bytes: whole or not at all). An
    exception in *body* is confirmed as ``{"op": "error"}`` and the child
    exits with status 70.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    os.close(read)  # the child
    code = 70

    def confirm(item: Confirmation) -> None:
        os.write(write, (json.dumps(item, separators=(",", ":")) + "\n").encode())

    try:
        code = body(confirm)
    except BaseException:
        confirm({"op": "error", "error": traceback.format_exc(limit=8)})
    finally:
        os._exit(code)


def parse(lines: bytes) -> list[Confirmation]:
    """The confirmations in a child's output (an unfinished last line, impossible with small writes, is dropped)."""
    text = lines.decode()
    complete = text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line]
