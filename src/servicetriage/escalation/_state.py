"""Events, actions and the state of a running escalation."""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from servicetriage.escalation._ownership import Case
from servicetriage.escalation._policy import BusinessClock, Chain, Recipient
from servicetriage.model import (
    require_aware,
)

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
