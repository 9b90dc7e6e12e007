"""The ``servicetriage check`` command: findings, exit codes, path-named load errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servicetriage.cli import main
from servicetriage.cli._check import check_file
from servicetriage.errors import PolicyError

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.mark.parametrize("name", ["triage.toml", "authority.toml", "escalation.toml", "playbooks.toml"])
def test_shipped_examples_have_no_errors(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every example policy shipped in the repository passes the check."""
    assert main(["check", str(EXAMPLES / name)]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_non_monotone_matrix_is_an_error_with_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A matrix whose priority falls as impact rises is reported, and the exit code lets CI fail."""
    policy = tmp_path / "p.toml"
    policy.write_text(
        "[triage.matrix]\ncells = [[2, 1], [1, 2]]\n", encoding="utf-8"
    )
    findings = check_file(policy)
    assert any(f.path.startswith("triage.") and f.severity.value == "error" for f in findings)
    assert main(["check", str(policy)]) == 1
    assert "error" in capsys.readouterr().out


def test_q1_chain_without_executive_is_reported(tmp_path: Path) -> None:
    """An escalation chain for Q1 that never reaches the executive tier is an error finding."""
    policy = tmp_path / "p.toml"
    policy.write_text(
        '[escalation]\n[[escalation.chains]]\nid = "q1"\nquadrants = ["Q1"]\n'
        '[[escalation.chains.steps]]\ntiers = ["supervisor"]\n',
        encoding="utf-8",
    )
    codes = {f.code for f in check_file(policy)}
    assert "escalation.q1-no-executive" in codes


def test_escalation_findings_name_their_path_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An escalation finding's path starts with the section once, as the other sections' do."""
    policy = tmp_path / "p.toml"
    policy.write_text(
        '[escalation]\n[[escalation.chains]]\nid = "q1"\nquadrants = ["Q1"]\n'
        '[[escalation.chains.steps]]\ntiers = ["supervisor"]\n'
        '[authority]\n[[authority.grants]]\nid = "g"\ntier = "agent"\naction = "refund"\n',
        encoding="utf-8",
    )
    paths = {f.code: f.path for f in check_file(policy)}
    assert paths["escalation.q1-no-executive"] == "escalation.chains[0]"
    assert paths["escalation.gap"] == "escalation.chains"
    assert paths["authority.no_grant"] == "authority.grants"
    main(["check", str(policy)])
    out = capsys.readouterr().out
    assert "escalation.chains[0]" in out
    assert "escalation.escalation" not in out


def test_bad_field_names_file_section_path_and_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A policy that cannot be loaded exits 2 and names the file, the full path and the value."""
    policy = tmp_path / "bad.toml"
    policy.write_text('[triage.urgency]\nlevels = ["low", "high"]\nthreshold = "urgent"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        check_file(policy)
    assert all(p.startswith(f"{policy}: triage.") for p in caught.value.problems)
    assert "'urgent'" in str(caught.value)
    assert main(["check", str(policy)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("servicetriage: error: ")
    assert "Traceback" not in err


def test_file_without_sections_is_rejected(tmp_path: Path) -> None:
    """A file with no known section is an error, not a silent pass."""
    policy = tmp_path / "empty.json"
    policy.write_text('{"something": 1}', encoding="utf-8")
    with pytest.raises(PolicyError, match="no policy section found"):
        check_file(policy)


def test_json_output_lists_every_finding(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints one object a finding, with file, severity, code, path and message."""
    assert main(["check", "--format", "json", str(EXAMPLES / "authority.toml")]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows == [
        {**row, "file": str(EXAMPLES / "authority.toml")} for row in rows
    ]
    assert all(set(row) == {"file", "severity", "code", "path", "message"} for row in rows)
    assert main(["check", "--strict", str(EXAMPLES / "authority.toml")]) == (
        1 if any(row["severity"] == "warning" for row in rows) else 0
    )
