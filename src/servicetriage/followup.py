"""Obligations and work orders with a life: met, missed or waived; acknowledged, done, reported back, overdue.

A decision, a playbook step or a work order creates `Obligation` values
(call the customer back, report upward, follow up with a department...).
`track` gives each one an id and a status; `settle` applies what happened
(`ObligationEvent`: met, missed or waived, with the instant and the actor)
and returns, for every missed obligation, a `Missed` escalation event for
the escalation machinery (`servicetriage.escalation`) or the owner's
supervisor. `promise_figures` counts, per kind, how many promises were kept
on time, kept late, missed, waived or are still open: the call-back
promise is kept or not, and the figures show it.

A `WorkOrder` (see `servicetriage.escalation.open_work_order`) lives as a
`WorkOrderState`: opened, acknowledged by the department, done, reported
back to the customer by the owner, in that order (`advance_order`).
`overdue_orders` lists the orders not done by their due time, each
escalated to the head of its department; `orders_of` lists a case's work
orders (the owner keeps the case end to end).

Everything here is pure: the caller passes the instants, and bad input (an
event for an unknown obligation or work order, a transition out of order, a
second event for a closed obligation) raises `TransitionError` naming it,
with nothing applied.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from servicetriage._validators import non_empty
from servicetriage.errors import PolicyError, TransitionError
from servicetriage.escalation import Case, WorkOrder
from servicetriage.model import Obligation, ObligationKind, require_aware

__all__ = [
    "Missed",
    "ObligationEvent",
    "ObligationStatus",
    "OrderEvent",
    "OrderStatus",
    "Overdue",
    "PromiseFigures",
    "TrackedObligation",
    "WorkOrderState",
    "advance_order",
    "open_order",
    "orders_of",
    "overdue_orders",
    "promise_figures",
    "settle",
    "track",
]


def _aware(_instance: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if value is not None:
        require_aware(f"{type(_instance).__name__.lower()}.{attribute.name}", value, PolicyError)


# --------------------------------------------------------------------------
# Obligations


class ObligationStatus(enum.Enum):
    """Where an obligation stands."""

    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    WAIVED = "waived"


def _status(value: Any) -> ObligationStatus:
    if isinstance(value, ObligationStatus):
        return value
    try:
        return ObligationStatus(value)
    except ValueError:
        msg = f"obligationevent.status: expected 'met', 'missed' or 'waived', got {value!r}"
        raise PolicyError(msg) from None


@attrs.frozen(kw_only=True)
class ObligationEvent:
    """What happened to a tracked obligation: ``met``, ``missed`` or ``waived``, at an instant, by someone."""

    obligation: str = attrs.field(validator=non_empty)
    status: ObligationStatus = attrs.field(converter=_status)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=non_empty)
    note: str = ""

    def __attrs_post_init__(self) -> None:
        if self.status is ObligationStatus.OPEN:
            msg = f"obligationevent.status: expected 'met', 'missed' or 'waived', got 'open' (for {self.obligation})"
            raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class TrackedObligation:
    """An obligation with an id, the case it belongs to and where it stands."""

    id: str = attrs.field(validator=non_empty)
    ticket_id: str = attrs.field(validator=non_empty)
    obligation: Obligation
    status: ObligationStatus = ObligationStatus.OPEN
    closed_at: datetime | None = attrs.field(default=None, validator=_aware)
    closed_by: str = ""
    note: str = ""

    @property
    def on_time(self) -> bool:
        """Met no later than its due time."""
        return (
            self.status is ObligationStatus.MET and self.closed_at is not None and self.closed_at <= self.obligation.due
        )

    def overdue(self, now: datetime) -> bool:
        """Still open after its due time."""
        require_aware("now", now)
        return self.status is ObligationStatus.OPEN and self.obligation.due < now


@attrs.frozen(kw_only=True)
class Missed:
    """The escalation event a missed obligation raises: tell whoever supervises *owner*'s promises."""

    ticket_id: str
    obligation: str
    kind: ObligationKind
    to: str
    due: datetime
    at: datetime
    by: str

    def __str__(self) -> str:
        return (
            f"{self.at.isoformat()} missed {self.kind.value} to {self.to} on {self.ticket_id} "
            f"(due {self.due.isoformat()}, {self.obligation})"
        )


def track(
    ticket_id: str, obligations: Iterable[Obligation], *, prefix: str | None = None
) -> tuple[TrackedObligation, ...]:
    """Give each of *obligations* an id (``<prefix or ticket_id>#<n>``, from 1) and the status ``open``."""
    base = prefix if prefix is not None else ticket_id
    return tuple(
        TrackedObligation(id=f"{base}#{n}", ticket_id=ticket_id, obligation=o)
        for n, o in enumerate(obligations, start=1)
    )


def settle(
    tracked: Iterable[TrackedObligation], events: Iterable[ObligationEvent]
) -> tuple[tuple[TrackedObligation, ...], tuple[Missed, ...]]:
    """Apply *events* to *tracked* (in time order); return every obligation as it now stands, and the misses.

    :raises TransitionError: an event names an unknown obligation, or an
        obligation that is already met, missed or waived (naming it and its
        status). Nothing is applied then.
    """
    current = {t.id: t for t in tracked}
    missed: list[Missed] = []
    for event in sorted(events, key=lambda e: e.at):
        item = current.get(event.obligation)
        if item is None:
            msg = f"obligation {event.obligation!r}: unknown (no such obligation is tracked)"
            raise TransitionError(msg)
        if item.status is not ObligationStatus.OPEN:
            msg = (
                f"obligation {event.obligation!r}: already {item.status.value} at {item.closed_at.isoformat()}"  # type: ignore[union-attr]
                f" by {item.closed_by}; cannot be {event.status.value}"
            )
            raise TransitionError(msg)
        current[item.id] = attrs.evolve(
            item, status=event.status, closed_at=event.at, closed_by=event.by, note=event.note
        )
        if event.status is ObligationStatus.MISSED:
            o = item.obligation
            missed.append(
                Missed(
                    ticket_id=item.ticket_id,
                    obligation=item.id,
                    kind=o.kind,
                    to=o.to,
                    due=o.due,
                    at=event.at,
                    by=event.by,
                )
            )
    return tuple(current.values()), tuple(missed)


@attrs.frozen(kw_only=True)
class PromiseFigures:
    """How one kind of obligation fared: kept on time, kept late, missed, waived, still open (overdue among them)."""

    kind: ObligationKind
    on_time: int = 0
    late: int = 0
    missed: int = 0
    waived: int = 0
    open: int = 0
    overdue: int = 0

    @property
    def kept_rate(self) -> float | None:
        """Kept on time / (met + missed + overdue): waived and not-yet-due promises left out; ``None`` if none."""
        judged = self.on_time + self.late + self.missed + self.overdue
        return self.on_time / judged if judged else None

    def __str__(self) -> str:
        rate = "n/a" if self.kept_rate is None else f"{self.kept_rate:.0%}"
        return (
            f"{self.kind.value}: {self.on_time} kept on time, {self.late} late, {self.missed} missed, "
            f"{self.waived} waived, {self.open} open ({self.overdue} overdue); kept {rate}"
        )


def promise_figures(tracked: Iterable[TrackedObligation], now: datetime) -> tuple[PromiseFigures, ...]:
    """The figures of every kind of obligation in *tracked*, as seen at *now* (kinds in their declared order)."""
    require_aware("now", now)
    counts: dict[ObligationKind, dict[str, int]] = {}
    for item in tracked:
        c = counts.setdefault(
            item.obligation.kind, dict.fromkeys(("on_time", "late", "missed", "waived", "open", "overdue"), 0)
        )
        if item.status is ObligationStatus.MET:
            c["on_time" if item.on_time else "late"] += 1
        elif item.status is ObligationStatus.OPEN:
            c["open"] += 1
            c["overdue"] += item.overdue(now)
        else:
            c[item.status.value] += 1
    return tuple(PromiseFigures(kind=k, **counts[k]) for k in ObligationKind if k in counts)


# --------------------------------------------------------------------------
# Work orders


class OrderStatus(enum.Enum):
    """Where a work order stands, in order."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    """The department took it."""
    DONE = "done"
    """The department carried it out."""
    REPORTED = "reported"
    """The owner reported back to the customer: the work order is closed."""


_NEXT = {
    OrderStatus.OPEN: OrderStatus.ACKNOWLEDGED,
    OrderStatus.ACKNOWLEDGED: OrderStatus.DONE,
    OrderStatus.DONE: OrderStatus.REPORTED,
}


def _order_status(value: Any) -> OrderStatus:
    try:
        status = value if isinstance(value, OrderStatus) else OrderStatus(value)
    except ValueError:
        status = OrderStatus.OPEN
    if status is OrderStatus.OPEN:
        msg = f"orderevent.status: expected 'acknowledged', 'done' or 'reported', got {value!r}"
        raise PolicyError(msg)
    return status


@attrs.frozen(kw_only=True)
class OrderEvent:
    """A step of a work order's life: ``acknowledged``, ``done`` or ``reported``, at an instant, by someone."""

    order: str = attrs.field(validator=non_empty)
    status: OrderStatus = attrs.field(converter=_order_status)
    at: datetime = attrs.field(validator=_aware)
    by: str = attrs.field(validator=non_empty)
    note: str = ""


@attrs.frozen(kw_only=True)
class WorkOrderState:
    """A work order and its life so far: the status and when (and by whom) each step was taken."""

    order: WorkOrder
    status: OrderStatus = OrderStatus.OPEN
    history: tuple[OrderEvent, ...] = ()

    @property
    def id(self) -> str:
        """The work order's id."""
        return self.order.id

    def at(self, status: OrderStatus) -> datetime | None:
        """When the order reached *status* (``None``: not yet; ``OPEN``: its opening)."""
        if status is OrderStatus.OPEN:
            return self.order.opened_at
        return next((e.at for e in self.history if e.status is status), None)

    def overdue(self, now: datetime) -> bool:
        """Not done by its due time, as seen at *now*."""
        require_aware("now", now)
        done = self.at(OrderStatus.DONE)
        return (done if done is not None else now) > self.order.due and self.order.due < now


def open_order(order: WorkOrder) -> WorkOrderState:
    """The state of a newly opened work order."""
    return WorkOrderState(order=order)


def advance_order(state: WorkOrderState, event: OrderEvent) -> WorkOrderState:
    """Apply *event*: the next step only (acknowledged, then done, then reported), never before the last one.

    :raises TransitionError: the event is for another work order, skips or
        repeats a step, or is earlier than the step before (naming the order,
        its status and the event).
    """
    if event.order != state.id:
        msg = f"work order {state.id!r}: event for {event.order!r}"
        raise TransitionError(msg)
    expected = _NEXT.get(state.status)
    if event.status is not expected:
        wanted = f"'{expected.value}'" if expected is not None else "nothing (it is closed)"
        msg = f"work order {state.id!r} is {state.status.value}: expected {wanted} next, got '{event.status.value}'"
        raise TransitionError(msg)
    last = state.history[-1].at if state.history else state.order.opened_at
    if event.at < last:
        msg = (
            f"work order {state.id!r}: {event.status.value} at {event.at.isoformat()} is earlier than "
            f"its {state.status.value} at {last.isoformat()}"
        )
        raise TransitionError(msg)
    return WorkOrderState(order=state.order, status=event.status, history=(*state.history, event))


@attrs.frozen(kw_only=True)
class Overdue:
    """A work order not done by its due time, escalated to the head of its department."""

    order: str
    ticket_id: str
    department: str
    head: str
    owner: str
    due: datetime
    status: OrderStatus

    def __str__(self) -> str:
        return (
            f"{self.order}: {self.department} overdue since {self.due.isoformat()} ({self.status.value}); "
            f"escalate to {self.head}; owner {self.owner}"
        )


def overdue_orders(
    states: Iterable[WorkOrderState], now: datetime, heads: Mapping[str, str] | None = None
) -> tuple[Overdue, ...]:
    """The work orders not done by their due time at *now*, oldest due first, each escalated to its department's head.

    *heads* maps a department to its head; a department not in it escalates
    to ``head:<department>``.
    """
    require_aware("now", now)
    heads = heads or {}
    found = [
        Overdue(
            order=s.id,
            ticket_id=s.order.ticket_id,
            department=s.order.department,
            head=heads.get(s.order.department, f"head:{s.order.department}"),
            owner=s.order.owner,
            due=s.order.due,
            status=s.status,
        )
        for s in states
        if s.status in (OrderStatus.OPEN, OrderStatus.ACKNOWLEDGED) and s.order.due < now
    ]
    return tuple(sorted(found, key=lambda o: (o.due, o.order)))


def orders_of(case: Case, states: Sequence[WorkOrderState]) -> tuple[WorkOrderState, ...]:
    """The work orders of *case* (its ticket, opened by its owner), in the order they were opened."""
    mine = [s for s in states if s.order.ticket_id == case.ticket_id and s.order.owner == case.owner]
    return tuple(sorted(mine, key=lambda s: (s.order.opened_at, s.id)))
