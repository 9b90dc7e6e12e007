"""Escalation chains, full-process ownership and work orders.

An `EscalationPolicy` holds one `Chain` per quadrant or
priority. A chain is an ordered list of `Step` values (who is
notified, after how long), optional `ProgressReport` cadences (while a
Q1 case is open, progress is reported upward at set intervals) and a direct
line to the executive tier for the gravest cases.

Escalation is a pure state machine:

- `start` selects the chain for a ticket's `Triage`
  and returns an `EscalationState` that holds a *snapshot* of that
  chain, so editing the policy later never changes a running escalation;
- `advance_escalation` moves the state to a later time, applying caller events
  (`Event`: acknowledged, progress reported, escalate now, resolved,
  reopened) and returns the new state with every `Action` that fell
  due, each stamped with the instant it became due.

The rules, exactly:

- Step 0 is entered ``steps[0].delay`` after the start; step *i + 1* is
  entered ``steps[i + 1].delay`` after step *i*'s last notification. A step
  with ``repeat = n`` notifies its targets again *n* more times,
  ``repeat_every`` apart (``repeat = -1``: until acknowledged or resolved,
  so later steps are never reached).
- A step with no target notifies nobody. ``when_empty = "skip"`` (the
  default) passes over it as if it were not there (its delay and repeats do
  not count); ``when_empty = "wait"`` makes it a pure pause: its delay (and
  repeats) count, nobody is notified.
- When the last step has notified (and repeated) and nobody acknowledged
  within the chain's ``exhausted_after``, the chain is *exhausted*: one
  `ActionType.EXHAUSTED` action tells the owner that the climb ended
  without an answer, and the status becomes `Status.EXHAUSTED`
  (progress reports go on; an ``escalate`` then reaches the executive tier).
  A chain with no step, or with a step that repeats forever, never exhausts.
- Timers due at an instant fire before an event at that same instant:
  a resolution at 10:15 does not cancel a notification due at 10:15. Events
  at one instant apply in the order given; an event equal to one already
  applied at the same instant (a repeated delivery) is ignored.
- *Acknowledged* stops the climb; progress-report reminders continue. A
  further acknowledgement (a second responder, or the same one again) is
  recorded in ``acknowledged_by`` and restarts the acknowledgement timeout.
  With the chain's ``ack_timeout``, a case acknowledged but not resolved
  within that time climbs again from step 0 (`ActionType.ACK_EXPIRED`
  tells those who acknowledged).
  *Progress* (the owner reported) restarts every report timer from that
  instant, and the acknowledgement timeout too. *Escalate* notifies the next step with a target at once (past the
  last step: the executive tier); while acknowledged it does not restart the
  climb. *Resolved* ends everything: nothing is emitted afterwards.
  *Reopened* restarts the chain from step 0 and the report timers from the
  reopening instant (the direct line is not repeated).
- Each reopening or acknowledgement timeout starts a new *episode*
  (``Action.episode``), so (ticket, episode, type, step, round, report,
  due) identifies an action once and for all: a ready idempotency key.
- Escalation brings people in and never takes the case away: notified tiers
  become approvers, every notified target becomes a watcher, and the owner
  stays the owner (`Case`).

Delays count business time when the chain says ``business_time = true``,
under the policy's ``calendar`` (the rule for every deadline: see
`servicetriage.calendar`, "Which calendar a deadline counts in"); without a
calendar they are wall-clock durations. Progress reports are always
wall-clock.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast

import attrs

from servicetriage._deprecated import renamed, warn_calendar_argument
from servicetriage._inputs import duration, members
from servicetriage._validators import check_priorities, non_empty, to_tuple
from servicetriage.calendar import BusinessCalendar
from servicetriage.digest import content_hash
from servicetriage.errors import PolicyError, TicketError, TransitionError
from servicetriage.model import (
    DEFAULT_TIERS,
    Finding,
    Mark,
    Obligation,
    ObligationKind,
    Pause,
    Quadrant,
    Severity,
    Ticket,
    Triage,
    require_aware,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "Action",
    "ActionType",
    "BusinessClock",
    "Case",
    "Chain",
    "EscalationPolicy",
    "EscalationState",
    "Event",
    "EventKind",
    "ProgressReport",
    "Recipient",
    "RecipientKind",
    "Standing",
    "Status",
    "Step",
    "WhenEmpty",
    "WorkOrder",
    "advance_escalation",
    "check_escalation_policy",
    "open_work_order",
    "start",
]

_ZERO = timedelta(0)


#: Old names, kept for one release: reading one warns and gives the object under its new name.
_RENAMED = {"Target": "Recipient", "TargetKind": "RecipientKind", "advance": "advance_escalation"}


def __getattr__(name: str) -> Any:
    return renamed(__name__, name, _RENAMED, globals())


class BusinessClock(Protocol):
    """What escalation needs from a business calendar (see `servicetriage.calendar`)."""

    def add(self, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()) -> datetime:
        """Return the instant *duration* of business time after *start*."""
        ...  # pragma: no cover


# --------------------------------------------------------------------------
# Validators


def _names(instance: Any, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    where = f"{type(instance).__name__.lower()}.{attribute.name}"
    for index, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            msg = f"{where}[{index}]: expected a non-empty name, got {name!r}"
            raise PolicyError(msg)
    if len(set(value)) != len(value):
        msg = f"{where}: expected distinct names, got {list(value)!r}"
        raise PolicyError(msg)


def _fmt(value: timedelta) -> str:
    seconds = value.total_seconds()
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return sign + (text or "0s")


def _non_negative_duration(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    duration(value, f"{type(instance).__name__.lower()}.{attribute.name}", PolicyError, positive=False)


def _positive_duration(instance: Any, attribute: attrs.Attribute[Any], value: timedelta | None) -> None:
    if value is not None:
        duration(value, f"{type(instance).__name__.lower()}.{attribute.name}", PolicyError)


# --------------------------------------------------------------------------
# Targets and steps


class RecipientKind(enum.Enum):
    """Whom a step notifies: a tier, a role or a named person."""

    TIER = "tier"
    ROLE = "role"
    PERSON = "person"


@attrs.frozen(order=True)
class Recipient:
    """One recipient of a notification, rendered ``tier:manager``, ``role:duty_officer``..."""

    kind: RecipientKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


class WhenEmpty(enum.Enum):
    """What a step with no target does (the rule is explicit; ``skip`` is the default)."""

    SKIP = "skip"
    """Pass over the step as if it were not there: its delay and repeats do not count."""
    WAIT = "wait"
    """A pure pause: its delay (and repeats) count, nobody is notified."""


def _check_repeat(_instance: Step, _attribute: attrs.Attribute[Any], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        msg = f"step.repeat: expected a whole number >= 0, or -1 for 'until acknowledged', got {value!r}"
        raise PolicyError(msg)


def _check_repeat_every(instance: Step, attribute: attrs.Attribute[Any], value: timedelta | None) -> None:
    _positive_duration(instance, attribute, value)
    if instance.repeat != 0 and value is None:
        msg = f"step.repeat_every: a step with repeat = {instance.repeat} needs an interval > 0, got none"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class Step:
    """One rung of a chain: whom to notify, and how long after the previous rung.

    ``delay`` counts from the previous step's last notification (from the
    start for step 0). ``repeat`` more notifications follow ``repeat_every``
    apart; ``-1`` repeats until acknowledged or resolved.
    """

    tiers: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_names)
    roles: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_names)
    people: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=_names)
    delay: timedelta = attrs.field(default=_ZERO, validator=_non_negative_duration)
    repeat: int = attrs.field(default=0, validator=_check_repeat)
    repeat_every: timedelta | None = attrs.field(default=None, validator=_check_repeat_every)
    when_empty: WhenEmpty = WhenEmpty.SKIP
    note: str = ""

    @property
    def targets(self) -> tuple[Recipient, ...]:
        """Every target of the step: tiers, then roles, then people."""
        return (
            *(Recipient(RecipientKind.TIER, t) for t in self.tiers),
            *(Recipient(RecipientKind.ROLE, r) for r in self.roles),
            *(Recipient(RecipientKind.PERSON, p) for p in self.people),
        )

    @property
    def empty(self) -> bool:
        """Whether the step notifies nobody."""
        return not (self.tiers or self.roles or self.people)


@attrs.frozen(kw_only=True)
class ProgressReport:
    """A progress report upward, due every ``every`` while the case is open.

    ``to`` names a tier. A reported progress (`EventKind.PROGRESS`)
    restarts the timer; otherwise a reminder falls due every ``every``.
    """

    to: str = attrs.field(validator=non_empty)
    every: timedelta = attrs.field(validator=_positive_duration)
    note: str = ""


def _to_quadrants(value: Iterable[Quadrant | str | int]) -> frozenset[Quadrant]:
    return members(Quadrant, value, "chain.quadrants", PolicyError)


def _check_priorities(instance: Any, _attribute: attrs.Attribute[Any], value: frozenset[int]) -> None:
    check_priorities(f"{type(instance).__name__.lower()}.priorities", value)


@attrs.frozen(kw_only=True)
class Chain:
    """An escalation chain, selected by quadrant and/or priority.

    Empty ``quadrants`` (or ``priorities``) means any. ``direct_to_top``
    notifies the executive tier at the start, as does a triage marked
    `DIRECT_TO_TOP`. ``business_time`` makes
    step delays (and the two timeouts) count business time under the
    escalation policy's ``calendar``. ``exhausted_after`` is how long the last
    notice may go unanswered before the chain counts as exhausted;
    ``ack_timeout`` (``None``: never) how long a case may stay acknowledged
    but unresolved before it climbs again from step 0.
    """

    id: str = attrs.field(validator=non_empty)
    quadrants: frozenset[Quadrant] = attrs.field(default=frozenset(), converter=_to_quadrants)
    priorities: frozenset[int] = attrs.field(default=frozenset(), converter=frozenset, validator=_check_priorities)
    steps: tuple[Step, ...] = attrs.field(default=(), converter=to_tuple)
    reports: tuple[ProgressReport, ...] = attrs.field(default=(), converter=to_tuple)
    direct_to_top: bool = False
    business_time: bool = False
    exhausted_after: timedelta = attrs.field(default=_ZERO, validator=_non_negative_duration)
    ack_timeout: timedelta | None = attrs.field(default=None, validator=_positive_duration)
    description: str = ""

    def applies_to(self, triage: Triage) -> bool:
        """Whether this chain covers *triage*'s quadrant and priority."""
        return (not self.quadrants or triage.quadrant in self.quadrants) and (
            not self.priorities or triage.priority in self.priorities
        )


def _check_tiers(instance: EscalationPolicy, attribute: attrs.Attribute[Any], value: tuple[str, ...]) -> None:
    if not value:
        msg = "escalationpolicy.tiers: expected at least one tier, got []"
        raise PolicyError(msg)
    _names(instance, attribute, value)


def _check_chains(_instance: EscalationPolicy, _attribute: attrs.Attribute[Any], value: tuple[Chain, ...]) -> None:
    seen: dict[str, int] = {}
    for index, chain in enumerate(value):
        if chain.id in seen:
            msg = f"escalationpolicy.chains[{index}].id: duplicate id {chain.id!r} (first at chains[{seen[chain.id]}])"
            raise PolicyError(msg)
        seen[chain.id] = index


def _check_executive(instance: EscalationPolicy, _attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and value not in instance.tiers:
        msg = f"escalationpolicy.executive: expected one of the tiers {list(instance.tiers)!r}, got {value!r}"
        raise PolicyError(msg)


def _check_calendar(_instance: Any, _attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, BusinessCalendar):
        msg = f"escalationpolicy.calendar: expected a BusinessCalendar or none, got {value!r}"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class EscalationPolicy:
    """The escalation chains of an organisation (the ``[escalation]`` table of a policy file).

    ``chains`` are tried in order; the first that applies to a triage wins.
    ``executive`` is the tier the direct line reaches (default: the last tier).
    ``calendar`` is the business calendar that chains with ``business_time``
    and work orders opened under the policy count in (none: wall-clock time).
    """

    tiers: tuple[str, ...] = attrs.field(default=DEFAULT_TIERS, converter=to_tuple, validator=_check_tiers)
    chains: tuple[Chain, ...] = attrs.field(default=(), converter=to_tuple, validator=_check_chains)
    executive: str | None = attrs.field(default=None, validator=_check_executive)
    calendar: BusinessCalendar | None = attrs.field(default=None, validator=_check_calendar)
    _content_hash: str = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Once per policy: every escalation started under it carries this hash on its actions.
        object.__setattr__(self, "_content_hash", content_hash(self))

    @property
    def content_hash(self) -> str:
        """The policy's content hash (`servicetriage.digest.content_hash`), computed once when it was built."""
        return self._content_hash

    @property
    def top(self) -> str:
        """The executive tier: ``executive`` or the last tier."""
        return self.executive if self.executive is not None else self.tiers[-1]

    def select(self, triage: Triage) -> Chain | None:
        """Return the first chain that applies to *triage*, or ``None``."""
        for chain in self.chains:
            if chain.applies_to(triage):
                return chain
        return None


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


# --------------------------------------------------------------------------
# Events, actions and state


class Status(enum.Enum):
    """Where an escalation is."""

    CLIMBING = "climbing"
    """Open and unacknowledged: the chain climbs on its timers."""
    EXHAUSTED = "exhausted"
    """Open and unacknowledged, and the chain has no step left: the climb ended without an answer."""
    ACKNOWLEDGED = "acknowledged"
    """Someone took it: the climb stopped; progress reports continue."""
    RESOLVED = "resolved"
    """Ended: nothing more is emitted (unless reopened)."""


class EventKind(enum.Enum):
    """What the caller tells an escalation."""

    ACKNOWLEDGED = "acknowledged"
    """Stops the climb. Legal while open; once acknowledged, records one more responder
    and restarts the acknowledgement timeout."""
    PROGRESS = "progress"
    """The owner reported progress: every report timer (and the acknowledgement timeout) restarts.
    Legal while open."""
    ESCALATE = "escalate"
    """Notify the next step at once (past the last: the executive tier). Legal while open."""
    RESOLVED = "resolved"
    """Ends the escalation. Legal while open."""
    REOPENED = "reopened"
    """Restarts the chain and the report timers. Legal only when resolved."""


_OPEN_EVENTS = frozenset({EventKind.ACKNOWLEDGED, EventKind.PROGRESS, EventKind.ESCALATE, EventKind.RESOLVED})
_LEGAL: dict[Status, frozenset[EventKind]] = {
    Status.CLIMBING: _OPEN_EVENTS,
    Status.EXHAUSTED: _OPEN_EVENTS,
    Status.ACKNOWLEDGED: _OPEN_EVENTS,
    Status.RESOLVED: frozenset({EventKind.REOPENED}),
}


@attrs.frozen(kw_only=True)
class Event:
    """Something that happened to the case at an instant, told by the caller."""

    kind: EventKind
    at: datetime = attrs.field(validator=lambda _, __, v: require_aware("event.at", v))
    by: str = ""
    note: str = ""


class ActionType(enum.Enum):
    """What an escalation asks the caller to do."""

    NOTIFY = "notify"
    """Notify a step's targets."""
    DIRECT_TO_TOP = "direct_to_top"
    """Notify the executive tier directly (gravest cases, or escalation past the last step)."""
    REPORT_PROGRESS = "report_progress"
    """A progress report upward is due from the owner."""
    EXHAUSTED = "exhausted"
    """The chain ran out of steps and nobody acknowledged: tells the owner (the only target)."""
    ACK_EXPIRED = "ack_expired"
    """Acknowledged but not resolved within the chain's ``ack_timeout``: the climb restarts at
    step 0; tells those who acknowledged (the targets)."""


@attrs.frozen(kw_only=True)
class Action:
    """One thing now due, with the instant it became due (``due``).

    ``step`` and ``round`` locate a notification in the chain (round 0 is the
    first notice, 1 the first repeat...); ``report`` indexes the chain's
    progress reports; ``episode`` counts the restarts before it (0 for the
    first climb, one more for each reopening or acknowledgement timeout).
    ``policy_hash`` is the content hash of the `EscalationPolicy` the
    escalation was started under (kept on its state), ``policy_version`` its
    version number when the policy came from a store.
    """

    type: ActionType
    due: datetime
    ticket_id: str
    targets: tuple[Recipient, ...]
    step: int | None = None
    round: int = 0
    report: int | None = None
    episode: int = 0
    note: str = ""
    policy_hash: str = ""
    policy_version: int | None = None

    def __str__(self) -> str:
        where = f" (step {self.step + 1}, round {self.round})" if self.step is not None else ""
        to = ", ".join(str(t) for t in self.targets)
        return f"{self.due.isoformat()} {self.type.value} {to}{where}" + (f": {self.note}" if self.note else "")


@attrs.frozen(kw_only=True)
class Standing:
    """Where an escalation stands: its chain snapshot, its case and its timers.

    ``chain``, ``tiers``, ``executive`` and ``calendar`` are the snapshot of
    the policy taken by `start` (``calendar`` is the policy's, not an input
    of its own). Changes only when something falls due or an event applies;
    see `EscalationState`.
    """

    case: Case
    chain: Chain
    tiers: tuple[str, ...]
    executive: str
    calendar: BusinessClock | None
    status: Status
    started_at: datetime
    step: int
    round: int
    next_step: int | None
    next_round: int
    next_at: datetime | None
    report_due: tuple[datetime, ...]
    direct_pending: bool
    wake: datetime | None
    episode: int = 0
    acknowledged_by: tuple[str, ...] = ()
    ack_expires: datetime | None = None
    applied: tuple[Event, ...] = ()
    policy_hash: str = ""


@attrs.frozen(kw_only=True)
class EscalationState:
    """A running escalation: where it stands (a snapshot of its chain, its timers) and its clock.

    Built by `start`, moved by `advance_escalation`; never edit it by hand.
    ``last`` is the latest instant advanced to; `wake` the next
    instant at which something falls due (``None``: nothing ever will,
    without events). Advancing to a time at which nothing falls due only
    moves ``last`` and shares ``standing``, which keeps the hot path cheap.
    """

    standing: Standing
    last: datetime

    @property
    def case(self) -> Case:
        """The case: its owner, approvers and watchers."""
        return self.standing.case

    @property
    def ticket_id(self) -> str:
        """The escalated ticket's id."""
        return self.standing.case.ticket_id

    @property
    def owner(self) -> str:
        """The case owner; escalation never changes it."""
        return self.standing.case.owner

    @property
    def chain(self) -> Chain:
        """The snapshot of the chain taken at the start."""
        return self.standing.chain

    @property
    def tiers(self) -> tuple[str, ...]:
        """The tier names of the policy at the start."""
        return self.standing.tiers

    @property
    def status(self) -> Status:
        """Climbing, exhausted, acknowledged or resolved."""
        return self.standing.status

    @property
    def exhausted(self) -> bool:
        """Whether the chain ran out of steps with nobody acknowledging (the status says so too)."""
        return self.standing.status is Status.EXHAUSTED

    @property
    def episode(self) -> int:
        """How many times the climb restarted (by reopening or acknowledgement timeout)."""
        return self.standing.episode

    @property
    def acknowledged_by(self) -> tuple[str, ...]:
        """Who acknowledged since the climb last (re)started, in order, each once."""
        return self.standing.acknowledged_by

    @property
    def ack_expires(self) -> datetime | None:
        """When the acknowledgement times out (``None``: no timeout, or not acknowledged)."""
        return self.standing.ack_expires

    @property
    def started_at(self) -> datetime:
        """When the escalation started."""
        return self.standing.started_at

    @property
    def step(self) -> int:
        """The index of the last step entered (-1: none yet)."""
        return self.standing.step

    @property
    def wake(self) -> datetime | None:
        """The next instant at which something falls due, or ``None``."""
        return self.standing.wake


# --------------------------------------------------------------------------
# The machine


class _Run:
    """A mutable working copy of a state during one `advance_escalation` call."""

    __slots__ = (
        "ack_expires",
        "acked_by",
        "actions",
        "applied",
        "case",
        "direct_pending",
        "episode",
        "next_at",
        "next_round",
        "next_step",
        "report_due",
        "round",
        "state",
        "status",
        "step",
    )

    def __init__(self, standing: Standing) -> None:
        self.state = standing
        self.case = standing.case
        self.status = standing.status
        self.step = standing.step
        self.round = standing.round
        self.next_step = standing.next_step
        self.next_round = standing.next_round
        self.next_at = standing.next_at
        self.report_due = list(standing.report_due)
        self.direct_pending = standing.direct_pending
        self.episode = standing.episode
        self.acked_by = standing.acknowledged_by
        self.ack_expires = standing.ack_expires
        self.applied = standing.applied
        self.actions: list[Action] = []

    # -- scheduling

    def _add(self, at: datetime, delay: timedelta) -> datetime:
        calendar = self.state.calendar
        if calendar is not None and self.state.chain.business_time:
            return calendar.add(at, delay)
        return at + delay

    def _live_from(self, index: int) -> int | None:
        steps = self.state.chain.steps
        while index < len(steps):
            step = steps[index]
            if not (step.empty and step.when_empty is WhenEmpty.SKIP):
                return index
            index += 1
        return None

    def _schedule_after(self, index: int, done: int, at: datetime) -> None:
        """Schedule what follows round *done* of step *index*, notified at *at*.

        After the last live step comes the exhaustion timer, encoded as the
        step one past the end.
        """
        chain = self.state.chain
        step = chain.steps[index]
        if step.repeat == -1 or done < step.repeat:
            assert step.repeat_every is not None  # the validator guarantees it
            self.next_step, self.next_round, self.next_at = index, done + 1, self._add(at, step.repeat_every)
            return
        following = self._live_from(index + 1)
        if following is None:
            self.next_step, self.next_round = len(chain.steps), 0
            self.next_at = self._add(at, chain.exhausted_after)
        else:
            self.next_step, self.next_round, self.next_at = following, 0, self._add(at, chain.steps[following].delay)

    def _climb_from_start(self, at: datetime) -> None:
        self.step, self.round = -1, 0
        first = self._live_from(0)
        if first is None:
            self.next_step, self.next_round, self.next_at = None, 0, None
        else:
            self.next_step, self.next_round = first, 0
            self.next_at = self._add(at, self.state.chain.steps[first].delay)

    def _restart(self, at: datetime) -> None:
        self._climb_from_start(at)
        self.report_due = [at + report.every for report in self.state.chain.reports]

    def _stop_climbing(self) -> None:
        self.next_step, self.next_round, self.next_at = None, 0, None

    # -- firing timers

    def _emit(self, kind: ActionType, at: datetime, targets: tuple[Recipient, ...], **extra: Any) -> None:
        self.actions.append(
            Action(
                type=kind,
                due=at,
                ticket_id=self.case.ticket_id,
                targets=targets,
                episode=self.episode,
                policy_hash=self.state.policy_hash,
                **extra,
            )
        )

    def _top(self, at: datetime, note: str) -> None:
        target = Recipient(RecipientKind.TIER, self.state.executive)
        self._emit(ActionType.DIRECT_TO_TOP, at, (target,), note=note)
        self.case = self.case.brought_in((target,))

    def _notify(self, index: int, done: int, at: datetime) -> None:
        step = self.state.chain.steps[index]
        self.step, self.round = index, done
        if not step.empty:
            targets = step.targets
            self.actions.append(
                Action(
                    type=ActionType.NOTIFY,
                    due=at,
                    ticket_id=self.case.ticket_id,
                    targets=targets,
                    step=index,
                    round=done,
                    episode=self.episode,
                    note=step.note,
                    policy_hash=self.state.policy_hash,
                )
            )
            self.case = self.case.brought_in(targets)

    def _exhaust(self, at: datetime) -> None:
        self._stop_climbing()
        self.status = Status.EXHAUSTED
        owner = Recipient(RecipientKind.PERSON, self.case.owner)
        self._emit(
            ActionType.EXHAUSTED,
            at,
            (owner,),
            note="the chain has no step left and nobody acknowledged: escalate by hand or act under "
            "delegated authority",
        )

    def _ack_expired(self, at: datetime) -> None:
        targets = tuple(Recipient(RecipientKind.PERSON, name) for name in self.acked_by)
        since = "" if self.acked_by == () else f" by {', '.join(self.acked_by)}"
        self._emit(
            ActionType.ACK_EXPIRED,
            at,
            targets,
            note=f"acknowledged{since} but not resolved within the acknowledgement timeout: climbing again",
        )
        self.case = self.case.brought_in(targets)
        self.episode += 1
        self.status = Status.CLIMBING
        self.acked_by, self.ack_expires = (), None
        self._climb_from_start(at)

    def run_until(self, until: datetime) -> None:
        """Fire every timer due at or before *until*, in time order.

        Ties: the direct line, then the acknowledgement timeout, then the
        chain, then the progress reports in their order.
        """
        reports = self.state.chain.reports
        while True:
            best: datetime | None = None
            which = -4  # -3 direct line, -2 ack timeout, -1 chain step, >= 0 report index
            if self.direct_pending:
                best, which = self.state.started_at, -3
            if self.ack_expires is not None and (best is None or self.ack_expires < best):
                best, which = self.ack_expires, -2
            if self.next_at is not None and (best is None or self.next_at < best):
                best, which = self.next_at, -1
            for index, due in enumerate(self.report_due):
                if best is None or due < best:
                    best, which = due, index
            if best is None or best > until:
                return
            if which == -3:
                self.direct_pending = False
                self._top(best, "direct line: the gravest cases reach the executive tier at once")
            elif which == -2:
                self._ack_expired(best)
            elif which == -1:
                assert self.next_step is not None
                index, done = self.next_step, self.next_round
                if index == len(self.state.chain.steps):
                    self._exhaust(best)
                else:
                    self._notify(index, done, best)
                    self._schedule_after(index, done, best)
            else:
                report = reports[which]
                target = Recipient(RecipientKind.TIER, report.to)
                self.actions.append(
                    Action(
                        type=ActionType.REPORT_PROGRESS,
                        due=best,
                        ticket_id=self.case.ticket_id,
                        targets=(target,),
                        report=which,
                        episode=self.episode,
                        note=report.note,
                        policy_hash=self.state.policy_hash,
                    )
                )
                self.case = self.case.brought_in((target,), approve=False)
                self.report_due[which] = best + report.every

    # -- events

    def seen(self, event: Event) -> bool:
        """Whether an equal event was already applied at its instant (a repeated delivery)."""
        applied = self.applied
        return bool(applied) and applied[0].at == event.at and event in applied

    def apply(self, event: Event) -> None:
        """Apply one event (its legality was checked)."""
        kind, at = event.kind, event.at
        self.applied = (*self.applied, event) if self.applied and self.applied[0].at == at else (event,)
        if kind is EventKind.ACKNOWLEDGED:
            self.status = Status.ACKNOWLEDGED
            self._stop_climbing()
            if event.by and event.by not in self.acked_by:
                self.acked_by = (*self.acked_by, event.by)
            timeout = self.state.chain.ack_timeout
            self.ack_expires = None if timeout is None else self._add(at, timeout)
        elif kind is EventKind.PROGRESS:
            self.report_due = [at + report.every for report in self.state.chain.reports]
            if self.ack_expires is not None:  # a sign of life: the acknowledgement timeout restarts
                timeout = self.state.chain.ack_timeout
                assert timeout is not None
                self.ack_expires = self._add(at, timeout)
        elif kind is EventKind.ESCALATE:
            following = self._next_with_target(self.step + 1)
            if following is None:
                self._top(at, event.note or "escalated past the last step")
                return
            self._notify(following, 0, at)
            if self.status is Status.CLIMBING:
                self._schedule_after(following, 0, at)
        elif kind is EventKind.RESOLVED:
            self.status = Status.RESOLVED
            self._stop_climbing()
            self.report_due = []
            self.direct_pending = False
            self.ack_expires = None
        else:  # REOPENED
            self.status = Status.CLIMBING
            self.episode += 1
            self.acked_by, self.ack_expires = (), None
            self._restart(at)

    def _next_with_target(self, index: int) -> int | None:
        steps = self.state.chain.steps
        while index < len(steps):
            if not steps[index].empty:
                return index
            index += 1
        return None

    def freeze(self, now: datetime) -> EscalationState:
        """Build the resulting immutable state."""
        wake: datetime | None = self.state.started_at if self.direct_pending else None
        for due in (self.ack_expires, self.next_at):
            if due is not None and (wake is None or due < wake):
                wake = due
        for due in self.report_due:
            if wake is None or due < wake:
                wake = due
        old = self.state
        standing = Standing(
            case=self.case,
            chain=old.chain,
            tiers=old.tiers,
            executive=old.executive,
            calendar=old.calendar,
            status=self.status,
            started_at=old.started_at,
            step=self.step,
            round=self.round,
            next_step=self.next_step,
            next_round=self.next_round,
            next_at=self.next_at,
            report_due=tuple(self.report_due),
            direct_pending=self.direct_pending,
            wake=wake,
            episode=self.episode,
            acknowledged_by=self.acked_by,
            ack_expires=self.ack_expires,
            applied=self.applied,
            policy_hash=old.policy_hash,
        )
        return EscalationState(standing=standing, last=now)


def start(
    ticket: Ticket,
    triage: Triage,
    policy: EscalationPolicy,
    now: datetime,
    *,
    owner: str,
    calendar: BusinessClock | None = None,
    direct_to_top: bool | None = None,
) -> EscalationState:
    """Start escalating *ticket* at *now* under the chain its *triage* selects.

    The state keeps a snapshot of the chain (and the tier names), so later
    edits of *policy* do not change it. No action is emitted yet: call
    `advance_escalation` (at *now* or later) to collect what is due, including
    step 0 when its delay is zero. The direct line to the executive tier
    opens when the triage is marked ``DIRECT_TO_TOP`` or the chain says
    ``direct_to_top``; *direct_to_top* overrides both. A triage that no
    chain covers starts an escalation with no steps (only the direct line,
    if any). *owner* owns the case for its whole life. Chains with
    ``business_time`` count in the policy's ``calendar``; the state keeps it
    in its snapshot.

    *calendar* is deprecated (it goes in 0.3.0): set
    ``EscalationPolicy.calendar`` instead. When given, it still replaces the
    policy's calendar, with a `DeprecationWarning`.
    """
    require_aware("now", now)
    if calendar is not None:
        warn_calendar_argument("escalation.start", "EscalationPolicy.calendar")
    else:
        calendar = policy.calendar
    if triage.ticket_id != ticket.id:
        msg = f"triage.ticket_id: expected the ticket's id {ticket.id!r}, got {triage.ticket_id!r}"
        raise TicketError(msg)
    if not isinstance(owner, str) or not owner.strip():
        msg = f"owner: expected a non-empty name, got {owner!r}"
        raise TicketError(msg)
    chain = policy.select(triage) or Chain(id="none", description="no chain covers this triage")
    direct = (Mark.DIRECT_TO_TOP in triage.marks or chain.direct_to_top) if direct_to_top is None else direct_to_top
    standing = Standing(
        case=Case(ticket_id=ticket.id, owner=owner),
        chain=chain,
        tiers=policy.tiers,
        executive=policy.top,
        calendar=calendar,
        status=Status.CLIMBING,
        started_at=now,
        step=-1,
        round=0,
        next_step=None,
        next_round=0,
        next_at=None,
        report_due=(),
        direct_pending=direct,
        wake=None,
        policy_hash=policy.content_hash,
    )
    run = _Run(standing)
    run._restart(now)  # noqa: SLF001 - the machine's own helper
    return run.freeze(now)


def advance_escalation(
    state: EscalationState, now: datetime, events: Iterable[Event] = ()
) -> tuple[EscalationState, tuple[Action, ...]]:
    """Move *state* to *now*, applying *events*; return the new state and the actions now due.

    Every action due in ``(state.last, now]`` is returned once, in time
    order, stamped with its own due instant (so advancing late still reports
    when each became due). Events must lie in ``[state.last, now]``; they
    apply in time order (ties: as given), after the timers due at their
    instant. An event equal to one already applied at the same instant (in
    this call or the previous one) is a repeated delivery and is ignored.
    Advancing in one call or in many smaller ones gives the same state and
    the same actions.

    :raises TransitionError: *now* (or an event) is earlier than
        ``state.last``, an event is later than *now*, or an event is illegal
        in the state it meets (the message names the state and the event).
    :raises TicketError: *now* is naive, or an item of *events* is not an
        `Event`.
    """
    last = state.last
    try:
        earlier = now < last
    except TypeError:  # naive, or not a datetime at all: name it
        require_aware("now", now)
        raise
    if earlier:
        msg = f"advance_escalation: now {now.isoformat()} is earlier than the state's last time {last.isoformat()}"
        raise TransitionError(msg)
    standing = state.standing
    if not events:
        wake = standing.wake
        if wake is None or wake > now:
            if now == last:
                return state, ()
            return EscalationState(standing=standing, last=now), ()
        run = _Run(standing)
        run.run_until(now)
        return run.freeze(now), tuple(run.actions)
    ordered: list[Event] = []
    for index, item in enumerate(cast("Iterable[object]", events)):  # callers may pass anything
        if not isinstance(item, Event):
            msg = f"events[{index}]: expected an Event, got {item!r}"
            raise TicketError(msg)
        ordered.append(item)
    ordered.sort(key=lambda e: e.at)
    run = _Run(standing)
    for event in ordered:
        if event.at < last:
            msg = (
                f"event {event.kind.value} at {event.at.isoformat()} is earlier than the state's "
                f"last time {last.isoformat()}"
            )
            raise TransitionError(msg)
        if event.at > now:
            msg = f"event {event.kind.value} at {event.at.isoformat()} is later than now {now.isoformat()}"
            raise TransitionError(msg)
        run.run_until(event.at)
        if run.seen(event):
            continue
        if event.kind not in _LEGAL[run.status]:
            msg = (
                f"event {event.kind.value} at {event.at.isoformat()} is not allowed while the escalation "
                f"is {run.status.value}"
            )
            raise TransitionError(msg)
        run.apply(event)
    run.run_until(now)
    return run.freeze(now), tuple(run.actions)


# --------------------------------------------------------------------------
# Static checks


def _covers_q1(chain: Chain) -> bool:
    return not chain.quadrants or Quadrant.Q1 in chain.quadrants


def check_escalation_policy(policy: EscalationPolicy) -> tuple[Finding, ...]:
    """Find what is wrong or doubtful in *policy*, each with its path.

    Codes: ``escalation.q1-no-executive`` (error: a chain covering Q1 that
    never reaches the executive tier), ``escalation.unknown-tier`` (error),
    ``escalation.gap`` (a quadrant no chain covers: error for Q1, warning for
    Q2 and Q3, info for Q4), ``escalation.shadowed-chain`` (warning: an
    earlier chain covers everything this one does),
    ``escalation.unreachable-step`` (warning: after a step that repeats
    forever), ``escalation.duplicate-step`` (warning: same targets again with
    zero delay), ``escalation.q1-waits-empty`` (warning: an empty ``wait``
    step in a Q1 chain), ``escalation.no-steps`` (warning: no step, or no
    step with a target). Negative delays
    and missing repeat intervals never get this far: the policy cannot be
    built with them (a `PolicyError` names the
    field).
    """
    findings: list[Finding] = []
    known = set(policy.tiers)
    top = policy.top

    def add(code: str, severity: Severity, path: str, message: str) -> None:
        findings.append(Finding(code=code, severity=severity, path=path, message=message))

    for c, chain in enumerate(policy.chains):
        base = f"escalation.chains[{c}]"
        for earlier_index, earlier in enumerate(policy.chains[:c]):
            quads = not earlier.quadrants or (bool(chain.quadrants) and chain.quadrants <= earlier.quadrants)
            prios = not earlier.priorities or (bool(chain.priorities) and chain.priorities <= earlier.priorities)
            if quads and prios:
                add(
                    "escalation.shadowed-chain",
                    Severity.WARNING,
                    base,
                    f"chain {chain.id!r} is never selected: chains[{earlier_index}] ({earlier.id!r}) "
                    "covers every triage it covers and comes first",
                )
                break
        if all(step.empty for step in chain.steps):
            what = "has no step" if not chain.steps else "has only steps without a target"
            add(
                "escalation.no-steps",
                Severity.WARNING,
                f"{base}.steps",
                f"chain {chain.id!r} notifies nobody: it {what}",
            )
        reaches_top = chain.direct_to_top
        forever_at: int | None = None
        previous: Step | None = None
        for s, step in enumerate(chain.steps):
            path = f"{base}.steps[{s}]"
            for t, tier in enumerate(step.tiers):
                if tier not in known:
                    add(
                        "escalation.unknown-tier",
                        Severity.ERROR,
                        f"{path}.tiers[{t}]",
                        f"unknown tier {tier!r}; known tiers: {', '.join(policy.tiers)}",
                    )
            if forever_at is not None:
                add(
                    "escalation.unreachable-step",
                    Severity.WARNING,
                    path,
                    f"never reached: steps[{forever_at}] repeats until acknowledged (repeat = -1)",
                )
            else:
                if top in step.tiers:
                    reaches_top = True
                if (
                    previous is not None
                    and not step.empty
                    and step.delay == _ZERO
                    and previous.repeat == 0
                    and step.targets == previous.targets
                ):
                    add(
                        "escalation.duplicate-step",
                        Severity.WARNING,
                        path,
                        f"notifies {', '.join(map(str, step.targets))} again at the same instant as steps[{s - 1}]",
                    )
            if step.empty and step.when_empty is WhenEmpty.WAIT and _covers_q1(chain):
                add(
                    "escalation.q1-waits-empty",
                    Severity.WARNING,
                    path,
                    "a Q1 chain waits on a step that notifies nobody",
                )
            if step.repeat == -1 and forever_at is None:
                forever_at = s
            previous = step
        for r, report in enumerate(chain.reports):
            if report.to not in known:
                add(
                    "escalation.unknown-tier",
                    Severity.ERROR,
                    f"{base}.reports[{r}].to",
                    f"unknown tier {report.to!r}; known tiers: {', '.join(policy.tiers)}",
                )
        if _covers_q1(chain) and not reaches_top:
            add(
                "escalation.q1-no-executive",
                Severity.ERROR,
                base,
                f"chain {chain.id!r} covers Q1 but never reaches the executive tier {top!r} "
                "(add a step with that tier, or direct_to_top = true)",
            )
    for quadrant in Quadrant:
        if not any(not ch.quadrants or quadrant in ch.quadrants for ch in policy.chains):
            severity = {Quadrant.Q1: Severity.ERROR, Quadrant.Q4: Severity.INFO}.get(quadrant, Severity.WARNING)
            add("escalation.gap", severity, "escalation.chains", f"no chain covers {quadrant.name}")
    return tuple(findings)
