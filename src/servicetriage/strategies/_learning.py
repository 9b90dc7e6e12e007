"""Strategies for the learning loop: incident reports, documents and amendments."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from servicetriage.model import ActionKind, Channel, CustomerTier, Money, Quadrant
from servicetriage.review import Deviation, Feedback, IncidentOutcome, IncidentReport, PlaybookRef, TimelineEvent
from servicetriage.strategies._model import aware_datetimes, money
from servicetriage.versions import Amendment, DocumentRef, Operation, OpKind, Provenance, apply_operations, thaw

__all__ = ["amendments", "deviations", "documents", "incident_reports"]

_TIERS = ("agent", "supervisor", "manager", "department_head", "executive")
_NAMES = st.sampled_from(["li", "wang", "zhang", "chen", "anna", "omar", "ravi"])


def deviations(
    *,
    kinds: st.SearchStrategy[str] | None = None,
    tiers: st.SearchStrategy[str] | None = None,
    amounts: st.SearchStrategy[Money | None] | None = None,
) -> st.SearchStrategy[Deviation]:
    """Deviations of any well-known kind, at any default tier, with or without an amount."""
    return st.builds(
        Deviation,
        kind=kinds if kinds is not None else st.sampled_from([k.value for k in ActionKind]),
        authorized_by=_NAMES,
        tier=tiers if tiers is not None else st.sampled_from(_TIERS),
        amount=amounts if amounts is not None else st.none() | money(currencies=("CNY",), max_amount=5_000),
        grant=st.none() | st.from_regex(r"g[0-9]{1,3}", fullmatch=True),
    )


@st.composite
def incident_reports(
    draw: st.DrawFn,
    *,
    ids: st.SearchStrategy[str] | None = None,
    opened_at: st.SearchStrategy[datetime] | None = None,
    categories: st.SearchStrategy[str] | None = None,
    deviations: st.SearchStrategy[Deviation] | None = None,
    max_deviations: int = 3,
    exemplary: st.SearchStrategy[bool] | None = None,
    false_alarm: st.SearchStrategy[bool] | None = None,
) -> IncidentReport:
    """Valid incident reports: a timeline in order, resolved after opened, 0 to *max_deviations* deviations.

    Deviations come from `deviations` unless *deviations* is given; the
    customer id, the channel and the escalation, SLA and reuse flags are
    sometimes left out, as real reports do.
    """
    opened = draw(opened_at if opened_at is not None else aware_datetimes())
    offsets = sorted(draw(st.lists(st.integers(0, 24 * 60), max_size=4)))
    timeline = tuple(
        TimelineEvent(at=opened + timedelta(minutes=m), what=draw(st.sampled_from(["call", "rebooked", "called back"])))
        for m in offsets
    )
    resolved = draw(st.none() | st.integers(0, 3 * 24 * 60).map(lambda m: opened + timedelta(minutes=m)))
    strategy = deviations if deviations is not None else globals()["deviations"]()
    score = st.none() | st.integers(1, 5)
    return IncidentReport(
        id=draw(ids if ids is not None else st.from_regex(r"R[0-9]{1,8}", fullmatch=True)),
        ticket_id=draw(st.from_regex(r"T[0-9]{1,8}", fullmatch=True)),
        owner=draw(_NAMES),
        opened_at=opened,
        resolved_at=resolved,
        category=draw(categories if categories is not None else st.sampled_from(["flight", "ride", "billing"])),
        quadrant=draw(st.none() | st.sampled_from(Quadrant)),
        customer_tier=draw(st.sampled_from(CustomerTier)),
        customer_id=draw(st.none() | st.from_regex(r"C[0-9]{1,3}", fullmatch=True)),
        channel=draw(st.none() | st.sampled_from(Channel)),
        reporter=draw(st.none() | st.from_regex(r"C[0-9]{1,4}", fullmatch=True)),
        timeline=timeline,
        deviations=tuple(draw(st.lists(strategy, max_size=max_deviations))),
        playbook=draw(
            st.none() | st.builds(PlaybookRef, id=st.sampled_from(["flight", "ride"]), version=st.integers(1, 5))
        ),
        outcome=draw(st.sampled_from(IncidentOutcome)),
        satisfaction_before=draw(score),
        satisfaction_after=draw(score),
        root_cause=draw(st.sampled_from(["", "weather", "overbooking", "system outage"])),
        feedback=tuple(
            draw(st.lists(st.builds(Feedback, department=st.just("ops"), note=st.just("check")), max_size=1))
        ),
        false_alarm=draw(false_alarm if false_alarm is not None else st.booleans()),
        lessons=tuple(draw(st.lists(st.sampled_from(["act early", "call back"]), max_size=2))),
        exemplary=draw(exemplary if exemplary is not None else st.booleans()),
        escalated=draw(st.none() | st.booleans()),
        sla_breached=draw(st.none() | st.booleans()),
        reused=draw(st.none() | st.booleans()),
    )


_KEYS = st.sampled_from(["id", "title", "limit", "tier", "note", "when", "enabled"])
_LEAVES = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8)


def documents(*, max_leaves: int = 12) -> st.SearchStrategy[dict[str, Any]]:
    """Playbook-like plain documents: an ``id``, a ``steps`` list of step dicts with unique ids, and more."""

    def build(extra: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
        return {**extra, "id": "doc", "steps": [{**s, "id": f"s{i}"} for i, s in enumerate(steps)]}

    values = st.recursive(
        _LEAVES,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
        max_leaves=max_leaves,
    )
    return st.builds(
        build,
        st.dictionaries(_KEYS, values, max_size=4),
        st.lists(st.dictionaries(_KEYS, _LEAVES, max_size=3), max_size=4),
    )


def _paths(document: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[tuple[str | int, ...], Any]]:
    found = [(prefix, document)]
    if isinstance(document, dict):
        for key, value in document.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(_paths(value, (*prefix, index)))
    return found


@st.composite
def _operation(draw: st.DrawFn, document: Any) -> Operation:
    places = _paths(document)
    lists = [(p, v) for p, v in places if isinstance(v, list)]
    dicts = [(p, v) for p, v in places if isinstance(v, dict)]
    removable = [p for p, _ in places if p and p[0] != "id"]
    choices = ["set"] + (["add"] if lists else []) + (["remove"] if removable else [])
    kind = draw(st.sampled_from(choices))
    value = draw(_LEAVES | st.dictionaries(_KEYS, _LEAVES, max_size=2))
    if kind == "add":
        path, items = draw(st.sampled_from(lists))
        index = draw(st.none() | st.integers(0, len(items)))
        return Operation(op=OpKind.ADD, path=path, value=value, index=index)
    if kind == "remove":
        return Operation(op=OpKind.REMOVE, path=draw(st.sampled_from(removable)))
    parent, _ = draw(st.sampled_from(dicts))
    key = draw(_KEYS.filter(lambda k: k != "id" or parent))
    return Operation(op=OpKind.SET, path=(*parent, key), value=value)


@st.composite
def amendments(
    draw: st.DrawFn,
    *,
    document: dict[str, Any] | None = None,
    base: str | None = None,
    target: DocumentRef | None = None,
    max_operations: int = 3,
) -> Amendment:
    """Amendments whose operations all apply, in order, to *document* (drawn from `documents` if absent)."""
    current = thaw(document) if document is not None else draw(documents())
    operations = []
    for _ in range(draw(st.integers(1, max_operations))):
        operation = draw(_operation(current))
        current = apply_operations(current, (operation,))
        operations.append(operation)
    return Amendment(
        id=draw(st.from_regex(r"A[0-9]{1,6}", fullmatch=True)),
        target=target if target is not None else DocumentRef(kind="playbook", id="doc"),
        base=base,
        operations=tuple(operations),
        provenance=Provenance(incidents=draw(st.lists(st.from_regex(r"R[0-9]{1,4}", fullmatch=True), max_size=3))),
        summary=draw(st.sampled_from(["", "learned step", "raise a limit"])),
    )
