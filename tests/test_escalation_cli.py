"""Tests for ``servicetriage escalate --simulate``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from servicetriage.cli import main

ROOT = Path(__file__).resolve().parent.parent
POLICY = str(ROOT / "examples" / "escalation.toml")
SOS = str(ROOT / "examples" / "ticket-sos.json")


def simulate(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["escalate", "--simulate", "--policy", POLICY, "--ticket", SOS, *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_sos_ticket_climbs_the_q1_chain_until_acknowledged(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = simulate(capsys, "--for", "1h", "--ack-at", "2026-05-06T23:40:00+08:00", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert (data["quadrant"], data["chain"], data["status"]) == ("Q1", "q1-critical", "acknowledged")
    notified = [(row["at"], row["targets"][0]) for row in data["timeline"] if row["type"] == "notify"]
    assert notified == [
        ("2026-05-06T23:12:00+08:00", "tier:supervisor"),
        ("2026-05-06T23:22:00+08:00", "tier:manager"),
        ("2026-05-06T23:32:00+08:00", "tier:department_head"),
    ]
    assert data["owner"] == "duty-agent"


def test_resolution_ends_the_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = simulate(
        capsys, "--until", "2026-05-07T09:00:00+08:00", "--resolve-at", "2026-05-06T23:25:00+08:00", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert max(row["at"] for row in data["timeline"]) == "2026-05-06T23:25:00+08:00"
    assert data["next_wakeup"] is None


def test_text_output_shows_the_playbook_steps_beside_the_chain(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = simulate(capsys, "--for", "15m", "--playbooks", str(ROOT / "examples" / "playbooks.toml"))
    assert code == 0
    assert "playbook ride-safety-sos@1" in out
    assert "Call the rider at once" in out
    assert "notify           tier:supervisor, role:duty_officer (step 1)" in out


def test_a_given_quadrant_replaces_classification(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = simulate(capsys, "--quadrant", "Q4", "--format", "json")
    assert code == 0
    assert json.loads(out)["chain"] == "q4-standard"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--ack-at", "2020-01-01T00:00:00+00:00"), "--ack-at: 2020-01-01T00:00:00+00:00 is outside the simulation"),
        (("--now", "2026-05-06T23:12:00"), "--now: expected an aware time"),
        (("--for", "soon"), "--for: expected a duration"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    code, _, err = simulate(capsys, *extra)
    assert code == 2
    assert message in err


def test_without_simulate_the_command_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["escalate", "--policy", POLICY, "--ticket", SOS]) == 2
    assert "only --simulate" in capsys.readouterr().err


TRIAGE = str(ROOT / "examples" / "triage.toml")


def test_the_example_triage_policy_sends_an_sos_with_a_police_call_straight_to_the_top(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = simulate(capsys, "--triage-policy", TRIAGE, "--for", "5m", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert "direct_to_top" in data["marks"]
    first = data["timeline"][0]
    assert (first["at"], first["type"], first["targets"]) == (
        "2026-05-06T23:12:00+08:00",
        "direct_to_top",
        ["tier:executive"],
    )


def test_an_sos_without_a_police_call_climbs_without_the_direct_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ticket = json.loads(Path(SOS).read_text(encoding="utf-8"))
    ticket["flags"] = ["safety"]
    ticket["text"] = "Rider pressed the SOS button during the trip; the line dropped."
    path = tmp_path / "sos.json"
    path.write_text(json.dumps(ticket), encoding="utf-8")
    code = main(["escalate", "--simulate", "--policy", POLICY, "--triage-policy", TRIAGE, "--ticket", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "direct_to_top" not in out
    assert "Q1 priority 1" in out


def test_an_unanswered_chain_ends_exhausted_in_the_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = simulate(capsys, "--for", "2h", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "exhausted"
    exhausted = [row for row in data["timeline"] if row["type"] == "exhausted"]
    assert [(row["at"], row["targets"]) for row in exhausted] == [("2026-05-07T00:42:00+08:00", ["person:duty-agent"])]


def test_the_acknowledging_person_is_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = simulate(
        capsys, "--for", "1h", "--ack-at", "2026-05-06T23:30:00+08:00", "--ack-by", "supervisor.wu", "--format", "json"
    )
    assert code == 0
    assert json.loads(out)["acknowledged_by"] == ["supervisor.wu"]


def test_an_acknowledgement_left_alone_for_the_timeout_climbs_again(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = simulate(capsys, "--for", "2h", "--ack-at", "2026-05-06T23:30:00+08:00")
    assert code == 0
    assert "ack_expired" in out
    assert "notify           tier:supervisor, role:duty_officer (step 1, climb 2)" in out


def test_business_time_chains_use_the_triage_policys_calendar(capsys: pytest.CaptureFixture[str]) -> None:
    from servicetriage.config import load_section  # noqa: PLC0415
    from servicetriage.triage import TriagePolicy  # noqa: PLC0415

    code, out, _ = simulate(capsys, "--triage-policy", TRIAGE, "--quadrant", "Q4", "--for", "30d", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["business_time"] is True
    policy = load_section(TRIAGE, "triage", TriagePolicy, required=True)
    assert policy is not None
    assert policy.calendar is not None
    start = datetime.fromisoformat(data["start"])
    reminder = next(row for row in data["timeline"] if row["type"] == "notify")
    assert datetime.fromisoformat(reminder["at"]) == policy.calendar.add(start, timedelta(days=2))
    assert datetime.fromisoformat(reminder["at"]) != start + timedelta(days=2)


def test_a_triage_policy_file_without_a_triage_table_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = simulate(capsys, "--triage-policy", POLICY)
    assert code == 2
    assert "no [triage] section" in err
