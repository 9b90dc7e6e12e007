"""The machine: `start` and `advance_escalation`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from servicetriage._deprecated import warn_calendar_argument
from servicetriage.errors import TicketError, TransitionError
from servicetriage.escalation._ownership import Case
from servicetriage.escalation._policy import (
    BusinessClock,
    Chain,
    EscalationPolicy,
    Recipient,
    RecipientKind,
    WhenEmpty,
)
from servicetriage.escalation._state import (
    _LEGAL,
    Action,
    ActionType,
    EscalationState,
    Event,
    EventKind,
    Standing,
    Status,
)
from servicetriage.model import (
    Mark,
    Ticket,
    Triage,
    require_aware,
)

if TYPE_CHECKING:
    from collections.abc import Iterable


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
