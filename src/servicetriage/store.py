"""The embedded store: reports, reviews, amendments and versions in one SQLite file.

This is a shell module around the pure core: it uses `sqlite3` from the
standard library, so nothing needs installing. The file is opened in WAL
mode; every change runs in its own ``BEGIN IMMEDIATE`` transaction, so a
process killed in the middle of a write loses nothing it had committed, and
two writers never lose an update:

- a new version must name the current head as its parent, checked inside the
  transaction: a writer that read an older head gets
  `ConflictError` (optimistic concurrency);
- a review transition is appended at the next sequence number of its trail,
  a primary key, inside the same kind of transaction.

The schema is versioned with ``PRAGMA user_version`` and migrated forward when
the file is opened. A file that is not a store (or a newer one) raises
`StoreError` naming its path.

It also gives the typed bridge between plain documents and the library's
types (kept in ``_store_data``): `load_reports` reads report files,
`authority_check` loads the authority policy that `validate_report`
judges reports by, and `document_as` turns a version back into a
``Playbook`` or an ``AuthorityPolicy``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import warnings
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

import attrs

from servicetriage import _store_chain, _store_followup
from servicetriage._store_data import (
    _penalty_from_data,
    _penalty_to_data,
    _version,
    amendment_from_data,
    amendment_to_data,
    authority_check,
    document_as,
    document_of,
    learning_config_from_data,
    load_learning_config,
    load_reports,
    report_from_data,
    report_to_data,
    typed_check,
    version_from_data,
    version_to_data,
)
from servicetriage.approval import check_approver
from servicetriage.authority import AuthorityPolicy, CompiledPolicy, Usage
from servicetriage.chain import Anchor
from servicetriage.errors import (
    ConflictError,
    PolicyError,
    ServiceTriageError,
    StoreError,
    TransitionError,
)
from servicetriage.escalation import WorkOrder
from servicetriage.followup import Missed, ObligationEvent, OrderEvent, TrackedObligation, WorkOrderState, track
from servicetriage.learning import Drill, Penalty, PenaltyRule, penalize
from servicetriage.ledger import DecisionKind, Record, content_hash
from servicetriage.model import Obligation, require_aware
from servicetriage.review import (
    AmendmentEvent,
    AmendmentState,
    Authority,
    IncidentReport,
    ReportEvent,
    ReportState,
    Review,
    Subject,
    Transition,
    advance_review,
    amendment_review,
    report_review,
    validate_report,
)
from servicetriage.versions import (
    Amendment,
    Document,
    DocumentRef,
    History,
    Version,
    create,
    rollback,
    verify_chain,
)
from servicetriage.versions import apply as apply_amendment

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "DEFAULT_STORE",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STORE_ENV",
    "Store",
    "amendment_from_data",
    "amendment_to_data",
    "authority_check",
    "default_store_path",
    "document_as",
    "document_of",
    "learning_config_from_data",
    "load_learning_config",
    "load_reports",
    "report_from_data",
    "report_to_data",
    "typed_check",
    "version_from_data",
    "version_to_data",
]

#: The store file used when none is named.
DEFAULT_STORE = "servicetriage.db"
#: The environment variable that names the store file.
STORE_ENV = "SERVICETRIAGE_STORE"

#: The schema migrations, in order; ``PRAGMA user_version`` counts those applied.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE reports (
        id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE transitions (
        subject TEXT NOT NULL,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event TEXT,
        source TEXT,
        state TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (subject, id, seq)
    );
    CREATE TABLE amendments (
        id TEXT PRIMARY KEY,
        target_kind TEXT NOT NULL,
        target_id TEXT NOT NULL,
        base TEXT,
        data TEXT NOT NULL
    );
    CREATE TABLE versions (
        hash TEXT PRIMARY KEY,
        target_kind TEXT NOT NULL,
        target_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        parent TEXT,
        data TEXT NOT NULL,
        UNIQUE (target_kind, target_id, number)
    );
    """,
    """
    CREATE TABLE drills (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        playbook_id TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE penalties (
        report_id TEXT PRIMARY KEY,
        party TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE INDEX penalties_by_party ON penalties (party, at);
    """,
    """
    ALTER TABLE reports ADD COLUMN customer_id TEXT;
    UPDATE reports SET customer_id = json_extract(data, '$.customer_id');
    CREATE INDEX reports_by_customer ON reports (customer_id);
    CREATE TRIGGER transitions_no_update BEFORE UPDATE ON transitions
        BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
    CREATE TRIGGER transitions_no_delete BEFORE DELETE ON transitions
        BEGIN SELECT RAISE(ABORT, 'transitions are append-only'); END;
    CREATE TRIGGER versions_no_update BEFORE UPDATE ON versions
        BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
    CREATE TRIGGER versions_no_delete BEFORE DELETE ON versions
        BEGIN SELECT RAISE(ABORT, 'versions are append-only'); END;
    CREATE TRIGGER amendments_no_update BEFORE UPDATE ON amendments
        BEGIN SELECT RAISE(ABORT, 'amendments are append-only'); END;
    CREATE TRIGGER amendments_no_delete BEFORE DELETE ON amendments
        BEGIN SELECT RAISE(ABORT, 'amendments are append-only'); END;
    CREATE TRIGGER penalties_no_update BEFORE UPDATE ON penalties
        BEGIN SELECT RAISE(ABORT, 'penalties are append-only'); END;
    CREATE TRIGGER penalties_no_delete BEFORE DELETE ON penalties
        BEGIN SELECT RAISE(ABORT, 'penalties are append-only'); END;
    """,
    _store_chain.SCHEMA,
    _store_followup.SCHEMA,
)

# Python steps run after a migration's SQL, in the same transaction: the chain
# migration seals every row already in the file.
_AFTER: dict[int, Callable[[sqlite3.Connection], None]] = {4: _store_chain.seal_all}

#: The schema version this code writes.
SCHEMA_VERSION = len(MIGRATIONS)


def default_store_path() -> Path:
    """``$SERVICETRIAGE_STORE`` if set, else ``./servicetriage.db``."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


# --------------------------------------------------------------------------
# The store


def _statements(script: str) -> Iterator[str]:
    """The SQL statements of *script*, one by one (a trigger's body keeps its semicolons)."""
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                yield buffer
            buffer = ""


def _subject(value: Subject | str) -> Subject:
    try:
        return value if isinstance(value, Subject) else Subject(value)
    except ValueError:
        msg = f"subject: expected one of 'report', 'amendment', got {value!r}"
        raise PolicyError(msg) from None


def _report_state(value: ReportState | str) -> ReportState:
    try:
        return value if isinstance(value, ReportState) else ReportState(value)
    except ValueError:
        choices = ", ".join(repr(s.value) for s in ReportState)
        msg = f"state: expected one of {choices}, got {value!r}"
        raise PolicyError(msg) from None


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class Store:
    """A store file: open it, use it, close it (or use it as a context manager).

    :param path: the SQLite file; created (and migrated) when absent.
    :param timeout: seconds to wait for another writer's transaction.
    :param synchronous: ``"FULL"`` (the default) also survives power loss;
        ``"NORMAL"`` survives process crashes only, and writes faster.
    """

    def __init__(
        self, path: str | Path, *, timeout: float = 30.0, synchronous: Literal["FULL", "NORMAL"] = "FULL"
    ) -> None:
        self.path = Path(path)
        if synchronous not in ("FULL", "NORMAL"):
            msg = f"synchronous: expected 'FULL' or 'NORMAL', got {synchronous!r}"
            raise StoreError(msg)
        try:
            if self.path.is_dir():
                msg = f"{self.path}: is a directory, not a store file"
                raise StoreError(msg)
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        except (sqlite3.Error, OSError, ValueError) as exc:  # StoreError is an OSError: re-raised as it is
            if isinstance(exc, StoreError):
                raise
            msg = f"{self.path}: cannot open the store: {exc}"
            raise StoreError(msg) from None
        try:
            self._wal(timeout)
            self._db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'FULL' else 'NORMAL'}")
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._migrate()
        except sqlite3.Error as exc:
            self._db.close()
            msg = f"{self.path}: not a usable store: {exc}"
            raise StoreError(msg) from None
        except StoreError:
            self._db.close()
            raise

    # ---- plumbing

    def _wal(self, timeout: float) -> None:
        """Put the file in WAL mode, waiting up to *timeout* seconds for another connection to let go of it.

        Switching the journal mode needs the file to itself, and SQLite
        answers "database is locked" at once, without the busy wait, while
        another connection holds it: two processes opening a new store
        together would see one of them fail. So the switch is retried (once
        one connection has made the file WAL, it is a no-op for the others).
        """
        deadline = time.monotonic() + timeout
        pause = 0.001
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
            else:
                return

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the file (``PRAGMA user_version``)."""
        row = self._db.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def _migrate(self) -> None:
        with self._tx() as db:
            current = int(db.execute("PRAGMA user_version").fetchone()[0])
            if current > SCHEMA_VERSION:
                msg = f"{self.path}: schema version {current} is newer than this library's {SCHEMA_VERSION}; upgrade"
                raise StoreError(msg)
            for number in range(current, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    db.execute(statement)
                if number + 1 in _AFTER:
                    _AFTER[number + 1](db)
                db.execute(f"PRAGMA user_version={number + 1}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            msg = f"{self.path}: cannot start a transaction: {exc}"
            raise StoreError(msg) from None
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:  # pragma: no cover - disk full, I/O error
            self._db.execute("ROLLBACK")
            msg = f"{self.path}: cannot commit: {exc}"
            raise StoreError(msg) from None

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Turn a stored row that cannot be read back (damaged, or edited outside the library) into `StoreError`."""
        try:
            yield
        except StoreError:
            raise
        except (ServiceTriageError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            msg = f"{self.path}: damaged {what}: {exc}"
            raise StoreError(msg) from None

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            msg = f"{self.path}: {exc}"
            raise StoreError(msg) from None

    # ---- reviews

    def _trail(self, subject: Subject, id: str) -> tuple[Transition, ...]:
        rows = self._run(
            "SELECT event, source, state, actor, at, reason FROM transitions WHERE subject=? AND id=? ORDER BY seq",
            (subject.value, id),
        )
        states: Any = ReportState if subject is Subject.REPORT else AmendmentState
        events: Any = ReportEvent if subject is Subject.REPORT else AmendmentEvent
        with self._reading(f"review of {subject.value} {id!r}"):
            return tuple(
                Transition(
                    event=events(e) if e else None,
                    source=states(s) if s else None,
                    state=states(state),
                    actor=actor,
                    at=datetime.fromisoformat(at),
                    reason=reason,
                )
                for e, s, state, actor, at, reason in rows
            )

    def _insert_transitions(self, review: Review, start: int) -> None:
        for seq in range(start, len(review.trail)):
            step = review.trail[seq]
            self._db.execute(
                "INSERT INTO transitions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    review.subject.value,
                    review.id,
                    seq,
                    step.event.value if step.event is not None else None,
                    step.source.value if step.source is not None else None,
                    step.state.value,
                    step.actor,
                    step.at.isoformat(),
                    step.reason,
                ),
            )
            _store_chain.seal(
                self._db, "transitions", "subject=? AND id=? AND seq=?", (review.subject.value, review.id, seq)
            )

    def review(self, subject: Subject | str, id: str) -> Review:
        """The review (state and audit trail) of a report or an amendment."""
        subject = _subject(subject)
        trail = self._trail(subject, id)
        if not trail:
            msg = f"{self.path}: no {subject.value} {id!r}"
            raise StoreError(msg)
        return Review(subject=subject, id=id, author=trail[0].actor, trail=trail)

    def advance(
        self,
        subject: Subject | str,
        id: str,
        event: str | ReportEvent | AmendmentEvent,
        *,
        actor: str,
        at: datetime,
        reason: str,
        tier: str | None = None,
    ) -> Review:
        """Deprecated name of `advance_review` (goes in 0.3.0); warns and does the same."""
        warnings.warn(
            "Store.advance is deprecated and goes in 0.3.0; use Store.advance_review (the same method)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.advance_review(subject, id, event, actor=actor, at=at, reason=reason, tier=tier)

    def advance_review(
        self,
        subject: Subject | str,
        id: str,
        event: str | ReportEvent | AmendmentEvent,
        *,
        actor: str,
        at: datetime,
        reason: str,
        tier: str | None = None,
    ) -> Review:
        """Move a report or an amendment through its review; the transition is appended to its trail.

        Applying an amendment goes through `apply`, which also writes the version.
        Approving an amendment that changes a tier's authority needs the
        approver's *tier*, above every tier it changes
        (`servicetriage.approval.check_approver`); the tier order is the
        authority policy's own, or for a playbook that of the ``authority``
        document ``default`` in this store (else the default tiers).
        """
        subject = _subject(subject)
        if event in (AmendmentEvent.APPLY, "apply"):
            msg = f"amendment {id}: apply it with Store.apply, which also writes the new version"
            raise PolicyError(msg)
        with self._tx():
            before = self.review(subject, id)
            after = advance_review(before, event, actor=actor, at=at, reason=reason)
            if subject is Subject.AMENDMENT and after.state is AmendmentState.APPROVED:
                self._check_approver(id, tier)
            self._insert_transitions(after, len(before.trail))
        return after

    def _check_approver(self, id: str, tier: str | None) -> None:
        amendment = self.amendment(id)
        base = None
        if amendment.base is not None:
            found = [v for v in self.history(amendment.target).versions if v.hash == amendment.base]
            base = found[0].document if found else None
        tiers = None
        if amendment.target.kind != "authority":
            in_force = self._head(DocumentRef(kind="authority", id="default"))
            if in_force is not None:
                tiers = document_as(in_force, AuthorityPolicy).tier_order.names
        check_approver(amendment, base, tier=tier, tiers=tiers)

    # ---- reports

    def _usage_of(self, report: IncidentReport) -> tuple[Usage, ...]:
        """The deviations of the customer's other stored reports, as authority usage."""
        if report.customer_id is None:
            return ()
        rows = self._run(
            "SELECT data FROM reports WHERE customer_id=? AND id<>? ORDER BY id", (report.customer_id, report.id)
        )
        usage: list[Usage] = []
        for (data,) in rows:
            with self._reading("report"):
                other = report_from_data(json.loads(data))
            usage.extend(
                Usage(
                    action=d.kind,
                    at=d.at or other.opened_at,
                    amount=d.amount,
                    ticket_id=other.ticket_id,
                    customer_id=report.customer_id,
                )
                for d in other.deviations
            )
        return tuple(usage)

    def _validate(self, report: IncidentReport, authority: Authority | None) -> None:
        if authority is None:
            return
        usage = self._usage_of(report) if isinstance(authority, AuthorityPolicy | CompiledPolicy) else ()
        validate_report(report, authority, usage=usage)

    def add_report(
        self, report: IncidentReport, *, at: datetime | None = None, authority: Authority | None = None
    ) -> Review:
        """Store a new report (in state ``draft``, authored by its owner) and return its review.

        With *authority* (a policy or a ``may_authorize`` callable, see
        `authority_check`), the report is first checked against it
        (`validate_report`); with a policy, the
        deviations of the same customer's stored reports count toward
        per-customer totals.
        """
        review = report_review(report.id, author=report.owner, at=at or report.resolved_at or report.opened_at)
        with self._tx() as db:
            self._validate(report, authority)
            if db.execute("SELECT 1 FROM reports WHERE id=?", (report.id,)).fetchone():
                msg = f"report {report.id}: already in {self.path}"
                raise ConflictError(msg)
            db.execute(
                "INSERT INTO reports (id, ticket_id, opened_at, data, customer_id) VALUES (?, ?, ?, ?, ?)",
                (
                    report.id,
                    report.ticket_id,
                    report.opened_at.isoformat(),
                    _dumps(report_to_data(report)),
                    report.customer_id,
                ),
            )
            _store_chain.seal(db, "reports", "id=?", (report.id,))
            self._insert_transitions(review, 0)
        return review

    def update_report(self, report: IncidentReport, *, authority: Authority | None = None) -> None:
        """Replace a report's content while it is a draft or has changes requested.

        Raises `ConflictError` naming the state
        in any other state, and `StoreError` for
        an unknown report.
        """
        with self._tx() as db:
            state = self.review(Subject.REPORT, report.id).state
            if state not in (ReportState.DRAFT, ReportState.CHANGES_REQUESTED):
                msg = (
                    f"report {report.id}: cannot change it in state {state.value}; "
                    "only a draft or a report with changes requested can change"
                )
                raise ConflictError(msg)
            self._validate(report, authority)
            db.execute(
                "UPDATE reports SET data=?, ticket_id=?, opened_at=?, customer_id=? WHERE id=?",
                (
                    _dumps(report_to_data(report)),
                    report.ticket_id,
                    report.opened_at.isoformat(),
                    report.customer_id,
                    report.id,
                ),
            )
            _store_chain.seal(db, "reports", "id=?", (report.id,))

    def report(self, id: str) -> IncidentReport:
        """The report with *id*."""
        rows = self._run("SELECT data FROM reports WHERE id=?", (id,))
        if not rows:
            msg = f"{self.path}: no report {id!r}"
            raise StoreError(msg)
        with self._reading(f"report {id!r}"):
            return report_from_data(json.loads(rows[0][0]))

    def reports(self, state: ReportState | str | None = None) -> tuple[IncidentReport, ...]:
        """All reports, by id; only those whose review is in *state*, if given."""
        if state is None:
            rows = self._run("SELECT data FROM reports ORDER BY id")
        else:
            rows = self._run(
                """SELECT r.data FROM reports r JOIN transitions t ON t.subject='report' AND t.id=r.id
                   WHERE t.seq = (SELECT MAX(seq) FROM transitions WHERE subject='report' AND id=r.id)
                   AND t.state=? ORDER BY r.id""",
                (_report_state(state).value,),
            )
        with self._reading("report"):
            return tuple(report_from_data(json.loads(data)) for (data,) in rows)

    # ---- amendments and versions

    def propose(self, amendment: Amendment, *, author: str, at: datetime, reason: str = "proposed") -> Review:
        """Store a proposed amendment and open its review (state ``proposed``)."""
        review = amendment_review(amendment.id, author=author, at=at, reason=reason)
        with self._tx() as db:
            if db.execute("SELECT 1 FROM amendments WHERE id=?", (amendment.id,)).fetchone():
                msg = f"amendment {amendment.id}: already in {self.path}"
                raise ConflictError(msg)
            db.execute(
                "INSERT INTO amendments VALUES (?, ?, ?, ?, ?)",
                (
                    amendment.id,
                    amendment.target.kind,
                    amendment.target.id,
                    amendment.base,
                    _dumps(amendment_to_data(amendment)),
                ),
            )
            _store_chain.seal(db, "amendments", "id=?", (amendment.id,))
            self._insert_transitions(review, 0)
        return review

    def amendment(self, id: str) -> Amendment:
        """The amendment with *id*."""
        rows = self._run("SELECT data FROM amendments WHERE id=?", (id,))
        if not rows:
            msg = f"{self.path}: no amendment {id!r}"
            raise StoreError(msg)
        with self._reading(f"amendment {id!r}"):
            return amendment_from_data(json.loads(rows[0][0]))

    def amendments(self, target: DocumentRef | None = None) -> tuple[Amendment, ...]:
        """All amendments, by id; only those for *target*, if given."""
        if target is None:
            rows = self._run("SELECT data FROM amendments ORDER BY id")
        else:
            rows = self._run(
                "SELECT data FROM amendments WHERE target_kind=? AND target_id=? ORDER BY id", (target.kind, target.id)
            )
        with self._reading("amendment"):
            return tuple(amendment_from_data(json.loads(d)) for (d,) in rows)

    def _head(self, target: DocumentRef) -> Version | None:
        rows = self._run(
            "SELECT data FROM versions WHERE target_kind=? AND target_id=? ORDER BY number DESC LIMIT 1",
            (target.kind, target.id),
        )
        with self._reading(f"version of {target.kind} {target.id!r}"):
            return version_from_data(json.loads(rows[0][0])) if rows else None

    def head(self, target: DocumentRef) -> Version | None:
        """The current version of *target*, or ``None``."""
        return self._head(target)

    def history(self, target: DocumentRef) -> History:
        """Every version of *target*, oldest first."""
        rows = self._run(
            "SELECT data FROM versions WHERE target_kind=? AND target_id=? ORDER BY number", (target.kind, target.id)
        )
        with self._reading(f"version of {target.kind} {target.id!r}"):
            return History(version_from_data(json.loads(d)) for (d,) in rows)

    def targets(self) -> tuple[DocumentRef, ...]:
        """Every document that has versions, by kind and id."""
        rows = self._run("SELECT DISTINCT target_kind, target_id FROM versions ORDER BY target_kind, target_id")
        return tuple(DocumentRef(kind=k, id=i) for k, i in rows)

    def _insert_version(self, version: Version) -> None:
        head = self._head(version.target)
        head_hash = head.hash if head is not None else None
        if version.parent != head_hash or version.number != (head.number + 1 if head is not None else 1):
            now = f"v{head.number} {head.short}" if head is not None else "no version"
            msg = (
                f"{version.target}: v{version.number} was made on {str(version.parent)[:12]}, "
                f"but the current version is {now}; nothing was written"
            )
            raise ConflictError(msg)
        if version.expected_hash() != version.hash:
            msg = f"{version.target} v{version.number}: its hash does not match its content; refusing to store it"
            raise ConflictError(msg)
        self._db.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?)",
            (
                version.hash,
                version.target.kind,
                version.target.id,
                version.number,
                version.parent,
                _dumps(version_to_data(version)),
            ),
        )
        _store_chain.seal(self._db, "versions", "hash=?", (version.hash,))

    def append(self, version: Version) -> Version:
        """Store *version* as the new head of its document.

        Raises `ConflictError` when its parent is
        not the current head (someone else wrote first) or its hash is wrong.
        """
        with self._tx():
            self._insert_version(version)
        return version

    def create(
        self, target: DocumentRef, document: Document, *, author: str, at: datetime, message: str = ""
    ) -> Version:
        """Store version 1 of a new document (``ConflictError`` if it exists)."""
        return self.append(create(target, document, author=author, at=at, message=message))

    def apply(
        self,
        amendment_id: str,
        *,
        actor: str,
        at: datetime,
        reason: str = "applied",
        check: Callable[[Version], object] | None = None,
    ) -> Version:
        """Apply an approved amendment: write the new version and mark the amendment applied, atomically.

        Raises `TransitionError` when the
        amendment is not approved and `ConflictError`
        when it was made on another version than the current one. *check*,
        if given, sees the new version before it is written and may refuse it
        by raising (`typed_check` makes one that loads the document as
        a ``Playbook`` or an ``AuthorityPolicy``); then nothing is written.
        """
        amendment = self.amendment(amendment_id)
        with self._tx():
            before = self.review(Subject.AMENDMENT, amendment_id)
            after = advance_review(before, AmendmentEvent.APPLY, actor=actor, at=at, reason=reason)
            version = apply_amendment(self._head(amendment.target), amendment, author=actor, at=at)
            if check is not None:
                check(version)
            self._insert_version(version)
            self._insert_transitions(after, len(before.trail))
        return version

    def rollback(self, target: DocumentRef, number: int, *, actor: str, at: datetime, reason: str) -> Version:
        """Write a new version of *target* equal in content to version *number*."""
        with self._tx():
            history = self.history(target)
            head = history.head
            if head is None:
                msg = f"{self.path}: no versions of {target}"
                raise StoreError(msg)
            version = rollback(head, history.version(number), author=actor, at=at, reason=reason)
            self._insert_version(version)
        return version

    def verify(self, *, anchors: tuple[Anchor, ...] = (), key: bytes | None = None) -> tuple[str, ...]:
        """Verify everything the store holds; return the problems (none: intact).

        Checks the audit chain (`servicetriage.chain`) link by link, every
        chained table row against the chain's latest entry for it (reports,
        review transitions with their actors, amendments with their
        provenance, versions, drills, penalties, ledger records), every
        review trail (legal steps, no self-approval) and the hash chain of
        every document. *anchors* (exported with `anchor`) must still hold;
        with *key*, the keyed anchors kept in the store must too. A *key*
        that made none of the store's keyed anchors raises `StoreError`.
        """
        with self._tx() as db:  # one consistent snapshot (and no writer in between)
            chain = _store_chain.entries(db)
            problems = list(_store_chain.verify_entries(chain))
            problems.extend(_store_chain.check_tables(db, chain))
            problems.extend(_store_chain.check_anchors(chain, _store_chain.stored_anchors(db), anchors, key))
            for subject, id in db.execute("SELECT DISTINCT subject, id FROM transitions ORDER BY subject, id"):
                try:
                    self.review(subject, id)
                except (TransitionError, StoreError, ValueError) as exc:
                    problems.append(f"{subject} {id}: {exc}")
            for target in self.targets():
                problems.extend(f"{target}: {p}" for p in verify_chain(self.history(target).versions))
        return tuple(problems)

    def anchor(self, *, at: datetime, key: bytes | None = None) -> Anchor:
        """The chain's head as an `Anchor` to keep elsewhere; with *key*, also signed and kept in the store."""
        require_aware("at", at, StoreError)
        with self._tx() as db:
            if key is not None:
                return _store_chain.add_anchor(db, key, at)
            seq, digest = _store_chain.head(db)
        if digest is None:
            msg = f"{self.path}: nothing written yet, nothing to anchor"
            raise StoreError(msg)
        return Anchor(seq=seq, hash=digest, at=at.isoformat())

    # ---- false alarms and drills

    def penalties(self, party: str | None = None) -> tuple[Penalty, ...]:
        """The recorded false-alarm penalties, oldest first; only *party*'s, if given."""
        if party is None:
            rows = self._run("SELECT data FROM penalties ORDER BY at, report_id")
        else:
            rows = self._run("SELECT data FROM penalties WHERE party=? ORDER BY at, report_id", (party,))
        with self._reading("penalty"):
            return tuple(_penalty_from_data(json.loads(d)) for (d,) in rows)

    def record_false_alarm(self, report_id: str, rule: PenaltyRule, *, now: datetime) -> Penalty | None:
        """Apply the false-alarm *rule* to a stored report and record the penalty (idempotent)."""
        report = self.report(report_id)
        with self._tx() as db:
            history = self.penalties(report.reporter) if report.reporter else ()
            penalty = penalize(report, rule, history, now=now)
            if penalty is not None and all(p.report_id != report_id for p in history):
                db.execute(
                    "INSERT INTO penalties VALUES (?, ?, ?, ?)",
                    (penalty.report_id, penalty.party, penalty.at.isoformat(), _dumps(_penalty_to_data(penalty))),
                )
                _store_chain.seal(db, "penalties", "report_id=?", (penalty.report_id,))
        return penalty

    def record_drill(self, drill: Drill) -> None:
        """Record a drill of a playbook."""
        data = {"playbook_id": drill.playbook_id, "at": drill.at.isoformat(), "by": drill.by, "note": drill.note}
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO drills (playbook_id, at, data) VALUES (?, ?, ?)",
                (drill.playbook_id, drill.at.isoformat(), _dumps(data)),
            )
            _store_chain.seal(db, "drills", "seq=?", (cursor.lastrowid,))

    def drills(self) -> tuple[Drill, ...]:
        """Every recorded drill, oldest first."""
        rows = self._run("SELECT data FROM drills ORDER BY at, seq")
        result = []
        for (d,) in rows:
            with self._reading("drill"):
                data = json.loads(d)
                result.append(
                    Drill(
                        playbook_id=data["playbook_id"],
                        at=datetime.fromisoformat(data["at"]),
                        by=data["by"],
                        note=data["note"],
                    )
                )
        return tuple(result)

    # ---- the decision ledger

    def record_decision(self, record: Record) -> Record:
        """Append a decision to the ledger (append-only, in the audit chain); return it with its ``seq``."""
        return self.record_decisions((record,))[0]

    def record_decisions(self, records: Iterable[Record]) -> tuple[Record, ...]:
        """Append decisions to the ledger in one transaction (all or none); return them with their ``seq``.

        A record without a ``policy_version`` gets the number of the stored
        version whose document has its ``policy_hash`` (`version_of`), when
        there is one.
        """
        records = tuple(records)
        stored: list[Record] = []
        with self._tx() as db:
            numbers = self._version_numbers(db)
            for record in records:
                if record.policy_version is None and record.policy_hash in numbers:
                    record = attrs.evolve(record, policy_version=numbers[record.policy_hash])  # noqa: PLW2901
                data = record.to_data()
                data.pop("seq")
                cursor = db.execute(
                    "INSERT INTO decisions (kind, subject, at, input_hash, policy_hash, policy_version, data)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.kind.value,
                        record.subject,
                        record.at.isoformat(),
                        record.input_hash,
                        record.policy_hash,
                        record.policy_version,
                        _dumps(data),
                    ),
                )
                _store_chain.seal(db, "decisions", "seq=?", (cursor.lastrowid,))
                stored.append(attrs.evolve(record, seq=cursor.lastrowid))
        return tuple(stored)

    @staticmethod
    def _version_numbers(db: sqlite3.Connection) -> dict[str, int]:
        numbers: dict[str, int] = {}
        for (text,) in db.execute("SELECT data FROM versions ORDER BY number"):
            version = _version(json.loads(text))
            numbers[content_hash(version.document)] = version.number
        return numbers

    # ---- obligations and work orders

    def track_obligations(self, tracked: Iterable[TrackedObligation]) -> tuple[TrackedObligation, ...]:
        """Start tracking obligations (all or none); an id already tracked raises `StoreError` naming it."""
        items = tuple(tracked)
        with self._tx() as db:
            _store_followup.add_obligations(db, items)
        return items

    def settle_obligations(self, events: Iterable[ObligationEvent]) -> tuple[Missed, ...]:
        """Record what happened to tracked obligations (all or none); return the escalations the misses raise.

        :raises TransitionError: an event names an unknown obligation or one
            already met, missed or waived; nothing is written then.
        """
        items = tuple(events)
        with self._tx() as db:
            return _store_followup.add_obligation_events(db, items)

    def obligations(self, ticket_id: str | None = None) -> tuple[TrackedObligation, ...]:
        """The tracked obligations (of *ticket_id*, when given) as they now stand, in the order tracked."""
        return _store_followup.obligations(self._db, ticket_id=ticket_id)

    def open_work_order(self, order: WorkOrder, obligations: Iterable[Obligation] = ()) -> WorkOrderState:
        """Record a newly opened work order, and track the owner's *obligations* for it (ids ``<order>#<n>``).

        All or none; an id already used raises `StoreError` naming it.
        """
        items = track(order.ticket_id, obligations, prefix=order.id)
        with self._tx() as db:
            _store_followup.add_work_order(db, order)
            _store_followup.add_obligations(db, items)
        return WorkOrderState(order=order)

    def work_order_event(self, event: OrderEvent) -> WorkOrderState:
        """Record a step of a work order's life; return its new state.

        :raises TransitionError: the work order is unknown, or the step is
            out of order; nothing is written then.
        """
        with self._tx() as db:
            return _store_followup.add_order_event(db, event)

    def work_orders(self, ticket_id: str | None = None) -> tuple[WorkOrderState, ...]:
        """The work orders (of *ticket_id*, when given) as they now stand, in the order opened."""
        return _store_followup.work_orders(self._db, ticket_id=ticket_id)

    def version_of(self, policy_hash: str) -> int | None:
        """The number of the stored version whose document has content hash *policy_hash*, or ``None``.

        This is how a result stamped with a policy's hash (``Triage.policy_hash``...)
        gets its ``policy_version``. When several versions hold the same
        document (a rollback restores an old one), the highest number wins.
        """
        return self._version_numbers(self._db).get(policy_hash)

    def decisions(
        self,
        *,
        kind: DecisionKind | str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        subject: str | None = None,
        policy_hash: str | None = None,
    ) -> tuple[Record, ...]:
        """The recorded decisions, oldest first.

        Only those of *kind*, at or after *since*, before *until*, about
        *subject* or made under *policy_hash*, when given.
        """
        where, args = ["1=1"], []
        if kind is not None:
            try:
                where.append("kind=?")
                args.append(DecisionKind(kind).value)
            except ValueError:
                choices = ", ".join(repr(k.value) for k in DecisionKind)
                msg = f"kind: expected one of {choices}, got {kind!r}"
                raise StoreError(msg) from None
        for name, value in (("since", since), ("until", until)):
            if value is not None:
                require_aware(name, value, StoreError)
        if subject is not None:
            where.append("subject=?")
            args.append(subject)
        if policy_hash is not None:
            where.append("policy_hash=?")
            args.append(policy_hash)
        rows = self._run(f"SELECT seq, data FROM decisions WHERE {' AND '.join(where)} ORDER BY seq", tuple(args))  # noqa: S608
        result = []
        for seq, text in rows:
            with self._reading(f"decision {seq}"):
                record = Record.from_data({**json.loads(text), "seq": seq})
            if (since is None or record.at >= since) and (until is None or record.at < until):
                result.append(record)
        return tuple(result)
