"""One bad row, one bad value or one damaged store row is a clear error, never a traceback.

Each test here reproduces an input that used to end in a raw exception: a CSV cell over the csv module's limit,
a ticket opened in 9999, a 401-digit count under an ``at_least`` rule, a key given twice in a JSON line, a lone
surrogate printed by the command line, a store whose rows were damaged outside the library.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from servicetriage.cli import main
from servicetriage.config import load_section
from servicetriage.errors import StoreError, TicketError
from servicetriage.ingest import iter_tickets, read_tickets
from servicetriage.learning import Drill
from servicetriage.model import Customer, Ticket
from servicetriage.store import Store
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy, classify

EXAMPLES = Path(__file__).parent.parent / "examples"
NOW = "2026-03-02T12:00:00+08:00"
RECORD = {"id": "T1", "opened_at": "2026-03-02T07:39:00+08:00", "customer": {"id": "C1"}, "subject": "hello"}


def _results(path: Path) -> list[tuple[int, Ticket | TicketError]]:
    return list(iter_tickets(path))


def test_a_csv_cell_over_the_limit_is_a_bad_row_and_the_next_rows_are_read(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    big = "x" * 140_000
    path.write_text(f"id,opened_at,customer_id,text\nA,{RECORD['opened_at']},C1,{big}\nB,{RECORD['opened_at']},C1,ok\n")
    (line, error), (next_line, ticket) = _results(path)
    assert isinstance(error, TicketError)
    assert (line, str(error)) == (2, "not valid CSV: a cell longer than 131,072 characters")
    assert next_line == 3
    assert isinstance(ticket, Ticket)
    assert ticket.id == "B"


def test_a_csv_cell_over_the_limit_in_the_header_stops_the_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id," + "x" * 140_000 + "\n")
    with pytest.raises(TicketError, match=r"t\.csv:1: not valid CSV: field larger than field limit"):
        _results(path)


def test_triage_reports_an_oversized_csv_cell_with_its_line_and_ranks_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        f"id,opened_at,customer_id,text\nA,{RECORD['opened_at']},C1,{'x' * 140_000}\nB,{RECORD['opened_at']},C1,ok\n"
    )
    assert main(["triage", str(path), "--now", NOW, "--format", "csv"]) == 1
    out, err = capsys.readouterr()
    assert f"{path}:2: not valid CSV: a cell longer than 131,072 characters" in err
    assert out.splitlines()[1].startswith("B,")


@pytest.mark.parametrize("field", ["opened_at", "due"])
@pytest.mark.parametrize("value", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00"])
def test_a_time_outside_1900_to_2999_in_a_ticket_file_is_a_bad_row(tmp_path: Path, field: str, value: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(RECORD | {field: value}) + "\n" + json.dumps(RECORD | {"id": "T2"}) + "\n")
    (line, error), (_, ticket) = _results(path)
    assert isinstance(error, TicketError)
    assert line == 1
    assert str(error) == f"{field}: expected a time from 1900 to 2999, got {value!r}"
    assert isinstance(ticket, Ticket)


def test_a_pause_ending_in_9999_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    pauses = [{"start": "2026-03-02T08:00:00+08:00", "end": "9999-12-31T23:59:59+00:00"}]
    path.write_text(json.dumps(RECORD | {"pauses": pauses}) + "\n")
    ((_, error),) = _results(path)
    assert isinstance(error, TicketError)
    assert "expected a time from 1900 to 2999" in str(error)


def test_a_ticket_built_in_code_is_held_to_the_same_range() -> None:
    with pytest.raises(TicketError, match=r"^ticket\.opened_at: expected a time from 1900 to 2999, got '9999-"):
        Ticket(id="T", opened_at=datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), customer=Customer(id="C"))


def test_triage_of_a_file_with_a_ticket_opened_in_9999_ranks_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        json.dumps(RECORD | {"opened_at": "9999-12-31T23:59:59+00:00"})
        + "\n"
        + json.dumps(RECORD | {"id": "T2"})
        + "\n"
    )
    assert main(["triage", str(path), "--now", NOW, "--format", "csv"]) == 1
    out, err = capsys.readouterr()
    assert f"{path}:1: opened_at: expected a time from 1900 to 2999" in err
    assert out.splitlines()[1].startswith("T2,")


def test_a_count_too_large_for_a_float_meets_an_at_least_rule(tmp_path: Path) -> None:
    policy_path = tmp_path / "p.toml"
    policy_path.write_text(
        '[triage]\n[[triage.rules]]\nname = "many"\nurgency = "critical"\n'
        'when = [{ field = "affected_customers", at_least = 1000 }, { field = "attributes.n", at_least = 5 }]\n'
    )
    policy = load_section(policy_path, "triage", TriagePolicy, required=True)
    assert policy is not None
    huge = int("9" * 401)
    ticket = Ticket(
        id="T",
        opened_at=datetime(2026, 3, 2, tzinfo=UTC),
        customer=Customer(id="C"),
        affected_customers=huge,
        attributes={"n": huge},
    )
    result = classify(ticket, policy, datetime(2026, 3, 2, 1, tzinfo=UTC))
    assert any("many" in str(reason) for reason in result.reasons)
    assert result.urgency.name == "critical"


def test_a_key_given_twice_in_a_json_line_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    line = json.dumps(RECORD)
    path.write_text(line[:-1] + ', "id": "T9"}\n' + line.replace('"id": "C1"', '"id": "C1", "id": "C2"') + "\n")
    (first, error), (second, nested) = _results(path)
    assert (first, str(error)) == (1, "duplicate key 'id'")
    assert (second, str(nested)) == (2, "duplicate key 'id'")
    with pytest.raises(TicketError, match="line 1: duplicate key 'id'"):
        read_tickets(path)


def test_a_line_nested_a_thousand_deep_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": ' + "[" * 1000 + "]" * 1000 + "}\n" + json.dumps(RECORD) + "\n")
    (_, error), (_, ticket) = _results(path)
    assert isinstance(error, TicketError)
    assert isinstance(ticket, Ticket)


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_a_lone_surrogate_is_printed_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(RECORD | {"id": "A\ud800", "subject": "s\udfff"}) + "\n")
    assert main(["triage", str(path), "--now", NOW, "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "A\\ud800" in out
    if fmt == "json":
        assert json.loads(out.splitlines()[0])["id"] == "A\ud800"  # JSON reads the escape back as the surrogate


def test_an_error_naming_a_lone_surrogate_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(RECORD | {"channel": "x\ud800"}) + "\n")
    assert main(["triage", str(path), "--now", NOW]) == 1
    assert "x\\ud800" in capsys.readouterr().err


# --------------------------------------------------------------------------
# A damaged store


def _damage(path: Path, sql: str) -> None:
    """Change the store file as only something outside the library can: the append-only triggers dropped."""
    db = sqlite3.connect(path)
    try:
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
            db.execute(f"DROP TRIGGER {name}")
        db.execute(sql)
        db.commit()
    finally:
        db.close()


def _read_all(store: Store) -> None:
    store.reports()
    store.review("report", "R-2017-0412")


@pytest.fixture
def store_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "s.db"
    assert main(["report", "add", str(EXAMPLES / "reports" / "airline-rebooking.toml"), "--store", str(path)]) == 0
    capsys.readouterr()
    return path


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("UPDATE transitions SET state='bogus'", r"damaged review of report 'R-2017-0412': 'bogus' is not a valid"),
        ("UPDATE transitions SET at='yesterday'", r"damaged review of report 'R-2017-0412': Invalid isoformat"),
        ("UPDATE reports SET data='{broken'", r"damaged report: Expecting property name"),
        ("UPDATE reports SET data='[]'", r"damaged report"),
        ("UPDATE reports SET data='{\"id\": 5}'", r"damaged report"),
    ],
)
def test_a_damaged_store_row_is_a_store_error(
    store_path: Path, capsys: pytest.CaptureFixture[str], sql: str, message: str
) -> None:
    _damage(store_path, sql)
    assert main(["report", "list", "--store", str(store_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"servicetriage: error: {store_path}: damaged ")
    with Store(store_path) as store, pytest.raises(StoreError, match=message):
        _read_all(store)


def test_a_damaged_drill_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as store:
        store.record_drill(_drill())
    _damage(path, "UPDATE drills SET data='{\"playbook_id\": 1}'")
    with Store(path) as store, pytest.raises(StoreError, match=r"damaged drill: 'at'"):
        store.drills()


def _drill() -> Drill:
    return Drill(playbook_id="P1", at=datetime(2026, 3, 2, tzinfo=UTC), by="alice", note="")


def test_default_policy_classifies_a_ticket_at_the_edges_of_the_range() -> None:
    for opened in (datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, 23, tzinfo=UTC)):
        ticket = Ticket(id="T", opened_at=opened, customer=Customer(id="C"))
        for now in (opened, datetime(2026, 1, 1, tzinfo=UTC)):
            assert classify(ticket, DEFAULT_POLICY, now).quadrant is not None
