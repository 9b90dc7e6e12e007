"""Tests of the converter and file loading: durations, round trips, error paths and file errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import config
from servicetriage import strategies as sts
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import Customer, CustomerTier, Flag, Money, Quadrant, Ticket
from servicetriage.triage import TriagePolicy

if TYPE_CHECKING:
    from pathlib import Path

FORMATS = st.sampled_from(["toml", "json", "yaml"])


# ---------------------------------------------------------------------------
# Durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("-15m", timedelta(minutes=-15)),
        ("PT45M", timedelta(minutes=45)),
        ("P1DT2H", timedelta(days=1, hours=2)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        (90, timedelta(seconds=90)),
        (1.5, timedelta(seconds=1.5)),
    ],
)
def test_parse_duration_accepts_the_documented_forms(text: object, expected: timedelta) -> None:
    """Compact, ISO 8601 and numeric durations parse."""
    assert config.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "1x", "h", "soon", True, None, "1h-30m"])
def test_parse_duration_rejects_other_values_quoting_them(text: object) -> None:
    """Anything else raises ValueError quoting the value."""
    with pytest.raises(ValueError, match="expected a duration"):
        config.parse_duration(text)


@settings(max_examples=300)
@given(st.timedeltas(min_value=-config.MAX_DURATION, max_value=config.MAX_DURATION))
def test_duration_format_and_parse_round_trip(duration: timedelta) -> None:
    """parse(format(d)) == d for every duration the library reads (up to 100 years), microseconds included."""
    assert config.parse_duration(config.format_duration(duration)) == duration


def test_format_duration_is_compact() -> None:
    """Durations render as the largest units that fit."""
    assert config.format_duration(timedelta(hours=1, minutes=30)) == "1h30m"
    assert config.format_duration(timedelta(0)) == "0s"
    assert config.format_duration(timedelta(days=2, seconds=1.5)) == "2d1.5s"
    assert config.format_duration(-timedelta(minutes=15)) == "-15m"


# ---------------------------------------------------------------------------
# Round trips


@settings(max_examples=40)
@given(sts.tickets(), FORMATS)
def test_ticket_round_trips_through_every_format(ticket: Ticket, fmt: config.Format) -> None:
    """load(dump(ticket)) == ticket in TOML, JSON and YAML."""
    assert config.load(config.dump(ticket, fmt), Ticket, fmt) == ticket


@settings(max_examples=40)
@given(sts.tickets())
def test_ticket_structure_inverts_unstructure(ticket: Ticket) -> None:
    """structure(unstructure(ticket)) == ticket, and the plain data holds only plain types."""
    data = config.unstructure(ticket)
    assert config.structure(data, Ticket) == ticket
    assert isinstance(data["opened_at"], str)
    assert all(isinstance(flag, str) for flag in data.get("flags", []))


def test_plain_values_unstructure_to_their_file_forms() -> None:
    """Money, durations, zones, quadrants and flags have readable file forms."""
    assert config.unstructure(Money.parse("500 CNY")) == "500 CNY"
    assert config.unstructure(timedelta(minutes=90)) == "1h30m"
    assert config.unstructure(ZoneInfo("Asia/Shanghai")) == "Asia/Shanghai"
    assert config.unstructure(Quadrant.Q3) == "Q3"
    assert config.structure("q1", Quadrant) is Quadrant.Q1
    assert config.structure(2, Quadrant) is Quadrant.Q2
    assert config.structure({"amount": "1.50", "currency": "EUR"}, Money) == Money(Decimal("1.50"), "EUR")


# ---------------------------------------------------------------------------
# Errors: every problem at once, each with its path


def test_all_problems_are_reported_at_once_with_nested_paths() -> None:
    """Several bad fields, one nested, come back together, each with its path and value."""
    data = {
        "id": "T1",
        "opened_at": "2026-01-01T09:00",
        "customer": {"id": "C1", "tier": "gold"},
        "channel": "fax",
        "due": "tomorrow",
    }
    with pytest.raises(TicketError) as info:
        config.structure(data, Ticket, error=TicketError)
    problems = info.value.problems
    assert len(problems) == 4
    assert any(p.startswith("customer.tier: ") and "'gold'" in p for p in problems)
    assert any(p.startswith("opened_at: ") and "naive" in p for p in problems)
    assert any(p.startswith("channel: ") and "'fax'" in p for p in problems)
    assert any(p.startswith("due: ") and "'tomorrow'" in p for p in problems)
    assert str(info.value) == "; ".join(problems)


def test_validator_messages_are_grafted_on_the_path() -> None:
    """A model validator's own field name joins the document path once."""
    data = {"id": "T1", "opened_at": "2026-01-01T09:00:00Z", "customer": {"id": "C1", "reach": -3}}
    with pytest.raises(PolicyError) as info:
        config.structure(data, Ticket)
    assert info.value.problems == ("customer.reach: expected a whole number >= 0, got -3",)


def test_unknown_keys_are_rejected() -> None:
    """A misspelt key is a problem, not silently ignored."""
    with pytest.raises(PolicyError, match="extra fields found"):
        config.structure({"id": "C1", "teir": "vip_business"}, Customer)


def test_plain_type_errors_become_policy_errors() -> None:
    """A document that is not a table at all is reported, not a traceback from cattrs."""
    with pytest.raises(PolicyError, match=r"^<document>: expected a table of fields, got \['not', 'a', 'table'\]"):
        config.structure(["not", "a", "table"], Customer)


# ---------------------------------------------------------------------------
# Files


@attrs.frozen(kw_only=True)
class _Section:
    window: timedelta
    limit: Money = attrs.field(factory=lambda: Money(Decimal(100), "CNY"))


def test_load_file_reads_each_format_by_suffix(tmp_path: Path) -> None:
    """TOML, JSON and YAML files load by their suffix."""
    customer = Customer(id="C9", tier=CustomerTier.VIP_PRIVATE, reach=1000)
    for suffix in (".toml", ".json", ".yaml", ".yml"):
        path = tmp_path / f"customer{suffix}"
        config.dump_file(customer, path)
        assert config.load_file(path, Customer) == customer


def test_load_file_errors_name_the_file_and_the_path(tmp_path: Path) -> None:
    """Every problem of a file is prefixed with the file name."""
    path = tmp_path / "customer.toml"
    path.write_text('id = "C1"\ntier = "gold"\nreach = "many"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        config.load_file(path, Customer)
    assert len(info.value.problems) == 2
    assert all(p.startswith(f"{path}: ") for p in info.value.problems)
    assert any("tier: " in p and "'gold'" in p for p in info.value.problems)


def test_invalid_toml_is_a_policy_error_naming_the_file(tmp_path: Path) -> None:
    """A syntax error is a PolicyError naming the file, not a parser traceback."""
    path = tmp_path / "policy.toml"
    path.write_text("[triage\nwindow = \n", encoding="utf-8")
    with pytest.raises(PolicyError, match=rf"^{path}: not valid TOML"):
        config.load_file(path, _Section)
    with pytest.raises(PolicyError, match=rf"^{path}: not valid TOML"):
        config.load_section(path, "triage", _Section)


def test_invalid_json_and_yaml_are_policy_errors(tmp_path: Path) -> None:
    """Broken JSON and YAML are reported the same way."""
    broken_json = tmp_path / "p.json"
    broken_json.write_text("{", encoding="utf-8")
    broken_yaml = tmp_path / "p.yaml"
    broken_yaml.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid JSON"):
        config.load_file(broken_json, Customer)
    with pytest.raises(PolicyError, match="not valid YAML"):
        config.load_file(broken_yaml, Customer)


def test_unknown_suffix_and_missing_file_are_named(tmp_path: Path) -> None:
    """An unknown suffix or an unreadable file raises PolicyError naming the path."""
    with pytest.raises(PolicyError, match=r"policy\.ini: cannot tell the format from the suffix '\.ini'"):
        config.load_file(tmp_path / "policy.ini", _Section)
    missing = tmp_path / "missing.toml"
    with pytest.raises(PolicyError, match=rf"^{missing}: cannot read"):
        config.load_file(missing, _Section)
    with pytest.raises(PolicyError, match=rf"^{missing}: cannot read"):
        config.load_section(missing, "triage", _Section)


def test_load_section_reads_one_table_and_prefixes_errors(tmp_path: Path) -> None:
    """A section loads on its own; errors carry the file, the section and the field."""
    path = tmp_path / "policy.toml"
    path.write_text('[triage]\nwindow = "2h"\nlimit = "50 EUR"\n\n[other]\nx = 1\n', encoding="utf-8")
    assert config.load_section(path, "triage", _Section) == _Section(
        window=timedelta(hours=2), limit=Money.parse("50 EUR")
    )
    assert config.load_section(path, "authority", _Section) is None
    with pytest.raises(PolicyError, match=r"no \[authority\] section"):
        config.load_section(path, "authority", _Section, required=True)
    path.write_text('[triage]\nwindow = "soon"\nlimit = "lots"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        config.load_section(path, "triage", _Section)
    assert {p.split(": ", 2)[1] for p in info.value.problems} == {"triage.window", "triage.limit"}


def test_dumped_toml_drops_absent_values() -> None:
    """TOML has no null: absent optional values are left out."""
    ticket = Ticket(id="T1", opened_at=datetime(2026, 5, 4, 9, tzinfo=UTC), customer=Customer(id="C1"))
    text = config.dump(ticket)
    assert "due" not in text
    assert config.load(text, Ticket) == ticket


def test_flags_dump_as_sorted_names() -> None:
    """Sets dump in a stable order so that files diff cleanly."""
    ticket = Ticket(
        id="T1",
        opened_at=datetime(2026, 5, 4, 9, tzinfo=UTC),
        customer=Customer(id="C1"),
        flags={Flag.SAFETY, Flag.POLICE},
    )
    assert config.unstructure(ticket)["flags"] == ["police", "safety"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "p.toml",
            '[authority]\n[[authority.grants]]\nid = "g"\nid = "h"\n',
            "p.toml: not valid TOML: duplicate key 'id' (at line 4)",
        ),
        ("p.toml", "[x]\na.b = 1\na.b = 2\n", "p.toml: not valid TOML: duplicate key 'a.b' (at line 3)"),
        ("p.toml", "x = { a = 1, a = 2 }\n", "p.toml: not valid TOML: Duplicate inline table key 'a'"),
        (
            "p.json",
            '{"limits": {"max_amount": "100 CNY", "max_amount": "9999 CNY"}}',
            "p.json: not valid JSON: duplicate key 'max_amount'",
        ),
        (
            "p.yaml",
            "limits:\n  max_amount: 100 CNY\n  max_amount: 9999 CNY\n",
            "p.yaml: not valid YAML: duplicate key 'max_amount' (at line 3, column 3)",
        ),
    ],
)
def test_a_key_given_twice_is_an_error_naming_the_key(tmp_path: Path, name: str, text: str, message: str) -> None:
    """The parsers keep the last of two equal keys silently: a limit of 100 must never read as 9999."""
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(PolicyError) as info:
        config.read_document(path)
    assert str(info.value).startswith(str(tmp_path / message))


def test_yaml_merge_keys_are_not_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("base: &b {tier: agent}\ngrant:\n  <<: *b\n  id: g\n")
    assert config.read_document(path) == {"base": {"tier": "agent"}, "grant": {"tier": "agent", "id": "g"}}


@pytest.mark.parametrize("value", ["false", "no", 0, 1, "", None, [True]])
def test_a_switch_is_true_or_false_never_a_truthy_value(value: object) -> None:
    with pytest.raises(PolicyError, match=r"lexicon\.enabled: expected true or false, got "):
        config.structure({"name": "x", "lexicon": {"enabled": value}}, TriagePolicy)
    policy = config.structure({"name": "x", "lexicon": {"enabled": False, "skip_boilerplate": False}}, TriagePolicy)
    assert policy.lexicon.enabled is False
    assert policy.lexicon.skip_boilerplate is False
