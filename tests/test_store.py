"""The SQLite store: transactions, migrations, conflicts, process kills and two writers."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from servicetriage.errors import ConflictError, StoreError, TicketError, TransitionError
from servicetriage.learning import Drill, LearningConfig, PenaltyAction, PenaltyRule, propose
from servicetriage.model import Money, Quadrant
from servicetriage.review import AmendmentState, Deviation, IncidentReport, ReportState
from servicetriage.store import SCHEMA_VERSION, Store, load_reports, report_from_data, report_to_data
from servicetriage.versions import Amendment, DocumentRef, Operation, create, verify_chain

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
PLAYBOOK = DocumentRef(kind="playbook", id="flight_delay")
EXAMPLES = Path(__file__).parent.parent / "examples" / "reports"


def _report(n: int, **changes: object) -> IncidentReport:
    fields: dict[str, object] = {
        "id": f"R{n}",
        "ticket_id": f"T{n}",
        "owner": "li",
        "opened_at": T0 + timedelta(hours=n),
        "category": "flight_delay",
        "quadrant": Quadrant.Q1,
        "deviations": (Deviation(kind="rebooking", authorized_by="li", tier="agent", amount=Money.parse("800 CNY")),),
    }
    fields.update(changes)
    return IncidentReport(**fields)  # type: ignore[arg-type]


def _accept(store: Store, report_id: str, at: datetime) -> None:
    for event in ("submit", "start", "accept"):
        store.advance_review("report", report_id, event, actor="wang", at=at, reason=event)


def test_reports_round_trip_and_are_listed_by_review_state(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.add_report(_report(1))
        store.add_report(_report(2))
        _accept(store, "R1", T0 + timedelta(days=1))
        assert store.report("R1") == _report(1)
        assert [r.id for r in store.reports(ReportState.ACCEPTED)] == ["R1"]
        assert [r.id for r in store.reports("draft")] == ["R2"]
        trail = store.review("report", "R1").trail
        assert [t.state.value for t in trail] == ["draft", "submitted", "in_review", "accepted"]
        with pytest.raises(ConflictError, match="already in"):
            store.add_report(_report(1))


def test_a_report_that_breaks_the_authority_is_not_stored(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(TicketError, match="lacked the authority"):
            store.add_report(_report(1), authority=lambda tier, kind, amount: tier != "agent")
        assert store.reports() == ()


def test_an_illegal_transition_leaves_the_trail_unchanged(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.add_report(_report(1))
        with pytest.raises(TransitionError, match="cannot accept in state draft"):
            store.advance_review("report", "R1", "accept", actor="wang", at=T0 + timedelta(days=1), reason="ok")
        assert len(store.review("report", "R1").trail) == 1


def test_the_learning_loop_through_the_store(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.create(PLAYBOOK, {"id": "flight_delay", "steps": [{"id": "listen"}]}, author="ops", at=T0)
        for n in range(3):
            store.add_report(_report(n))
            _accept(store, f"R{n}", T0 + timedelta(days=1))
        (proposal,) = propose(store.reports("accepted"), LearningConfig(delegate=False), T0 + timedelta(days=2))
        amendment = proposal.amendment(store.head(PLAYBOOK))
        store.propose(amendment, author="zhang", at=T0 + timedelta(days=2))
        with pytest.raises(TransitionError, match="nobody approves"):
            store.advance_review(
                "amendment", amendment.id, "approve", actor="zhang", at=T0 + timedelta(days=2), reason="x"
            )
        with pytest.raises(TransitionError, match="cannot apply in state proposed"):
            store.apply(amendment.id, actor="ops", at=T0 + timedelta(days=2))
        store.advance_review(
            "amendment",
            amendment.id,
            "approve",
            actor="wang",
            at=T0 + timedelta(days=3),
            reason="typical",
            tier="supervisor",
        )
        version = store.apply(amendment.id, actor="ops", at=T0 + timedelta(days=3))
        assert version.number == 2
        assert store.review("amendment", amendment.id).state is AmendmentState.APPLIED
        assert store.amendment(amendment.id) == amendment
        back = store.rollback(PLAYBOOK, 1, actor="ops", at=T0 + timedelta(days=4), reason="undo")
        assert back.content == store.history(PLAYBOOK).version(1).content
        assert store.verify() == ()


def test_two_amendments_on_the_same_base_conflict_in_the_store(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        v1 = store.create(PLAYBOOK, {"steps": []}, author="ops", at=T0)
        for n, text in enumerate(["a", "b"]):
            amendment = Amendment(
                id=f"A{n}", target=PLAYBOOK, base=v1.hash, operations=[Operation(op="add", path="steps", value=text)]
            )
            store.propose(amendment, author="zhang", at=T0)
            store.advance_review("amendment", amendment.id, "approve", actor="wang", at=T0, reason="ok")
        store.apply("A0", actor="ops", at=T0)
        with pytest.raises(ConflictError, match=r"A1 .* was made on"):
            store.apply("A1", actor="ops", at=T0)
        assert store.review("amendment", "A1").state is AmendmentState.APPROVED
        assert store.head(PLAYBOOK).document == {"steps": ["a"]}  # type: ignore[union-attr]


def test_a_stale_version_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        store.create(PLAYBOOK, {"x": 1}, author="ops", at=T0)
        with pytest.raises(ConflictError, match="nothing was written"):
            store.append(create(PLAYBOOK, {"x": 2}, author="ops", at=T0))


def test_history_tables_refuse_updates_and_deletes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as store:
        store.create(PLAYBOOK, {"limit": "500 CNY"}, author="ops", at=T0)
        store.add_report(_report(1))
    db = sqlite3.connect(path)
    for sql in (
        "UPDATE versions SET data = replace(data, '500 CNY', '900 CNY')",
        "DELETE FROM versions",
        "UPDATE transitions SET actor = 'someone else'",
        "DELETE FROM transitions",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)
    db.close()


def test_a_tampered_row_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as store:
        store.create(PLAYBOOK, {"limit": "500 CNY"}, author="ops", at=T0)
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER versions_no_update")  # someone with write access to the file
    db.execute("UPDATE versions SET data = replace(data, '500 CNY', '900 CNY')")
    db.commit()
    db.close()
    with Store(path) as store:
        assert any("tampered" in p for p in store.verify())


def test_a_tampered_audit_trail_is_refused_when_read(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as store:
        store.add_report(_report(1))
        _accept(store, "R1", T0 + timedelta(days=1))
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER transitions_no_delete")
    db.execute("DELETE FROM transitions WHERE seq = 2")  # the start of the review vanishes
    db.commit()
    db.close()
    with (
        Store(path) as store,
        pytest.raises(TransitionError, match=r"report R1\.trail\[2\]: cannot accept in state submitted"),
    ):
        store.review("report", "R1")


def test_false_alarms_and_drills_are_recorded(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        for n in range(3):
            store.add_report(_report(n, false_alarm=True, reporter="C9", deviations=()))
        actions = [store.record_false_alarm(f"R{n}", PenaltyRule(), now=T0 + timedelta(days=n)) for n in range(3)]
        assert [a.action for a in actions if a] == [PenaltyAction.WARNING, PenaltyAction.WARNING, PenaltyAction.FEE]
        store.record_false_alarm("R0", PenaltyRule(), now=T0 + timedelta(days=9))
        assert len(store.penalties("C9")) == 3
        store.record_drill(Drill(playbook_id="sos", at=T0, by="ops"))
        assert store.drills() == (Drill(playbook_id="sos", at=T0, by="ops"),)


def test_a_file_that_is_not_a_store_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"this is not sqlite, just text " * 100)
    with pytest.raises(StoreError, match=r"notes.db: not a usable store"):
        Store(bad)
    with pytest.raises(StoreError, match="is a directory"):
        Store(tmp_path)


def test_an_old_schema_is_migrated_and_a_newer_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE reports (id TEXT PRIMARY KEY, ticket_id TEXT, opened_at TEXT, data TEXT);")
    db.execute("PRAGMA user_version=0")
    db.close()
    with pytest.raises(StoreError, match="not a usable store"):
        Store(path)  # the old table clashes: migration 1 fails, and nothing is half-done
    fresh = tmp_path / "v1.db"
    db = sqlite3.connect(fresh)
    from servicetriage.store import MIGRATIONS  # noqa: PLC0415

    db.executescript(MIGRATIONS[0] + "; PRAGMA user_version=1;")
    db.close()
    with Store(fresh) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.record_drill(Drill(playbook_id="sos", at=T0, by="ops"))
    db = sqlite3.connect(fresh)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this library"):
        Store(fresh)


def test_example_report_files_load_and_round_trip() -> None:
    files = sorted(EXAMPLES.glob("*.*"))
    assert files
    for path in files:
        for report in load_reports(path):
            assert report_from_data(report_to_data(report)) == report


def test_a_bad_report_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('id = "R1"\nticket_id = "T1"\nowner = "li"\nopened_at = "2026-03-01T08:00:00"\n')
    with pytest.raises(TicketError, match=r"bad.toml: opened_at: expected an aware time"):
        load_reports(path)


_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from servicetriage.errors import ConflictError
    from servicetriage.followup import ObligationEvent, track
    from servicetriage.ledger import Record
    from servicetriage.model import Obligation, ObligationKind
    from servicetriage.store import Store
    from servicetriage.versions import DocumentRef, create, Amendment, Operation, apply

    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    target = DocumentRef(kind="playbook", id="p")
    store = Store(path, timeout=60)
    at = datetime(2026, 6, 1, tzinfo=UTC)
    done = 0
    while count < 0 or done < count:
        head = store.head(target)
        if head is None:
            version = create(target, {"log": []}, author=name, at=at)
        else:
            step = Amendment(id=f"{name}-{done}", target=target, base=head.hash,
                             operations=[Operation(op="add", path="log", value=f"{name}-{done}")])
            version = apply(head, step, author=name, at=at)
        try:
            store.append(version)
        except ConflictError:
            continue
        store.record_decision(Record(kind="triage", subject=f"{name}-{done}", at=at, input={"n": done},
                                     result={"quadrant": "Q4"}, policy_hash="0" * 64))
        promise = Obligation(kind=ObligationKind.CALL_BACK, due=at, to="customer")
        case = f"{name}-v{version.number}"  # unique across restarts of a killed writer
        store.track_obligations(track(case, [promise]))
        store.settle_obligations([ObligationEvent(obligation=f"{case}#1", status="met", at=at, by=name)])
        done += 1
        print(version.number, flush=True)
    """
)


def _writer(path: Path, name: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), name, str(count)], stdout=subprocess.PIPE, text=True
    )


def test_a_killed_writer_loses_no_committed_version(tmp_path: Path) -> None:
    path = tmp_path / "kill.db"
    committed: list[int] = []
    for _ in range(3):
        child = _writer(path, "w", -1)
        assert child.stdout is not None
        deadline = time.monotonic() + 0.4
        first = child.stdout.readline()
        committed.append(int(first))
        while time.monotonic() < deadline:
            committed.append(int(child.stdout.readline()))
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        committed.extend(int(line) for line in child.stdout.read().split())
        child.stdout.close()
    with Store(path) as store:
        history = store.history(DocumentRef(kind="playbook", id="p"))
        assert store.verify() == ()  # every committed version is in the audit chain, nothing half-written
        decisions = len(store.decisions())
    assert verify_chain(history.versions) == ()
    assert history.head is not None
    assert history.head.number >= max(committed)
    assert len(history.head.document["log"]) == history.head.number - 1
    assert history.head.number - 3 <= decisions <= history.head.number  # a kill may fall between the two writes


def test_two_writer_processes_never_lose_an_update(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    with Store(path) as store:
        store.create(DocumentRef(kind="playbook", id="p"), {"log": []}, author="setup", at=T0)
    writers = [_writer(path, name, 40) for name in ("a", "b")]
    for writer in writers:
        writer.communicate(timeout=120)
        assert writer.returncode == 0
    with Store(path) as store:
        history = store.history(DocumentRef(kind="playbook", id="p"))
        assert store.verify() == ()  # the two writers' chain entries interleave without a fork
        assert len(store.decisions()) == 80
        assert [t.status.value for t in store.obligations()] == ["met"] * 80
    assert verify_chain(history.versions) == ()
    log = history.head.document["log"]  # type: ignore[union-attr]
    assert len(log) == 80
    assert sorted(log) == sorted([f"a-{n}" for n in range(40)] + [f"b-{n}" for n in range(40)])


def test_schema_3_indexes_the_customer_of_reports_written_before_it(tmp_path: Path) -> None:
    from servicetriage.store import MIGRATIONS  # noqa: PLC0415

    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + ";" + MIGRATIONS[1] + "; PRAGMA user_version=2;")
    data = json.dumps(report_to_data(_report(1, customer_id="C1")))
    db.execute("INSERT INTO reports VALUES ('R1', 'T1', '2026-03-01T09:00:00+00:00', ?)", (data,))
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 5
        assert store.report("R1").customer_id == "C1"
    db = sqlite3.connect(path)
    assert db.execute("SELECT customer_id FROM reports").fetchall() == [("C1",)]
    db.close()
