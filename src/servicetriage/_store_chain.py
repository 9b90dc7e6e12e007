"""The store's side of the audit chain: sealing rows as they are written, and checking tables against it.

Used by `servicetriage.store.Store` inside its transactions; see
`servicetriage.chain` for the chain itself.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from servicetriage.chain import Anchor, Entry, key_id, keyed_anchor, payload_of, verify_anchor, verify_entries

__all__ = ["verify_entries"]
from servicetriage.errors import StoreError

#: Each chained table: the kind its entries carry, the columns that name a row,
#: and whether a row may be written again (a draft report may change).
TABLES: tuple[tuple[str, str, tuple[str, ...], bool], ...] = (
    ("reports", "report", ("id",), True),
    ("transitions", "transition", ("subject", "id", "seq"), False),
    ("amendments", "amendment", ("id",), False),
    ("versions", "version", ("hash",), False),
    ("drills", "drill", ("seq",), False),
    ("penalties", "penalty", ("report_id",), False),
    ("decisions", "decision", ("seq",), False),
    ("obligations", "obligation", ("id",), False),
    ("obligation_events", "obligation_event", ("seq",), False),
    ("work_orders", "work_order", ("id",), False),
    ("work_order_events", "work_order_event", ("seq",), False),
)
_SPEC = {table: (kind, columns) for table, kind, columns, _ in TABLES}

SCHEMA = """
    CREATE TABLE chain (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        payload TEXT NOT NULL,
        prev TEXT,
        hash TEXT NOT NULL UNIQUE
    );
    CREATE INDEX chain_by_row ON chain (kind, key);
    CREATE TABLE anchors (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        chain_seq INTEGER NOT NULL,
        hash TEXT NOT NULL,
        at TEXT NOT NULL,
        key_id TEXT NOT NULL,
        mac TEXT NOT NULL
    );
    CREATE TABLE decisions (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        at TEXT NOT NULL,
        input_hash TEXT NOT NULL,
        policy_hash TEXT NOT NULL,
        policy_version INTEGER,
        data TEXT NOT NULL
    );
    CREATE INDEX decisions_by_time ON decisions (kind, at);
    CREATE INDEX decisions_by_subject ON decisions (subject);
""" + "".join(
    f"""
    CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END;
    CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} are append-only'); END;
    """
    for table in ("chain", "anchors", "decisions", "drills")
)


def _rows(db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cursor = db.execute(sql, args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _key(row: dict[str, Any], columns: tuple[str, ...]) -> str:
    return "/".join(str(row[c]) for c in columns)


def head(db: sqlite3.Connection) -> tuple[int, str | None]:
    """The last position and hash of the chain (``(0, None)`` when empty)."""
    row = db.execute("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, None)


def seal(db: sqlite3.Connection, table: str, where: str, args: tuple[Any, ...]) -> None:
    """Append a chain entry for each row of *table* matching *where*, as it now stands."""
    kind, columns = _SPEC[table]
    seq, prev = head(db)
    order = ", ".join(columns)
    for row in _rows(db, f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", args):  # noqa: S608 - fixed names
        seq += 1
        entry = Entry.make(seq=seq, kind=kind, key=_key(row, columns), payload=payload_of(row), prev=prev)
        db.execute(
            "INSERT INTO chain VALUES (?, ?, ?, ?, ?, ?)",
            (entry.seq, entry.kind, entry.key, entry.payload, entry.prev, entry.hash),
        )
        prev = entry.hash


def seal_all(db: sqlite3.Connection) -> None:
    """Seal every row already in the file (the migration that brings the chain in).

    Tables that later migrations add do not exist yet then, and are empty when they do.
    """
    present = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table, _kind, _columns, _rewritable in TABLES:
        if table in present:
            seal(db, table, "1=1", ())


def entries(db: sqlite3.Connection) -> tuple[Entry, ...]:
    """The whole chain, oldest first."""
    return tuple(
        Entry(seq=r["seq"], kind=r["kind"], key=r["key"], payload=r["payload"], prev=r["prev"], hash=r["hash"])
        for r in _rows(db, "SELECT * FROM chain ORDER BY seq")
    )


def check_tables(db: sqlite3.Connection, chain: tuple[Entry, ...]) -> list[str]:
    """Compare every chained table with the chain's latest entry for each row."""
    problems: list[str] = []
    latest: dict[tuple[str, str], Entry] = {}
    seen: dict[tuple[str, str], int] = {}
    for entry in chain:
        latest[(entry.kind, entry.key)] = entry
        seen[(entry.kind, entry.key)] = seen.get((entry.kind, entry.key), 0) + 1
    rewritable = {kind for _t, kind, _c, again in TABLES if again}
    for table, kind, columns, _again in TABLES:
        present = set()
        for row in _rows(db, f"SELECT * FROM {table}"):  # noqa: S608 - fixed names
            key = _key(row, columns)
            present.add(key)
            found = latest.get((kind, key))
            if found is None:
                problems.append(f"{table} {key}: not in the chain (written behind the store's back)")
            elif found.payload != payload_of(row):
                problems.append(f"{table} {key}: differs from what chain[{found.seq}] recorded (tampered)")
        for (k, key), entry in latest.items():
            if k == kind and key not in present:
                problems.append(f"{table} {key}: recorded at chain[{entry.seq}] but gone from the table (deleted)")
            if k == kind and kind not in rewritable and seen[(k, key)] > 1:
                problems.append(f"{table} {key}: written {seen[(k, key)]} times to an append-only table")
    return problems


def add_anchor(db: sqlite3.Connection, key: bytes, at: datetime) -> Anchor:
    """Sign the chain's head with *key* and keep the anchor in the store."""
    seq, digest = head(db)
    if digest is None:
        msg = "chain: nothing written yet, nothing to anchor"
        raise StoreError(msg)
    anchor = keyed_anchor(Anchor(seq=seq, hash=digest, at=at.isoformat()), key)
    db.execute(
        "INSERT INTO anchors (chain_seq, hash, at, key_id, mac) VALUES (?, ?, ?, ?, ?)",
        (anchor.seq, anchor.hash, anchor.at, anchor.key_id, anchor.mac),
    )
    return anchor


def stored_anchors(db: sqlite3.Connection) -> tuple[Anchor, ...]:
    """The keyed anchors kept in the store, oldest first."""
    return tuple(
        Anchor(seq=r["chain_seq"], hash=r["hash"], at=r["at"], key_id=r["key_id"], mac=r["mac"])
        for r in _rows(db, "SELECT * FROM anchors ORDER BY seq")
    )


def check_anchors(
    chain: tuple[Entry, ...], kept: tuple[Anchor, ...], anchors: tuple[Anchor, ...], key: bytes | None
) -> list[str]:
    """Check the exported *anchors* and, with *key*, the keyed anchors *kept* in the store."""
    problems: list[str] = []
    for anchor in anchors:
        problems.extend(verify_anchor(anchor, chain, key if anchor.key_id else None))
    if key is None:
        return problems
    mine = [a for a in kept if a.key_id == key_id(key)]
    if not mine:
        others = sorted({a.key_id for a in kept if a.key_id})
        if others:
            msg = (
                f"chain key: wrong HMAC key (id {key_id(key)}); the store's anchors were made with {', '.join(others)}"
            )
            raise StoreError(msg)
        problems.append("anchors: no anchor was made with this key; run `servicetriage playbook anchor` first")
        return problems
    for anchor in mine:
        problems.extend(verify_anchor(anchor, chain, key))
    return problems
