"""Full-process ownership: the case, and work orders for other departments."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage._deprecated import warn_calendar_argument
from servicetriage._inputs import duration
from servicetriage._validators import non_empty
from servicetriage.errors import PolicyError
from servicetriage.escalation._policy import _ZERO, BusinessClock, EscalationPolicy, Recipient, RecipientKind, _fmt
from servicetriage.model import (
    Obligation,
    ObligationKind,
    require_aware,
)

if TYPE_CHECKING:
    from collections.abc import Iterable


# --------------------------------------------------------------------------
# Ownership


@attrs.frozen(kw_only=True)
class Case:
    """Who owns a case and who was brought in.

    Full-process ownership: escalation adds ``approvers`` (notified tiers) and
    ``watchers`` (every notified target, in order of first notice); it never
    changes the ``owner``.
    """

    ticket_id: str
    owner: str = attrs.field(validator=non_empty)
    approvers: tuple[Recipient, ...] = ()
    watchers: tuple[Recipient, ...] = ()

    def brought_in(self, targets: Iterable[Recipient], *, approve: bool = True) -> Case:
        """Return this case with *targets* added as watchers (and, if *approve*, tiers as approvers)."""
        targets = tuple(targets)
        if all(
            t in self.watchers and (not approve or t.kind is not RecipientKind.TIER or t in self.approvers)
            for t in targets
        ):
            return self
        approvers = list(self.approvers)
        watchers = list(self.watchers)
        changed = False
        for target in targets:
            if target not in watchers:
                watchers.append(target)
                changed = True
            if approve and target.kind is RecipientKind.TIER and target not in approvers:
                approvers.append(target)
                changed = True
        if not changed:
            return self
        return Case(ticket_id=self.ticket_id, owner=self.owner, approvers=tuple(approvers), watchers=tuple(watchers))


def _check_work_order_due(instance: WorkOrder, _attribute: attrs.Attribute[Any], value: datetime) -> None:
    require_aware("workorder.due", value, PolicyError)
    if value < instance.opened_at:
        msg = (
            f"workorder.due: expected a time at or after opened_at {instance.opened_at.isoformat()}, "
            f"got {value.isoformat()}"
        )
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class WorkOrder:
    """A request another department must carry out for a case the owner keeps."""

    id: str = attrs.field(validator=non_empty)
    ticket_id: str
    owner: str = attrs.field(validator=non_empty)
    department: str = attrs.field(validator=non_empty)
    task: str = attrs.field(validator=non_empty)
    opened_at: datetime = attrs.field(validator=lambda _, __, v: require_aware("workorder.opened_at", v, PolicyError))
    due: datetime = attrs.field(validator=_check_work_order_due)


def open_work_order(
    case: Case,
    department: str,
    task: str,
    now: datetime,
    due_in: timedelta,
    *,
    id: str | None = None,
    follow_up_before: timedelta = _ZERO,
    report_back_within: timedelta = timedelta(hours=1),
    policy: EscalationPolicy | None = None,
    calendar: BusinessClock | None = None,
) -> tuple[WorkOrder, tuple[Obligation, ...]]:
    """Turn a request that needs *department* into a work order the owner follows up.

    Returns the `WorkOrder` (due ``due_in`` after *now*, in business
    time under the calendar of *policy*, the escalation policy the case runs
    under, when it has one) and the owner's obligations, in order:

    1. ``NOTIFY_DEPARTMENT`` to the department, due at once (*now*);
    2. ``FOLLOW_UP`` with the department, due ``follow_up_before`` before the
       work order's due time (at the due time by default), counted in
       business time too under that calendar, so it never falls in
       closed hours;
    3. ``REPORT_TO_CUSTOMER``, due ``report_back_within`` after the due time
       (wall-clock: the customer is waiting whatever the office hours).

    The case keeps its owner: the work order names the owner, and every
    obligation is the owner's to fulfil.

    *calendar* is deprecated (it goes in 0.3.0): give the calendar to the
    policy instead. When given, it still counts, with a `DeprecationWarning`.
    """
    require_aware("now", now)
    if calendar is not None:
        warn_calendar_argument("open_work_order", "EscalationPolicy.calendar (and pass policy=)")
    elif policy is not None:
        calendar = policy.calendar
    duration(due_in, "due_in", PolicyError, positive=False)
    if follow_up_before < _ZERO or follow_up_before > due_in:
        msg = f"follow_up_before: expected a duration from 0 to due_in ({_fmt(due_in)}), got '{_fmt(follow_up_before)}'"
        raise PolicyError(msg)
    if report_back_within < _ZERO:
        msg = f"report_back_within: expected a duration >= 0, got '{_fmt(report_back_within)}'"
        raise PolicyError(msg)
    if calendar is not None:
        due = calendar.add(now, due_in)
        follow_up = calendar.add(now, due_in - follow_up_before)
    else:
        due = now + due_in
        follow_up = due - follow_up_before
    order = WorkOrder(
        id=id if id is not None else f"{case.ticket_id}/{department}/{now.isoformat()}",
        ticket_id=case.ticket_id,
        owner=case.owner,
        department=department,
        task=task,
        opened_at=now,
        due=due,
    )
    rule = f"work_order:{order.id}"
    obligations = (
        Obligation(kind=ObligationKind.NOTIFY_DEPARTMENT, due=now, to=department, note=task, rule=rule),
        Obligation(
            kind=ObligationKind.FOLLOW_UP,
            due=follow_up,
            to=department,
            note=f"{case.owner} follows up: {task}",
            rule=rule,
        ),
        Obligation(
            kind=ObligationKind.REPORT_TO_CUSTOMER,
            due=due + report_back_within,
            to="customer",
            note=f"{case.owner} reports back: {task}",
            rule=rule,
        ),
    )
    return order, obligations
