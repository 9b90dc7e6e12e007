"""``servicetriage obligation`` and ``servicetriage workorder``: promises and work orders kept in a store.

``obligation track`` starts tracking a promise (a call-back, a report
upward...); ``obligation met|missed|waive`` records what became of it (a
miss prints the escalation it raises); ``obligation list`` and
``obligation figures`` show where they stand and how many were kept.

``workorder open`` opens a work order for another department;
``workorder ack|done|report`` records its steps, in that order;
``workorder list`` shows a case's orders and ``workorder overdue`` the
orders past due, each escalated to its department's head.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from servicetriage import config
from servicetriage.cli._learning import _add_store, _store, _time
from servicetriage.errors import PolicyError
from servicetriage.escalation import Case, open_work_order
from servicetriage.followup import (
    ObligationEvent,
    ObligationStatus,
    OrderEvent,
    OrderStatus,
    TrackedObligation,
    WorkOrderState,
    orders_of,
    overdue_orders,
    promise_figures,
)
from servicetriage.model import Obligation, ObligationKind

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

__all__ = ["register"]


def _status_steps(
    sub: argparse._SubParsersAction[Any],
    steps: tuple[tuple[str, str], ...],
    what: str,
    func: Callable[[argparse.Namespace], int],
) -> None:
    """One subcommand per status step of *what* (``met``, ``ack``...), each recording who, when and a note."""
    for name, status in steps:
        step = sub.add_parser(name, help=f"record that {what} was {status}")
        step.add_argument("id", help=f"the {what.split(' ', 1)[1]}'s id")
        step.add_argument("--by", required=True, help="who records it")
        step.add_argument("--at", help="when (default: now), ISO 8601 with an offset")
        step.add_argument("--note", default="", help="a note")
        _add_store(step)
        step.set_defaults(func=func, status=status)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add the ``obligation`` and ``workorder`` sub-commands to *sub*."""
    ob = sub.add_parser("obligation", help="track promises: met, missed or waived; the figures")
    osub = ob.add_subparsers(dest="action", required=True, metavar="ACTION")
    track = osub.add_parser("track", help="start tracking an obligation")
    track.add_argument("--ticket", required=True, help="the case's ticket id")
    track.add_argument("--kind", required=True, choices=[k.value for k in ObligationKind], help="what is owed")
    track.add_argument("--to", required=True, help="to whom (customer, a tier, a department)")
    track.add_argument("--due", required=True, help="when, ISO 8601 with an offset")
    track.add_argument("--note", default="", help="what was promised")
    track.add_argument("--id", help="the obligation's id (default: <ticket>#<n>)")
    _add_store(track)
    track.set_defaults(func=_track)
    _status_steps(osub, (("met", "met"), ("missed", "missed"), ("waive", "waived")), "an obligation", _settle)
    listing = osub.add_parser("list", help="the tracked obligations and where they stand")
    listing.add_argument("--ticket", help="only this case's")
    listing.add_argument("--now", help="judge overdue at this time (default: now)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    _add_store(listing)
    listing.set_defaults(func=_list_obligations)
    figures = osub.add_parser("figures", help="per kind: kept on time, late, missed, waived, open, overdue")
    figures.add_argument("--now", help="judge overdue at this time (default: now)")
    _add_store(figures)
    figures.set_defaults(func=_figures)

    wo = sub.add_parser("workorder", help="work orders to other departments: open, ack, done, report, overdue")
    wsub = wo.add_subparsers(dest="action", required=True, metavar="ACTION")
    opening = wsub.add_parser("open", help="open a work order for another department")
    opening.add_argument("--ticket", required=True, help="the case's ticket id")
    opening.add_argument("--owner", required=True, help="the agent who owns the case")
    opening.add_argument("--department", required=True, help="the department that must act")
    opening.add_argument("--task", required=True, help="what it must do")
    opening.add_argument("--due-in", required=True, help="how long it has, such as '4h'")
    opening.add_argument("--at", help="when it is opened (default: now), ISO 8601 with an offset")
    opening.add_argument("--id", help="the work order's id (default: <ticket>/<department>/<time>)")
    _add_store(opening)
    opening.set_defaults(func=_open)
    order_steps = (("ack", "acknowledged"), ("done", "done"), ("report", "reported"))
    _status_steps(wsub, order_steps, "a work order", _order_step)
    wlist = wsub.add_parser("list", help="the work orders (of a case) and where they stand")
    wlist.add_argument("--ticket", help="only this case's")
    wlist.add_argument("--owner", help="with --ticket: only the orders of this owner's case")
    wlist.add_argument("--now", help="judge overdue at this time (default: now)")
    _add_store(wlist)
    wlist.set_defaults(func=_list_orders)
    late = wsub.add_parser("overdue", help="the work orders past due, escalated to their department's head")
    late.add_argument("--now", help="judge at this time (default: now)")
    late.add_argument(
        "--head", action="append", default=[], metavar="DEPT=NAME", help="the head of a department (repeatable)"
    )
    _add_store(late)
    late.set_defaults(func=_overdue)


def _track(args: argparse.Namespace) -> int:
    obligation = Obligation(
        kind=ObligationKind(args.kind), due=_time(args.due, "--due"), to=args.to, note=args.note, rule="cli"
    )
    with _store(args) as store:
        known = store.obligations(ticket_id=args.ticket)
        ident = args.id or f"{args.ticket}#{len(known) + 1}"
        store.track_obligations((TrackedObligation(id=ident, ticket_id=args.ticket, obligation=obligation),))
    print(f"tracking {ident}: {obligation}")
    return 0


def _settle(args: argparse.Namespace) -> int:
    event = ObligationEvent(
        obligation=args.id, status=ObligationStatus(args.status), at=_time(args.at, "--at"), by=args.by, note=args.note
    )
    with _store(args) as store:
        missed = store.settle_obligations((event,))
    print(f"{args.id}: {args.status} at {event.at.isoformat()} by {args.by}")
    for escalation in missed:
        print(f"escalate: {escalation}")
    return 0


def _describe(item: TrackedObligation, now: Any) -> dict[str, Any]:
    o = item.obligation
    return {
        "id": item.id,
        "ticket": item.ticket_id,
        "kind": o.kind.value,
        "to": o.to,
        "due": o.due.isoformat(),
        "status": item.status.value,
        "overdue": item.overdue(now),
        "closed_at": None if item.closed_at is None else item.closed_at.isoformat(),
        "closed_by": item.closed_by,
        "on_time": item.on_time,
    }


def _list_obligations(args: argparse.Namespace) -> int:
    now = _time(args.now, "--now")
    with _store(args) as store:
        items = store.obligations(ticket_id=args.ticket)
    rows = [_describe(i, now) for i in items]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        late = " OVERDUE" if r["overdue"] else ""
        closed = f" at {r['closed_at']} by {r['closed_by']}" if r["closed_at"] else ""
        print(f"{r['id']}\t{r['kind']} to {r['to']}\tdue {r['due']}\t{r['status']}{closed}{late}")
    if not rows:
        print("no obligations tracked")
    return 0


def _figures(args: argparse.Namespace) -> int:
    now = _time(args.now, "--now")
    with _store(args) as store:
        items = store.obligations()
    for figures in promise_figures(items, now):
        print(figures)
    if not items:
        print("no obligations tracked")
    return 0


def _open(args: argparse.Namespace) -> int:
    at = _time(args.at, "--at")
    try:
        due_in = config.parse_duration(args.due_in)
    except ValueError as exc:
        msg = f"--due-in: {exc}"
        raise PolicyError(msg) from None
    order, obligations = open_work_order(
        Case(ticket_id=args.ticket, owner=args.owner), args.department, args.task, at, due_in, id=args.id
    )
    with _store(args) as store:
        store.open_work_order(order, obligations)
    print(f"opened {order.id}: {order.department} must {order.task} by {order.due.isoformat()}")
    for n, obligation in enumerate(obligations, start=1):
        print(f"  tracking {order.id}#{n}: {obligation}")
    return 0


def _order_step(args: argparse.Namespace) -> int:
    event = OrderEvent(
        order=args.id, status=OrderStatus(args.status), at=_time(args.at, "--at"), by=args.by, note=args.note
    )
    with _store(args) as store:
        state = store.work_order_event(event)
    print(f"{state.id}: {state.status.value} at {event.at.isoformat()} by {args.by}")
    return 0


def _line(state: WorkOrderState, now: Any) -> str:
    o = state.order
    late = " OVERDUE" if state.overdue(now) else ""
    return f"{o.id}\t{o.ticket_id}\t{o.department}\t{state.status.value}\tdue {o.due.isoformat()}{late}\t{o.task}"


def _list_orders(args: argparse.Namespace) -> int:
    now = _time(args.now, "--now")
    with _store(args) as store:
        states = store.work_orders(ticket_id=args.ticket)
    if args.ticket and args.owner:
        states = orders_of(Case(ticket_id=args.ticket, owner=args.owner), states)
    for state in states:
        print(_line(state, now))
    if not states:
        print("no work orders")
    return 0


def _overdue(args: argparse.Namespace) -> int:
    now = _time(args.now, "--now")
    heads: dict[str, str] = {}
    for item in args.head:
        dept, sep, name = item.partition("=")
        if not sep or not dept.strip() or not name.strip():
            msg = f"--head: expected DEPT=NAME, got {item!r}"
            raise PolicyError(msg)
        heads[dept.strip()] = name.strip()
    with _store(args) as store:
        states = store.work_orders()
    late = overdue_orders(states, now, heads)
    for item in late:
        print(item)
    if not late:
        print("no work order is overdue")
    return 0
