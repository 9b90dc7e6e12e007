"""The batch API: one row per record, equal to the command's placements, each stamped with the policy's hash."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import config
from servicetriage import strategies as sts
from servicetriage.batch import RESULT_COLUMNS, BatchTriage, policy_hash
from servicetriage.cli import main
from servicetriage.ingest import ticket_to_flat, ticket_to_record
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy, classify

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
NOW = "2026-03-02T10:00:00+08:00"
NOW_DT = datetime.fromisoformat(NOW)
COMPARED = ("id", "quadrant", "priority", "due", "urgency", "importance", "marks")


def _command_rows(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, dict[str, Any]]:
    assert main(["triage", str(path), "--now", NOW, "--format", "json", *extra]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {row["id"]: row for row in rows}


def test_rows_equal_the_command_output_on_the_example_queue(capsys: pytest.CaptureFixture[str]) -> None:
    policy = config.load_section(EXAMPLES / "triage.toml", "triage", TriagePolicy, required=True)
    assert policy is not None
    job = BatchTriage(now=NOW_DT, policy=policy)
    records = [json.loads(line) for line in (EXAMPLES / "tickets.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = job.records(records)
    expected = _command_rows(EXAMPLES / "tickets.jsonl", capsys, "--policy", str(EXAMPLES / "triage.toml"))
    assert len(rows) == len(records) == len(expected)
    for row in rows:
        assert {k: row[k] for k in COMPARED} == expected[row["id"]]
        assert row["policy_hash"] == job.hash
        assert row["error"] is None


def test_a_bad_record_gives_an_error_row_in_its_place() -> None:
    job = BatchTriage(now=NOW_DT)
    good = {"id": "T1", "opened_at": "2026-03-02T01:00:00+08:00", "customer_id": "C1"}
    bad = {"id": "T2", "opened_at": "yesterday", "customer_id": "C2", "channel": "pigeon"}
    rows = job.records([good, bad, good | {"id": "T3"}])
    assert [row["id"] for row in rows] == ["T1", "T2", "T3"]
    assert rows[1]["quadrant"] is None
    assert "opened_at" in rows[1]["error"]
    assert "channel" in rows[1]["error"]
    assert rows[1]["policy_hash"] == job.hash
    assert list(rows[1]) == list(RESULT_COLUMNS)


def test_explain_adds_the_reasons_text() -> None:
    record = {"id": "T1", "opened_at": "2026-03-02T01:00:00+08:00", "customer_id": "C1", "flags": "safety"}
    row = BatchTriage(now=NOW_DT, explain=True).records([record])[0]
    assert row["quadrant"] == "Q1"
    assert row["reasons"]
    assert "safety" in row["signals"]


@settings(max_examples=40)
@given(st.lists(sts.tickets(), max_size=8), st.booleans())
def test_rows_equal_classify_for_nested_and_flat_records(tickets: list[Any], flat: bool) -> None:
    job = BatchTriage(now=NOW_DT)
    records = [ticket_to_flat(t) if flat else ticket_to_record(t) for t in tickets]
    if flat:  # a flat record's empty strings mean "not given", as in a CSV file
        records = [{k: v for k, v in r.items() if v != ""} for r in records]
    rows = job.records(records)
    for ticket, row in zip(tickets, rows, strict=True):
        result = classify(ticket, DEFAULT_POLICY, NOW_DT)
        assert (row["id"], row["quadrant"], row["priority"]) == (ticket.id, result.quadrant.name, result.priority)
        assert row["marks"] == sorted(m.value for m in result.marks)


def test_policy_hash_is_stable_for_equal_policies_and_changes_with_any_value() -> None:
    loaded = config.load_section(EXAMPLES / "triage.toml", "triage", TriagePolicy, required=True)
    again = config.load_section(EXAMPLES / "triage.toml", "triage", TriagePolicy, required=True)
    assert loaded is not None
    assert again is not None
    assert policy_hash(loaded) == policy_hash(again)
    assert policy_hash(loaded) != policy_hash(DEFAULT_POLICY)
    assert policy_hash(attrs.evolve(DEFAULT_POLICY, complaint_risk_from=3)) != policy_hash(DEFAULT_POLICY)
    assert policy_hash(attrs.evolve(DEFAULT_POLICY, name="other")) != policy_hash(DEFAULT_POLICY)


def test_a_pickled_job_recompiles_and_gives_the_same_rows() -> None:
    job = BatchTriage(now=NOW_DT, source="zendesk", explain=True)
    clone = pickle.loads(pickle.dumps(job))
    payloads = json.loads((FIXTURES / "zendesk.json").read_text(encoding="utf-8"))
    assert clone.hash == job.hash
    assert clone.records(payloads) == job.records(payloads)


def test_from_file_loads_the_policy_once() -> None:
    job = BatchTriage.from_file(EXAMPLES / "triage.toml", now=NOW_DT)
    loaded = config.load_section(EXAMPLES / "triage.toml", "triage", TriagePolicy, required=True)
    assert loaded is not None
    assert job.hash == policy_hash(loaded)


def test_payloads_as_dicts_or_json_text_through_an_adapter() -> None:
    payloads = json.loads((FIXTURES / "frappe.json").read_text(encoding="utf-8"))
    job = BatchTriage(now=NOW_DT, source="frappe", options={"zone": UTC})
    as_text = [{"payload": json.dumps(p)} for p in payloads]
    assert job.records(as_text) == job.records(payloads)
    assert [row["id"] for row in job.records(payloads)] == ["1207", "1208"]
    broken = job.records([{"payload": "{oops"}])[0]
    assert broken["error"].startswith("payload: not valid JSON")


def test_refused_payload_row_names_the_system_and_field() -> None:
    job = BatchTriage(now=NOW_DT, source="zammad")
    row = job.records([{"id": 9, "created_at": "2026-03-02T01:00:00Z", "priority_id": 7}])[0]
    assert row["id"] == "9"
    assert row["error"] == "zammad: ticket.priority_id: expected one of 3, 2, 1, got 7"


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="now: expected an aware datetime"):
        BatchTriage(now=datetime(2026, 3, 2))


def test_arrow_batches_map_to_result_batches_with_the_schema() -> None:
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (the 'arrow' extra)")
    from servicetriage.batch import arrow_schema  # noqa: PLC0415

    records = [json.loads(line) for line in (EXAMPLES / "tickets.jsonl").read_text(encoding="utf-8").splitlines()]
    flat = [ticket_to_flat(BatchTriage(now=NOW_DT)._read(r)) for r in records[:50]]
    table = pa.Table.from_pylist([{k: (v or None) for k, v in r.items()} for r in flat])
    job = BatchTriage(now=NOW_DT)
    out = job.arrow(table)
    assert out.schema == arrow_schema()
    assert out.num_rows == 50
    assert out.to_pylist() == job.records(records[:50])
    assert set(out.column("policy_hash").to_pylist()) == {job.hash}


def test_arrow_timestamps_with_a_zone_are_read_as_aware_times() -> None:
    pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (the 'arrow' extra)")
    opened = pa.array([datetime(2026, 3, 2, 1, 0, tzinfo=UTC)], pa.timestamp("us", tz="Asia/Shanghai"))
    table = pa.table({"id": ["A1"], "opened_at": opened, "customer_id": ["C1"]})
    row = BatchTriage(now=NOW_DT).arrow(table).to_pylist()[0]
    assert row["error"] is None
    assert row["due"] == "2026-03-07T09:00:00+08:00"  # five days for priority 5, in the column's zone
