"""``servicetriage triage``: rank a file of tickets under a policy and show why.

The command streams the ticket file (CSV or JSON Lines, see
`servicetriage.ingest`), classifies tickets in batches and keeps only a
compact row per ticket (its sort key and the fields it prints), so a file of a
million tickets is ranked without holding a million ``Ticket`` objects. Bad
rows go to standard error with their line number; the ranked queue goes to
standard output. ``--now`` is the only way the clock enters: without it the
command reads the current UTC time once, at start.
"""

from __future__ import annotations

import argparse
import codecs
import collections
import csv
import gc
import heapq
import itertools
import json
import multiprocessing
import os
import sys
import time
import unicodedata
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from servicetriage import config, ingest
from servicetriage.cli import _payloads
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import Ticket

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from servicetriage.model import Mark, Reason, Triage
    from servicetriage.triage import TriagePolicy

#: Bytes of JSON Lines per chunk (the unit of work of a worker process), about 3,000 tickets.
BLOCK = 1 << 20
#: CSV records per chunk.
CHUNK = 3000
#: Lines between two progress reports.
PROGRESS_EVERY = 100_000
#: With ``--jobs 0`` (the default), files larger than this use worker processes.
PARALLEL_BYTES = 16 * 1024 * 1024
#: The columns of ``--format csv`` and ``--format json``, in order.
COLUMNS = ("id", "quadrant", "priority", "due", "urgency", "importance", "marks")

#: A compact row: the rank key, and what is printed for the ticket (a CSV or
#: JSON line, or the cells of a table row with its reasons).
Row = tuple[Any, Any]
#: A unit of work: a block of JSON Lines with its first line number, or parsed CSV records.
Chunk = tuple[int, bytes] | list[tuple[int, Any]]
#: What a worker returns: rows, the line number of each row, rejected lines with their problems, the last line number.
Result = tuple[list[Row], list[int], list[tuple[int, tuple[str, ...]]], int]
#: Duplicate ticket ids named on standard error before the rest are counted.
SHOW_DUPLICATES = 20


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``triage`` sub-command to *sub*."""
    parser = sub.add_parser(
        "triage",
        help="rank a file of tickets under a policy, best first",
        description=(
            "Rank the tickets of a CSV or JSON Lines file under a triage policy and print the queue, "
            "best first. Bad rows are reported on standard error with their line number; the exit code "
            "is 1 if any row was rejected (unless --skip-invalid) and 2 for a bad policy, a missing file or a "
            "ticket id that occurs twice (unless --keep-last)."
        ),
    )
    parser.add_argument(
        "tickets", metavar="TICKETS", help="a CSV or JSON Lines file of tickets; '-' reads standard input"
    )
    parser.add_argument(
        "--policy",
        metavar="POLICY",
        help="a TOML, JSON or YAML file with a [triage] table (default: the built-in policy)",
    )
    parser.add_argument(
        "--now",
        metavar="ISO-TIME",
        type=parse_now,
        help="the time to rank at, with a UTC offset, e.g. 2026-03-02T09:00:00+08:00 (default: now)",
    )
    parser.add_argument(
        "--format", choices=("table", "json", "csv"), default="table", help="output format (default: table)"
    )
    parser.add_argument(
        "--input-format",
        choices=("csv", "jsonl"),
        default=None,
        help="the format of TICKETS (default: from the suffix, else from the first line)",
    )
    parser.add_argument(
        "--from",
        dest="source_system",
        choices=_payloads.SYSTEMS,
        metavar="SYSTEM",
        help=f"TICKETS holds this helpdesk's payloads ({', '.join(_payloads.SYSTEMS)}), as JSON Lines or a JSON array",
    )
    parser.add_argument(
        "--zone",
        metavar="ZONE",
        help="with --from: the time zone of times written without an offset, e.g. Asia/Kolkata (Frappe)",
    )
    parser.add_argument("--explain", action="store_true", help="show the reasons of every placement")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="exit 0 even if rows were rejected (they are still reported on standard error)",
    )
    parser.add_argument(
        "--keep-last",
        action="store_true",
        help="a ticket id that occurs on several rows (an event log, one row per update) keeps its last row; "
        "standard error says how many rows were merged (default: a repeated id is an error, exit code 2)",
    )
    parser.add_argument("--limit", type=_positive, metavar="N", help="print only the first N tickets of the queue")
    parser.add_argument(
        "--progress",
        action="store_true",
        help=f"report progress on standard error every {PROGRESS_EVERY:,} lines (default: only on a terminal)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help=(
            "worker processes to classify with, at most one per CPU"
            " (default 0: one per CPU, up to 4, for files over 16 MiB)"
        ),
    )
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="also append every placement to this store's decision ledger, in one transaction "
        "(TICKETS must then be a file, not standard input)",
    )
    parser.set_defaults(func=run)


def parse_now(text: str) -> datetime:
    """Parse ``--now``: an ISO 8601 time with a UTC offset (``Z`` allowed)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        msg = f"expected an ISO 8601 time such as 2026-03-02T09:00:00+08:00, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"expected a time with a UTC offset (such as +08:00 or Z), got naive {text!r}"
        raise argparse.ArgumentTypeError(msg)
    try:
        return config.check_time(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"expected a whole number >= 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _load_policy(path: str | None) -> TriagePolicy:
    from servicetriage import triage  # noqa: PLC0415 - the core loads only when the command runs

    if path is None:
        return triage.DEFAULT_POLICY
    policy = config.load_section(path, "triage", triage.TriagePolicy, required=True)
    assert policy is not None  # required=True
    return policy


# --------------------------------------------------------------------------
# Rendering


def _reason_record(reason: Reason) -> dict[str, Any]:
    return {"code": reason.code, "message": reason.message, "rule": reason.rule, "evidence": dict(reason.evidence)}


def _cell_width(text: str) -> int:
    """Count the terminal cells *text* takes: wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _clip(text: str, cells: int) -> str:
    """Cut *text* to at most *cells* terminal cells, marking a cut with an ellipsis."""
    text = " ".join(text.split())
    if _cell_width(text) <= cells:
        return text
    out, width = [], 0
    for char in text:
        w = _cell_width(char)
        if width + w > cells - 1:
            break
        out.append(char)
        width += w
    return "".join(out) + "…"


def _pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * (width - _cell_width(text))
    return fill + text if right else text + fill


class _Sink:
    """A write target that keeps the last string written (one CSV row)."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = ""

    def write(self, text: str) -> None:
        self.last = text


class _Worker:
    """Build, classify and render one chunk of raw records: the parallel part of the command.

    One lives in each worker process (or in the main process with
    ``--jobs 1``); it keeps only caches, never tickets.
    """

    def __init__(
        self,
        policy: TriagePolicy,
        now: datetime,
        fmt: str,
        explain: bool,
        source: tuple[str, str | None] | None = None,
    ) -> None:
        from servicetriage._fast import packed_rank_key  # noqa: PLC0415
        from servicetriage.triage import classify_many, rank_key  # noqa: PLC0415

        self.policy = policy
        self.now = now
        self.fmt = fmt
        self.explain = explain
        self.classify_many = classify_many
        self.rank_key = packed_rank_key(policy) or rank_key
        self.build: Callable[[Any], Ticket | TicketError] = (
            ingest._Builder()  # noqa: SLF001 - the module's own fast path, shared with the CLI
            if source is None
            else _payloads.PayloadBuilder(*source)
        )
        self.sink = _Sink()
        self.csv = csv.writer(self.sink, lineterminator="\n")
        self.json_names: dict[str, str] = {}
        self.marks_text: dict[frozenset[Mark], str] = {}

    def marks(self, marks: frozenset[Mark]) -> str:
        text = self.marks_text.get(marks)
        if text is None:
            values = sorted(m.value for m in marks)
            text = json.dumps(values) if self.fmt == "json" else (";" if self.fmt == "csv" else ",").join(values)
            self.marks_text[marks] = text
        return text

    def name(self, text: str) -> str:
        quoted = self.json_names.get(text)
        if quoted is None:
            quoted = self.json_names[text] = json.dumps(text, ensure_ascii=False)
        return quoted

    def render(self, ticket: Ticket, result: Triage) -> Any:
        due = result.due
        fmt = self.fmt
        if fmt == "csv":
            cells = [
                ticket.id,
                result.quadrant.name,
                result.priority,
                "" if due is None else due.isoformat(),
                result.urgency.name,
                result.importance.name,
                self.marks(result.marks),
            ]
            if self.explain:
                cells.append(" | ".join(str(r) for r in result.reasons))
            self.csv.writerow(cells)
            return self.sink.last
        if fmt == "json":
            name = self.name
            due_json = "null" if due is None else '"' + due.isoformat() + '"'
            line = (
                f'{{"id": {json.dumps(ticket.id, ensure_ascii=False)}, "quadrant": "{result.quadrant.name}", '
                f'"priority": {result.priority}, "due": {due_json}, '
                f'"urgency": {name(result.urgency.name)}, "importance": {name(result.importance.name)}, '
                f'"marks": {self.marks(result.marks)}'
            )
            if self.explain:
                reasons = json.dumps([_reason_record(r) for r in result.reasons], ensure_ascii=False)
                return f'{line}, "reasons": {reasons}}}\n'
            return line + "}\n"
        table_cells = (
            ticket.id,
            result.quadrant.name,
            str(result.priority),
            "" if due is None else due.isoformat(" ", "minutes"),
            result.urgency.name,
            result.importance.name,
            self.marks(result.marks),
            _clip(ticket.subject or ticket.text, 40),
        )
        return table_cells, tuple(str(r) for r in result.reasons) if self.explain else ()

    def __call__(self, chunk: Chunk) -> Result:
        """Return the chunk's rows, its rejected lines with their problems, and its last line number.

        The cycle collector is off while the chunk is processed: a chunk's
        tickets are freed by reference counting when it is done, and the
        thousands of objects it allocates would otherwise set off collections
        that find nothing. Any cycle made meanwhile is collected afterwards.
        """
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._process(chunk)
        finally:
            if enabled:
                gc.enable()

    def _process(self, chunk: Chunk) -> Result:
        build = self.build
        tickets: list[Ticket] = []
        numbers: list[int] = []
        errors: list[tuple[int, tuple[str, ...]]] = []
        for number, raw in _records(chunk):
            result = build(raw)
            if isinstance(result, TicketError):
                errors.append((number, result.problems))
            else:
                tickets.append(result)
                numbers.append(number)
        triages = self.classify_many(tickets, self.policy, self.now)
        key, render = self.rank_key, self.render
        keyed = [(key(t, r), render(t, r), n) for t, r, n in zip(tickets, triages, numbers, strict=True)]
        keyed.sort(key=_FIRST)  # sorted runs make the final sort a cheap merge
        rows = [(k, payload) for k, payload, _ in keyed]
        lines = [n for _, _, n in keyed]
        if isinstance(chunk, tuple):
            last = chunk[0] + chunk[1].count(b"\n") - (1 if chunk[1].endswith(b"\n") else 0)
        else:
            last = chunk[-1][0] if chunk else 0
        return rows, lines, errors, last


def _records(chunk: Chunk) -> Iterator[tuple[int, Any]]:
    """Yield ``(line number, raw record)`` from a chunk: a block of JSON Lines, or parsed CSV records."""
    if not isinstance(chunk, tuple):
        yield from chunk
        return
    start, block = chunk
    lines: list[str | TicketError]
    try:
        lines = list(block.decode("utf-8").split("\n"))
    except UnicodeDecodeError:
        lines = []
        for raw in block.split(b"\n"):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                lines.append(TicketError(f"not UTF-8 text: {exc}"))
    for number, line in enumerate(lines, start=start):
        if isinstance(line, TicketError) or (line and not line.isspace()):
            yield number, line


_FIRST = itemgetter(0)
_WORKER: _Worker | None = None


def _init_worker(*args: Any) -> None:
    global _WORKER  # noqa: PLW0603 - one worker object per process
    _WORKER = _Worker(*args)
    gc.freeze()  # the policy and the modules live as long as the process: keep them out of collections


def _work(chunk: Chunk) -> Result:
    assert _WORKER is not None
    return _WORKER(chunk)


# --------------------------------------------------------------------------
# The pipeline


class _Progress:
    """Progress lines on standard error, never on standard output."""

    def __init__(self, enabled: bool, stream: IO[str]) -> None:
        self.enabled = enabled
        self.stream = stream
        self.start = time.perf_counter()
        self.next = PROGRESS_EVERY

    def report(self, lines: int, ranked: int, rejected: int, *, final: bool = False) -> None:
        if not self.enabled or not (final or lines >= self.next):
            return
        self.next = (lines // PROGRESS_EVERY + 1) * PROGRESS_EVERY
        elapsed = time.perf_counter() - self.start
        state = "done" if final else "reading"
        print(
            f"servicetriage: {state}: {lines:,} lines, {ranked:,} tickets classified, {rejected:,} rejected "
            f"({elapsed:.1f} s)",
            file=self.stream,
            flush=True,
        )


def _chunks(records: Iterable[tuple[int, Any]], size: int) -> Iterator[Chunk]:
    it = iter(records)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _is_jsonl(source: str, requested: str | None) -> bool:
    """Whether *source* is JSON Lines: by the option, the suffix, or its first non-blank byte."""
    if requested is not None:
        return requested == "jsonl"
    if source == "-":
        return False  # standard input: the record reader sniffs it
    fmt = ingest.format_of(source)
    if fmt is not None:
        return fmt == "jsonl"
    try:
        with Path(source).open("rb") as stream:
            head = stream.read(65536).removeprefix(codecs.BOM_UTF8).lstrip()
    except OSError:
        return False  # the record reader reports the error
    return head.startswith(b"{")


def _blocks(source: str, size: int) -> Iterator[Chunk]:
    """Read JSON Lines as blocks of whole lines, each with its first line number."""
    try:
        stream = sys.stdin.buffer if source == "-" else Path(source).open("rb")  # noqa: SIM115
    except OSError as exc:
        msg = f"{source}: cannot read: {exc.strerror or exc}"
        raise TicketError(msg) from None
    try:
        number, first = 1, True
        while block := stream.read(size):
            if not block.endswith(b"\n"):
                block += stream.readline()
            if first:
                block, first = block.removeprefix(codecs.BOM_UTF8), False
            yield number, block
            number += block.count(b"\n")
    finally:
        if source != "-":
            stream.close()


def _jobs(requested: int, source: str) -> int:
    if requested > 0:
        return min(requested, os.cpu_count() or 1)  # more workers than CPUs only cost memory
    if source == "-":
        return 1
    try:
        size = Path(source).stat().st_size
    except OSError:
        return 1
    return min(os.cpu_count() or 1, 4) if size > PARALLEL_BYTES else 1


def _results(chunks: Iterator[Chunk], worker_args: tuple[Any, ...], jobs: int) -> Iterator[Result]:
    """Process the chunks in order: here, or in *jobs* worker processes with bounded look-ahead."""
    if jobs <= 1:
        worker = _Worker(*worker_args)
        yield from map(worker, chunks)
        return
    with multiprocessing.get_context().Pool(jobs, initializer=_init_worker, initargs=worker_args) as pool:
        pending: collections.deque[Any] = collections.deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_work, (chunk,)))
            if len(pending) > 2 * jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _write_table(rows: Sequence[Row], out: IO[str], *, explain: bool) -> None:
    header = ("#", "id", "quadrant", "priority", "due", "urgency", "importance", "marks", "subject")
    cells = [(str(index), *payload[0]) for index, (_, payload) in enumerate(rows, start=1)]
    widths = [_cell_width(h) for h in header]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _cell_width(cell))
    right = {0, 3}

    def line(row: Sequence[str]) -> str:
        return "  ".join(_pad(c, widths[i], right=i in right) for i, c in enumerate(row)).rstrip()

    write = out.write
    write(line(header) + "\n")
    for row, (_, payload) in zip(cells, rows, strict=True):
        write(line(row) + "\n")
        if explain:
            for reason in payload[1]:
                write(f"      - {reason}\n")


class _Duplicates:
    """Ticket ids seen so far, with the line and the place in the queue of the record each keeps.

    A row's ticket id is the last field of its rank key (both `rank_key` and
    the packed key end with it).
    """

    def __init__(self, name: str, *, keep_last: bool) -> None:
        self.name = name
        self.keep_last = keep_last
        self.seen: dict[str, tuple[int, int]] = {}
        self.dropped: set[int] = set()
        self.problems: list[str] = []
        self.count = 0

    def add(self, rows: Sequence[Row], lines: Sequence[int], start: int) -> None:
        """Record the ids of *rows* (read on *lines*), placed from *start* in the queue."""
        seen = self.seen
        for place, ((key, _), line) in enumerate(zip(rows, lines, strict=True), start=start):
            ticket_id = key[-1]
            earlier = seen.get(ticket_id)
            if earlier is None:
                seen[ticket_id] = (line, place)
                continue
            self.count += 1
            first, later = min(line, earlier[0]), max(line, earlier[0])
            if not self.keep_last:
                if len(self.problems) < SHOW_DUPLICATES:
                    self.problems.append(
                        f"{self.name}:{later}: duplicate ticket id {ticket_id!r}, first on line {first}"
                    )
            elif line > earlier[0]:
                self.dropped.add(earlier[1])
                seen[ticket_id] = (line, place)
            else:
                self.dropped.add(place)

    def check(self) -> None:
        """Raise if an id repeated and the last record is not to be kept."""
        if self.count and not self.keep_last:
            problems = list(self.problems)
            if self.count > len(problems):
                problems.append(f"{self.name}: {self.count - len(problems):,} more duplicate ticket ids")
            problems.append(
                f"{self.name}: {self.count:,} rows repeat a ticket id; nothing was ranked "
                "(--keep-last keeps the last row of each ticket, as for an event log)"
            )
            raise TicketError("; ".join(problems), tuple(problems))


def _record(args: argparse.Namespace, policy: TriagePolicy, now: datetime) -> None:
    """Append the placement of every valid ticket of the file to the store's ledger (all or none)."""
    from servicetriage.ledger import triage_record  # noqa: PLC0415 - only with --store
    from servicetriage.store import Store  # noqa: PLC0415

    valid = ((n, t) for n, t in ingest.iter_tickets(args.tickets, format=args.input_format) if isinstance(t, Ticket))
    tickets = ingest.deduplicate(valid, keep_last=args.keep_last).tickets
    with Store(args.store) as store:
        stored = store.record_decisions(triage_record(t, policy.classify(t, now), policy, now=now) for t in tickets)
    print(f"servicetriage: recorded {len(stored):,} placements in {args.store}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Run ``servicetriage triage``; return the exit code (0, or 1 if a row was rejected)."""
    policy = _load_policy(args.policy)
    now: datetime = args.now if args.now is not None else datetime.now(UTC)
    if args.store and args.tickets == "-":
        msg = "--store: the ledger re-reads TICKETS, so it must be a file, not '-' (standard input)"
        raise PolicyError(msg)
    if args.store and args.source_system is not None:
        msg = "--store: records our ticket files only; convert the payloads first (servicetriage.adapters)"
        raise PolicyError(msg)
    err = sys.stderr
    progress = _Progress(bool(args.progress or err.isatty()), err)
    name = "<stdin>" if args.tickets == "-" else args.tickets
    system: str | None = args.source_system
    zone: str | None = None if args.zone is None else _payloads.parse_zone(args.zone)
    if zone is not None and system is None:
        raise TicketError("--zone: applies to payloads read with --from SYSTEM")
    source = None if system is None else (system, zone)
    if source is not None:
        _payloads.PayloadBuilder(*source)  # check the options here, once, before any worker starts
    chunks: Iterator[Chunk]
    if system is not None and _payloads.is_array(args.tickets):
        chunks = _chunks(_payloads.read_array(args.tickets), CHUNK)
    elif system is not None or _is_jsonl(args.tickets, args.input_format):
        chunks = _blocks(args.tickets, BLOCK)
    else:
        chunks = _chunks(ingest._iter_raw(args.tickets, args.input_format), CHUNK)  # noqa: SLF001
    jobs = _jobs(args.jobs, args.tickets)
    key = _FIRST
    duplicates = _Duplicates(name, keep_last=args.keep_last)
    keep_all = args.limit is None or args.keep_last  # merging needs every row until the end
    ranked: list[Row] = []
    ranked_count = rejected = last = 0
    for rows, lines, errors, last_line in _results(chunks, (policy, now, args.format, args.explain, source), jobs):
        for number, problems in errors:
            for problem in problems:
                print(f"servicetriage: {name}:{number}: {problem}", file=err)
        rejected += len(errors)
        ranked_count += len(rows)
        last = max(last, last_line)
        duplicates.add(rows, lines, len(ranked))
        if keep_all:
            ranked.extend(rows)
        else:
            ranked = heapq.nsmallest(args.limit, itertools.chain(ranked, rows), key=key)
        progress.report(last, ranked_count, rejected)
    progress.report(last, ranked_count, rejected, final=True)
    duplicates.check()
    if duplicates.dropped:
        dropped = duplicates.dropped
        ranked = [row for place, row in enumerate(ranked) if place not in dropped]
    if args.limit is not None and keep_all:
        ranked = heapq.nsmallest(args.limit, ranked, key=key)
    elif args.limit is None:
        ranked.sort(key=key)
    out = sys.stdout
    if args.format == "table":
        _write_table(ranked, out, explain=args.explain)
    else:
        if args.format == "csv":
            out.write(",".join((*COLUMNS, "reasons") if args.explain else COLUMNS) + "\n")
        out.writelines(payload for _, payload in ranked)
    out.flush()
    if args.store:
        _record(args, policy, now)
    if duplicates.count:
        print(
            f"servicetriage: merged {duplicates.count:,} rows of {name} into the last row of their ticket "
            f"(--keep-last); {ranked_count - duplicates.count:,} tickets ranked",
            file=err,
        )
    if rejected:
        if args.skip_invalid:
            print(f"servicetriage: skipped {rejected:,} invalid rows of {name}", file=err)
            return 0
        print(
            f"servicetriage: rejected {rejected:,} invalid rows of {name}; the queue leaves them out "
            "(--skip-invalid accepts that with exit code 0)",
            file=err,
        )
        return 1
    return 0
