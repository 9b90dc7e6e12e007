"""The audit chain in the store: approvals, transitions and provenance are covered; anchors catch a rebuilt chain."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from servicetriage.chain import Anchor, Entry, anchor_from_data, anchor_to_data, payload_of, verify_entries
from servicetriage.errors import StoreError
from servicetriage.learning import Drill
from servicetriage.model import Money, Quadrant
from servicetriage.review import Deviation, IncidentReport
from servicetriage.store import SCHEMA_VERSION, Store
from servicetriage.versions import Amendment, DocumentRef, Operation, Provenance

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
PLAYBOOK = DocumentRef(kind="playbook", id="flight_delay")
OLD_STORE = Path(__file__).parent / "data" / "store-schema-3.db"
KEY = b"k" * 32


def _filled(path: Path) -> None:
    """A store with a playbook, an accepted report and an approved, applied amendment."""
    with Store(path) as store:
        v1 = store.create(PLAYBOOK, {"steps": []}, author="ops", at=T0)
        store.add_report(
            IncidentReport(
                id="R1",
                ticket_id="T1",
                owner="li",
                opened_at=T0,
                category="flight_delay",
                quadrant=Quadrant.Q1,
                deviations=(
                    Deviation(kind="rebooking", authorized_by="li", tier="agent", amount=Money.parse("800 CNY")),
                ),
            )
        )
        amendment = Amendment(
            id="A1",
            target=PLAYBOOK,
            base=v1.hash,
            operations=[Operation(op="add", path="steps", value="rebook")],
            provenance=Provenance(incidents=("R1",), reason="typical"),
        )
        store.propose(amendment, author="zhang", at=T0)
        store.advance_review("amendment", "A1", "approve", actor="wang", at=T0 + timedelta(hours=1), reason="typical")
        store.apply("A1", actor="ops", at=T0 + timedelta(hours=2))


def _tamper(path: Path, *sql: str) -> None:
    """Drop every append-only trigger (anyone who can write the file can) and run *sql*."""
    db = sqlite3.connect(path)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    for statement in sql:
        db.execute(statement)
    db.commit()
    db.close()


def _rebuild_chain(path: Path) -> None:
    """Rewrite the chain from the first changed row on, so it is consistent again (the whole-chain rewrite)."""
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    tables = {"transition": "transitions", "amendment": "amendments"}
    prev = None
    for row in db.execute("SELECT * FROM chain ORDER BY seq").fetchall():
        payload = row["payload"]
        if row["kind"] in tables:
            columns = ("subject", "id", "seq") if row["kind"] == "transition" else ("id",)
            for current in db.execute(f"SELECT * FROM {tables[row['kind']]}").fetchall():
                if "/".join(str(current[c]) for c in columns) == row["key"]:
                    payload = payload_of(dict(current))
        entry = Entry.make(seq=row["seq"], kind=row["kind"], key=row["key"], payload=payload, prev=prev)
        db.execute("UPDATE chain SET payload=?, prev=?, hash=? WHERE seq=?", (payload, prev, entry.hash, row["seq"]))
        prev = entry.hash
    db.commit()
    db.close()


def test_an_intact_store_verifies(tmp_path: Path) -> None:
    """Everything the store wrote is in the chain, and nothing is reported."""
    _filled(tmp_path / "s.db")
    with Store(tmp_path / "s.db") as store:
        assert store.verify() == ()


def test_rewriting_who_approved_fails_verify(tmp_path: Path) -> None:
    """UPDATE transitions SET actor='mallory' on the approval is found, naming the row."""
    path = tmp_path / "s.db"
    _filled(path)
    _tamper(path, "UPDATE transitions SET actor='mallory' WHERE event='approve'")
    with Store(path) as store:
        problems = store.verify()
    assert any(p.startswith("transitions amendment/A1/1: differs from what chain[") for p in problems), problems


def test_rewriting_an_amendments_incident_ids_fails_verify(tmp_path: Path) -> None:
    """The provenance of an amendment is covered: a changed incident id is found."""
    path = tmp_path / "s.db"
    _filled(path)
    _tamper(path, "UPDATE amendments SET data=replace(data, '\"R1\"', '\"R9\"')")
    with Store(path) as store:
        problems = store.verify()
    assert any(p.startswith("amendments A1: differs") for p in problems), problems


def test_a_deleted_or_smuggled_row_fails_verify(tmp_path: Path) -> None:
    """A transition deleted, or one inserted behind the store's back, is named."""
    path = tmp_path / "s.db"
    _filled(path)
    _tamper(
        path,
        "DELETE FROM transitions WHERE subject='amendment' AND seq=2",
        "INSERT INTO drills (playbook_id, at, data) VALUES ('sos', '2026-03-01T08:00:00+00:00', '{}')",
    )
    with Store(path) as store:
        problems = store.verify()
    assert any("transitions amendment/A1/2: recorded at chain[" in p and "(deleted)" in p for p in problems)
    assert any(p.startswith("drills 1: not in the chain") for p in problems)


def test_a_self_approval_written_into_the_trail_fails_verify(tmp_path: Path) -> None:
    """Even with the chain rebuilt to match, a trail where the author approved is refused."""
    path = tmp_path / "s.db"
    _filled(path)
    _tamper(path, "UPDATE transitions SET actor='zhang' WHERE event='approve'")
    _rebuild_chain(path)
    with Store(path) as store:
        problems = store.verify()
    assert any("zhang approved their own amendment" in p for p in problems), problems


def test_a_rebuilt_chain_is_caught_by_an_exported_anchor(tmp_path: Path) -> None:
    """Rewriting history and the whole chain after it passes the chain check, but not the anchor."""
    path = tmp_path / "s.db"
    _filled(path)
    with Store(path) as store:
        anchor = store.anchor(at=T0 + timedelta(days=1))
    saved = json.loads(json.dumps(anchor_to_data(anchor)))
    _tamper(path, "UPDATE transitions SET actor='mallory' WHERE event='approve'")
    _rebuild_chain(path)
    with Store(path) as store:
        assert store.verify() == ()  # the rewrite is consistent: only an anchor can tell
        problems = store.verify(anchors=(anchor_from_data(saved),))
    assert len(problems) == 1
    assert "the history was rewritten" in problems[0]


def test_a_rebuilt_chain_is_caught_by_a_keyed_anchor_kept_in_the_store(tmp_path: Path) -> None:
    """An HMAC-keyed anchor can live in the file: without the key it cannot be re-made."""
    path = tmp_path / "s.db"
    _filled(path)
    with Store(path) as store:
        anchor = store.anchor(at=T0 + timedelta(days=1), key=KEY)
        assert anchor.key_id is not None
        assert store.verify(key=KEY) == ()
    _tamper(path, "UPDATE transitions SET actor='mallory' WHERE event='approve'")
    _rebuild_chain(path)
    with Store(path) as store:
        problems = store.verify(key=KEY)
    assert any("the history was rewritten" in p for p in problems), problems


def test_a_forged_keyed_anchor_is_caught(tmp_path: Path) -> None:
    """Moving a keyed anchor to the rebuilt head without the key breaks its MAC."""
    path = tmp_path / "s.db"
    _filled(path)
    with Store(path) as store:
        store.anchor(at=T0 + timedelta(days=1), key=KEY)
    _tamper(path, "UPDATE transitions SET actor='mallory' WHERE event='approve'")
    _rebuild_chain(path)
    _tamper(path, "UPDATE anchors SET hash=(SELECT hash FROM chain ORDER BY seq DESC LIMIT 1)")
    with Store(path) as store:
        problems = store.verify(key=KEY)
    assert any("its MAC does not match" in p for p in problems), problems


def test_a_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    """Verifying with another key than the anchors' raises, naming both key ids; a short key is refused."""
    path = tmp_path / "s.db"
    _filled(path)
    with Store(path) as store:
        store.anchor(at=T0, key=KEY)
        with pytest.raises(StoreError, match=r"wrong HMAC key \(id [0-9a-f]{16}\); the store's anchors were made"):
            store.verify(key=b"x" * 32)
        with pytest.raises(StoreError, match="at least 16 bytes, got 5 bytes"):
            store.anchor(at=T0, key=b"short")
        anchor = store.anchor(at=T0, key=KEY)
        with pytest.raises(StoreError, match="wrong HMAC key"):
            store.verify(anchors=(anchor,), key=b"y" * 32)


def test_a_key_with_no_anchor_is_reported(tmp_path: Path) -> None:
    """With a key but no keyed anchor yet, verify says so instead of passing silently."""
    path = tmp_path / "s.db"
    _filled(path)
    with Store(path) as store:
        assert store.verify(key=KEY) == (
            "anchors: no anchor was made with this key; run `servicetriage playbook anchor` first",
        )


def test_an_empty_store_has_nothing_to_anchor(tmp_path: Path) -> None:
    """Anchoring an empty store is an error, not an anchor of nothing."""
    with Store(tmp_path / "s.db") as store, pytest.raises(StoreError, match="nothing to anchor"):
        store.anchor(at=T0)


def test_bad_anchor_data_names_the_field() -> None:
    """A hand-edited anchor file is refused field by field."""
    with pytest.raises(StoreError, match=r"anchor.seq: expected a position >= 1, got 0"):
        anchor_from_data({"seq": 0, "hash": "a" * 64})
    with pytest.raises(StoreError, match=r"anchor.hash: expected 64 hex digits"):
        anchor_from_data({"seq": 1, "hash": "xyz"})
    with pytest.raises(StoreError, match=r"anchor: expected a table"):
        anchor_from_data([1])
    anchor = Anchor(seq=1, hash="a" * 64)
    assert anchor_from_data(anchor_to_data(anchor)) == anchor


def test_verify_entries_names_a_broken_link() -> None:
    """A missing entry and a changed payload are both named by position."""
    first = Entry.make(seq=1, kind="drill", key="1", payload="{}", prev=None)
    second = Entry.make(seq=2, kind="drill", key="2", payload="{}", prev=first.hash)
    third = Entry.make(seq=3, kind="drill", key="3", payload="{}", prev=second.hash)
    assert verify_entries((first, second, third)) == ()
    problems = verify_entries((first, third))
    assert problems[0].startswith("chain[3] (drill 3): expected position 2")
    changed = Entry(seq=2, kind="drill", key="2", payload='{"x":1}', prev=first.hash, hash=second.hash)
    assert "tampered" in verify_entries((first, changed, third))[0]


def test_a_store_written_by_schema_3_migrates_and_verifies(tmp_path: Path) -> None:
    """A file made by the previous release opens, gets its rows sealed, verifies, and takes new writes."""
    path = tmp_path / "old.db"
    shutil.copy(OLD_STORE, path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.verify() == ()
        assert store.review("amendment", "A1").trail[1].actor == "wang"
        store.record_drill(Drill(playbook_id="flight_delay", at=T0 + timedelta(days=9), by="ops"))
        assert store.verify() == ()
    _tamper(path, "UPDATE transitions SET actor='mallory' WHERE event='approve'")
    with Store(path) as store:
        assert any(p.startswith("transitions amendment/A1/1: differs") for p in store.verify())


def test_a_failed_write_leaves_no_chain_entry(tmp_path: Path) -> None:
    """A refused write adds nothing to the chain: nothing is half-applied."""
    path = tmp_path / "s.db"
    _filled(path)
    with Store(path) as store:
        before = store.anchor(at=T0)
        with pytest.raises(StoreError):
            store.advance_review("amendment", "A404", "approve", actor="wang", at=T0, reason="x")
        assert store.anchor(at=T0) == before
        assert store.verify() == ()
