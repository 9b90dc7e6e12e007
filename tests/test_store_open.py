"""Opening a store while another connection holds the file: it waits for its turn, up to its timeout."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from servicetriage.errors import StoreError
from servicetriage.learning import Drill
from servicetriage.store import SCHEMA_VERSION, Store


def _holding(path: Path) -> sqlite3.Connection:
    """A connection holding a new file, as a second process opening the same new store does for a moment."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_new_store_opened_while_another_connection_holds_it_waits_instead_of_failing(tmp_path: Path) -> None:
    """SQLite answers "locked" at once to the switch to WAL; the store retries it until the other lets go."""
    path = tmp_path / "new.db"
    other = _holding(path)
    release = threading.Timer(0.3, other.execute, ("COMMIT",))
    release.start()
    try:
        started = time.monotonic()
        with Store(path, timeout=10) as store:
            assert time.monotonic() - started >= 0.25
            assert store.schema_version == SCHEMA_VERSION
            assert store._db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        release.join()
        other.close()


def test_a_store_held_past_the_timeout_is_a_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    other = _holding(path)
    try:
        with pytest.raises(StoreError, match=r"held.db: not a usable store: database is locked"):
            Store(path, timeout=0.2)
    finally:
        other.close()


def test_two_processes_creating_the_same_store_at_once_both_write(tmp_path: Path) -> None:
    """Each of 20 new files is opened by two forked processes at the same moment; none fails."""
    for n in range(20):
        path = tmp_path / f"new-{n}.db"
        children = []
        for k in range(2):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                code = 1
                try:
                    with Store(path, timeout=30, synchronous="NORMAL") as store:
                        store.record_drill(Drill(playbook_id="p", at=datetime.now(UTC), by=f"k{k}"))
                    code = 0
                finally:
                    os._exit(code)
            children.append(pid)
        assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children] == [0, 0]
        with Store(path) as store:
            assert sorted(d.by for d in store.drills()) == ["k0", "k1"]
