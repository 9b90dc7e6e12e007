"""Versioned, content-hashed documents: amendments, versions, diffs and rollback.

A *document* is the plain-data form of a playbook or a policy (what
``config.unstructure`` produces): nested dicts with string keys, lists,
strings, numbers, booleans and ``None``. This module never needs to know
which kind of document it holds, so playbooks and authority policies are
versioned the same way.

- An `Amendment` is a list of structured `Operation` values
  (set a path, add an item to a list, remove a key or an item), made on a
  *base* version and carrying its `Provenance` (the incidents it came
  from, who proposed it, why).
- Applying an amendment yields a new `Version`. Versions are
  immutable and content-hashed: the hash is the SHA-256 of the canonical JSON
  of the document, the parent's hash and the version's metadata, so a chain
  of versions shows any tampering (`verify_chain`).
- `diff` compares any two documents as structured `Change`
  values; `render_diff` shows them as text; `rollback` makes a new
  version whose content equals an old one.
- Two amendments made on the same base conflict: the second raises
  `ConflictError` instead of overwriting the first.
"""

from __future__ import annotations

import difflib
import enum
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from servicetriage._deprecated import renamed
from servicetriage._validators import non_empty
from servicetriage.errors import ConflictError, PolicyError, TransitionError
from servicetriage.model import FrozenMap, require_aware

__all__ = [
    "Amendment",
    "Change",
    "ChangeKind",
    "Document",
    "DocumentRef",
    "History",
    "OpKind",
    "Operation",
    "Path",
    "Provenance",
    "Version",
    "VersionKind",
    "apply",
    "apply_operations",
    "canonical_json",
    "create",
    "diff",
    "format_path",
    "freeze",
    "operations_of",
    "parse_path",
    "render_diff",
    "rollback",
    "thaw",
    "verify_chain",
]

#: A plain-data document: dicts with string keys, lists, str, int, float, bool, None.
Document = Any

#: A path into a document: dict keys (str) and list indexes (int). ``()`` is the root.
Path = tuple[str | int, ...]


#: Old names, kept for one release: reading one warns and gives the object under its new name.
_RENAMED = {"Target": "DocumentRef"}


def __getattr__(name: str) -> Any:
    return renamed(__name__, name, _RENAMED, globals())


# --------------------------------------------------------------------------
# Plain data: checking, freezing, canonical JSON


def _check(value: Any, where: str) -> None:
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PolicyError(f"{where}: expected a finite number, got {value!r}")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise PolicyError(f"{where}: expected string keys, got {key!r}")
            _check(item, f"{where}.{key}" if where else key)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
        return
    raise PolicyError(
        f"{where or '<document>'}: expected plain data (dict, list, str, number, bool, None), got {value!r}"
    )


def freeze(document: Document) -> Document:
    """An immutable copy of *document*: dicts become `FrozenMap`, lists tuples.

    Raises `PolicyError` naming the path of any
    value that is not plain data.
    """
    _check(document, "")
    return _freeze(document)


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return FrozenMap((k, _freeze(value[k])) for k in sorted(value))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def thaw(document: Document) -> Document:
    """A fresh, mutable copy of a (possibly frozen) document: dicts and lists."""
    if isinstance(document, Mapping):
        return {k: thaw(v) for k, v in document.items()}
    if isinstance(document, list | tuple):
        return [thaw(v) for v in document]
    return document


def canonical_json(document: Document) -> str:
    """The canonical JSON text of *document*: sorted keys, no spaces, UTF-8 kept.

    Equal documents (in any key order, frozen or not) give equal text.
    """
    _check(document, "")
    return json.dumps(thaw(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


# --------------------------------------------------------------------------
# Paths

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(path: str | Sequence[str | int]) -> Path:
    """Turn ``"steps[2].text"`` (or a sequence of keys and indexes) into a `Path`.

    ``""`` is the root.

    >>> parse_path("steps[2].text")
    ('steps', 2, 'text')
    """
    if not isinstance(path, str):
        parts = tuple(path)
        for part in parts:
            if isinstance(part, bool) or not isinstance(part, str | int):
                raise PolicyError(f"path: expected keys (str) and indexes (int), got {part!r}")
        return parts
    result: list[str | int] = []
    position = 0
    text = path.strip()
    while position < len(text):
        if text[position] == "." and result:
            position += 1
        match = _PATH_PART.match(text, position)
        if match is None:
            raise PolicyError(f"path: cannot read {path!r} at position {position}")
        result.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    return tuple(result)


def format_path(path: Path) -> str:
    """Render a `Path` as ``steps[2].text``; the root is ``<root>``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "<root>"


# --------------------------------------------------------------------------
# Operations and amendments


class OpKind(enum.Enum):
    """What an `Operation` does."""

    SET = "set"
    """Set a dict key (adding it if absent) or replace a list item; ``()`` replaces the whole document."""
    ADD = "add"
    """Add ``value`` to the list at ``path``, at ``index`` (default: the end)."""
    REMOVE = "remove"
    """Remove the dict key or the list item at ``path``."""


def _to_opkind(value: Any) -> OpKind:
    try:
        return value if isinstance(value, OpKind) else OpKind(value)
    except ValueError:
        raise PolicyError(f"operation.op: expected one of 'set', 'add', 'remove', got {value!r}") from None


def _to_frozen(value: Any) -> Any:
    return freeze(value)


@attrs.frozen(kw_only=True)
class Operation:
    """One structured change to a document.

    ``path`` may be given as text (``"steps[2].text"``); ``value`` is frozen
    (dicts become `FrozenMap`, lists tuples) so the
    operation cannot change after it is built.
    """

    op: OpKind = attrs.field(converter=_to_opkind)
    path: Path = attrs.field(converter=parse_path)
    value: Any = attrs.field(default=None, converter=_to_frozen)
    index: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.op is OpKind.REMOVE and not self.path:
            raise PolicyError("operation.path: cannot remove the root of a document")
        if self.index is not None and (self.op is not OpKind.ADD or self.index < 0):
            raise PolicyError(f"operation.index: only an 'add' takes an index >= 0, got {self.index!r}")

    def __str__(self) -> str:
        where = format_path(self.path)
        if self.op is OpKind.REMOVE:
            return f"remove {where}"
        at = f" at [{self.index}]" if self.index is not None else ""
        return f"{self.op.value} {where}{at} = {canonical_json(self.value)}"


def _to_operations(value: Iterable[Operation]) -> tuple[Operation, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class DocumentRef:
    """Which document an amendment or a version belongs to: ``kind`` and ``id``.

    ``kind`` is ``"playbook"`` or ``"authority"`` in this library; any
    non-empty name works.
    """

    kind: str = attrs.field(validator=non_empty)
    id: str = attrs.field(validator=non_empty)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


def _to_ids(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(value)))


@attrs.frozen(kw_only=True)
class Provenance:
    """Where an amendment came from: the incidents, who proposed it, and why."""

    incidents: tuple[str, ...] = attrs.field(default=(), converter=_to_ids)
    proposed_by: str = "learning"
    reason: str = ""


@attrs.frozen(kw_only=True)
class Amendment:
    """A change proposed to one document, made on a base version.

    ``base`` is the hash of the version the amendment was made on, or
    ``None`` when it creates the document. Applying it to any other version
    raises `ConflictError`.
    """

    id: str = attrs.field(validator=non_empty)
    target: DocumentRef
    base: str | None
    operations: tuple[Operation, ...] = attrs.field(converter=_to_operations)
    provenance: Provenance = attrs.field(factory=Provenance)
    summary: str = ""

    def __attrs_post_init__(self) -> None:
        if not self.operations:
            raise PolicyError(f"amendment {self.id}.operations: expected at least one operation")

    def rebased(self, base: str | None) -> Amendment:
        """The same amendment, made on another base version (its author re-checked it)."""
        return attrs.evolve(self, base=base)


# --------------------------------------------------------------------------
# Applying operations


def _container(document: Any, path: Path, where: Path) -> Any:
    node = document
    for depth, part in enumerate(path):
        here = format_path(where[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                raise PolicyError(f"{here}: no list item at index {part}")
        elif not isinstance(node, dict) or part not in node:
            raise PolicyError(f"{here}: no such key")
        node = node[part]
    return node


def _apply_one(document: Any, operation: Operation) -> Any:
    path = operation.path
    value = thaw(operation.value)
    if operation.op is OpKind.SET and not path:
        return value
    if operation.op is OpKind.ADD:
        target = _container(document, path, path)
        if not isinstance(target, list):
            raise PolicyError(f"{format_path(path)}: 'add' needs a list, got {type(target).__name__}")
        index = len(target) if operation.index is None else operation.index
        if index > len(target):
            raise PolicyError(f"{format_path(path)}: cannot add at index {index} of a list of {len(target)}")
        target.insert(index, value)
        return document
    parent = _container(document, path[:-1], path)
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(parent, list) or not 0 <= last < len(parent):
            raise PolicyError(f"{format_path(path)}: no list item at index {last}")
        if operation.op is OpKind.SET:
            parent[last] = value
        else:
            del parent[last]
        return document
    if not isinstance(parent, dict):
        raise PolicyError(f"{format_path(path)}: expected a table (dict) at {format_path(path[:-1])}")
    if operation.op is OpKind.SET:
        parent[last] = value
    elif last in parent:
        del parent[last]
    else:
        raise PolicyError(f"{format_path(path)}: cannot remove a key that is absent")
    return document


def apply_operations(document: Document, operations: Iterable[Operation]) -> Document:
    """Apply *operations* in order to a copy of *document*; return the new document.

    The input is never changed. A path that does not exist raises
    `PolicyError` naming it.
    """
    result = thaw(document)
    for operation in operations:
        result = _apply_one(result, operation)
    return result


# --------------------------------------------------------------------------
# Versions


class VersionKind(enum.Enum):
    """How a version came to be."""

    CREATE = "create"
    AMEND = "amend"
    ROLLBACK = "rollback"


def _aware_at(_instance: Any, attribute: attrs.Attribute[Any], value: datetime) -> None:
    require_aware(f"version.{attribute.name}", value, PolicyError)


def _version_hash(
    *,
    target: DocumentRef,
    number: int,
    parent: str | None,
    content: str,
    author: str,
    at: datetime,
    kind: VersionKind,
    amendment: str | None,
    message: str,
) -> str:
    meta = {
        "target": {"kind": target.kind, "id": target.id},
        "number": number,
        "author": author,
        "at": at.isoformat(),
        "kind": kind.value,
        "amendment": amendment,
        "message": message,
    }
    envelope = (
        '{"content":'
        + content
        + ',"meta":'
        + json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        + ',"parent":'
        + json.dumps(parent)
        + "}"
    )
    return hashlib.sha256(envelope.encode("utf-8")).hexdigest()


@attrs.frozen(kw_only=True)
class Version:
    """One immutable, content-hashed version of a document.

    ``content`` is the canonical JSON of the document (`document` gives
    a fresh copy); ``hash`` covers the content, the ``parent`` hash and the
    metadata (number, author, time, kind, amendment id, message), so changing
    any byte of any of them is detected by `verify_chain`.
    """

    target: DocumentRef
    number: int
    parent: str | None
    content: str
    author: str
    at: datetime = attrs.field(validator=_aware_at)
    kind: VersionKind = VersionKind.CREATE
    amendment: str | None = None
    message: str = ""
    hash: str

    @property
    def document(self) -> Document:
        """A fresh, mutable copy of the document this version holds."""
        return json.loads(self.content)

    @property
    def short(self) -> str:
        """The first 12 hex digits of the hash."""
        return self.hash[:12]

    def expected_hash(self) -> str:
        """The hash these fields should have; differs from `hash` after tampering."""
        return _version_hash(
            target=self.target,
            number=self.number,
            parent=self.parent,
            content=self.content,
            author=self.author,
            at=self.at,
            kind=self.kind,
            amendment=self.amendment,
            message=self.message,
        )

    def __str__(self) -> str:
        origin = f" from {self.amendment}" if self.amendment else ""
        when = self.at.isoformat()
        return f"{self.target} v{self.number} {self.short} {self.kind.value}{origin} by {self.author} at {when}"


def _make(
    target: DocumentRef,
    number: int,
    parent: str | None,
    document: Document,
    *,
    author: str,
    at: datetime,
    kind: VersionKind,
    amendment: str | None,
    message: str,
) -> Version:
    if not isinstance(author, str) or not author.strip():
        raise PolicyError(f"version.author: expected a non-empty name, got {author!r}")
    require_aware("at", at)
    content = canonical_json(document)
    digest = _version_hash(
        target=target,
        number=number,
        parent=parent,
        content=content,
        author=author,
        at=at,
        kind=kind,
        amendment=amendment,
        message=message,
    )
    return Version(
        target=target,
        number=number,
        parent=parent,
        content=content,
        author=author,
        at=at,
        kind=kind,
        amendment=amendment,
        message=message,
        hash=digest,
    )


def create(target: DocumentRef, document: Document, *, author: str, at: datetime, message: str = "") -> Version:
    """The first version (number 1, no parent) of a document."""
    return _make(
        target, 1, None, document, author=author, at=at, kind=VersionKind.CREATE, amendment=None, message=message
    )


def _check_time(head: Version, at: datetime) -> None:
    require_aware("at", at)
    if at < head.at:
        raise TransitionError(
            f"{head.target}: version time {at.isoformat()} is before its parent's {head.at.isoformat()}"
        )


def apply(head: Version | None, amendment: Amendment, *, author: str, at: datetime) -> Version:
    """Apply *amendment* to *head* (the current version, or ``None`` for a new document).

    Raises `ConflictError` when the amendment was
    made on another base than *head*: two amendments on the same base cannot
    both apply, and neither silently overwrites the other.
    """
    head_hash = head.hash if head is not None else None
    if amendment.base != head_hash:
        made_on = amendment.base[:12] if amendment.base else "no version (a new document)"
        now_at = f"v{head.number} {head.short}" if head is not None else "no version yet"
        raise ConflictError(
            f"amendment {amendment.id} on {amendment.target} was made on {made_on}, but the current version is "
            f"{now_at}; re-make it on the current version"
        )
    if head is None:
        document = apply_operations({}, amendment.operations)
        return _make(
            amendment.target,
            1,
            None,
            document,
            author=author,
            at=at,
            kind=VersionKind.CREATE,
            amendment=amendment.id,
            message=amendment.summary,
        )
    if head.target != amendment.target:
        raise ConflictError(f"amendment {amendment.id} targets {amendment.target}, not {head.target}")
    _check_time(head, at)
    document = apply_operations(head.document, amendment.operations)
    return _make(
        head.target,
        head.number + 1,
        head.hash,
        document,
        author=author,
        at=at,
        kind=VersionKind.AMEND,
        amendment=amendment.id,
        message=amendment.summary,
    )


def rollback(head: Version, to: Version, *, author: str, at: datetime, reason: str = "") -> Version:
    """A new version, child of *head*, whose content equals the older version *to*.

    Nothing is erased: the versions in between stay in the history.
    """
    if to.target != head.target:
        raise ConflictError(f"cannot roll {head.target} back to a version of {to.target}")
    if to.number > head.number:
        raise ConflictError(f"{head.target}: cannot roll v{head.number} back to the later v{to.number}")
    _check_time(head, at)
    message = f"rollback to v{to.number}" + (f": {reason}" if reason else "")
    return _make(
        head.target,
        head.number + 1,
        head.hash,
        to.document,
        author=author,
        at=at,
        kind=VersionKind.ROLLBACK,
        amendment=None,
        message=message,
    )


def verify_chain(versions: Sequence[Version]) -> tuple[str, ...]:
    """Check a document's history, oldest first; return the problems found (none: intact).

    Detects a changed byte in any version (its hash no longer matches), a
    broken parent link, a gap or repeat in numbering, a foreign version and
    times that go backwards.
    """
    problems: list[str] = []
    previous: Version | None = None
    for position, version in enumerate(versions):
        label = f"versions[{position}] ({version.target} v{version.number})"
        if version.expected_hash() != version.hash:
            problems.append(f"{label}: hash does not match its content (tampered)")
        if previous is None:
            if version.parent is not None or version.number != 1:
                problems.append(f"{label}: the first version must be v1 with no parent")
        else:
            if version.target != previous.target:
                problems.append(f"{label}: belongs to {version.target}, not {previous.target}")
            if version.parent != previous.hash:
                problems.append(f"{label}: parent {str(version.parent)[:12]} is not the previous hash {previous.short}")
            if version.number != previous.number + 1:
                problems.append(f"{label}: number follows v{previous.number}")
            if version.at < previous.at:
                problems.append(f"{label}: time {version.at.isoformat()} is before its parent's")
        previous = version
    return tuple(problems)


def _to_versions(value: Iterable[Version]) -> tuple[Version, ...]:
    return tuple(value)


@attrs.frozen
class History:
    """The versions of one document, oldest first: an immutable, append-only chain."""

    versions: tuple[Version, ...] = attrs.field(default=(), converter=_to_versions)

    @property
    def head(self) -> Version | None:
        """The current version, or ``None`` before the first."""
        return self.versions[-1] if self.versions else None

    def version(self, number: int) -> Version:
        """The version with *number* (1-based)."""
        if not 1 <= number <= len(self.versions):
            target = self.versions[0].target if self.versions else "<empty history>"
            raise PolicyError(f"{target}: no version {number}; there are {len(self.versions)}")
        return self.versions[number - 1]

    def apply(self, amendment: Amendment, *, author: str, at: datetime) -> History:
        """This history with *amendment* applied on its head (see `apply`)."""
        return History((*self.versions, apply(self.head, amendment, author=author, at=at)))

    def rollback(self, number: int, *, author: str, at: datetime, reason: str = "") -> History:
        """This history with a new head equal in content to version *number*."""
        head = self.head
        if head is None:
            raise PolicyError("<empty history>: nothing to roll back")
        return History((*self.versions, rollback(head, self.version(number), author=author, at=at, reason=reason)))


# --------------------------------------------------------------------------
# Diffs


class ChangeKind(enum.Enum):
    """What happened at a path between two documents."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@attrs.frozen(kw_only=True)
class Change:
    """One difference between two documents.

    Paths inside lists are positions at the moment the change applies, so the
    changes, applied in order, turn the old document into the new one
    (`operations_of`).
    """

    kind: ChangeKind
    path: Path
    old: Any = attrs.field(default=None, converter=_to_frozen)
    new: Any = attrs.field(default=None, converter=_to_frozen)

    def __str__(self) -> str:
        where = format_path(self.path)
        if self.kind is ChangeKind.ADDED:
            return f"+ {where}: {canonical_json(self.new)}"
        if self.kind is ChangeKind.REMOVED:
            return f"- {where}: {canonical_json(self.old)}"
        return f"~ {where}: {canonical_json(self.old)} -> {canonical_json(self.new)}"


def _key(value: Any) -> str:
    return canonical_json(value)


def _diff(old: Any, new: Any, path: Path, out: list[Change]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new)):
            if key not in new:
                out.append(Change(kind=ChangeKind.REMOVED, path=(*path, key), old=old[key]))
            elif key not in old:
                out.append(Change(kind=ChangeKind.ADDED, path=(*path, key), new=new[key]))
            else:
                _diff(old[key], new[key], (*path, key), out)
        return
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        _diff_list(list(old), list(new), path, out)
        return
    if type(old) is not type(new) or old != new:
        out.append(Change(kind=ChangeKind.CHANGED, path=path, old=old, new=new))


def _diff_list(old: list[Any], new: list[Any], path: Path, out: list[Change]) -> None:
    # Items equal at the same place at either end are left alone, so a change to
    # one of several equal items shows at that item, not as a move.
    keys_old = [_key(v) for v in old]
    keys_new = [_key(v) for v in new]
    start = 0
    while start < len(old) and start < len(new) and keys_old[start] == keys_new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and keys_old[end_old - 1] == keys_new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    matcher = difflib.SequenceMatcher(a=keys_old[start:end_old], b=keys_new[start:end_new], autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        i1, i2, j1, j2 = a1 + start, a2 + start, b1 + start, b2 + start
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                _diff(old[i1 + offset], new[j1 + offset], (*path, j1 + offset), out)
            continue
        # Positions: the prefix is already new[:j1], so old[i1] sits at j1.
        out.extend(
            Change(kind=ChangeKind.REMOVED, path=(*path, j1 + offset), old=old[i1 + offset])
            for offset in reversed(range(i2 - i1))
        )
        out.extend(Change(kind=ChangeKind.ADDED, path=(*path, index), new=new[index]) for index in range(j1, j2))


def diff(old: Document | Version, new: Document | Version) -> tuple[Change, ...]:
    """The structured differences from *old* to *new* (documents or versions).

    Dicts are compared key by key; lists item by item with a longest-common-
    subsequence match, so adding a step shows as one addition, not as a
    change to every later step.
    """
    a = old.document if isinstance(old, Version) else thaw(old)
    b = new.document if isinstance(new, Version) else thaw(new)
    out: list[Change] = []
    _diff(a, b, (), out)
    return tuple(out)


def operations_of(changes: Iterable[Change]) -> tuple[Operation, ...]:
    """Turn *changes* back into operations that replay them.

    ``apply_operations(old, operations_of(diff(old, new))) == new`` always holds.
    """
    result: list[Operation] = []
    for change in changes:
        if change.kind is ChangeKind.REMOVED:
            result.append(Operation(op=OpKind.REMOVE, path=change.path))
        elif change.kind is ChangeKind.ADDED and change.path and isinstance(change.path[-1], int):
            result.append(Operation(op=OpKind.ADD, path=change.path[:-1], value=change.new, index=change.path[-1]))
        else:
            result.append(Operation(op=OpKind.SET, path=change.path, value=change.new))
    return tuple(result)


def render_diff(changes: Iterable[Change], *, title: str = "") -> str:
    """The changes as readable text, one a line (``+`` added, ``-`` removed, ``~`` changed)."""
    lines = [title] if title else []
    lines.extend(str(change) for change in changes)
    if len(lines) == (1 if title else 0):
        lines.append("(no changes)")
    return "\n".join(lines)
