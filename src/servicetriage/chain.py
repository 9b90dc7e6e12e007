"""The audit chain: every row a store writes, hashed into one append-only chain.

Versions carry their own content hash (`servicetriage.versions`), but who
approved an amendment, the steps of a review and an amendment's provenance
live in other rows. The store therefore appends an `Entry` to one chain for
every row it writes (a report, a review transition, an amendment, a version,
a drill, a penalty, a ledger record): the entry holds the row's columns as
canonical JSON and the hash of the entry before it. `verify_entries` checks
the chain itself; the store compares each table with the chain's latest entry
for each row, so an ``UPDATE transitions SET actor=...`` or a rewritten list
of incident ids shows, even with the append-only triggers dropped.

Someone who can write the file could still rebuild the whole chain from a
rewritten history. An `Anchor` (the head's position and hash) kept outside
the file, or one keyed with an HMAC secret (`keyed_anchor`) and kept inside
it, catches that: the rebuilt chain no longer has the anchored hash at the
anchored position, and the attacker cannot make a new keyed anchor without
the secret.

Pure and standard library only: ``hashlib`` and ``hmac``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from servicetriage.errors import StoreError

__all__ = [
    "Anchor",
    "Entry",
    "anchor_from_data",
    "anchor_to_data",
    "entry_hash",
    "key_id",
    "keyed_anchor",
    "payload_of",
    "verify_anchor",
    "verify_entries",
]

_KEY_LABEL = b"servicetriage chain key id"


def payload_of(row: Mapping[str, Any]) -> str:
    """The canonical JSON text of a row's columns (sorted keys, no spaces, UTF-8 kept)."""
    return json.dumps(dict(row), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(*, seq: int, kind: str, key: str, payload: str, prev: str | None) -> str:
    """The SHA-256 of an entry: its position, what it records, the row and the previous hash."""
    head = json.dumps({"seq": seq, "kind": kind, "key": key, "prev": prev}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f'{{"entry":{head},"payload":{payload}}}'.encode()).hexdigest()


@attrs.frozen(kw_only=True)
class Entry:
    """One link of the chain: the row of table *kind* with *key*, as written at position *seq*."""

    seq: int
    kind: str
    key: str
    payload: str
    prev: str | None
    hash: str

    @classmethod
    def make(cls, *, seq: int, kind: str, key: str, payload: str, prev: str | None) -> Entry:
        """The entry with its hash computed."""
        digest = entry_hash(seq=seq, kind=kind, key=key, payload=payload, prev=prev)
        return cls(seq=seq, kind=kind, key=key, payload=payload, prev=prev, hash=digest)

    def expected_hash(self) -> str:
        """The hash these fields should have; differs from `hash` after tampering."""
        return entry_hash(seq=self.seq, kind=self.kind, key=self.key, payload=self.payload, prev=self.prev)


def verify_entries(entries: Sequence[Entry]) -> tuple[str, ...]:
    """Check the chain, oldest first: positions 1, 2, 3..., every hash and every link.

    Returns the problems found (none: intact), each naming the position.
    """
    problems: list[str] = []
    previous: Entry | None = None
    for index, entry in enumerate(entries):
        label = f"chain[{entry.seq}] ({entry.kind} {entry.key})"
        if entry.seq != index + 1:
            problems.append(f"{label}: expected position {index + 1} (an entry is missing or repeated)")
        if entry.expected_hash() != entry.hash:
            problems.append(f"{label}: hash does not match its content (tampered)")
        expected_prev = previous.hash if previous is not None else None
        if entry.prev != expected_prev:
            problems.append(f"{label}: previous hash {str(entry.prev)[:12]} is not {str(expected_prev)[:12]}")
        previous = entry
    return tuple(problems)


def key_id(key: bytes) -> str:
    """A public fingerprint of an HMAC secret (it tells keys apart without revealing them)."""
    _check_key(key)
    return hmac.new(key, _KEY_LABEL, hashlib.sha256).hexdigest()[:16]


def _check_key(key: object) -> None:
    if not isinstance(key, bytes) or len(key) < 16:
        shown = f"{len(key)} bytes" if isinstance(key, bytes) else repr(type(key).__name__)
        msg = f"chain key: expected a secret of at least 16 bytes, got {shown}"
        raise StoreError(msg)


def _mac(key: bytes, seq: int, digest: str) -> str:
    return hmac.new(key, f"{seq}:{digest}".encode(), hashlib.sha256).hexdigest()


@attrs.frozen(kw_only=True)
class Anchor:
    """The chain's head at one moment: position *seq* had hash *hash*.

    A plain anchor is exported and kept elsewhere (a ticket, a log, another
    system); a keyed one also carries ``key_id`` and ``mac``, the HMAC of the
    position and the hash under a secret, so it can be kept in the store.
    """

    seq: int
    hash: str
    at: str = ""
    key_id: str | None = None
    mac: str | None = None

    def __str__(self) -> str:
        keyed = f", keyed {self.key_id}" if self.key_id else ""
        return f"chain[{self.seq}] {self.hash[:12]}{keyed}"


def keyed_anchor(anchor: Anchor, key: bytes) -> Anchor:
    """*anchor* signed with the HMAC secret *key*."""
    return attrs.evolve(anchor, key_id=key_id(key), mac=_mac(key, anchor.seq, anchor.hash))


def verify_anchor(anchor: Anchor, entries: Sequence[Entry], key: bytes | None = None) -> tuple[str, ...]:
    """Check that *entries* still hold *anchor*'s hash at its position (and its MAC, with *key*).

    A keyed anchor checked with another key raises `StoreError` naming both
    key ids: a wrong key is an error of the caller, not a finding about the
    store.
    """
    problems: list[str] = []
    if key is not None and anchor.key_id is not None:
        given = key_id(key)
        if given != anchor.key_id:
            msg = f"chain key: wrong HMAC key (id {given}); the anchor was made with key id {anchor.key_id}"
            raise StoreError(msg)
        if not hmac.compare_digest(anchor.mac or "", _mac(key, anchor.seq, anchor.hash)):
            problems.append(f"anchor {anchor}: its MAC does not match (the anchor was forged or altered)")
    if not 1 <= anchor.seq <= len(entries):
        problems.append(f"anchor {anchor}: the chain has {len(entries)} entries; the anchored one is gone (rewritten)")
    elif entries[anchor.seq - 1].hash != anchor.hash:
        found = entries[anchor.seq - 1].hash[:12]
        problems.append(f"anchor {anchor}: the chain holds {found} there; the history was rewritten")
    return tuple(problems)


def anchor_to_data(anchor: Anchor) -> dict[str, Any]:
    """The plain-data form of an anchor (what ``servicetriage playbook anchor`` exports)."""
    data: dict[str, Any] = {"seq": anchor.seq, "hash": anchor.hash, "at": anchor.at}
    if anchor.key_id is not None:
        data["key_id"] = anchor.key_id
        data["mac"] = anchor.mac
    return data


def anchor_from_data(data: Any, where: str = "anchor") -> Anchor:
    """Build an anchor from plain data, naming the bad field."""
    if not isinstance(data, Mapping):
        msg = f"{where}: expected a table with 'seq' and 'hash', got {data!r:.200}"
        raise StoreError(msg)
    seq, digest = data.get("seq"), data.get("hash")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        msg = f"{where}.seq: expected a position >= 1, got {seq!r}"
        raise StoreError(msg)
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        msg = f"{where}.hash: expected 64 hex digits, got {digest!r}"
        raise StoreError(msg)
    for name in ("at", "key_id", "mac"):
        if data.get(name) is not None and not isinstance(data[name], str):
            msg = f"{where}.{name}: expected text, got {data[name]!r}"
            raise StoreError(msg)
    return Anchor(seq=seq, hash=digest, at=data.get("at") or "", key_id=data.get("key_id"), mac=data.get("mac"))
