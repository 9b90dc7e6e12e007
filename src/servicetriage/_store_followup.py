"""The store's side of obligations and work orders: tables, rows to values and back, checked writes.

Used by `servicetriage.store.Store` inside its transactions. Tracked
obligations and work orders are written once; what happens to them is
appended as events (append-only, in the audit chain), and their state is
replayed from the events with the pure functions of `servicetriage.followup`,
so a write that the state machine refuses is never stored.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any, cast

from servicetriage import _store_chain
from servicetriage.config import structure, unstructure
from servicetriage.errors import StoreError, TransitionError
from servicetriage.escalation import WorkOrder
from servicetriage.followup import (
    Missed,
    ObligationEvent,
    OrderEvent,
    TrackedObligation,
    WorkOrderState,
    advance_order,
    settle,
)
from servicetriage.model import Obligation

#: Migration 5: tracked obligations, work orders and their events.
SCHEMA = """
    CREATE TABLE obligations (
        id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX obligations_by_ticket ON obligations (ticket_id);
    CREATE TABLE obligation_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        obligation_id TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX obligation_events_by_id ON obligation_events (obligation_id, seq);
    CREATE TABLE work_orders (
        id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL,
        department TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX work_orders_by_ticket ON work_orders (ticket_id);
    CREATE TABLE work_order_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        order_id TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX work_order_events_by_id ON work_order_events (order_id, seq);
""" + "".join(
    f"""
    CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END;
    CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END;
    """
    for table in ("obligations", "obligation_events", "work_orders", "work_order_events")
)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# ---- obligations


def add_obligations(db: sqlite3.Connection, items: tuple[TrackedObligation, ...]) -> None:
    """Insert newly tracked obligations; an id already tracked is a `StoreError` naming it."""
    seen: set[str] = set()
    for item in items:
        if item.id in seen or db.execute("SELECT 1 FROM obligations WHERE id=?", (item.id,)).fetchone():
            msg = f"obligation {item.id!r}: already tracked"
            raise StoreError(msg)
        seen.add(item.id)
        data = {"id": item.id, "ticket_id": item.ticket_id, "obligation": unstructure(item.obligation)}
        db.execute("INSERT INTO obligations VALUES (?, ?, ?)", (item.id, item.ticket_id, _dumps(data)))
        _store_chain.seal(db, "obligations", "id=?", (item.id,))


def obligations(
    db: sqlite3.Connection, ids: tuple[str, ...] | None = None, ticket_id: str | None = None
) -> tuple[TrackedObligation, ...]:
    """The tracked obligations (all, those of *ids*, or of *ticket_id*) as their events leave them."""
    where, args = "1=1", cast("tuple[str, ...]", ())
    if ids is not None:
        where, args = f"id IN ({','.join('?' * len(ids))})", ids
    elif ticket_id is not None:
        where, args = "ticket_id=?", (ticket_id,)
    rows = db.execute(f"SELECT id, data FROM obligations WHERE {where} ORDER BY rowid", args).fetchall()  # noqa: S608
    tracked = []
    for _id, text in rows:
        data = json.loads(text)
        tracked.append(
            TrackedObligation(
                id=data["id"], ticket_id=data["ticket_id"], obligation=structure(data["obligation"], Obligation)
            )
        )
    if not tracked:
        return ()
    names = tuple(t.id for t in tracked)
    events = [
        _obligation_event(json.loads(text))
        for (text,) in db.execute(
            f"SELECT data FROM obligation_events WHERE obligation_id IN ({','.join('?' * len(names))}) ORDER BY seq",  # noqa: S608
            names,
        )
    ]
    state, _missed = settle(tracked, events)
    return state


def _obligation_event(data: dict[str, Any]) -> ObligationEvent:
    return ObligationEvent(
        obligation=data["obligation"],
        status=data["status"],
        at=datetime.fromisoformat(data["at"]),
        by=data["by"],
        note=data["note"],
    )


def add_obligation_events(db: sqlite3.Connection, events: tuple[ObligationEvent, ...]) -> tuple[Missed, ...]:
    """Check *events* against the stored state (unknown or closed obligations raise) and append them."""
    ids = tuple(sorted({e.obligation for e in events}))
    current = obligations(db, ids)
    _state, missed = settle(current, events)  # raises TransitionError, naming the event, before any write
    for event in sorted(events, key=lambda e: e.at):
        data = {
            "obligation": event.obligation,
            "status": event.status.value,
            "at": event.at.isoformat(),
            "by": event.by,
            "note": event.note,
        }
        cursor = db.execute(
            "INSERT INTO obligation_events (obligation_id, at, data) VALUES (?, ?, ?)",
            (event.obligation, event.at.isoformat(), _dumps(data)),
        )
        _store_chain.seal(db, "obligation_events", "seq=?", (cursor.lastrowid,))
    return missed


# ---- work orders


def add_work_order(db: sqlite3.Connection, order: WorkOrder) -> None:
    """Insert a newly opened work order; an id already used is a `StoreError` naming it."""
    if db.execute("SELECT 1 FROM work_orders WHERE id=?", (order.id,)).fetchone():
        msg = f"work order {order.id!r}: already opened"
        raise StoreError(msg)
    db.execute(
        "INSERT INTO work_orders VALUES (?, ?, ?, ?)",
        (order.id, order.ticket_id, order.department, _dumps(unstructure(order))),
    )
    _store_chain.seal(db, "work_orders", "id=?", (order.id,))


def work_orders(
    db: sqlite3.Connection, ids: tuple[str, ...] | None = None, ticket_id: str | None = None
) -> tuple[WorkOrderState, ...]:
    """The work orders (all, those of *ids*, or of *ticket_id*) as their events leave them, oldest first."""
    where, args = "1=1", cast("tuple[str, ...]", ())
    if ids is not None:
        where, args = f"id IN ({','.join('?' * len(ids))})", ids
    elif ticket_id is not None:
        where, args = "ticket_id=?", (ticket_id,)
    states: dict[str, WorkOrderState] = {}
    for _id, text in db.execute(f"SELECT id, data FROM work_orders WHERE {where} ORDER BY rowid", args):  # noqa: S608
        order = structure(json.loads(text), WorkOrder)
        states[order.id] = WorkOrderState(order=order)
    if not states:
        return ()
    names = tuple(states)
    for (text,) in db.execute(
        f"SELECT data FROM work_order_events WHERE order_id IN ({','.join('?' * len(names))}) ORDER BY seq",  # noqa: S608
        names,
    ):
        event = _order_event(json.loads(text))
        states[event.order] = advance_order(states[event.order], event)
    return tuple(states.values())


def _order_event(data: dict[str, Any]) -> OrderEvent:
    return OrderEvent(
        order=data["order"],
        status=data["status"],
        at=datetime.fromisoformat(data["at"]),
        by=data["by"],
        note=data["note"],
    )


def add_order_event(db: sqlite3.Connection, event: OrderEvent) -> WorkOrderState:
    """Check *event* against the stored state of its work order (unknown or out of order raise) and append it."""
    found = work_orders(db, (event.order,))
    if not found:
        msg = f"work order {event.order!r}: unknown (no such work order was opened)"
        raise TransitionError(msg)
    state = advance_order(found[0], event)  # raises TransitionError before any write
    data = {
        "order": event.order,
        "status": event.status.value,
        "at": event.at.isoformat(),
        "by": event.by,
        "note": event.note,
    }
    cursor = db.execute(
        "INSERT INTO work_order_events (order_id, at, data) VALUES (?, ?, ?)",
        (event.order, event.at.isoformat(), _dumps(data)),
    )
    _store_chain.seal(db, "work_order_events", "seq=?", (cursor.lastrowid,))
    return state
