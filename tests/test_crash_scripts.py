"""The crash scripts in bench/: SIGKILLed writers and racing reviewers lose nothing, and the checker sees damage."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench"
sys.path.insert(0, str(BENCH))

from crash_check import check, schema_tables, table_rows  # noqa: E402
from crash_race import _doubles, _expected_rows  # noqa: E402
from crash_world import TABLES, Confirmation, Writer  # noqa: E402
from servicetriage.store import Store  # noqa: E402

CLEAN = "lost: 0, corrupted: 0, chain failures: 0"


def _script(name: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / name), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _written(path: Path, steps: int, seed: int = 7) -> list[Confirmation]:
    confirmed = []
    with Store(path, synchronous="NORMAL") as store:
        writer = Writer(store=store, name="w", rng=random.Random(seed))
        for _ in range(steps):
            done = writer.step()
            if done is not None:
                confirmed.append(done)
        writer.close()
    return confirmed


def test_a_short_kill_run_loses_and_corrupts_nothing(tmp_path: Path) -> None:
    """A few SIGKILLed writers on two store files: every confirmed write is there, whole."""
    done = _script("crash_kill.py", "--trials", "6", "--per-store", "3", "--dir", str(tmp_path), "--quiet", timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert CLEAN in done.stdout
    assert "crash_kill: 6 trials" in done.stdout


def test_a_short_race_loses_nothing_and_applies_nothing_twice(tmp_path: Path) -> None:
    """Two racing processes: some races are turned away, and the store holds exactly what was confirmed."""
    done = _script("crash_race.py", "--rounds", "80", "--dir", str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert CLEAN + ", applied or settled twice: 0" in done.stdout


@pytest.mark.slow
def test_a_thousand_sigkills_lose_and_corrupt_nothing(tmp_path: Path) -> None:
    """The full kill run behind the performance page's figures."""
    done = _script("crash_kill.py", "--trials", "1000", "--dir", str(tmp_path), "--quiet", timeout=3600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert CLEAN in done.stdout


@pytest.mark.slow
def test_the_full_race_loses_nothing(tmp_path: Path) -> None:
    """The full race run behind the performance page's figures."""
    done = _script("crash_race.py", "--dir", str(tmp_path), timeout=3600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert CLEAN in done.stdout


def test_the_writer_covers_every_table_of_the_store(tmp_path: Path) -> None:
    """A new store table fails this test until the crash writer writes it (and the checker knows it)."""
    path = tmp_path / "all.db"
    confirmed = _written(path, 600)
    assert schema_tables(path) == set(TABLES)
    assert [t for t, n in table_rows(path).items() if n == 0] == []
    assert check(path, confirmed).all() == []
    assert {c["op"] for c in confirmed} >= {"apply", "rollback", "settle", "order_step", "penalty", "keyed_anchor"}


def test_a_confirmed_write_missing_from_the_store_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "lost.db"
    confirmed = _written(path, 60)
    ghosts: list[Confirmation] = [
        {"op": "drill", "token": "w-9999999"},
        {"op": "ledger", "subjects": ["w-9999999/1of1"]},
    ]
    found = check(path, [*confirmed, *ghosts])
    assert len(found.lost) == 2
    assert found.corrupted == []


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            (
                "INSERT INTO transitions SELECT subject, id, seq + 1, 'apply', state, 'applied', 'x', at, 'x'"
                " FROM transitions t WHERE subject='amendment' AND state='approved'"
                " AND seq = (SELECT MAX(seq) FROM transitions WHERE subject=t.subject AND id=t.id) LIMIT 1"
            ),
            "applied 1 time(s), 0 version(s)",
        ),
        ("INSERT INTO decisions VALUES (NULL, 'triage', 'b/1of2', 'x', 'x', 'x', NULL, '{}')", "1 of a batch of 2"),
        ("INSERT INTO work_orders VALUES ('WO-x', 'T-x', 'd', '{}')", "WO-x: stored without its obligations"),
        ("INSERT INTO amendments VALUES ('A-x', 'note', 'n', NULL, '{}')", "A-x: stored without its review"),
    ],
    ids=["apply-without-version", "half-a-batch", "order-without-obligations", "amendment-without-review"],
)
def test_a_half_written_change_is_corrupted(tmp_path: Path, sql: str, problem: str) -> None:
    """Rows written behind the store's back, as a torn write would leave them, break an invariant and the chain."""
    path = tmp_path / "torn.db"
    confirmed = _written(path, 200, seed=3)
    db = sqlite3.connect(path)
    with db:
        assert db.execute(sql).rowcount == 1
    db.close()
    found = check(path, confirmed)
    assert any(problem in p for p in found.corrupted), found.all()
    assert any("not in the chain" in p for p in found.chain)


def test_a_race_won_twice_is_an_anomaly() -> None:
    confirmed = [
        {"op": "create", "id": "D1", "hash": "h0"},
        {"op": "apply", "id": "A1", "hash": "h1"},
        {"op": "apply", "id": "A1", "hash": "h2"},
        {"op": "approve", "id": "A2"},
        {"op": "reject", "id": "A2"},
    ]
    assert _doubles(confirmed) == ["apply A1: confirmed 2 times", "amendment A2: both approved and rejected"]
    assert _expected_rows(confirmed)["versions"] == 3
