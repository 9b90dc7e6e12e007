"""``servicetriage triage``: rank a file of tickets under a policy and show why.

The command streams the ticket file (CSV or JSON Lines, see
:mod:`servicetriage.ingest`), classifies tickets in batches and keeps only a
compact row per ticket (its sort key and the fields it prints), so a file of a
million tickets is ranked without holding a million ``Ticket`` objects. Bad
rows go to standard error with their line number; the ranked queue goes to
standard output. ``--now`` is the only way the clock enters: without it the
command reads the current UTC time once, at start.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import sys
import time
import unicodedata
from datetime import UTC, datetime
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any, Final

from servicetriage import config, ingest
from servicetriage.errors import TicketError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from servicetriage.model import Mark, Reason, Ticket, Triage
    from servicetriage.triage import TriagePolicy

#: Tickets classified per batch.
BATCH = 4096
#: Lines between two progress reports.
PROGRESS_EVERY = 100_000
#: The columns of ``--format csv`` and ``--format json``, in order.
COLUMNS = ("id", "quadrant", "priority", "due", "urgency", "importance", "marks")

# A compact row: the rank key, then what is printed.
_KEY: Final = 0
_ID: Final = 1
_QUADRANT: Final = 2
_PRIORITY: Final = 3
_DUE: Final = 4
_URGENCY: Final = 5
_IMPORTANCE: Final = 6
_MARKS: Final = 7
_EXTRA: Final = 8
Row = tuple[Any, str, str, int, datetime | None, str, str, tuple[str, ...], Any]


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``triage`` sub-command to *sub*."""
    parser = sub.add_parser(
        "triage",
        help="rank a file of tickets under a policy, best first",
        description=(
            "Rank the tickets of a CSV or JSON Lines file under a triage policy and print the queue, "
            "best first. Bad rows are reported on standard error with their line number; the exit code "
            "is 1 if any row was rejected (unless --skip-invalid) and 2 for a bad policy or a missing file."
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
    parser.add_argument("--explain", action="store_true", help="show the reasons of every placement")
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="exit 0 even if rows were rejected (they are still reported on standard error)",
    )
    parser.add_argument("--limit", type=_positive, metavar="N", help="print only the first N tickets of the queue")
    parser.add_argument(
        "--progress",
        action="store_true",
        help=f"report progress on standard error every {PROGRESS_EVERY:,} lines (default: only on a terminal)",
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
    return value


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
# Rendering pieces


def _reason_record(reason: Reason) -> dict[str, Any]:
    return {"code": reason.code, "message": reason.message, "rule": reason.rule, "evidence": dict(reason.evidence)}


def _explainer(fmt: str) -> Callable[[Sequence[Reason]], Any]:
    """Render reasons at once, so no Reason object outlives its batch."""
    if fmt == "json":
        return lambda reasons: json.dumps([_reason_record(r) for r in reasons], ensure_ascii=False)
    if fmt == "csv":
        return lambda reasons: " | ".join(str(r) for r in reasons)
    return lambda reasons: tuple(str(r) for r in reasons)


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


# --------------------------------------------------------------------------
# The pipeline


class _Progress:
    """Progress lines on standard error, never on standard output."""

    def __init__(self, enabled: bool, stream: IO[str]) -> None:
        self.enabled = enabled
        self.stream = stream
        self.start = time.perf_counter()

    def report(self, lines: int, ranked: int, rejected: int, *, final: bool = False) -> None:
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.start
        state = "done" if final else "reading"
        print(
            f"servicetriage: {state}: {lines:,} lines, {ranked:,} tickets classified, {rejected:,} rejected "
            f"({elapsed:.1f} s)",
            file=self.stream,
            flush=True,
        )


def _rows(
    results: Iterable[tuple[int, Ticket | TicketError]],
    policy: TriagePolicy,
    now: datetime,
    *,
    name: str,
    fmt: str,
    explain: bool,
    progress: _Progress,
    counts: dict[str, int],
) -> Iterator[Row]:
    """Classify the tickets in batches; yield one compact row per ticket."""
    from servicetriage.triage import classify_many, rank_key  # noqa: PLC0415

    err = sys.stderr
    render = _explainer(fmt) if explain else None
    with_subject = fmt == "table"
    marks_cache: dict[frozenset[Mark], tuple[str, ...]] = {}
    batch: list[Ticket] = []
    next_report = PROGRESS_EVERY
    last_line = 0

    def flush() -> Iterator[Row]:
        triages: list[Triage] = classify_many(batch, policy, now)
        for ticket, result in zip(batch, triages, strict=True):
            marks = marks_cache.get(result.marks)
            if marks is None:
                marks = marks_cache[result.marks] = tuple(sorted(m.value for m in result.marks))
            extra: Any = None
            if with_subject:
                extra = (_clip(ticket.subject or ticket.text, 40), render(result.reasons) if render else ())
            elif render is not None:
                extra = render(result.reasons)
            yield (
                rank_key(ticket, result),
                ticket.id,
                result.quadrant.name,
                result.priority,
                result.due,
                result.urgency.name,
                result.importance.name,
                marks,
                extra,
            )
        counts["ranked"] += len(batch)
        batch.clear()

    for line, result in results:
        last_line = line
        if isinstance(result, TicketError):
            counts["rejected"] += 1
            for problem in result.problems:
                print(f"servicetriage: {name}:{line}: {problem}", file=err)
            continue
        batch.append(result)
        if len(batch) >= BATCH:
            yield from flush()
        if line >= next_report:
            progress.report(line, counts["ranked"], counts["rejected"])
            next_report = (line // PROGRESS_EVERY + 1) * PROGRESS_EVERY
    if batch:
        yield from flush()
    progress.report(last_line, counts["ranked"], counts["rejected"], final=True)


def _due_text(due: datetime | None) -> str:
    return "" if due is None else due.isoformat()


def _write_csv(rows: Iterable[Row], out: IO[str], *, explain: bool) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*COLUMNS, "reasons") if explain else COLUMNS)
    if explain:
        writer.writerows(
            (
                r[_ID],
                r[_QUADRANT],
                r[_PRIORITY],
                _due_text(r[_DUE]),
                r[_URGENCY],
                r[_IMPORTANCE],
                ";".join(r[_MARKS]),
                r[_EXTRA],
            )
            for r in rows
        )
    else:
        writer.writerows(
            (r[_ID], r[_QUADRANT], r[_PRIORITY], _due_text(r[_DUE]), r[_URGENCY], r[_IMPORTANCE], ";".join(r[_MARKS]))
            for r in rows
        )


def _write_json(rows: Iterable[Row], out: IO[str], *, explain: bool) -> None:
    dumps = json.dumps
    write = out.write
    for r in rows:
        record = {
            "id": r[_ID],
            "quadrant": r[_QUADRANT],
            "priority": r[_PRIORITY],
            "due": None if r[_DUE] is None else r[_DUE].isoformat(),
            "urgency": r[_URGENCY],
            "importance": r[_IMPORTANCE],
            "marks": list(r[_MARKS]),
        }
        text = dumps(record, ensure_ascii=False)
        if explain:
            text = f'{text[:-1]}, "reasons": {r[_EXTRA]}}}'
        write(text + "\n")


def _write_table(rows: Sequence[Row], out: IO[str], *, explain: bool) -> None:
    header = ("#", "id", "quadrant", "priority", "due", "urgency", "importance", "marks", "subject")
    cells = [
        (
            str(index),
            r[_ID],
            r[_QUADRANT],
            str(r[_PRIORITY]),
            "" if r[_DUE] is None else r[_DUE].isoformat(" ", "minutes"),
            r[_URGENCY],
            r[_IMPORTANCE],
            ",".join(r[_MARKS]),
            r[_EXTRA][0],
        )
        for index, r in enumerate(rows, start=1)
    ]
    widths = [_cell_width(h) for h in header]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], _cell_width(cell))
    right = {0, 3}

    def line(row: Sequence[str]) -> str:
        return "  ".join(_pad(c, widths[i], right=i in right) for i, c in enumerate(row)).rstrip()

    write = out.write
    write(line(header) + "\n")
    for row, r in zip(cells, rows, strict=True):
        write(line(row) + "\n")
        if explain:
            for reason in r[_EXTRA][1]:
                write(f"      - {reason}\n")


def run(args: argparse.Namespace) -> int:
    """Run ``servicetriage triage``; return the exit code (0, or 1 if a row was rejected)."""
    policy = _load_policy(args.policy)
    now: datetime = args.now if args.now is not None else datetime.now(UTC)
    err = sys.stderr
    progress = _Progress(bool(args.progress or err.isatty()), err)
    counts = {"ranked": 0, "rejected": 0}
    name = "<stdin>" if args.tickets == "-" else args.tickets
    results = ingest.iter_tickets(args.tickets, format=args.input_format)
    rows = _rows(
        results, policy, now, name=name, fmt=args.format, explain=args.explain, progress=progress, counts=counts
    )
    key = itemgetter(_KEY)
    ranked: list[Row]
    if args.limit is not None:
        ranked = heapq.nsmallest(args.limit, rows, key=key)
    else:
        ranked = list(rows)
        ranked.sort(key=key)
    out = sys.stdout
    if args.format == "csv":
        _write_csv(ranked, out, explain=args.explain)
    elif args.format == "json":
        _write_json(ranked, out, explain=args.explain)
    else:
        _write_table(ranked, out, explain=args.explain)
    out.flush()
    rejected = counts["rejected"]
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
