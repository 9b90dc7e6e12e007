"""Tests for ``servicetriage escalate --simulate``."""

from __future__ import annotations

import json
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
