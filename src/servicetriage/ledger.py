"""The decision ledger: what was decided, from which input, under which policy; and what-if replay.

A `Record` keeps one decision: a triage placement, an authority decision or
an escalation action, with the plain-data input it was made from, the hash of
that input, the result, and the content hash (and store version number, when
it came from one) of the policy that made it. `Store.record_decision` appends
records to the store, where they are append-only and in the audit chain.

`replay` re-decides recorded inputs under another policy (a proposed
amendment, a policy file) and returns a `Replay`: how many decisions change,
from what to what, and ticket by ticket, before anyone approves the change.
A record is compared on what a person acts on: a placement by its quadrant,
priority and the playbooks it started; an authority decision by its outcome
and the lowest tier that may approve.

This is a shell module: it uses the ``cattrs`` converter to turn tickets,
requests and results into plain data.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from servicetriage._deprecated import renamed
from servicetriage.authority import AuthorityPolicy, CompiledPolicy, Decision, Request, authorize
from servicetriage.config import structure, unstructure
from servicetriage.digest import content_hash as digest_hash
from servicetriage.errors import PolicyError, StoreError
from servicetriage.model import Ticket, Triage, require_aware
from servicetriage.playbooks import Playbook, match
from servicetriage.triage import TriagePolicy, classify
from servicetriage.versions import Document, canonical_json, freeze, thaw

__all__ = [
    "DecisionChange",
    "DecisionKind",
    "Record",
    "Replay",
    "authority_decider",
    "authority_record",
    "content_hash",
    "escalation_record",
    "playbook_decider",
    "policy_hash",
    "replay",
    "triage_decider",
    "triage_record",
]


#: Old names, kept for one release: reading one warns and gives the object under its new name.
_RENAMED = {"Change": "DecisionChange"}


def __getattr__(name: str) -> Any:
    return renamed(__name__, name, _RENAMED, globals())


class DecisionKind(enum.Enum):
    """What a ledger record holds."""

    TRIAGE = "triage"
    AUTHORITY = "authority"
    ESCALATION = "escalation"


def content_hash(document: Document) -> str:
    """The SHA-256 of the canonical JSON of a plain-data document (key order does not matter)."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def policy_hash(policy: Any) -> str:
    """The content hash of a policy or a playbook: `content_hash` of its plain-data form.

    Equal to the hash of the document a store version of it holds, so a
    result stamped with it can be traced to that version. A policy that
    keeps its hash (computed once when it was built: ``policy.content_hash``)
    is not hashed again.
    """
    stamp = getattr(policy, "content_hash", None)
    if isinstance(stamp, str):
        return stamp
    return digest_hash(policy)


# The stamp travels on the record itself, not in its result.
_STAMP = ("reasons", "policy_hash", "policy_version")


def _aware(_instance: Any, attribute: attrs.Attribute[Any], value: datetime) -> None:
    require_aware(f"record.{attribute.name}", value, PolicyError)


def _hex(_instance: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        msg = f"record.{attribute.name}: expected a SHA-256 in 64 hex digits, got {value!r}"
        raise PolicyError(msg)


def _subject(_instance: Any, _attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        msg = f"record.subject: expected the ticket (or request) id, got {value!r}"
        raise PolicyError(msg)


def _kind(value: Any) -> DecisionKind:
    try:
        return value if isinstance(value, DecisionKind) else DecisionKind(value)
    except ValueError:
        choices = ", ".join(repr(k.value) for k in DecisionKind)
        msg = f"record.kind: expected one of {choices}, got {value!r}"
        raise PolicyError(msg) from None


def _version(_instance: Any, _attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        msg = f"record.policy_version: expected a version number >= 1 or None, got {value!r}"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class Record:
    """One decision in the ledger.

    ``input_hash`` is `content_hash` of ``input``, checked when the record
    is built; ``seq`` is its position in the store (``None`` before it is
    stored).
    """

    kind: DecisionKind = attrs.field(converter=_kind)
    subject: str = attrs.field(validator=_subject)
    at: datetime = attrs.field(validator=_aware)
    input: Document = attrs.field(converter=freeze)
    result: Document = attrs.field(converter=freeze)
    policy_hash: str = attrs.field(validator=_hex)
    policy_version: int | None = attrs.field(default=None, validator=_version)
    input_hash: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    seq: int | None = None

    def __attrs_post_init__(self) -> None:
        digest = content_hash(self.input)
        if not self.input_hash:
            object.__setattr__(self, "input_hash", digest)
        elif self.input_hash != digest:
            msg = f"record.input_hash: {self.input_hash[:12]} is not the hash of the input ({digest[:12]})"
            raise PolicyError(msg)

    def to_data(self) -> dict[str, Any]:
        """The plain-data form (what the store keeps and ``ledger list --json`` prints)."""
        return {
            "seq": self.seq,
            "kind": self.kind.value,
            "subject": self.subject,
            "at": self.at.isoformat(),
            "input": thaw(self.input),
            "input_hash": self.input_hash,
            "result": thaw(self.result),
            "policy_hash": self.policy_hash,
            "policy_version": self.policy_version,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Record:
        """Build a record from `to_data`'s form; a bad field raises `StoreError` naming it."""
        try:
            return cls(
                kind=data["kind"],
                subject=data["subject"],
                at=datetime.fromisoformat(data["at"]),
                input=data["input"],
                result=data["result"],
                policy_hash=data["policy_hash"],
                policy_version=data.get("policy_version"),
                input_hash=data["input_hash"],
                seq=data.get("seq"),
            )
        except KeyError as exc:
            msg = f"record.{exc.args[0]}: missing"
            raise StoreError(msg) from None
        except (PolicyError, TypeError, ValueError) as exc:
            msg = f"record: {exc}"
            raise StoreError(msg) from None

    @property
    def outcome(self) -> str:
        """What a person acts on, as one line (see `replay`)."""
        return _outcome(self.kind, self.result)


def _outcome(kind: DecisionKind, result: Any) -> str:
    if kind is DecisionKind.TRIAGE:
        text = f"{result.get('quadrant')} p{result.get('priority')}"
        playbooks = result.get("playbooks") or ()
        return text + (f" +{','.join(playbooks)}" if playbooks else "")
    if kind is DecisionKind.AUTHORITY:
        tier = result.get("lowest_tier")
        return str(result.get("outcome")) + (f" ({tier})" if tier else "")
    return str(result.get("type", result.get("action", "")))


def triage_record(
    ticket: Ticket,
    triage: Triage,
    policy: TriagePolicy,
    *,
    now: datetime,
    playbooks: Iterable[Playbook] = (),
    policy_version: int | None = None,
) -> Record:
    """The record of placing *ticket* (at *now*, under *policy*) and of the *playbooks* it started."""
    require_aware("now", now)
    started = sorted({m.playbook.id for m in match(ticket, triage, tuple(playbooks))})
    result: dict[str, Any] = unstructure(triage)
    for key in _STAMP:
        result.pop(key, None)
    result["playbooks"] = started
    return Record(
        kind=DecisionKind.TRIAGE,
        subject=ticket.id,
        at=now,
        input={"ticket": unstructure(ticket)},
        result=result,
        policy_hash=triage.policy_hash or policy_hash(policy),
        policy_version=policy_version if policy_version is not None else triage.policy_version,
    )


def authority_record(
    request: Request,
    decision: Decision,
    policy: AuthorityPolicy | CompiledPolicy,
    *,
    now: datetime,
    policy_version: int | None = None,
) -> Record:
    """The record of deciding *request* (at *now*, under *policy*)."""
    require_aware("now", now)
    result: dict[str, Any] = unstructure(decision)
    for key in _STAMP:
        result.pop(key, None)
    return Record(
        kind=DecisionKind.AUTHORITY,
        subject=request.ticket.id,
        at=now,
        input={"request": unstructure(request)},
        result=result,
        policy_hash=decision.policy_hash or policy_hash(policy),
        policy_version=policy_version if policy_version is not None else decision.policy_version,
    )


def escalation_record(
    subject: str,
    action: Any,
    policy: Any,
    *,
    now: datetime,
    input: Document = None,
    policy_version: int | None = None,
) -> Record:
    """The record of an escalation *action* taken on case *subject* (its input: the event, if any)."""
    require_aware("now", now)
    result: dict[str, Any] = unstructure(action)
    for key in _STAMP:
        result.pop(key, None)
    stamp = getattr(action, "policy_hash", "")
    version = getattr(action, "policy_version", None)
    return Record(
        kind=DecisionKind.ESCALATION,
        subject=subject,
        at=now,
        input={"event": input if input is None or isinstance(input, str | int) else thaw(unstructure(input))},
        result=result,
        policy_hash=stamp or policy_hash(policy),
        policy_version=policy_version if policy_version is not None else version,
    )


# --------------------------------------------------------------------------
# Replay


@attrs.frozen(kw_only=True)
class DecisionChange:
    """One decision that would change: the recorded outcome and the replayed one."""

    seq: int | None
    kind: DecisionKind
    subject: str
    at: datetime
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.at.isoformat()} {self.kind.value} {self.subject}: {self.before} -> {self.after}"


@attrs.frozen(kw_only=True)
class Replay:
    """What re-deciding the recorded inputs gives: counts and the changes, record by record.

    ``skipped`` counts the records the decider does not judge (another
    kind). ``moves`` counts each ``(before, after)`` pair of the changes.
    """

    total: int
    unchanged: int
    changes: tuple[DecisionChange, ...]
    skipped: int = 0

    @property
    def moves(self) -> tuple[tuple[str, str, int], ...]:
        """``(before, after, count)`` for every kind of change, most frequent first."""
        counts: dict[tuple[str, str], int] = {}
        for change in self.changes:
            counts[(change.before, change.after)] = counts.get((change.before, change.after), 0) + 1
        return tuple(sorted(((b, a, n) for (b, a), n in counts.items()), key=lambda m: (-m[2], m[0], m[1])))

    def render(self) -> str:
        """The replay as readable text: the counts, the moves, then one line per change."""
        lines = [f"{self.total} decision(s) replayed: {len(self.changes)} would change, {self.unchanged} would not"]
        if self.skipped:
            lines[0] += f" ({self.skipped} of another kind left out)"
        lines.extend(f"  {n} x {before} -> {after}" for before, after, n in self.moves)
        lines.extend(str(change) for change in self.changes)
        return "\n".join(lines)


#: A decider re-decides a record: the new result, or ``None`` for a record it does not judge.
Decider = Callable[[Record], Document | None]


def replay(records: Iterable[Record], decide: Decider) -> Replay:
    """Re-decide every record with *decide* and compare the outcomes (deterministic, in record order)."""
    total = unchanged = skipped = 0
    changes: list[DecisionChange] = []
    for record in records:
        result = decide(record)
        if result is None:
            skipped += 1
            continue
        total += 1
        after = _outcome(record.kind, result)
        if after == record.outcome:
            unchanged += 1
        else:
            changes.append(
                DecisionChange(
                    seq=record.seq,
                    kind=record.kind,
                    subject=record.subject,
                    at=record.at,
                    before=record.outcome,
                    after=after,
                )
            )
    return Replay(total=total, unchanged=unchanged, changes=tuple(changes), skipped=skipped)


def _ticket(record: Record) -> Ticket:
    try:
        return structure(thaw(record.input)["ticket"], Ticket)
    except (KeyError, TypeError, PolicyError) as exc:
        msg = f"ledger record {record.seq} ({record.subject}).input.ticket: cannot be read back ({exc})"
        raise StoreError(msg) from None


def _placement(ticket: Ticket, triage: Triage, playbooks: tuple[Playbook, ...]) -> Document:
    return {
        "quadrant": unstructure(triage.quadrant),
        "priority": triage.priority,
        "playbooks": sorted({m.playbook.id for m in match(ticket, triage, playbooks)}),
    }


def triage_decider(policy: TriagePolicy, playbooks: Iterable[Playbook] = ()) -> Decider:
    """Re-place each recorded ticket at its recorded time under *policy*, and re-match *playbooks*."""
    plans = tuple(playbooks)

    def decide(record: Record) -> Document | None:
        if record.kind is not DecisionKind.TRIAGE:
            return None
        ticket = _ticket(record)
        triage = classify(ticket, policy, record.at)
        return _placement(ticket, triage, plans)

    return decide


def playbook_decider(playbooks: Iterable[Playbook]) -> Decider:
    """Keep each recorded placement and re-match it against *playbooks* (a proposed playbook set)."""
    plans = tuple(playbooks)

    def decide(record: Record) -> Document | None:
        if record.kind is not DecisionKind.TRIAGE:
            return None
        ticket = _ticket(record)
        data = thaw(record.result)
        data.pop("playbooks", None)
        data["reasons"] = []
        try:
            triage = structure(data, Triage)
        except PolicyError as exc:
            msg = f"ledger record {record.seq} ({record.subject}).result: cannot be read back ({exc})"
            raise StoreError(msg) from None
        return _placement(ticket, triage, plans)

    return decide


def authority_decider(policy: AuthorityPolicy | CompiledPolicy) -> Decider:
    """Re-decide each recorded request at its recorded time under *policy*."""

    def decide(record: Record) -> Document | None:
        if record.kind is not DecisionKind.AUTHORITY:
            return None
        try:
            request = structure(thaw(record.input)["request"], Request)
        except (KeyError, TypeError, PolicyError) as exc:
            msg = f"ledger record {record.seq} ({record.subject}).input.request: cannot be read back ({exc})"
            raise StoreError(msg) from None
        decision = authorize(request, policy, record.at)
        return {"outcome": decision.outcome.value, "lowest_tier": decision.lowest_tier}

    return decide
