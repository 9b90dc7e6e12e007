"""The ``servicetriage triage`` command: ranked output, formats, bad rows, exit codes."""

from __future__ import annotations

import csv
import io
import json
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import config, triage
from servicetriage import strategies as sts
from servicetriage.cli import _triage, main
from servicetriage.ingest import read_tickets, ticket_to_record, write_jsonl

if TYPE_CHECKING:
    from servicetriage.model import Ticket

EXAMPLES = Path(__file__).parent.parent / "examples"
NOW = "2026-03-02T10:00:00+08:00"
NOW_DT = datetime.fromisoformat(NOW)


@pytest.fixture
def tickets_file(tmp_path: Path) -> Path:
    """The example tickets, copied so a test may add bad rows."""
    path = tmp_path / "tickets.jsonl"
    path.write_bytes((EXAMPLES / "tickets.jsonl").read_bytes())
    return path


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    """The default policy written as a policy file with a [triage] table."""
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"triage": config.unstructure(triage.DEFAULT_POLICY)}), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["triage", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def expected_ids(path: Path) -> list[str]:
    return [t.id for t, _ in triage.rank(read_tickets(path), triage.DEFAULT_POLICY, NOW_DT)]


def test_csv_header_starts_id_quadrant_priority_and_order_equals_rank(
    capsys: pytest.CaptureFixture[str], tickets_file: Path, policy_file: Path
) -> None:
    code, out, err = run(capsys, str(tickets_file), "--policy", str(policy_file), "--now", NOW, "--format", "csv")
    assert (code, err) == (0, "")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "quadrant", "priority", "due", "urgency", "importance", "marks"]
    assert [r[0] for r in rows[1:]] == expected_ids(tickets_file)


def test_csv_fields_are_the_triage_fields(capsys: pytest.CaptureFixture[str], tickets_file: Path) -> None:
    _, out, _ = run(capsys, str(tickets_file), "--now", NOW, "--format", "csv")
    by_id = {t.id: t for t in read_tickets(tickets_file)}
    for row in csv.DictReader(io.StringIO(out)):
        result = triage.classify(by_id[row["id"]], triage.DEFAULT_POLICY, NOW_DT)
        assert row["quadrant"] == result.quadrant.name
        assert int(row["priority"]) == result.priority
        assert row["due"] == ("" if result.due is None else result.due.isoformat())
        assert (row["urgency"], row["importance"]) == (result.urgency.name, result.importance.name)
        assert row["marks"] == ";".join(sorted(m.value for m in result.marks))


def test_json_lines_carry_reasons_with_explain(capsys: pytest.CaptureFixture[str], tickets_file: Path) -> None:
    code, out, _ = run(capsys, str(tickets_file), "--now", NOW, "--format", "json", "--explain")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == expected_ids(tickets_file)
    by_id = {t.id: t for t in read_tickets(tickets_file)}
    for record in records[:20]:
        result = triage.classify(by_id[record["id"]], triage.DEFAULT_POLICY, NOW_DT)
        assert list(record)[:3] == ["id", "quadrant", "priority"]
        assert record["reasons"] == [
            {"code": r.code, "message": r.message, "rule": r.rule, "evidence": dict(r.evidence)} for r in result.reasons
        ]


def test_json_without_explain_has_no_reasons(capsys: pytest.CaptureFixture[str], tickets_file: Path) -> None:
    _, out, _ = run(capsys, str(tickets_file), "--now", NOW, "--format", "json")
    assert all("reasons" not in json.loads(line) for line in out.splitlines())


def test_csv_explain_adds_a_reasons_column(capsys: pytest.CaptureFixture[str], tickets_file: Path) -> None:
    _, out, _ = run(capsys, str(tickets_file), "--now", NOW, "--format", "csv", "--explain", "--limit", "5")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 5
    assert all(row["reasons"] for row in rows if row["quadrant"] == "Q1")


def test_table_lists_the_queue_with_reasons_indented(capsys: pytest.CaptureFixture[str], tickets_file: Path) -> None:
    code, out, _ = run(capsys, str(tickets_file), "--now", NOW, "--explain", "--limit", "10")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["#", "id", "quadrant", "priority"]
    row_ids = [line.split()[1] for line in lines[1:] if not line.startswith("      - ")]
    assert row_ids == expected_ids(tickets_file)[:10]
    assert any(line.startswith("      - ") for line in lines)


def test_table_aligns_wide_characters(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = ticket_to_record(read_tickets(EXAMPLES / "tickets.jsonl")[0])
    path = tmp_path / "t.jsonl"
    path.write_text(
        "\n".join(json.dumps(base | {"id": i}, ensure_ascii=False) for i in ("工单一", "T-2", "チケット")) + "\n",
        encoding="utf-8",
    )
    _, out, _ = run(capsys, str(path), "--now", NOW)
    lines = out.splitlines()
    # The column after the id starts at the same terminal cell on every line.
    starts = [
        _triage._cell_width(line[: line.index("Q") if i else line.index("quadrant")]) for i, line in enumerate(lines)
    ]
    assert len(set(starts)) == 1


def test_cell_width_counts_wide_characters_twice() -> None:
    assert _triage._cell_width("abc") == 3
    assert _triage._cell_width("航班abc") == 7
    assert _triage._cell_width("ｔｅｓｔ") == 8  # full-width forms
    assert _triage._cell_width("é") == 1  # e + combining acute
    assert _triage._pad("航班", 6) == "航班  "
    assert _triage._cell_width(_triage._clip("航班取消滞留机场" * 5, 10)) <= 10


def test_limit_prints_the_head_of_the_full_ranking(capsys: pytest.CaptureFixture[str], tickets_file: Path) -> None:
    _, out, _ = run(capsys, str(tickets_file), "--now", NOW, "--format", "csv", "--limit", "7")
    assert [r["id"] for r in csv.DictReader(io.StringIO(out))] == expected_ids(tickets_file)[:7]


def test_csv_input_gives_the_same_queue_as_jsonl(capsys: pytest.CaptureFixture[str]) -> None:
    _, from_csv, _ = run(capsys, str(EXAMPLES / "tickets.csv"), "--now", NOW, "--format", "json", "--explain")
    _, from_jsonl, _ = run(capsys, str(EXAMPLES / "tickets.jsonl"), "--now", NOW, "--format", "json", "--explain")
    assert from_csv == from_jsonl


def test_stdin_is_read_with_a_dash(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    data = (EXAMPLES / "tickets.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" + data), encoding="utf-8"))
    code, out, _ = run(capsys, "-", "--now", NOW, "--format", "csv")
    assert code == 0
    assert [r["id"] for r in csv.DictReader(io.StringIO(out))] == expected_ids(EXAMPLES / "tickets.jsonl")


def _add_bad_rows(path: Path) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write('{"id": "BAD1", "opened_at": "2026-03-02T09:00:00", "customer": {"id": "C1"}}\n')
        out.write("not json\n")


def test_bad_rows_are_reported_with_line_numbers_and_exit_1(
    capsys: pytest.CaptureFixture[str], tickets_file: Path
) -> None:
    _add_bad_rows(tickets_file)
    code, out, err = run(capsys, str(tickets_file), "--now", NOW, "--format", "csv")
    assert code == 1
    assert f"{tickets_file}:201: opened_at: expected an aware time" in err
    assert f"{tickets_file}:202: not valid JSON" in err
    assert "rejected 2 invalid rows" in err
    assert len(out.splitlines()) == 201  # the valid tickets are still ranked, under the header


def test_skip_invalid_exits_0_and_still_counts_the_skipped_rows(
    capsys: pytest.CaptureFixture[str], tickets_file: Path
) -> None:
    _add_bad_rows(tickets_file)
    code, out, err = run(capsys, str(tickets_file), "--now", NOW, "--format", "csv", "--skip-invalid")
    assert code == 0
    assert ":201: " in err
    assert "skipped 2 invalid rows" in err
    assert [r["id"] for r in csv.DictReader(io.StringIO(out))] == expected_ids(EXAMPLES / "tickets.jsonl")


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, str(tmp_path / "nope.jsonl"), "--now", NOW)
    assert (code, out) == (2, "")
    assert "nope.jsonl: cannot read" in err


def test_bad_policy_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[triage]\nno_such_setting = 1\n", encoding="utf-8")
    code, out, err = run(capsys, str(EXAMPLES / "tickets.jsonl"), "--policy", str(policy), "--now", NOW)
    assert (code, out) == (2, "")
    assert "no_such_setting" in err


def test_policy_without_a_triage_table_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[authority]\n", encoding="utf-8")
    code, _, err = run(capsys, str(EXAMPLES / "tickets.jsonl"), "--policy", str(policy), "--now", NOW)
    assert code == 2
    assert "no [triage] section" in err


@pytest.mark.parametrize("value", ["2026-03-02T10:00:00", "yesterday"])
def test_now_must_be_an_aware_iso_time(capsys: pytest.CaptureFixture[str], value: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["triage", str(EXAMPLES / "tickets.jsonl"), "--now", value])
    assert info.value.code == 2
    assert "--now" in capsys.readouterr().err


def test_now_defaults_to_an_aware_current_time(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(EXAMPLES / "tickets.jsonl"), "--format", "csv", "--limit", "1")
    assert code == 0
    assert len(out.splitlines()) == 2


def test_progress_goes_to_stderr_only(
    capsys: pytest.CaptureFixture[str], tickets_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_triage, "PROGRESS_EVERY", 50)
    monkeypatch.setattr(_triage, "BLOCK", 4000)
    _, quiet_out, quiet_err = run(capsys, str(tickets_file), "--now", NOW, "--format", "csv")
    _, out, err = run(capsys, str(tickets_file), "--now", NOW, "--format", "csv", "--progress")
    assert quiet_err == ""
    assert out == quiet_out
    progress = err.splitlines()
    counts = [int(line.split()[2]) for line in progress if "reading" in line]
    assert len(counts) >= 3
    assert counts == sorted(counts)
    assert all(line.startswith("servicetriage: ") for line in progress)
    assert "done" in progress[-1]


@settings(max_examples=25)
@given(st.lists(sts.tickets(), max_size=12, unique_by=lambda t: t.id))
def test_any_valid_tickets_rank_as_triage_rank(tickets: list[Ticket]) -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=timezone(timedelta(hours=8)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.jsonl"
        with path.open("w", encoding="utf-8") as out:
            write_jsonl(tickets, out)
        stdout = io.StringIO()
        saved = sys.stdout
        sys.stdout = stdout
        try:
            code = main(["triage", str(path), "--now", now.isoformat(), "--format", "json"])
        finally:
            sys.stdout = saved
    assert code == 0
    ids = [json.loads(line)["id"] for line in stdout.getvalue().splitlines()]
    assert ids == [t.id for t, _ in triage.rank(tickets, triage.DEFAULT_POLICY, now)]


def test_worker_processes_give_the_same_output_and_errors(
    capsys: pytest.CaptureFixture[str], tickets_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_bad_rows(tickets_file)
    monkeypatch.setattr(_triage, "BLOCK", 2000)
    args = (str(tickets_file), "--now", NOW, "--format", "json", "--explain")
    alone = run(capsys, *args, "--jobs", "1")
    workers = run(capsys, *args, "--jobs", "2")
    assert workers == alone
    assert alone[0] == 1


def test_worker_processes_read_csv_too(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_triage, "CHUNK", 30)
    args = (str(EXAMPLES / "tickets.csv"), "--now", NOW, "--format", "csv")
    assert run(capsys, *args, "--jobs", "2") == run(capsys, *args, "--jobs", "1")


def test_a_line_that_is_not_utf8_is_a_bad_row(capsys: pytest.CaptureFixture[str], tickets_file: Path) -> None:
    with tickets_file.open("ab") as stream:
        stream.write(b'{"id": "\xff"}\n')
    code, out, err = run(capsys, str(tickets_file), "--now", NOW, "--format", "csv")
    assert code == 1
    assert ":201: not UTF-8 text" in err
    assert len(out.splitlines()) == 201


def test_crlf_lines_and_an_unknown_suffix_are_read_as_json_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "tickets.txt"
    text = (EXAMPLES / "tickets.jsonl").read_text(encoding="utf-8")
    path.write_bytes(("\r\n" + text.replace("\n", "\r\n")).encode())
    code, out, _ = run(capsys, str(path), "--now", NOW, "--format", "csv")
    assert code == 0
    assert [r["id"] for r in csv.DictReader(io.StringIO(out))] == expected_ids(EXAMPLES / "tickets.jsonl")


# --------------------------------------------------------------------------
# Duplicate ticket ids


def _with_updates(path: Path, tmp_path: Path) -> tuple[Path, list[Ticket]]:
    """The example tickets followed by a later update of the 3rd and the 5th (an event log), and those records."""
    tickets = list(read_tickets(path))
    updates = [
        attrs.evolve(tickets[2], declared_urgency="critical", text="update: still waiting"),
        attrs.evolve(tickets[4], status="resolved"),
    ]
    log = tmp_path / "events.jsonl"
    with log.open("w", encoding="utf-8") as out:
        write_jsonl([*tickets, *updates], out)
    return log, [*tickets, *updates]


def test_a_repeated_ticket_id_is_an_error_naming_the_id_and_both_lines(
    capsys: pytest.CaptureFixture[str], tickets_file: Path, tmp_path: Path
) -> None:
    """By default a ticket id on two rows is exit code 2, with nothing written to standard output."""
    log, records = _with_updates(tickets_file, tmp_path)
    code, out, err = run(capsys, str(log), "--now", NOW, "--format", "csv")
    assert (code, out) == (2, "")
    n = len(records)
    assert f"{log}:{n - 1}: duplicate ticket id {records[2].id!r}, first on line 3" in err
    assert f"{log}:{n}: duplicate ticket id {records[4].id!r}, first on line 5" in err
    assert "--keep-last" in err


def test_keep_last_ranks_the_last_record_of_each_ticket_and_says_how_many_were_merged(
    capsys: pytest.CaptureFixture[str], tickets_file: Path, tmp_path: Path
) -> None:
    """With --keep-last the update replaces the first record, and standard error counts the merged rows."""
    log, records = _with_updates(tickets_file, tmp_path)
    code, out, err = run(capsys, str(log), "--now", NOW, "--format", "csv", "--keep-last")
    assert code == 0
    latest = list({t.id: t for t in records}.values())
    assert [r["id"] for r in csv.DictReader(io.StringIO(out))] == [
        t.id for t, _ in triage.rank(latest, triage.DEFAULT_POLICY, NOW_DT)
    ]
    assert f"merged 2 rows of {log} into the last row of their ticket (--keep-last); {len(latest)} tickets" in err
    limited = run(capsys, str(log), "--now", NOW, "--format", "csv", "--keep-last", "--limit", "5")[1]
    assert limited.splitlines() == out.splitlines()[:6]


def test_keep_last_reads_csv_and_worker_processes_alike(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSV reader and worker processes merge the same rows as one process reading JSON Lines."""
    monkeypatch.setattr(_triage, "CHUNK", 30)
    rows = (EXAMPLES / "tickets.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "events.csv"
    path.write_text("\n".join([*rows, *rows[1:40]]) + "\n", encoding="utf-8")
    args = (str(path), "--now", NOW, "--format", "csv", "--keep-last")
    alone = run(capsys, *args, "--jobs", "1")
    assert alone[0] == 0
    assert "merged 39 rows" in alone[2]
    assert run(capsys, *args, "--jobs", "2") == alone
    assert alone[1] == run(capsys, str(EXAMPLES / "tickets.csv"), "--now", NOW, "--format", "csv")[1]


@st.composite
def event_logs(draw: st.DrawFn) -> list[Ticket]:
    """Tickets whose ids repeat, as in an event log with one row per update."""
    drawn = draw(st.lists(sts.tickets(), min_size=1, max_size=10))
    return [attrs.evolve(t, id=f"T{draw(st.integers(0, 4))}") for t in drawn]


@settings(max_examples=25)
@given(event_logs())
def test_keep_last_equals_triaging_the_last_record_of_each_ticket(records: list[Ticket]) -> None:
    """Whatever repeats, --keep-last ranks exactly the de-duplicated last records, and counts the rest."""
    now = datetime(2026, 6, 1, 12, tzinfo=timezone(timedelta(hours=8)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.jsonl"
        with path.open("w", encoding="utf-8") as out:
            write_jsonl(records, out)
        stdout, stderr = io.StringIO(), io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = stdout, stderr
        try:
            code = main(["triage", str(path), "--now", now.isoformat(), "--format", "json", "--keep-last"])
        finally:
            sys.stdout, sys.stderr = saved
    latest = {t.id: t for t in records}
    assert code == 0
    ids = [json.loads(line)["id"] for line in stdout.getvalue().splitlines()]
    assert ids == [t.id for t, _ in triage.rank(list(latest.values()), triage.DEFAULT_POLICY, now)]
    merged = len(records) - len(latest)
    assert (f"merged {merged} rows" in stderr.getvalue()) == (merged > 0)
