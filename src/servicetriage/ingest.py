"""Reading (and writing) ticket files: CSV and JSON Lines.

This is part of the shell: it turns rows of a file into
`Ticket` values with the library's converter, and
reports every bad row with its line number and all of its problems, each
naming the field and the value. Nothing is dropped silently.

Two shapes of record are accepted, in both formats:

- **nested**, as the model: a ``customer`` object, a ``flags`` list, an
  ``attributes`` object, ``pauses`` as a list of ``{"start", "end"}``;
- **flat**, one column per value: ``customer_id``, ``customer_tier``,
  ``customer_reach`` (and ``nationality``, ``gender``, ``age``, which belong
  to the customer), ``flags`` as ``"safety;police"``, ``money_at_stake`` as
  ``"500 CNY"``, ``pauses`` as ISO intervals ``"start/end;start/"`` (an empty
  end is a pause still running) and ``attr.<name>`` columns for the free
  attributes.

A CSV file has a header row of such names; an empty cell means "not given"
(the model's default). In JSON Lines, ``null`` means the same. Empty lines are
skipped; files are UTF-8, with or without a byte-order mark; the path ``-``
reads standard input.

Reading is streaming: `iter_tickets` yields one result per record, so a
file of a million lines never sits in memory as a whole.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, get_type_hints

import attrs

from servicetriage import config
from servicetriage.errors import TicketError
from servicetriage.model import (
    Channel,
    Customer,
    CustomerTier,
    DeclaredUrgency,
    FrozenMap,
    Money,
    Ticket,
    TicketStatus,
)

__all__ = [
    "CSV_COLUMNS",
    "Deduplicated",
    "TicketFormat",
    "deduplicate",
    "format_of",
    "iter_tickets",
    "read_tickets",
    "record_to_ticket",
    "ticket_to_flat",
    "ticket_to_record",
    "write_csv",
    "write_jsonl",
]

#: The ticket file formats this module reads and writes.
TicketFormat = Literal["csv", "jsonl"]

_SUFFIXES: dict[str, TicketFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}

#: The flat columns, in the order `write_csv` writes them
#: (``attr.<name>`` columns follow).
CSV_COLUMNS: tuple[str, ...] = (
    "id",
    "opened_at",
    "due",
    "customer_id",
    "customer_tier",
    "customer_reach",
    "nationality",
    "gender",
    "age",
    "channel",
    "category",
    "subject",
    "text",
    "language",
    "declared_urgency",
    "impact",
    "urgency",
    "affected_customers",
    "money_at_stake",
    "flags",
    "repeat_contacts",
    "status",
    "pauses",
)

_TICKET_FIELDS = frozenset(a.name for a in attrs.fields(Ticket))
_CUSTOMER_FIELDS = frozenset(a.name for a in attrs.fields(Customer))
_FLAT_CUSTOMER: dict[str, str] = {f"customer_{name}": name for name in _CUSTOMER_FIELDS} | {
    "nationality": "nationality",
    "gender": "gender",
    "age": "age",
}
_KNOWN_COLUMNS = _TICKET_FIELDS | frozenset(_FLAT_CUSTOMER)
#: The ticket fields a record gives as they are, in both shapes.
_PLAIN_FIELDS = _TICKET_FIELDS - {"customer", "attributes", "flags", "pauses"}


def format_of(path: str | Path) -> TicketFormat | None:
    """Return the ticket format a file name implies (``.csv``, ``.jsonl``, ``.ndjson``, ``.json``), or ``None``."""
    return _SUFFIXES.get(Path(path).suffix.lower())


# --------------------------------------------------------------------------
# Records -> tickets


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _split_pauses(value: str) -> list[dict[str, str]]:
    pauses = []
    for part in _split_list(value):
        start, slash, end = part.partition("/")
        pause = {"start": start.strip()}
        if not slash:
            msg = f"pauses: expected ISO intervals 'start/end' separated by ';', got {value!r}"
            raise TicketError(msg)
        if end.strip():
            pause["end"] = end.strip()
        pauses.append(pause)
    return pauses


def _normalize(record: Mapping[str, Any], *, from_csv: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Turn a flat or nested record into the nested shape, with the problems seen on the way."""
    data: dict[str, Any] = {}
    customer: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in record.items():
        if value is None or (from_csv and value == ""):
            continue
        if key in _PLAIN_FIELDS:
            data[key] = value
        elif key in _FLAT_CUSTOMER:
            name = _FLAT_CUSTOMER[key]
            if name in customer and customer[name] != value:
                problems.append(f"{key}: {value!r} conflicts with customer.{name} {customer[name]!r}")
            customer[name] = value
        elif key.startswith("attr.") and len(key) > len("attr."):
            attributes[key[len("attr.") :]] = value
        elif key == "customer" and isinstance(value, Mapping):
            for name, item in value.items():
                if name in customer and customer[name] != item:
                    problems.append(f"customer.{name}: {item!r} conflicts with customer_{name} {customer[name]!r}")
                customer[name] = item
        elif key == "attributes" and isinstance(value, Mapping):
            attributes.update(value)
        elif key == "flags" and isinstance(value, str):
            data[key] = _split_list(value)
        elif key == "pauses" and isinstance(value, str):
            try:
                data[key] = _split_pauses(value)
            except TicketError as exc:
                problems.append(str(exc))
        else:
            data[key] = value
    if customer or "customer" not in data:
        data["customer"] = {k: v for k, v in customer.items() if v is not None}
    if attributes:
        data["attributes"] = attributes
    return data, problems


_TOP_FIELD_PLACEHOLDERS: dict[str, Any] = {
    "id": "_",
    "opened_at": "2000-01-01T00:00:00+00:00",
    "customer": {"id": "_"},
}


def _field_of(problem: str) -> str | None:
    head = problem.partition(":")[0].strip()
    name = head.split(".", 1)[0].split("[", 1)[0]
    return name if name in _TICKET_FIELDS else None


def _slow(data: dict[str, Any], problems: list[str]) -> Ticket:
    """Structure with the converter; on failure collect every problem of the record.

    The converter reports all type problems at once, but a class validator
    stops at the first one: so each failing field is set aside (or replaced
    by a placeholder when it is required) and the record is tried again,
    until no new problem turns up.
    """
    problems = list(problems)
    trial = dict(data)
    for _ in range(len(_TICKET_FIELDS) + 1):
        try:
            ticket = config.structure(trial, Ticket, error=TicketError)
        except TicketError as exc:
            new = [p for p in exc.problems if p not in problems]
            problems.extend(new)
            fields = {_field_of(p) for p in new}
            if not new or None in fields:
                break
            for name in fields:
                assert name is not None  # for the type checker
                if name in _TOP_FIELD_PLACEHOLDERS and trial.get(name) != _TOP_FIELD_PLACEHOLDERS[name]:
                    trial[name] = _TOP_FIELD_PLACEHOLDERS[name]
                else:
                    trial.pop(name, None)
        else:
            if not problems:
                return ticket
            break
    raise TicketError("; ".join(problems), tuple(problems))


_CHANNELS = {m.value: m for m in Channel}
_TIERS = {m.value: m for m in CustomerTier}
_DECLARED = {m.value: m for m in DeclaredUrgency}
_STATUSES = {m.value: m for m in TicketStatus}
#: The whole-number fields, which a CSV cell (or a quoted JSON value) gives as text: the converter
#: reads them with ``int(text)``, and so does the fast constructor.
_TICKET_INTS = tuple(name for name, hint in get_type_hints(Ticket).items() if hint in (int, int | None))
_CUSTOMER_INTS = tuple(name for name, hint in get_type_hints(Customer).items() if hint in (int, int | None))
_CACHE_LIMIT = 4096
#: The attributes of a record without any: one shared empty map (it is immutable).
_NO_ATTRIBUTES: FrozenMap[str, Any] = FrozenMap()
_JSON_SPACE = " \t\n\r"


class _DuplicateKeyError(ValueError):
    """A key given twice in one JSON object of a record (``json`` would keep the last one silently)."""


def _members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's members, refusing a key given twice."""
    table = dict(pairs)
    if len(table) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                msg = f"duplicate key {key!r}"
                raise _DuplicateKeyError(msg)
            seen.add(key)
    return table


_SCAN_JSON: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(object_pairs_hook=_members).scan_once  # type: ignore[attr-defined]


def _loads(text: str) -> Any:
    """Return ``json.loads(text)``, a key given twice being an error.

    The decoder's scanner is called directly when the line starts with its
    value; anything unusual (leading space, a byte-order mark, a syntax error,
    extra data) goes through `json.loads` itself, so errors read the same.
    """
    try:
        value, end = _SCAN_JSON(text, 0)
    except _DuplicateKeyError:
        raise
    except (StopIteration, ValueError):
        return json.loads(text, object_pairs_hook=_members)
    if end != len(text) and text[end:].strip(_JSON_SPACE):
        return json.loads(text, object_pairs_hook=_members)  # extra data: let json.loads say so
    return value


class _Fast:
    """A fast constructor for well-formed nested records; ``None`` sends a record to the converter.

    It builds exactly what the converter would build (the tests check this),
    only without the converter's generic machinery; any surprise (a string
    where a number belongs, an unknown key, a pause) falls back to the full
    path, which reports every problem.
    """

    def __init__(self) -> None:
        self.money: dict[str, Money] = {}

    def __call__(self, data: dict[str, Any], *, checked: bool = False) -> Ticket | None:
        """Build the ticket of *data*, or return ``None``; *checked* says its keys are known ticket fields."""
        if not (checked or data.keys() <= _TICKET_FIELDS) or "pauses" in data:
            return None
        kwargs = dict(data)
        get = data.get
        try:
            customer = data["customer"]
            if type(customer) is not dict:
                return None
            if type(tier := customer.get("tier")) is str or any(type(customer.get(n)) is str for n in _CUSTOMER_INTS):
                customer = dict(customer)
                if type(tier) is str:
                    customer["tier"] = _TIERS[tier]
                for name in _CUSTOMER_INTS:
                    if type(value := customer.get(name)) is str:
                        customer[name] = int(value)  # as the converter does: int(value)
            kwargs["customer"] = Customer(**customer)
            for name in _TICKET_INTS:
                if type(value := get(name)) is str:
                    kwargs[name] = int(value)
            kwargs["opened_at"] = datetime.fromisoformat(data["opened_at"])
            if (due := get("due")) is not None:
                kwargs["due"] = datetime.fromisoformat(due)
            if (channel := get("channel")) is not None:
                kwargs["channel"] = _CHANNELS[channel]
            if (declared := get("declared_urgency")) is not None:
                kwargs["declared_urgency"] = _DECLARED[declared]
            if (status := get("status")) is not None:
                kwargs["status"] = _STATUSES[status]
            if (flags := get("flags")) is not None and type(flags) is not list:
                return None
            if (text := get("money_at_stake")) is not None:
                money = self.money.get(text)
                if money is None:
                    if len(self.money) > _CACHE_LIMIT:
                        self.money.clear()
                    money = self.money[text] = Money.parse(text)
                kwargs["money_at_stake"] = money
            if (attributes := get("attributes")) is None:
                kwargs["attributes"] = _NO_ATTRIBUTES
            elif type(attributes) is not dict:
                return None
            return Ticket(**kwargs)
        except (TypeError, ValueError, KeyError):
            return None


class _Builder:
    """Turn one raw record (a JSON line, or a CSV row as a dict) into a ticket or an error."""

    def __init__(self) -> None:
        self.fast = _Fast()

    def __call__(self, raw: str | dict[str, Any] | TicketError) -> Ticket | TicketError:
        if isinstance(raw, TicketError):
            return raw
        from_csv = not isinstance(raw, str)
        if not isinstance(raw, str):
            record = raw
        else:
            try:
                record = _loads(raw)
            except _DuplicateKeyError as exc:
                return TicketError(str(exc))
            except ValueError as exc:
                return TicketError(f"not valid JSON: {exc}")
            except RecursionError:
                return TicketError("not valid JSON: nested too deep")
            if type(record) is not dict:
                return TicketError(f"expected a JSON object, got {raw.strip()[:60]!r}")
            # The common case: the nested shape, no nulls.
            if record.keys() <= _TICKET_FIELDS and None not in record.values():
                ticket = self.fast(record, checked=True)
                if ticket is not None:
                    return ticket
        data, problems = _normalize(record, from_csv=from_csv)
        ticket = None if problems else self.fast(data)
        if ticket is not None:
            return ticket
        try:
            return _slow(data, problems)
        except TicketError as exc:
            return exc


def record_to_ticket(record: Mapping[str, Any]) -> Ticket:
    """Build a ticket from one record, flat or nested (see the module docs).

    :raises TicketError: naming every bad field and its value (``problems``
        lists them one by one).
    """
    data, problems = _normalize(record)
    return _slow(data, problems)


# --------------------------------------------------------------------------
# Files -> records


def _open(source: str | Path | IO[str]) -> tuple[IO[str], str, bool]:
    """Return the text stream, its display name, and whether we opened it (and must close it)."""
    if not isinstance(source, str | Path):
        return source, getattr(source, "name", "<stream>"), False
    if str(source) == "-":
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
        return stream, "<stdin>", False
    try:
        return open(source, encoding="utf-8-sig", newline=""), str(source), True  # noqa: PTH123
    except OSError as exc:
        msg = f"{source}: cannot read: {exc.strerror or exc}"
        raise TicketError(msg) from None


def _lines(stream: IO[str]) -> Iterator[str]:
    first = True
    for line in stream:
        if first:
            first = False
            yield line.removeprefix("\ufeff")
        else:
            yield line


def _jsonl_records(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        if line and not line.isspace():
            yield number, line


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if text.startswith("field larger than field limit"):
        return f"a cell longer than {csv.field_size_limit():,} characters"
    return text


def _csv_records(lines: Iterable[str], name: str) -> Iterator[tuple[int, dict[str, Any] | TicketError]]:
    reader = csv.reader(lines)
    header: list[str] | None = None
    previous = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over the csv module's limit: this row is bad, the reader goes on
            number, previous = previous + 1, reader.line_num
            if header is None:
                msg = f"{name}:{number}: not valid CSV: {exc}"
                raise TicketError(msg) from None
            yield number, TicketError(f"not valid CSV: {_csv_problem(exc)}")
            continue
        number, previous = previous + 1, reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            unknown = [c for c in header if c not in _KNOWN_COLUMNS and not c.startswith("attr.")]
            if unknown:
                known = ", ".join(CSV_COLUMNS)
                msg = f"{name}:{number}: unknown columns {unknown!r}; expected some of {known} or attr.<name>"
                raise TicketError(msg)
            duplicated = sorted({c for c in header if header.count(c) > 1})
            if duplicated:
                msg = f"{name}:{number}: duplicated columns {duplicated!r}"
                raise TicketError(msg)
            continue
        if len(row) != len(header):
            yield number, TicketError(f"expected {len(header)} cells as in the header, got {len(row)}")
            continue
        yield number, {key: cell for key, cell in zip(header, row, strict=True) if cell}  # "" is "not given"


#: One raw record: a JSON line (not yet parsed), a CSV row as a dict, or an error.
_Raw = str | dict[str, Any] | TicketError


def _iter_raw(source: str | Path | IO[str], fmt: TicketFormat | None = None) -> Iterator[tuple[int, _Raw]]:
    """Yield ``(line number, raw record)``: the cheap, sequential part of reading."""
    stream, name, owned = _open(source)
    try:
        lines: Iterator[str] = _lines(stream)
        fmt = fmt or (format_of(name) if owned else None)
        if fmt is None:
            head: list[str] = []
            for line in lines:
                head.append(line)
                if line.strip():
                    break
            fmt = "jsonl" if head and head[-1].lstrip().startswith("{") else "csv"
            lines = itertools.chain(head, lines)
        if fmt == "csv":
            yield from _csv_records(lines, name)
        else:
            yield from _jsonl_records(lines)
    except UnicodeDecodeError as exc:
        msg = f"{name}: not UTF-8 text: {exc}"
        raise TicketError(msg) from None
    finally:
        if owned:
            stream.close()


def iter_tickets(
    source: str | Path | IO[str],
    *,
    format: TicketFormat | None = None,
) -> Iterator[tuple[int, Ticket | TicketError]]:
    """Read tickets one record at a time: ``(line number, Ticket)`` or ``(line number, TicketError)``.

    *source* is a path, ``"-"`` for standard input, or an open text stream.
    The format comes from *format*, else from the file's suffix, else from
    the first non-empty line (``{`` starts JSON Lines). A bad record is
    yielded as a `TicketError` whose
    ``problems`` name each bad field and value; the line number is the
    record's first line (the header of a CSV file is line 1).

    :raises TicketError: if the file cannot be read, or a CSV header names an
        unknown column (no row could be read then).
    """
    build = _Builder()
    for number, raw in _iter_raw(source, format):
        yield number, build(raw)


@attrs.frozen(kw_only=True)
class Deduplicated:
    """Tickets with one record each, and how many earlier records were merged into a later one."""

    tickets: tuple[Ticket, ...]
    merged: int = 0


def _duplicate(ticket_id: str, line: int, first: int) -> str:
    return f"line {line}: duplicate ticket id {ticket_id!r}, first on line {first}"


def deduplicate(records: Iterable[tuple[int, Ticket]], *, keep_last: bool = False) -> Deduplicated:
    """Check that every ticket id occurs once among ``(line number, Ticket)`` records.

    By default a repeated id is an error. With *keep_last* (an event log
    repeats a ticket once per update) the record on the latest line wins,
    in the place of that line, and ``merged`` counts the records it replaced.

    :raises TicketError: naming each repeated id and both lines
        (``line 7: duplicate ticket id 'T1', first on line 3``).
    """
    kept: dict[str, tuple[int, Ticket]] = {}
    problems: list[str] = []
    merged = 0
    for line, ticket in records:
        earlier = kept.get(ticket.id)
        if earlier is None:
            kept[ticket.id] = (line, ticket)
        elif keep_last:
            merged += 1
            if line >= earlier[0]:
                del kept[ticket.id]  # the later record takes the later place
                kept[ticket.id] = (line, ticket)
        else:
            problems.append(_duplicate(ticket.id, max(line, earlier[0]), min(line, earlier[0])))
    if problems:
        raise TicketError("; ".join(problems), tuple(problems))
    ordered = sorted(kept.values(), key=lambda item: item[0]) if keep_last else kept.values()
    return Deduplicated(tickets=tuple(ticket for _, ticket in ordered), merged=merged)


def read_tickets(
    source: str | Path | IO[str],
    *,
    format: TicketFormat | None = None,
    keep_last: bool = False,
) -> tuple[Ticket, ...]:
    """Read every ticket of a file; raise if any record is bad or a ticket id repeats.

    With *keep_last*, a repeated id keeps the ticket's last record instead
    (see `deduplicate`, which also counts the merged records).

    :raises TicketError: listing every bad record as ``line N: field: problem``
        and every repeated id as ``line N: duplicate ticket id 'T1', first on line M``.
    """
    numbered: list[tuple[int, Ticket]] = []
    problems: list[str] = []
    for number, result in iter_tickets(source, format=format):
        if isinstance(result, TicketError):
            problems.extend(f"line {number}: {p}" for p in result.problems)
        else:
            numbered.append((number, result))
    try:
        tickets = deduplicate(numbered, keep_last=keep_last).tickets
    except TicketError as exc:
        problems.extend(exc.problems)
        problems.sort(key=lambda p: int(p.split(":", 1)[0].removeprefix("line ")))
    if problems:
        raise TicketError("; ".join(problems), tuple(problems))
    return tickets


# --------------------------------------------------------------------------
# Tickets -> records and files


def ticket_to_record(ticket: Ticket) -> dict[str, Any]:
    """Return the nested, JSON-ready record of a ticket (defaults left out)."""
    record: dict[str, Any] = config.unstructure(ticket)
    return record


def ticket_to_flat(ticket: Ticket) -> dict[str, str]:
    """Return the flat record of a ticket, every value a string (``""`` for "not given")."""
    c = ticket.customer
    row = {
        "id": ticket.id,
        "opened_at": ticket.opened_at.isoformat(),
        "due": ticket.due.isoformat() if ticket.due else "",
        "customer_id": c.id,
        "customer_tier": c.tier.value,
        "customer_reach": str(c.reach),
        "nationality": c.nationality or "",
        "gender": c.gender or "",
        "age": "" if c.age is None else str(c.age),
        "channel": ticket.channel.value,
        "category": ticket.category,
        "subject": ticket.subject,
        "text": ticket.text,
        "language": ticket.language,
        "declared_urgency": ticket.declared_urgency.value,
        "impact": "" if ticket.impact is None else str(ticket.impact),
        "urgency": "" if ticket.urgency is None else str(ticket.urgency),
        "affected_customers": str(ticket.affected_customers),
        "money_at_stake": str(ticket.money_at_stake) if ticket.money_at_stake else "",
        "flags": ";".join(sorted(f.value for f in ticket.flags)),
        "repeat_contacts": str(ticket.repeat_contacts),
        "status": ticket.status.value,
        "pauses": ";".join(f"{p.start.isoformat()}/{p.end.isoformat() if p.end else ''}" for p in ticket.pauses),
    }
    for key, value in ticket.attributes.items():
        row[f"attr.{key}"] = str(value)
    return row


def write_jsonl(tickets: Iterable[Ticket], stream: IO[str]) -> int:
    """Write tickets as JSON Lines (nested records, UTF-8 text as is); return the count."""
    count = 0
    for ticket in tickets:
        stream.write(json.dumps(ticket_to_record(ticket), ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(tickets: Iterable[Ticket], stream: IO[str]) -> int:
    """Write tickets as CSV with a header of flat columns; return the count.

    Attribute values become strings; the ``attr.<name>`` columns are the
    union of the tickets' attribute names, so the tickets are read once into
    memory.
    """
    rows = [ticket_to_flat(t) for t in tickets]
    extra = sorted({k for row in rows for k in row if k.startswith("attr.")})
    writer = csv.DictWriter(stream, fieldnames=[*CSV_COLUMNS, *extra], restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return len(rows)
