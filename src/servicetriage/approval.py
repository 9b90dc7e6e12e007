"""Who may approve an amendment: authority is given from above, never taken.

An amendment that changes what a tier may do (a grant or a delegation of an
authority policy, a playbook step taken at a tier) is a delegation to that
tier. Its approver must hold a tier **above** every tier it changes: an agent
cannot approve a delegation to agents, a supervisor can. Amendments that
change no tier's authority (a step's wording, a deadline) need no tier.

`empowered_tiers` reads the change by applying the amendment to its base
and comparing the entries before and after, so it does not depend on how
the operations were written. `check_approver` raises `TransitionError`
naming the amendment, the approver's tier and the tiers that may approve.

>>> from servicetriage.versions import Amendment, DocumentRef, Operation
>>> base = {"grants": [{"id": "sup-rebook", "tier": "supervisor", "action": "rebooking"}]}
>>> widen = Amendment(
...     id="a1",
...     target=DocumentRef(kind="authority", id="default"),
...     base="h",
...     operations=[Operation(op="add", path="grants", value={"id": "ag", "tier": "agent", "action": "rebooking"})],
... )
>>> empowered_tiers(widen, base)
('agent',)
>>> check_approver(widen, base, tier="supervisor")
>>> check_approver(widen, base, tier="agent")
Traceback (most recent call last):
...
servicetriage.errors.TransitionError: amendment a1: changes the authority of agent; an approver of tier agent ...
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from servicetriage.errors import TransitionError
from servicetriage.model import DEFAULT_TIERS
from servicetriage.versions import Amendment, Document, apply_operations, canonical_json

__all__ = ["check_approver", "empowered_tiers"]

#: The lists of an authority policy whose entries give a ``tier`` authority.
_AUTHORITY_LISTS = ("grants", "delegations")


def _policy_body(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """An authority document's policy (a file may hold it under an ``authority`` table)."""
    inner = document.get("authority")
    return inner if isinstance(inner, Mapping) else document


def _authority_entries(document: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    body = _policy_body(document)
    for name in _AUTHORITY_LISTS:
        entries = body.get(name)
        if isinstance(entries, Sequence) and not isinstance(entries, str):
            for entry in entries:
                if isinstance(entry, Mapping) and isinstance(entry.get("tier"), str):
                    yield entry["tier"], entry


def _step_entries(value: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every table of a playbook that names an ``authority`` tier (its steps, wherever they are)."""
    if isinstance(value, Mapping):
        if isinstance(value.get("authority"), str):
            yield value["authority"], value
        for item in value.values():
            yield from _step_entries(item)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for item in value:
            yield from _step_entries(item)


#: Keys that describe an entry without changing what it allows.
_WORDING = frozenset({"note", "text", "title", "summary", "description"})


def _entries(kind: str, document: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Each entry that gives authority, as its tier and its canonical content apart from its wording."""
    found = _authority_entries(document) if kind == "authority" else _step_entries(document)
    for tier, entry in found:
        yield tier, canonical_json({k: v for k, v in entry.items() if k not in _WORDING})


def empowered_tiers(amendment: Amendment, base: Document | None) -> tuple[str, ...]:
    """The tiers whose authority *amendment* adds or changes, applied to *base* (``None``: a new document).

    An entry (grant, delegation, step with an ``authority``) that is new or
    different after the amendment counts for its tier; entries it removes
    count too (taking authority away is also decided from above). Its
    wording (``note``, ``text``...) does not count.
    """
    before: Mapping[str, Any] = base if base is not None else {}
    after = apply_operations(before, amendment.operations)
    kind = amendment.target.kind
    old = {content: tier for tier, content in _entries(kind, before)}
    new = {content: tier for tier, content in _entries(kind, after)}
    changed = {tier for key, tier in new.items() if key not in old}
    changed.update(tier for key, tier in old.items() if key not in new)
    return tuple(sorted(changed))


def _tier_order(base: Document | None, amendment: Amendment, tiers: Sequence[str] | None) -> tuple[str, ...]:
    if tiers is not None:
        return tuple(tiers)
    if amendment.target.kind == "authority" and base is not None:
        named = _policy_body(base).get("tiers")
        if isinstance(named, Sequence) and not isinstance(named, str) and all(isinstance(t, str) for t in named):
            return tuple(named)
    return DEFAULT_TIERS


def check_approver(
    amendment: Amendment, base: Document | None, *, tier: str | None, tiers: Sequence[str] | None = None
) -> None:
    """Raise `TransitionError` unless an approver of *tier* may approve *amendment*.

    *tiers* is the tier order, lowest first (default: the base authority
    policy's own ``tiers``, else the library's default order). *tier* may be
    ``None`` only when the amendment changes no tier's authority.
    """
    changed = empowered_tiers(amendment, base)
    if not changed:
        return
    order = _tier_order(base, amendment, tiers)
    where = f"amendment {amendment.id}"
    unknown = [t for t in changed if t not in order]
    highest = len(order) - 1 if unknown else max(order.index(t) for t in changed)
    may = ", ".join(order[highest + 1 :]) or "nobody (it changes the top tier; change the tiers instead)"
    changes = f"changes the authority of {', '.join(changed)}"
    if tier is None:
        msg = f"{where}: {changes}; name the approver's tier (one of {may} may approve it)"
        raise TransitionError(msg)
    if tier not in order:
        msg = f"{where}: unknown approver tier {tier!r}; the tiers are {', '.join(order)}"
        raise TransitionError(msg)
    if order.index(tier) <= highest:
        msg = f"{where}: {changes}; an approver of tier {tier} may not approve it, one of {may} may"
        raise TransitionError(msg)
