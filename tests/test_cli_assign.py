"""``servicetriage assign``: the example desk in three formats, and bad input as one line with exit 2."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from servicetriage.cli import main

ROOT = Path(__file__).parent.parent
ARGS = [
    "assign",
    str(ROOT / "examples" / "tickets.jsonl"),
    "--agents",
    str(ROOT / "examples" / "agents.toml"),
    "--policy",
    str(ROOT / "examples" / "triage.toml"),
    "--now",
    "2026-03-02T10:00:00+08:00",
]


def test_json_output_lists_every_ticket_with_its_agent_or_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON document holds the capacity summary and one record per ticket."""
    assert main([*ARGS, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["capacity"], document["reserved"]) == (34, 7)
    assert len(document["tickets"]) == 200
    assert "maria-santos" not in {t["agent"] for t in document["tickets"]}  # off shift at 10:00
    for ticket in document["tickets"]:
        assert ticket["reasons"]
        assert (ticket["agent"] is None) == ticket["reasons"][-1]["code"].startswith("unassigned.")


def test_csv_and_table_agree_with_the_json(capsys: pytest.CaptureFixture[str]) -> None:
    """CSV has the documented header; the table ends with the summary line."""
    assert main([*ARGS, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 200
    assigned = sum(1 for row in rows if row["agent"])
    assert main(ARGS) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["#", "id", "quadrant", "priority", "vip", "agent", "note"]
    assert table[-1] == f"capacity 34, reserved for VIP tiers 7, assigned {assigned}, unassigned {200 - assigned}"


@pytest.mark.parametrize(
    ("agents", "policy", "message"),
    [
        ('[[agents]]\nid = "a"\ntier = "agent"\ncapacity = -2\n', None, "agents[0].capacity: expected a whole number"),
        (
            '[[agents]]\nid = "a"\ntier = "agent"\ncapacity = 2\nskills.dance = { tango = 1 }\n',
            None,
            "agents[0].skills.dance: unknown skill kind",
        ),
        ('[[agents]]\nid = "a"\ntier = "boss"\ncapacity = 2\n', None, "agents[0].tier: expected one of agent"),
        ('[[agents]]\nid = "a"\ntier = "agent"\ncapacity = 2\n', "[assignment]\nvip_share = 1.5\n", "vip_share"),
    ],
)
def test_bad_input_is_one_line_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], agents: str, policy: str | None, message: str
) -> None:
    """Exit 2 and one line on standard error with the file and the field's path."""
    agents_file = tmp_path / "agents.toml"
    agents_file.write_text(agents, encoding="utf-8")
    args = ["assign", str(ROOT / "examples" / "tickets.jsonl"), "--agents", str(agents_file)]
    if policy is not None:
        policy_file = tmp_path / "policy.toml"
        policy_file.write_text(policy, encoding="utf-8")
        args += ["--policy", str(policy_file)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert str(tmp_path) in err[0]
    assert message in err[0]
