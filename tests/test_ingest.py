"""Reading tickets from CSV and JSON Lines files."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from servicetriage import config
from servicetriage import strategies as sts
from servicetriage.errors import TicketError
from servicetriage.ingest import (
    _CUSTOMER_INTS,
    _TICKET_INTS,
    CSV_COLUMNS,
    Deduplicated,
    _Fast,
    _loads,
    _normalize,
    deduplicate,
    format_of,
    iter_tickets,
    read_tickets,
    record_to_ticket,
    ticket_to_flat,
    ticket_to_record,
    write_csv,
    write_jsonl,
)
from servicetriage.model import Channel, Customer, CustomerTier, Flag, Money, Pause, Ticket

if TYPE_CHECKING:
    from pathlib import Path

CST = timezone(timedelta(hours=8))

SOS = Ticket(
    id="T1",
    opened_at=datetime(2026, 3, 1, 9, 30, tzinfo=CST),
    due=datetime(2026, 3, 1, 9, 45, tzinfo=CST),
    customer=Customer(id="C1", tier=CustomerTier.VIP_PRIVATE, reach=800, nationality="CN"),
    channel=Channel.PHONE,
    category="ride",
    subject="行程中SOS",
    text="乘客在行程中按下SOS，司机偏离路线",
    language="zh",
    money_at_stake=Money.parse("500 CNY"),
    flags=frozenset({Flag.SAFETY, Flag.POLICE}),
    repeat_contacts=2,
    attributes={"plan": "gold"},
)


def _results(text: str, **kwargs: object) -> list[tuple[int, Ticket | TicketError]]:
    return list(iter_tickets(io.StringIO(text), **kwargs))  # type: ignore[arg-type]


def test_nested_and_flat_records_give_the_same_ticket() -> None:
    flat: dict[str, object] = {k: v for k, v in ticket_to_flat(SOS).items() if v != ""}
    flat["customer_reach"] = 800  # a number, as JSON would give it
    assert record_to_ticket(ticket_to_record(SOS)) == SOS
    assert record_to_ticket(flat) == SOS


def test_flat_csv_row_reads_back_with_cjk_text_and_attributes() -> None:
    out = io.StringIO()
    write_csv([SOS], out)
    assert out.getvalue().startswith(",".join(CSV_COLUMNS))
    [(line, ticket)] = _results(out.getvalue())
    assert line == 2
    assert ticket == SOS


def test_jsonl_reads_back_with_cjk_text() -> None:
    out = io.StringIO()
    write_jsonl([SOS], out)
    assert "乘客" in out.getvalue()  # written as UTF-8 text, not escapes
    assert _results(out.getvalue()) == [(1, SOS)]


def test_byte_order_mark_is_tolerated_in_files(tmp_path: Path) -> None:
    for name, writer in (("t.csv", write_csv), ("t.jsonl", write_jsonl)):
        buffer = io.StringIO()
        writer([SOS], buffer)
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode())
        assert read_tickets(path) == (SOS,)


def test_byte_order_mark_is_tolerated_in_streams() -> None:
    text = "\ufeff" + json.dumps(ticket_to_record(SOS), ensure_ascii=False) + "\n"
    assert _results(text) == [(1, SOS)]


def test_empty_lines_are_skipped_and_line_numbers_are_the_file_lines() -> None:
    line = json.dumps(ticket_to_record(SOS))
    results = _results(f"\n{line}\n\n   \n{line}\n")
    assert [number for number, _ in results] == [2, 5]


def test_bad_jsonl_rows_are_reported_with_line_numbers_and_every_problem() -> None:
    good = json.dumps(ticket_to_record(SOS))
    bad = json.dumps(
        {
            "id": "T2",
            "opened_at": "2026-03-01T09:30:00",
            "customer": {"id": "C2", "reach": -3},
            "channel": "fax",
            "money_at_stake": "5 yuan",
            "repeat_contacts": -1,
            "affected_customers": 0,
        }
    )
    results = _results(f"{good}\n{bad}\nnot json\n[1, 2]\n")
    assert [n for n, _ in results] == [1, 2, 3, 4]
    assert results[0][1] == SOS
    error = results[1][1]
    assert isinstance(error, TicketError)
    fields = [p.split(":")[0] for p in error.problems]
    assert sorted(fields) == sorted(
        ["opened_at", "customer.reach", "channel", "money_at_stake", "repeat_contacts", "affected_customers"]
    )
    assert any("'fax'" in p for p in error.problems)
    assert any("-3" in p for p in error.problems)
    assert "not valid JSON" in str(results[2][1])
    assert "expected a JSON object" in str(results[3][1])


def test_bad_csv_rows_are_reported_with_their_first_line() -> None:
    text = (
        "id,opened_at,customer_id,subject\n"
        'T1,2026-03-01T09:30:00+08:00,C1,"two\nlines"\n'
        "T2,2026-03-01T09:30:00+08:00,,x\n"
        "T3,2026-03-01\n"
    )
    results = _results(text)
    assert [n for n, _ in results] == [2, 4, 5]
    assert isinstance(results[0][1], Ticket)
    assert results[0][1].subject == "two\nlines"
    assert str(results[1][1]) == "customer.id: required field missing"
    assert str(results[2][1]) == "expected 4 cells as in the header, got 2"


def test_unknown_csv_column_is_an_error_for_the_whole_file() -> None:
    with pytest.raises(TicketError, match=r"unknown columns \['colour'\]"):
        _results("id,opened_at,customer_id,colour\nT1,2026-03-01T09:30:00+08:00,C1,red\n")


def test_unknown_jsonl_key_is_reported_for_its_row() -> None:
    record = ticket_to_record(SOS) | {"colour": "red"}
    [(_, error)] = _results(json.dumps(record))
    assert isinstance(error, TicketError)
    assert "colour" in str(error)


def test_conflicting_nested_and_flat_customer_is_reported() -> None:
    record = ticket_to_record(SOS) | {"customer_id": "C9"}
    with pytest.raises(TicketError, match=r"customer_id: 'C9' conflicts with customer\.id 'C1'"):
        record_to_ticket(record)


def test_null_and_empty_csv_cells_mean_the_default() -> None:
    ticket = record_to_ticket({"id": "T", "opened_at": "2026-03-01T09:30:00Z", "customer_id": "C", "due": None})
    assert ticket.due is None
    [(_, from_csv)] = _results("id,opened_at,customer_id,due,channel\nT,2026-03-01T09:30:00Z,C,,\n")
    assert from_csv == ticket
    assert ticket.opened_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_flags_and_pauses_read_from_flat_strings() -> None:
    ticket = record_to_ticket(
        {
            "id": "T",
            "opened_at": "2026-03-01T09:00:00+08:00",
            "customer_id": "C",
            "flags": "safety; police",
            "pauses": "2026-03-01T10:00:00+08:00/2026-03-01T11:00:00+08:00;2026-03-01T12:00:00+08:00/",
        }
    )
    assert ticket.flags == {Flag.SAFETY, Flag.POLICE}
    assert ticket.pauses == (
        Pause(datetime(2026, 3, 1, 10, tzinfo=CST), datetime(2026, 3, 1, 11, tzinfo=CST)),
        Pause(datetime(2026, 3, 1, 12, tzinfo=CST)),
    )


def test_a_pause_without_a_slash_is_reported() -> None:
    with pytest.raises(TicketError, match="pauses: expected ISO intervals"):
        record_to_ticket({"id": "T", "opened_at": "2026-03-01T09:00:00Z", "customer_id": "C", "pauses": "x"})


def test_missing_file_raises_ticket_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(TicketError, match=r"nope\.jsonl: cannot read"):
        read_tickets(tmp_path / "nope.jsonl")


def test_read_tickets_lists_every_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(ticket_to_record(SOS)) + '\n{"id": "T2"}\n', encoding="utf-8")
    with pytest.raises(TicketError) as info:
        read_tickets(path)
    assert info.value.problems == (
        "line 2: opened_at: required field missing",
        "line 2: customer.id: required field missing",
    )


def test_format_comes_from_suffix_or_first_line() -> None:
    assert format_of("a.CSV") == "csv"
    assert format_of("a.ndjson") == "jsonl"
    assert format_of("a.txt") is None
    csv_text = "id,opened_at,customer_id\nT,2026-03-01T09:30:00Z,C\n"
    assert isinstance(_results(csv_text)[0][1], Ticket)
    assert isinstance(_results("\n" + csv_text)[0][1], Ticket)


def test_explicit_format_overrides_sniffing() -> None:
    [(_, error)] = _results('{"id": "T"}\n', format="jsonl")
    assert isinstance(error, TicketError)
    with pytest.raises(TicketError, match="unknown columns"):
        _results('{"id": "T"}\n', format="csv")


@given(st.lists(sts.tickets(), max_size=5, unique_by=lambda t: t.id))
def test_any_valid_tickets_written_as_jsonl_read_back_equal(tickets: list[Ticket]) -> None:
    out = io.StringIO()
    write_jsonl(tickets, out)
    assert read_tickets(io.StringIO(out.getvalue())) == tuple(tickets)


@given(sts.tickets())
def test_flat_records_read_back_equal(ticket: Ticket) -> None:
    flat = ticket_to_flat(ticket)
    expected = ticket if all(isinstance(v, str) for v in ticket.attributes.values()) else None
    result = record_to_ticket({k: v for k, v in flat.items() if v != "" or k.startswith("attr.")})
    if expected is not None:
        assert result == expected
    else:
        assert result.attributes == {k: str(v) for k, v in ticket.attributes.items()}


@given(sts.tickets())
def test_fast_constructor_builds_what_the_converter_builds(ticket: Ticket) -> None:
    data, problems = _normalize(json.loads(json.dumps(ticket_to_record(ticket))))
    assert not problems
    fast = _Fast()(data)
    assert fast is None or fast == config.structure(data, Ticket) == ticket
    if not ticket.pauses:
        assert fast is not None


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)
_SPACE = st.text(" \t\r\n\x0b\u3000\ufeff", max_size=2)


@given(_SPACE, _JSON_VALUES, _SPACE, st.sampled_from(["", "x", "{}", "]", ","]), st.integers(0, 3))
def test_json_lines_parse_as_json_loads_does(lead: str, value: object, trail: str, extra: str, cut: int) -> None:
    """Each line gives what json.loads gives, or fails with the same message (extra data, spaces, a cut line)."""
    text = lead + json.dumps(value, ensure_ascii=False) + trail + extra
    text = text[: len(text) - cut] if cut else text
    try:
        expected: object = json.loads(text)
    except ValueError as exc:
        with pytest.raises(ValueError, match="^" + re.escape(str(exc)) + "$"):
            _loads(text)
    else:
        assert _loads(text) == expected


def _csv_record(ticket: Ticket) -> dict[str, str]:
    """The record the CSV reader yields for *ticket*'s row: its flat cells, empty ones left out."""
    return {key: cell for key, cell in ticket_to_flat(ticket).items() if cell}


_NUMBER_TEXT = st.one_of(
    st.integers(-3, 300).map(str),
    st.sampled_from([" 2", "3 ", "+1", "0", "-1", "2.0", "1e2", "two", "٣", "1_0", "４", "5", "6"]),
)


@given(
    sts.tickets(),
    st.dictionaries(
        st.sampled_from(
            ["impact", "urgency", "affected_customers", "repeat_contacts", "customer_reach", "age", "customer_tier"]
        ),
        _NUMBER_TEXT | st.sampled_from(["vip_business", "standard", "gold"]),
        max_size=3,
    ),
)
def test_fast_constructor_builds_what_the_converter_builds_from_csv_cells(
    ticket: Ticket, cells: dict[str, str]
) -> None:
    """Numbers arrive as text in a CSV cell: the fast path reads them as the converter does, or steps aside."""
    data, problems = _normalize(_csv_record(ticket) | cells, from_csv=True)
    assert not problems
    fast = _Fast()(data)
    try:
        expected = config.structure(data, Ticket, error=TicketError)
    except TicketError:
        assert fast is None
    else:
        assert fast is None or fast == expected
        if not ticket.pauses:
            assert fast is not None


@given(sts.tickets())
def test_csv_rows_with_numeric_columns_stay_on_the_fast_path(ticket: Ticket) -> None:
    """A valid CSV row (impact, urgency, reach... as text) is built by the fast constructor unless it has pauses."""
    data, _ = _normalize(_csv_record(ticket), from_csv=True)
    fast = _Fast()(data)
    assert (fast is None) == bool(ticket.pauses)
    assert fast is None or fast == ticket or fast.attributes != ticket.attributes


def test_the_fast_constructor_knows_every_whole_number_field_of_the_model() -> None:
    """The fields the fast path reads from text are exactly the model's int fields (a new one cannot be missed)."""
    import typing  # noqa: PLC0415

    def ints(cls: type) -> set[str]:
        hints = typing.get_type_hints(cls)
        return {name for name, hint in hints.items() if hint in (int, int | None)}

    assert set(_TICKET_INTS) == ints(Ticket)
    assert set(_CUSTOMER_INTS) == ints(Customer)


def test_a_csv_file_with_impact_and_urgency_reads_as_its_json_lines_twin() -> None:
    """The same tickets, as CSV with impact and urgency columns and as JSON Lines, read equal."""
    tickets = [evolve(SOS, id=f"T{n}", impact=1 + n % 3, urgency=1 + n % 2, affected_customers=n + 1) for n in range(6)]
    as_csv, as_jsonl = io.StringIO(), io.StringIO()
    write_csv(tickets, as_csv)
    write_jsonl(tickets, as_jsonl)
    assert "impact,urgency" in as_csv.getvalue().splitlines()[0]
    assert read_tickets(io.StringIO(as_csv.getvalue())) == read_tickets(io.StringIO(as_jsonl.getvalue()))
    assert [t.impact for t in read_tickets(io.StringIO(as_csv.getvalue()))] == [1, 2, 3, 1, 2, 3]


def test_read_tickets_refuses_a_repeated_id_naming_both_lines() -> None:
    """A ticket id on two records is an error by default, beside any bad row, in line order."""
    text = io.StringIO()
    write_jsonl([SOS, evolve(SOS, id="T2"), evolve(SOS, text="update")], text)
    lines = text.getvalue().splitlines()
    with pytest.raises(TicketError) as caught:
        read_tickets(io.StringIO("\n".join([*lines, '{"id": "T9"}']) + "\n"))
    assert caught.value.problems[0] == "line 3: duplicate ticket id 'T1', first on line 1"
    assert caught.value.problems[1].startswith("line 4: ")


def test_keep_last_keeps_the_last_record_of_each_ticket_and_counts_the_merged_ones() -> None:
    """``keep_last`` reads an event log: the latest record wins, in its own place; ``deduplicate`` counts."""
    update = evolve(SOS, text="update", repeat_contacts=3)
    other = evolve(SOS, id="T2")
    text = io.StringIO()
    write_jsonl([SOS, other, update], text)
    assert read_tickets(io.StringIO(text.getvalue()), keep_last=True) == (other, update)
    result = deduplicate(iter_tickets(io.StringIO(text.getvalue())), keep_last=True)  # type: ignore[arg-type]
    assert (result.tickets, result.merged) == ((other, update), 1)
    assert deduplicate([(1, SOS), (2, other)]) == Deduplicated(tickets=(SOS, other), merged=0)


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["a", "b", "c"])), max_size=12))
def test_deduplicate_keeps_exactly_the_last_record_of_each_id(pairs: list[tuple[int, str]]) -> None:
    """With keep_last: one ticket per id, the one on the latest line, ordered by that line; merged counts the rest."""
    records = [(line, evolve(SOS, id=f"T{n}", text=text)) for line, (n, text) in enumerate(pairs, start=1)]
    result = deduplicate(records, keep_last=True)
    last = {ticket.id: (line, ticket) for line, ticket in records}
    assert result.tickets == tuple(t for _, t in sorted(last.values(), key=lambda item: item[0]))
    assert result.merged == len(records) - len(last)
    if result.merged:
        with pytest.raises(TicketError, match="duplicate ticket id"):
            deduplicate(records)
    else:
        assert deduplicate(records) == result
