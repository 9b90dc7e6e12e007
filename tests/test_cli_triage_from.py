"""``servicetriage triage --from SYSTEM``: helpdesk payload files ranked as the adapters and the library place them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from servicetriage import triage
from servicetriage.adapters import SYSTEMS, reader
from servicetriage.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
NOW = "2026-03-02T03:00:00+00:00"
NOW_DT = datetime.fromisoformat(NOW)
OPTIONS: dict[str, list[str]] = {"frappe": ["--zone", "Asia/Kolkata"]}


def _expected(system: str, payloads: list[Any]) -> list[dict[str, Any]]:
    """The rows the command must print: each payload through the adapter, ranked by the library."""
    options: dict[str, Any] = {"zone": ZoneInfo("Asia/Kolkata")} if system == "frappe" else {}
    read = reader(system, **options)
    ranked = triage.rank([read(p) for p in payloads], triage.DEFAULT_POLICY, NOW_DT)
    return [
        {
            "id": t.id,
            "quadrant": r.quadrant.name,
            "priority": r.priority,
            "due": None if r.due is None else r.due.isoformat(),
            "urgency": r.urgency.name,
            "importance": r.importance.name,
            "marks": sorted(m.value for m in r.marks),
        }
        for t, r in ranked
    ]


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, Any]], str]:
    code = main(["triage", *args, "--now", NOW, "--format", "json"])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_json_array_of_payloads_is_ranked_as_the_library_ranks_them(
    system: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = FIXTURES / f"{system}.json"
    code, rows, err = _run(["--from", system, *OPTIONS.get(system, []), str(path)], capsys)
    assert (code, err) == (0, "")
    assert rows == _expected(system, json.loads(path.read_text(encoding="utf-8")))


def test_json_lines_of_payloads_read_as_the_array_does(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, _ = _run(["--from", "zendesk", str(FIXTURES / "zendesk.jsonl")], capsys)
    array = json.loads((FIXTURES / "zendesk.json").read_text(encoding="utf-8"))
    assert code == 0
    assert rows == _expected("zendesk", array)


def test_worker_processes_give_the_same_queue(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, _ = _run(["--from", "zendesk", "--jobs", "2", str(FIXTURES / "zendesk.jsonl")], capsys)
    assert code == 0
    assert rows == _expected("zendesk", json.loads((FIXTURES / "zendesk.json").read_text(encoding="utf-8")))


def test_a_refused_payload_is_reported_with_its_position_and_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payloads = json.loads((FIXTURES / "freshdesk.json").read_text(encoding="utf-8"))
    payloads[1]["priority"] = 9
    path = tmp_path / "freshdesk.json"
    path.write_text(json.dumps(payloads), encoding="utf-8")
    code, rows, err = _run(["--from", "freshdesk", str(path)], capsys)
    assert code == 1
    assert f"{path}:2: freshdesk: priority: expected one of 4, 3, 2, 1, got 9" in err
    assert [row["id"] for row in rows] == [row["id"] for row in _expected("freshdesk", [payloads[0], payloads[2]])]


def test_a_bad_json_line_is_reported_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "zendesk.jsonl"
    path.write_text((FIXTURES / "zendesk.jsonl").read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    code, rows, err = _run(["--from", "zendesk", "--skip-invalid", str(path)], capsys)
    assert code == 0
    assert f"{path}:6: not valid JSON" in err
    assert len(rows) == 5


def test_naive_frappe_times_without_zone_are_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    code, rows, err = _run(["--from", "frappe", str(FIXTURES / "frappe.json")], capsys)
    assert (code, rows) == (1, [])
    assert "frappe.json:1: frappe: creation: expected a time with a UTC offset" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zone", "Asia/Kolkata"], "--zone: applies to payloads read with --from SYSTEM"),
        (["--from", "jira", "--zone", "Asia/Kolkata"], "--zone: the jira adapter reads times with their offsets"),
        (["--from", "frappe", "--zone", "Mars/Base"], "--zone: expected an IANA time zone name"),
    ],
)
def test_zone_misuse_is_an_input_error(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run([*args, str(FIXTURES / "frappe.json")], capsys)
    assert code == 2
    assert message in err


def test_a_file_that_is_neither_array_nor_lines_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.json"
    path.write_text("[1, 2", encoding="utf-8")
    code, _, err = _run(["--from", "zendesk", str(path)], capsys)
    assert code == 2
    assert f"{path}: not valid JSON" in err


def test_unknown_system_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["triage", "--from", "kayako", str(FIXTURES / "zendesk.json")])
    assert "invalid choice: 'kayako'" in capsys.readouterr().err
