"""Triage batches of records: plain dicts, or Arrow record batches, with the policy's hash on every row.

This is the shape a data pipeline needs (a Spark or Dask task, a stream
processor, a job over a warehouse table): build a `BatchTriage` once per
worker, which loads and compiles the policy once, then map it over batches.
Each input record gives exactly one result row, in order; a record that is
not a valid ticket gives a row whose ``error`` names the field and the
value, and whose other fields are empty, so a batch never fails on one bad
record and nothing is dropped silently.

Every row carries ``policy_hash``, the SHA-256 of the policy's content: the
decision ledger's `servicetriage.ledger.policy_hash`, equal to the hash of
the document a store version of the policy holds, so a stored result can
be traced to the policy version that placed it.

Records are our ticket records, flat or nested (as `servicetriage.ingest`
reads them), or, with ``source="zendesk"`` (or another system), that
system's payloads: a dict, or a record whose ``payload`` column holds the
payload as JSON text.

Arrow support needs ``pyarrow`` (the ``arrow`` extra); nothing here imports
it until `BatchTriage.arrow` is called.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage import config, ingest
from servicetriage.errors import ServiceTriageError, TicketError
from servicetriage.ledger import policy_hash
from servicetriage.model import Ticket, Triage, require_aware
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["RESULT_COLUMNS", "BatchTriage", "arrow_schema", "policy_hash", "result_row"]

#: The columns of a result row, in order.
RESULT_COLUMNS: tuple[str, ...] = (
    "id",
    "quadrant",
    "priority",
    "due",
    "urgency",
    "importance",
    "marks",
    "signals",
    "reasons",
    "policy_hash",
    "error",
)


def result_row(ticket: Ticket, triage: Triage, digest: str, *, explain: bool = False) -> dict[str, Any]:
    """The result row of one placement: plain values, ready for JSON or Arrow.

    ``due`` is ISO 8601 text with the ticket's own offset (as the command
    prints it); ``marks`` and ``signals`` are sorted lists; ``reasons`` is the
    explanation, one reason a line, when *explain* is set.
    """
    return {
        "id": ticket.id,
        "quadrant": triage.quadrant.name,
        "priority": triage.priority,
        "due": None if triage.due is None else triage.due.isoformat(),
        "urgency": triage.urgency.name,
        "importance": triage.importance.name,
        "marks": sorted(m.value for m in triage.marks),
        "signals": sorted(triage.signals),
        "reasons": "\n".join(str(r) for r in triage.reasons) if explain else None,
        "policy_hash": digest,
        "error": None,
    }


def _error_row(record: object, error: ServiceTriageError, digest: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
    found = record.get("id") if isinstance(record, Mapping) else None
    row["id"] = None if found is None else str(found)
    row["marks"] = []
    row["signals"] = []
    row["policy_hash"] = digest
    row["error"] = "; ".join(getattr(error, "problems", (str(error),)))
    return row


def _reader(source: str | Callable[[object], Ticket] | None, options: Mapping[str, Any]) -> Callable[[Any], Ticket]:
    if source is None:
        return ingest.record_to_ticket
    if callable(source):
        return source
    from servicetriage.adapters import reader  # noqa: PLC0415 - only when payloads are read

    read = reader(source, **options)

    def from_payload(record: Any) -> Ticket:
        if isinstance(record, Mapping) and set(record) == {"payload"}:
            record = record["payload"]
        if isinstance(record, str):
            try:
                record = json.loads(record)
            except ValueError as exc:
                msg = f"payload: not valid JSON: {exc}"
                raise TicketError(msg) from None
        return read(record)

    return from_payload


@attrs.frozen(kw_only=True)
class BatchTriage:
    """A policy compiled once, mapped over batches of records.

    *now* is the one clock of the whole job (so that every batch, on every
    worker, is judged at the same instant). *source* is ``None`` for our
    ticket records, a system name (``"zendesk"``...) for that system's
    payloads (*options* go to its adapter), or any callable from a record
    to a `Ticket`. The object pickles (the policy recompiles on loading), so
    one built on a driver can be shipped to workers.

    >>> from datetime import UTC, datetime
    >>> job = BatchTriage(now=datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    >>> row = job.records([{"id": "T1", "opened_at": "2026-03-02T02:00:00Z", "customer_id": "C1"}])[0]
    >>> row["quadrant"], row["error"], len(row["policy_hash"])
    ('Q4', None, 64)
    """

    now: datetime = attrs.field(validator=lambda _i, _a, v: require_aware("now", v))
    policy: TriagePolicy = DEFAULT_POLICY
    source: str | Callable[[object], Ticket] | None = None
    options: Mapping[str, Any] = attrs.field(factory=dict)
    explain: bool = False
    hash: str = attrs.field(init=False)
    _read: Callable[[Any], Ticket] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "hash", policy_hash(self.policy))
        object.__setattr__(self, "_read", _reader(self.source, self.options))

    def __getstate__(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "policy": self.policy,
            "source": self.source,
            "options": dict(self.options),
            "explain": self.explain,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        self.__attrs_post_init__()

    @classmethod
    def from_file(cls, path: str | Path, *, now: datetime, **kwargs: Any) -> BatchTriage:
        """Load the ``[triage]`` table of a policy file once, for a worker that gets a path."""
        policy = config.load_section(path, "triage", TriagePolicy, required=True)
        assert policy is not None  # required=True
        return cls(now=now, policy=policy, **kwargs)

    def iter_records(self, records: Iterable[Any]) -> Iterator[dict[str, Any]]:
        """Yield one result row per record, in order (streaming: one record in memory at a time)."""
        read, classify, digest, now, explain = self._read, self.policy.classify, self.hash, self.now, self.explain
        for record in records:
            try:
                ticket = read(record)
            except ServiceTriageError as exc:
                yield _error_row(record, exc, digest)
                continue
            yield result_row(ticket, classify(ticket, now), digest, explain=explain)

    def records(self, records: Iterable[Any]) -> list[dict[str, Any]]:
        """The result rows of *records*, one per record, in order."""
        return list(self.iter_records(records))

    def arrow(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        """Triage an Arrow record batch (or table): one result row per input row, with `arrow_schema`.

        Needs ``pyarrow`` (the ``arrow`` extra).
        """
        import pyarrow as pa  # noqa: PLC0415 - an optional extra

        rows = self.records(batch.to_pylist())
        return pa.RecordBatch.from_pylist(rows, schema=arrow_schema())


def arrow_schema() -> pa.Schema:
    """The Arrow schema of result rows (needs ``pyarrow``)."""
    import pyarrow as pa  # noqa: PLC0415 - an optional extra

    text = pa.string()
    return pa.schema(
        [
            ("id", text),
            ("quadrant", text),
            ("priority", pa.int32()),
            ("due", text),
            ("urgency", text),
            ("importance", text),
            ("marks", pa.list_(text)),
            ("signals", pa.list_(text)),
            ("reasons", text),
            ("policy_hash", text),
            ("error", text),
        ]
    )
