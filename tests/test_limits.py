"""Resource and range limits at the edge: every input that used to overflow, hang or exhaust memory later is
refused when it is read, with one clear error naming the file or the option."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from servicetriage import config
from servicetriage.cli import main
from servicetriage.cli._triage import _jobs
from servicetriage.errors import PolicyError
from servicetriage.model import Money

EXAMPLES = Path(__file__).parent.parent / "examples"


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines  # one line, never a traceback
    return lines[0]


def test_a_file_that_is_not_utf8_is_an_error_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(b'[triage]\nname="caf\xe9"\n')
    assert main(["check", str(path)]) == 2
    assert _error(capsys) == f"servicetriage: error: {path}: not UTF-8 text: byte 0xe9 at offset 18"


def test_a_byte_order_mark_is_read_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert config.read_document(path) == {"a": 1}


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.json", "[" * 1000 + "]" * 1000),
        ("deep.json", "[" * 65 + "]" * 65),
        ("deep.yaml", "a: " + "[" * 70 + "]" * 70),
        ("deep.toml", "a = " + "[" * 70 + "]" * 70),
    ],
)
def test_a_document_nested_too_deep_is_refused_before_anything_walks_it(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PolicyError, match=rf"{name}: not valid .*: nested more than 64 levels deep"):
        config.read_document(path)


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.json"
    path.write_text("[" * 64 + "]" * 64)
    assert config.read_document(path) is not None


def test_a_yaml_alias_chain_that_expands_to_millions_of_values_is_refused(tmp_path: Path) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(7)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(levels) + "\n")
    assert path.stat().st_size < 500
    with pytest.raises(PolicyError, match=r"bomb\.yaml: not valid YAML: more than 1,000,000 values"):
        config.read_document(path)


def test_a_yaml_value_that_contains_itself_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("a: &a [1, *a]\n")
    with pytest.raises(PolicyError, match="a value contains itself"):
        config.read_document(path)


@pytest.mark.parametrize("text", ["999999999d", "9999999999d", "36501d", "-36501d", "P99999999D"])
def test_durations_over_100_years_are_refused_at_load(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected a duration of at most 36500d \(100 years\)"):
        config.parse_duration(text)


@pytest.mark.parametrize("value", [1e300, float("nan"), float("inf"), timedelta(days=999_999_999)])
def test_numeric_durations_over_100_years_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="at most 36500d"):
        config.parse_duration(value)


def test_a_policy_with_a_huge_deadline_fails_check_instead_of_every_decision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[authority]\n[authority.deadlines]\ncall_back_within = "999999999d"\n')
    assert main(["check", str(path)]) == 2
    assert "authority.deadlines.call_back_within: expected a duration of at most 36500d" in _error(capsys)


@pytest.mark.parametrize("amount", ["9E+999999", "1E+18", "-1E+18", "1E-19"])
def test_amounts_that_would_overflow_decimal_arithmetic_are_refused(amount: str) -> None:
    with pytest.raises(PolicyError, match=r"money.amount: expected an amount below 10\^18"):
        Money(Decimal(amount), "CNY")


def test_large_and_precise_amounts_within_the_bounds_are_kept() -> None:
    assert Money(Decimal("999999999999999999.99"), "CNY").amount == Decimal("999999999999999999.99")
    assert Money(Decimal("0.000000000000000001"), "CNY").amount > 0


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00", "3000-01-01T00:00:00Z"])
def test_times_outside_1900_to_2999_are_refused_where_files_are_read(value: str) -> None:
    with pytest.raises(ValueError, match="expected a time from 1900 to 2999"):
        config.structure(value, datetime)


def test_times_inside_the_range_are_read() -> None:
    assert config.structure("2999-12-31T23:59:59+00:00", datetime) == datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert config.structure("1900-01-01T00:00:00+00:00", datetime).year == 1900


@pytest.mark.parametrize(
    "argv",
    [
        ["authorize", "--policy", str(EXAMPLES / "authority.toml"), "--request", str(EXAMPLES / "request.toml")],
        ["triage", "--policy", str(EXAMPLES / "triage.toml"), str(EXAMPLES / "tickets.jsonl")],
    ],
    ids=["authorize", "triage"],
)
@pytest.mark.parametrize("now", ["9999-12-31T23:00:00+00:00", "0001-01-01T00:00:00+00:00"])
def test_a_now_outside_the_calendar_is_bad_input_not_a_crash(
    capsys: pytest.CaptureFixture[str], argv: list[str], now: str
) -> None:
    try:
        code = main([*argv, "--now", now])
    except SystemExit as exc:  # argparse refuses the option itself
        code = int(str(exc.code))
    assert code == 2
    assert "expected a time from 1900 to 2999" in capsys.readouterr().err


def test_escalate_refuses_to_simulate_more_than_a_year(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["escalate", "--simulate", "--policy", str(EXAMPLES / "escalation.toml")]
    argv += ["--ticket", str(EXAMPLES / "ticket-sos.json"), "--until", "2999-12-31T00:00:00+00:00"]
    assert main(argv) == 2
    assert "--until: expected a simulated span of at most 366d" in _error(capsys)


def test_jobs_are_capped_at_the_cpu_count() -> None:
    assert _jobs(99_999, "tickets.jsonl") == (os.cpu_count() or 1)
    assert _jobs(1, "tickets.jsonl") == 1
