"""Post-incident reports and their review, as pure state machines.

Right after an incident its owner files an :class:`IncidentReport`: what
happened (a timeline), which deviations were taken under whose authority, the
playbook used, the outcome, the customer's satisfaction, the root cause,
feedback for other departments, lessons, and whether the case was a false
alarm or is exemplary. An impossible report (resolved before it was opened, a
timeline out of order) cannot be built; :func:`validate_report` also checks
every deviation against the authority in force.

A report then goes through review (:class:`ReportState`)::

    draft -> submitted -> in_review -> accepted | rejected | changes_requested
                                                         changes_requested -> submitted

and an amendment through its own (:class:`AmendmentState`)::

    proposed -> approved | rejected;  approved -> applied

Every transition names an actor, a time and a reason and is appended to the
:class:`Review`'s audit trail, an immutable tuple. An illegal transition, a
time that goes backwards, or an amendment approved by its own author raises
:class:`~servicetriage.errors.TransitionError`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, cast

import attrs

from servicetriage.errors import TicketError, TransitionError
from servicetriage.model import CustomerTier, FrozenMap, Money, Quadrant, require_aware

__all__ = [
    "AMENDMENT_TRANSITIONS",
    "REPORT_TRANSITIONS",
    "AmendmentEvent",
    "AmendmentState",
    "Deviation",
    "Feedback",
    "IncidentReport",
    "MayAuthorize",
    "Outcome",
    "PlaybookRef",
    "ReportEvent",
    "ReportState",
    "Review",
    "Subject",
    "TimelineEvent",
    "Transition",
    "advance",
    "amendment_review",
    "report_review",
    "validate_report",
]

#: ``may_authorize(tier, kind, amount) -> bool``: may *tier* take a deviation of *kind* for *amount*?
MayAuthorize = Callable[[str, str, Money | None], bool]


# --------------------------------------------------------------------------
# Validators


def _text(path: str, *, empty: bool = False) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or (not empty and not value.strip()):
            what = "a string" if empty else "a non-empty string"
            msg = f"{path}.{attribute.name}: expected {what}, got {value!r}"
            raise TicketError(msg)

    return check


def _aware_in(path: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
        if value is not None:
            require_aware(f"{path}.{attribute.name}", value)

    return check


def _score(_instance: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5):
        msg = f"report.{attribute.name}: expected a score from 1 to 5, got {value!r}"
        raise TicketError(msg)


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _conditions(value: Mapping[str, str] | None) -> FrozenMap[str, str]:
    if value is None:
        return FrozenMap()
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        msg = f"report.conditions: expected a table of names to strings, got {value!r}"
        raise TicketError(msg)
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


# --------------------------------------------------------------------------
# Reports


class Outcome(enum.Enum):
    """How an incident ended, for the customer."""

    RESOLVED = "resolved"
    PARTIALLY_RESOLVED = "partially_resolved"
    UNRESOLVED = "unresolved"
    COMPLAINT = "complaint"
    """The customer complained further (to us, the press or a regulator)."""

    @property
    def good(self) -> bool:
        """Whether the outcome counts as a success when judging a deviation."""
        return self is Outcome.RESOLVED


@attrs.frozen(kw_only=True)
class TimelineEvent:
    """One thing that happened during the incident, at an aware time."""

    at: datetime = attrs.field(validator=_aware_in("timeline"))
    what: str = attrs.field(validator=_text("timeline"))
    actor: str = attrs.field(default="", validator=_text("timeline", empty=True))


@attrs.frozen(kw_only=True)
class Deviation:
    """A decision outside the written procedure, and who authorized it.

    ``kind`` is an action kind (``"rebooking"``, ``"refund"``..., see
    :class:`~servicetriage.model.ActionKind`); ``tier`` is the authority tier
    of ``authorized_by``; ``grant`` names the grant of the authority policy it
    was taken under, if any.
    """

    kind: str = attrs.field(validator=_text("deviation"))
    authorized_by: str = attrs.field(validator=_text("deviation"))
    tier: str = attrs.field(validator=_text("deviation"))
    amount: Money | None = None
    grant: str | None = None
    at: datetime | None = attrs.field(default=None, validator=_aware_in("deviation"))
    note: str = attrs.field(default="", validator=_text("deviation", empty=True))

    def __attrs_post_init__(self) -> None:
        if self.amount is not None and self.amount.amount < 0:
            msg = f"deviation.amount: expected an amount >= 0, got '{self.amount}'"
            raise TicketError(msg)


@attrs.frozen(kw_only=True)
class PlaybookRef:
    """The playbook (contingency plan) used for an incident: its id and version number."""

    id: str = attrs.field(validator=_text("playbook"))
    version: int = 1


@attrs.frozen(kw_only=True)
class Feedback:
    """An item of feedback addressed to another department."""

    department: str = attrs.field(validator=_text("feedback"))
    note: str = attrs.field(validator=_text("feedback"))


@attrs.frozen(kw_only=True)
class IncidentReport:
    """A post-incident summary, filed by the incident's owner.

    ``category``, ``quadrant``, ``customer_tier`` and ``conditions`` describe
    the situation; together with each deviation's kind they form the
    *deviation signature* by which :mod:`servicetriage.learning` finds typical
    deviations. Satisfaction scores run from 1 to 5: ``satisfaction_before``
    as the customer felt when the incident began, ``satisfaction_after`` when
    it ended. ``reporter`` is who raised the alarm (a customer id), used by
    the false-alarm penalty rule.
    """

    id: str = attrs.field(validator=_text("report"))
    ticket_id: str = attrs.field(validator=_text("report"))
    owner: str = attrs.field(validator=_text("report"))
    opened_at: datetime = attrs.field(validator=_aware_in("report"))
    resolved_at: datetime | None = attrs.field(default=None, validator=_aware_in("report"))
    category: str = attrs.field(default="general", validator=_text("report"))
    quadrant: Quadrant | None = None
    customer_tier: CustomerTier = CustomerTier.STANDARD
    reporter: str | None = None
    timeline: tuple[TimelineEvent, ...] = attrs.field(default=(), converter=_tuple)
    deviations: tuple[Deviation, ...] = attrs.field(default=(), converter=_tuple)
    playbook: PlaybookRef | None = None
    outcome: Outcome = Outcome.RESOLVED
    satisfaction_before: int | None = attrs.field(default=None, validator=_score)
    satisfaction_after: int | None = attrs.field(default=None, validator=_score)
    root_cause: str = attrs.field(default="", validator=_text("report", empty=True))
    feedback: tuple[Feedback, ...] = attrs.field(default=(), converter=_tuple)
    false_alarm: bool = False
    lessons: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    exemplary: bool = False
    conditions: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_conditions)

    def __attrs_post_init__(self) -> None:
        problems = _impossibilities(self)
        if problems:
            raise TicketError("; ".join(problems), problems)

    @property
    def handled_by_procedure(self) -> bool:
        """Whether the incident was handled without any deviation."""
        return not self.deviations


def _impossibilities(report: IncidentReport) -> tuple[str, ...]:
    problems: list[str] = []
    opened = report.opened_at
    if report.resolved_at is not None and report.resolved_at < opened:
        problems.append(
            f"report {report.id}.resolved_at: resolved at {report.resolved_at.isoformat()}, "
            f"before it was opened at {opened.isoformat()}"
        )
    previous: datetime | None = None
    for index, event in enumerate(cast("tuple[Any, ...]", report.timeline)):
        if not isinstance(event, TimelineEvent):
            problems.append(f"report {report.id}.timeline[{index}]: expected a TimelineEvent, got {event!r}")
            continue
        if event.at < opened:
            problems.append(
                f"report {report.id}.timeline[{index}].at: {event.at.isoformat()} is before the incident "
                f"was opened at {opened.isoformat()}"
            )
        if previous is not None and event.at < previous:
            problems.append(
                f"report {report.id}.timeline[{index}].at: out of order, {event.at.isoformat()} "
                f"comes after {previous.isoformat()}"
            )
        previous = event.at
    for index, deviation in enumerate(cast("tuple[Any, ...]", report.deviations)):
        if not isinstance(deviation, Deviation):
            problems.append(f"report {report.id}.deviations[{index}]: expected a Deviation, got {deviation!r}")
        elif deviation.at is not None and deviation.at < opened:
            problems.append(
                f"report {report.id}.deviations[{index}].at: {deviation.at.isoformat()} is before the "
                f"incident was opened at {opened.isoformat()}"
            )
    for name in ("lessons",):
        for index, item in enumerate(getattr(report, name)):
            if not isinstance(item, str) or not item.strip():
                problems.append(f"report {report.id}.{name}[{index}]: expected a non-empty string, got {item!r}")
    return tuple(problems)


def validate_report(report: IncidentReport, may_authorize: MayAuthorize | None = None) -> IncidentReport:
    """Check *report* against the authority in force; return it unchanged when it holds.

    *may_authorize* answers whether a tier may take a deviation of a kind for
    an amount (an authority policy provides one: see
    :func:`servicetriage.store.authority_check`). Every deviation whose tier
    lacked the authority is listed in one
    :class:`~servicetriage.errors.TicketError`, naming its path. Without
    *may_authorize* only the report's own consistency (checked when it was
    built) is assumed.
    """
    if may_authorize is None:
        return report
    problems = []
    for index, deviation in enumerate(report.deviations):
        if not may_authorize(deviation.tier, deviation.kind, deviation.amount):
            amount = f" of {deviation.amount}" if deviation.amount is not None else ""
            grant = f" under grant {deviation.grant!r}" if deviation.grant else ""
            problems.append(
                f"report {report.id}.deviations[{index}]: {deviation.authorized_by} at tier {deviation.tier!r} "
                f"lacked the authority for {deviation.kind!r}{amount}{grant}"
            )
    if problems:
        raise TicketError("; ".join(problems), tuple(problems))
    return report


# --------------------------------------------------------------------------
# Review state machines


class Subject(enum.Enum):
    """What a review is about."""

    REPORT = "report"
    AMENDMENT = "amendment"


class ReportState(enum.Enum):
    """Where a report is in its review."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"


class ReportEvent(enum.Enum):
    """What can happen to a report under review."""

    SUBMIT = "submit"
    START = "start"
    ACCEPT = "accept"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class AmendmentState(enum.Enum):
    """Where an amendment is in its review."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    APPLIED = "applied"


class AmendmentEvent(enum.Enum):
    """What can happen to a proposed amendment."""

    APPROVE = "approve"
    REJECT = "reject"
    APPLY = "apply"


#: The legal report transitions: (state, event) -> new state.
REPORT_TRANSITIONS: FrozenMap[tuple[ReportState, ReportEvent], ReportState] = FrozenMap(
    {
        (ReportState.DRAFT, ReportEvent.SUBMIT): ReportState.SUBMITTED,
        (ReportState.CHANGES_REQUESTED, ReportEvent.SUBMIT): ReportState.SUBMITTED,
        (ReportState.SUBMITTED, ReportEvent.START): ReportState.IN_REVIEW,
        (ReportState.IN_REVIEW, ReportEvent.ACCEPT): ReportState.ACCEPTED,
        (ReportState.IN_REVIEW, ReportEvent.REJECT): ReportState.REJECTED,
        (ReportState.IN_REVIEW, ReportEvent.REQUEST_CHANGES): ReportState.CHANGES_REQUESTED,
    }
)

#: The legal amendment transitions: (state, event) -> new state.
AMENDMENT_TRANSITIONS: FrozenMap[tuple[AmendmentState, AmendmentEvent], AmendmentState] = FrozenMap(
    {
        (AmendmentState.PROPOSED, AmendmentEvent.APPROVE): AmendmentState.APPROVED,
        (AmendmentState.PROPOSED, AmendmentEvent.REJECT): AmendmentState.REJECTED,
        (AmendmentState.APPROVED, AmendmentEvent.APPLY): AmendmentState.APPLIED,
    }
)

State = ReportState | AmendmentState
Event = ReportEvent | AmendmentEvent


@attrs.frozen(kw_only=True)
class Transition:
    """One entry of an audit trail: who moved the subject from which state to which, when and why.

    The first entry of every trail records the creation (``event`` and
    ``source`` are ``None``).
    """

    event: Event | None
    source: State | None
    state: State
    actor: str
    at: datetime
    reason: str

    def __str__(self) -> str:
        what = self.event.value if self.event is not None else "create"
        return f"{self.at.isoformat()} {self.actor}: {what} -> {self.state.value} ({self.reason})"


def _trail(value: Iterable[Transition]) -> tuple[Transition, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Review:
    """The review of one report or amendment: its state and its append-only audit trail.

    ``author`` is who wrote the subject (the report's owner, the amendment's
    proposer); an amendment's author may not approve it.
    """

    subject: Subject
    id: str
    author: str
    trail: tuple[Transition, ...] = attrs.field(converter=_trail)

    @property
    def state(self) -> State:
        """The current state: the last transition's."""
        return self.trail[-1].state

    @property
    def updated_at(self) -> datetime:
        """When the last transition happened."""
        return self.trail[-1].at


def _who(actor: str, reason: str, at: datetime, where: str) -> None:
    if not isinstance(actor, str) or not actor.strip():
        msg = f"{where}: expected an actor (who does it), got {actor!r}"
        raise TransitionError(msg)
    if not isinstance(reason, str) or not reason.strip():
        msg = f"{where}: expected a reason (why), got {reason!r}"
        raise TransitionError(msg)
    try:
        require_aware(f"{where}.at", at)
    except TicketError as exc:
        raise TransitionError(str(exc)) from None


def _start(subject: Subject, id: str, state: State, *, author: str, at: datetime, reason: str) -> Review:
    if not isinstance(id, str) or not id.strip():
        msg = f"{subject.value}.id: expected a non-empty id, got {id!r}"
        raise TransitionError(msg)
    _who(author, reason, at, f"{subject.value} {id}")
    first = Transition(event=None, source=None, state=state, actor=author, at=at, reason=reason)
    return Review(subject=subject, id=id, author=author, trail=(first,))


def report_review(report_id: str, *, author: str, at: datetime, reason: str = "filed") -> Review:
    """A new review of a report, in state ``draft``, written by *author*."""
    return _start(Subject.REPORT, report_id, ReportState.DRAFT, author=author, at=at, reason=reason)


def amendment_review(amendment_id: str, *, author: str, at: datetime, reason: str = "proposed") -> Review:
    """A new review of an amendment, in state ``proposed``, proposed by *author*."""
    return _start(Subject.AMENDMENT, amendment_id, AmendmentState.PROPOSED, author=author, at=at, reason=reason)


def _event(subject: Subject, event: Event | str) -> Event:
    kind: type[ReportEvent | AmendmentEvent] = ReportEvent if subject is Subject.REPORT else AmendmentEvent
    if isinstance(event, kind):
        return event
    try:
        return kind(event.replace("-", "_") if isinstance(event, str) else event)
    except ValueError:
        choices = ", ".join(repr(e.value) for e in kind)
        msg = f"{subject.value}: no event {event!r}; expected one of {choices}"
        raise TransitionError(msg) from None


def advance(review: Review, event: Event | str, *, actor: str, at: datetime, reason: str) -> Review:
    """The review after *event*, with the transition appended to its audit trail.

    Raises :class:`~servicetriage.errors.TransitionError` naming the state and
    the event when the transition is illegal, when *at* is before the last
    transition, when the actor or the reason is missing, or when an
    amendment's author tries to approve it.
    """
    where = f"{review.subject.value} {review.id}"
    _who(actor, reason, at, where)
    happened = _event(review.subject, event)
    table: Mapping[Any, State] = REPORT_TRANSITIONS if review.subject is Subject.REPORT else AMENDMENT_TRANSITIONS
    state = review.state
    target = table.get((state, happened))
    if target is None:
        allowed = sorted(e.value for (s, e) in table if s == state)
        hint = f"; allowed: {', '.join(allowed)}" if allowed else f"; {state.value} is final"
        msg = f"{where}: cannot {happened.value} in state {state.value}{hint}"
        raise TransitionError(msg)
    if at < review.updated_at:
        msg = (
            f"{where}: {happened.value} at {at.isoformat()} is before the last transition "
            f"at {review.updated_at.isoformat()}; times must not go backwards"
        )
        raise TransitionError(msg)
    if happened is AmendmentEvent.APPROVE and actor == review.author:
        msg = f"{where}: {actor} proposed this amendment and cannot approve it; nobody approves their own amendment"
        raise TransitionError(msg)
    step = Transition(event=happened, source=state, state=target, actor=actor, at=at, reason=reason)
    return attrs.evolve(review, trail=(*review.trail, step))
