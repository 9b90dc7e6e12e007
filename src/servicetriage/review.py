"""Post-incident reports and their review, as pure state machines.

Right after an incident its owner files an `IncidentReport`: what
happened (a timeline), which deviations were taken under whose authority, the
playbook used, the outcome, the customer's satisfaction, the root cause,
feedback for other departments, lessons, and whether the case was a false
alarm or is exemplary. An impossible report (resolved before it was opened, a
timeline out of order) cannot be built; `validate_report` also checks
every deviation against the authority in force.

A report then goes through review (`ReportState`):

    draft -> submitted -> in_review -> accepted | rejected | changes_requested
                                                         changes_requested -> submitted

and an amendment through its own (`AmendmentState`):

    proposed -> approved | rejected;  approved -> applied

Every transition names an actor, a time and a reason and is appended to the
`Review`'s audit trail, an immutable tuple. An illegal transition, a
time that goes backwards, or an amendment approved by its own author raises
`TransitionError`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar, cast

import attrs

from servicetriage._deprecated import renamed
from servicetriage._inputs import member, money
from servicetriage._validators import check_whole_number, to_tuple
from servicetriage.authority import Actor, AuthorityPolicy, CompiledPolicy, Decision, Request, Usage, authorize
from servicetriage.authority import Outcome as DecisionOutcome
from servicetriage.errors import TicketError, TransitionError
from servicetriage.model import (
    Channel,
    Customer,
    CustomerTier,
    FrozenMap,
    Level,
    Money,
    Quadrant,
    Reason,
    Ticket,
    Triage,
    require_aware,
)

__all__ = [
    "AMENDMENT_TRANSITIONS",
    "REPORT_TRANSITIONS",
    "AmendmentEvent",
    "AmendmentState",
    "Authority",
    "AuthorityVerdict",
    "Deviation",
    "DeviationCheck",
    "Feedback",
    "IncidentOutcome",
    "IncidentReport",
    "MayAuthorize",
    "PlaybookRef",
    "ReportEvent",
    "ReportState",
    "Review",
    "Subject",
    "TimelineEvent",
    "Transition",
    "advance_review",
    "amendment_review",
    "check_deviations",
    "deviation_request",
    "report_review",
    "validate_report",
]

E = TypeVar("E", bound=enum.Enum)


#: Old names, kept for one release: reading one warns and gives the object under its new name.
_RENAMED = {"Outcome": "IncidentOutcome", "advance": "advance_review"}


def __getattr__(name: str) -> Any:
    return renamed(__name__, name, _RENAMED, globals())


#: ``may_authorize(tier, kind, amount) -> bool``: may *tier* take a deviation of *kind* for *amount*?
MayAuthorize = Callable[[str, str, Money | None], bool]

#: What a report's deviations can be checked against: an authority policy
#: (judged by `servicetriage.authority.authorize`) or a plain
#: `MayAuthorize` callable.
Authority = AuthorityPolicy | CompiledPolicy | MayAuthorize


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


def _optional_flag(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        msg = f"report.{attribute.name}: expected true, false or nothing (not recorded), got {value!r}"
        raise TicketError(msg)


def _optional_text(path: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None and (not isinstance(value, str) or not value.strip()):
            msg = f"{path}.{attribute.name}: expected a non-empty string or nothing, got {value!r}"
            raise TicketError(msg)

    return check


def _flag(path: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, bool):
            msg = f"{path}.{attribute.name}: expected true or false, got {value!r}"
            raise TicketError(msg)

    return check


def _to_quadrant(value: Any) -> Quadrant | None:
    return None if value is None else member(Quadrant, value, "report.quadrant", TicketError)


def _to_customer_tier(value: Any) -> CustomerTier:
    return member(CustomerTier, value, "report.customer_tier", TicketError)


def _to_channel(value: Any) -> Channel | None:
    return None if value is None else member(Channel, value, "report.channel", TicketError)


def _money(value: Any) -> Money | None:
    return None if value is None else money(value, "deviation.amount", TicketError)


def _version_number(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    check_whole_number(f"playbook.{attribute.name}", value, error=TicketError)


def _conditions(value: Mapping[str, str] | None) -> FrozenMap[str, str]:
    if value is None:
        return FrozenMap()
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        msg = f"report.conditions: expected a table of names to strings, got {value!r}"
        raise TicketError(msg)
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


# --------------------------------------------------------------------------
# Reports


class IncidentOutcome(enum.Enum):
    """How an incident ended, for the customer."""

    RESOLVED = "resolved"
    PARTIALLY_RESOLVED = "partially_resolved"
    UNRESOLVED = "unresolved"
    COMPLAINT = "complaint"
    """The customer complained further (to us, the press or a regulator)."""

    @property
    def good(self) -> bool:
        """Whether the outcome counts as a success when judging a deviation."""
        return self is IncidentOutcome.RESOLVED


def _to_outcome(value: Any) -> IncidentOutcome:
    return member(IncidentOutcome, value, "report.outcome", TicketError)


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
    `ActionKind`); ``tier`` is the authority tier
    of ``authorized_by``; ``grant`` names the grant of the authority policy it
    was taken under, if any.
    """

    kind: str = attrs.field(validator=_text("deviation"))
    authorized_by: str = attrs.field(validator=_text("deviation"))
    tier: str = attrs.field(validator=_text("deviation"))
    amount: Money | None = attrs.field(default=None, converter=_money)
    grant: str | None = attrs.field(default=None, validator=_optional_text("deviation"))
    at: datetime | None = attrs.field(default=None, validator=_aware_in("deviation"))
    note: str = attrs.field(default="", validator=_text("deviation", empty=True))


@attrs.frozen(kw_only=True)
class PlaybookRef:
    """The playbook (contingency plan) used for an incident: its id and version number."""

    id: str = attrs.field(validator=_text("playbook"))
    version: int = attrs.field(default=1, validator=_version_number)


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
    *deviation signature* by which `servicetriage.learning` finds typical
    deviations. Satisfaction scores run from 1 to 5: ``satisfaction_before``
    as the customer felt when the incident began, ``satisfaction_after`` when
    it ended. ``reporter`` is who raised the alarm (a customer id), used by
    the false-alarm penalty rule. ``customer_id`` and ``channel``, when
    recorded, let `check_deviations` judge grants and guardrails that
    read them (per-customer totals, channel conditions). ``escalated``,
    ``sla_breached`` and ``reused`` (the customer used the service again
    afterwards) are ``None`` when not recorded; `servicetriage.effect`
    compares them, with the outcome and the satisfaction, across playbook
    versions.
    """

    id: str = attrs.field(validator=_text("report"))
    ticket_id: str = attrs.field(validator=_text("report"))
    owner: str = attrs.field(validator=_text("report"))
    opened_at: datetime = attrs.field(validator=_aware_in("report"))
    resolved_at: datetime | None = attrs.field(default=None, validator=_aware_in("report"))
    category: str = attrs.field(default="general", validator=_text("report"))
    quadrant: Quadrant | None = attrs.field(default=None, converter=_to_quadrant)
    customer_tier: CustomerTier = attrs.field(default=CustomerTier.STANDARD, converter=_to_customer_tier)
    customer_id: str | None = attrs.field(default=None, validator=_optional_text("report"))
    channel: Channel | None = attrs.field(default=None, converter=_to_channel)
    reporter: str | None = attrs.field(default=None, validator=_optional_text("report"))
    timeline: tuple[TimelineEvent, ...] = attrs.field(default=(), converter=to_tuple)
    deviations: tuple[Deviation, ...] = attrs.field(default=(), converter=to_tuple)
    playbook: PlaybookRef | None = None
    outcome: IncidentOutcome = attrs.field(default=IncidentOutcome.RESOLVED, converter=_to_outcome)
    satisfaction_before: int | None = attrs.field(default=None, validator=_score)
    satisfaction_after: int | None = attrs.field(default=None, validator=_score)
    root_cause: str = attrs.field(default="", validator=_text("report", empty=True))
    feedback: tuple[Feedback, ...] = attrs.field(default=(), converter=to_tuple)
    false_alarm: bool = attrs.field(default=False, validator=_flag("report"))
    lessons: tuple[str, ...] = attrs.field(default=(), converter=to_tuple)
    exemplary: bool = attrs.field(default=False, validator=_flag("report"))
    conditions: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_conditions)
    escalated: bool | None = attrs.field(default=None, validator=_optional_flag)
    sla_breached: bool | None = attrs.field(default=None, validator=_optional_flag)
    reused: bool | None = attrs.field(default=None, validator=_optional_flag)

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


class AuthorityVerdict(enum.Enum):
    """What checking one deviation against an authority policy found."""

    HELD = "held"
    """The tier held the authority: `authorize` allowed it."""
    LACKED = "lacked"
    """The tier lacked it under every reading of the facts the report leaves open: the report is impossible."""
    UNVERIFIED = "unverified"
    """The report lacks a fact the policy needs (the amount): the check cannot tell, so it does not reject."""


@attrs.frozen(kw_only=True)
class DeviationCheck:
    """The verdict on one deviation of a report, and the decision it rests on.

    ``decision`` is what `authorize` said for
    the request built from the report (for the first reading that allowed
    it, or, when none did, the first reading tried). ``assumed`` names the
    facts the report left open and the values tried for them (``quadrant``,
    ``channel``). ``message`` says it in one line, naming the deviation's path.
    """

    index: int
    verdict: AuthorityVerdict
    decision: Decision
    assumed: FrozenMap[str, str] = attrs.field(factory=FrozenMap)
    message: str = ""


def _recorded_triage(report: IncidentReport, quadrant: Quadrant) -> Triage:
    recorded = Level(0, "as recorded")
    reason = Reason("report.quadrant", f"quadrant {quadrant.name} as recorded in report {report.id}")
    return Triage(
        ticket_id=report.ticket_id,
        quadrant=quadrant,
        priority=quadrant.value,
        urgency=recorded,
        importance=recorded,
        due=None,
        reasons=(reason,),
    )


def deviation_request(
    report: IncidentReport,
    index: int,
    *,
    usage: Iterable[Usage] = (),
    quadrant: Quadrant | None = None,
    channel: Channel | None = None,
) -> Request:
    """The authority request that deviation *index* of *report* amounted to, from what the report records.

    The actor is the deviation's ``authorized_by`` at its ``tier``; the
    action its ``kind``; the amount its ``amount``. The ticket carries the
    report's ``ticket_id``, ``opened_at``, ``category``, ``channel`` and a
    customer with the report's ``customer_id`` and ``customer_tier``; the
    triage holds the report's ``quadrant`` (none when not recorded); the
    playbook is the report's playbook id. *quadrant* and *channel* stand in
    for facts the report does not record (without a channel, the request
    does not give one: a grant or guardrail that reads it cannot be judged). The usage is the deviations
    listed before this one in the same report (same ticket, same customer)
    followed by *usage* (earlier deviations for the same customer in other
    reports, which only the caller can know).
    """
    if not 0 <= index < len(report.deviations):
        msg = f"report {report.id}.deviations[{index}]: no such deviation; the report has {len(report.deviations)}"
        raise TicketError(msg)
    deviation = report.deviations[index]
    quadrant = report.quadrant or quadrant
    channel = report.channel or channel
    customer = Customer(id=report.customer_id or f"customer of {report.ticket_id}", tier=report.customer_tier)
    ticket = Ticket(
        id=report.ticket_id,
        opened_at=report.opened_at,
        customer=customer,
        category=report.category,
        channel=channel if channel is not None else Channel.EMAIL,
    )
    prior = tuple(
        Usage(action=d.kind, at=d.at or report.opened_at, amount=d.amount, ticket_id=report.ticket_id)
        for d in report.deviations[:index]
    )
    # The report records its category and customer tier (standard unless it says otherwise); the channel only
    # when the report or the caller names one.
    given = {"ticket.category", "ticket.customer.tier"}
    if channel is not None:
        given.add("ticket.channel")
    return Request(
        actor=Actor(id=deviation.authorized_by, tier=deviation.tier),
        action=deviation.kind,
        ticket=ticket,
        amount=deviation.amount,
        triage=_recorded_triage(report, quadrant) if quadrant is not None else None,
        usage=(*prior, *usage),
        playbook=report.playbook.id if report.playbook is not None else None,
        given=frozenset(given),
    )


def _policy_reads(policy: AuthorityPolicy, action: str) -> tuple[bool, bool]:
    """Whether a grant or guardrail that may judge *action* reads the quadrant, and the channel."""
    conditions = [g.when for g in policy.grants if g.action == action]
    conditions.extend(g.when for g in policy.guardrails if not g.actions or action in g.actions)
    return any(c.quadrants for c in conditions), any(c.channels for c in conditions)


def _describe(decision: Decision) -> str:
    if decision.outcome is DecisionOutcome.FORBIDDEN:
        return f"forbidden by {decision.guardrail}"
    if decision.outcome is DecisionOutcome.NEEDS_APPROVAL:
        return f"needs approval; the lowest tier that may approve is {decision.lowest_tier}"
    if decision.outcome is DecisionOutcome.NEEDS_INFO:
        return f"cannot be judged without {', '.join(decision.missing)}"
    return f"allowed at {decision.lowest_tier}"


def check_deviations(
    report: IncidentReport, policy: AuthorityPolicy | CompiledPolicy, *, usage: Iterable[Usage] = ()
) -> tuple[DeviationCheck, ...]:
    """Judge every deviation of *report* with `authorize` under *policy*.

    Each deviation becomes the request `deviation_request` builds, decided
    at the deviation's ``at`` (the report's ``opened_at`` when not recorded),
    so grant conditions (quadrants, categories, customer tiers, channels),
    per-ticket counts, per-customer totals, guardrails and delegations all
    count, exactly as when the decision is taken live.

    What a report does not record is handled so that only an impossible
    report is rejected:

    - no ``quadrant``: every quadrant is tried (if a grant or guardrail for
      the deviation's kind reads quadrants); the deviation held if one of
      them allows it;
    - no ``channel``: likewise for every channel;
    - no ``customer_id``: per-customer totals count only this report's own
      deviations, and *usage* (the caller's record of earlier ones) cannot be
      matched to the customer, so pass it only with a ``customer_id``;
    - no ``amount`` where a grant or guardrail needs one: the verdict is
      ``UNVERIFIED``, not ``LACKED``;
    - ``customer_tier`` defaults to ``standard`` and is taken as recorded.
    """
    compiled = policy.compiled if isinstance(policy, AuthorityPolicy) else policy
    extra = tuple(usage)
    results = []
    for index, deviation in enumerate(report.deviations):
        if deviation.tier not in compiled.tiers:
            msg = (
                f"report {report.id}.deviations[{index}].tier: expected one of the policy's tiers "
                f"({', '.join(compiled.tiers.names)}), got {deviation.tier!r}"
            )
            raise TicketError(msg)
        now = deviation.at or report.opened_at
        reads_quadrant, reads_channel = _policy_reads(compiled.policy, deviation.kind)
        quadrants: tuple[Quadrant | None, ...] = (
            tuple(Quadrant) if report.quadrant is None and reads_quadrant else (report.quadrant,)
        )
        channels: tuple[Channel | None, ...] = (
            tuple(Channel) if report.channel is None and reads_channel else (report.channel,)
        )
        decisions: list[tuple[Decision, dict[str, str]]] = []
        for quadrant in quadrants:
            for channel in channels:
                request = deviation_request(report, index, usage=extra, quadrant=quadrant, channel=channel)
                assumed = {}
                if report.quadrant is None and quadrant is not None:
                    assumed["quadrant"] = quadrant.name
                if report.channel is None and channel is not None:
                    assumed["channel"] = channel.value
                decisions.append((authorize(request, compiled, now), assumed))
        allowed = [(d, a) for d, a in decisions if d.outcome is DecisionOutcome.ALLOWED]
        unknown = [(d, a) for d, a in decisions if d.outcome is DecisionOutcome.NEEDS_INFO]
        where = f"report {report.id}.deviations[{index}]"
        amount = f" of {deviation.amount}" if deviation.amount is not None else ""
        grant = f" under grant {deviation.grant!r}" if deviation.grant else ""
        who = f"{deviation.authorized_by} at tier {deviation.tier!r}"
        opened = ", ".join(sorted({k for _, a in decisions for k in a}))
        readings = f" under any {' or '.join(opened.split(', '))}" if opened else ""
        if allowed:
            decision, assumed = allowed[0]
            verdict = AuthorityVerdict.HELD
            message = f"{where}: {who} held the authority for {deviation.kind!r}{amount} ({_describe(decision)})"
        elif unknown:
            decision, assumed = unknown[0]
            verdict = AuthorityVerdict.UNVERIFIED
            message = f"{where}: cannot tell whether {who} held the authority for {deviation.kind!r}: " + _describe(
                decision
            )
        else:
            decision, assumed = decisions[0]
            verdict = AuthorityVerdict.LACKED
            message = (
                f"{where}: {who} lacked the authority for {deviation.kind!r}{amount}{grant}{readings}: "
                f"{_describe(decision)}"
            )
        results.append(
            DeviationCheck(
                index=index,
                verdict=verdict,
                decision=decision,
                assumed=FrozenMap(assumed) if verdict is not AuthorityVerdict.LACKED else FrozenMap(),
                message=message,
            )
        )
    return tuple(results)


def validate_report(
    report: IncidentReport, authority: Authority | None = None, *, usage: Iterable[Usage] = ()
) -> IncidentReport:
    """Check *report* against the authority in force; return it unchanged when it holds.

    *authority* is an `AuthorityPolicy` (or
    its compiled form), judged faithfully by `check_deviations` with
    `authorize` (*usage*: earlier deviations
    for the same customer, see there); or a plain
    ``may_authorize(tier, kind, amount) -> bool`` callable, for callers who
    keep authority elsewhere. Every deviation whose tier lacked the authority
    is listed in one `TicketError`, each naming
    its path, the tier, the kind and the amount. Without *authority* only the
    report's own consistency (checked when it was built) is assumed.
    """
    if authority is None:
        return report
    problems: list[str] = []
    if isinstance(authority, AuthorityPolicy | CompiledPolicy):
        problems.extend(
            c.message for c in check_deviations(report, authority, usage=usage) if c.verdict is AuthorityVerdict.LACKED
        )
    else:
        for index, deviation in enumerate(report.deviations):
            if not authority(deviation.tier, deviation.kind, deviation.amount):
                amount = f" of {deviation.amount}" if deviation.amount is not None else ""
                grant = f" under grant {deviation.grant!r}" if deviation.grant else ""
                problems.append(
                    f"report {report.id}.deviations[{index}]: {deviation.authorized_by} at tier "
                    f"{deviation.tier!r} lacked the authority for {deviation.kind!r}{amount}{grant}"
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

    A review cannot hold an impossible trail: building one (directly, or
    from a stored trail) checks that it starts with the creation by its
    author, that every step is a legal transition from the state before it,
    that times never go backwards and that no approval is the author's, and
    raises `TransitionError` naming the step,
    its state and its event otherwise.
    """

    subject: Subject
    id: str
    author: str
    trail: tuple[Transition, ...] = attrs.field(converter=_trail)

    def __attrs_post_init__(self) -> None:
        problem = _trail_problem(self)
        if problem is not None:
            raise TransitionError(problem)

    @property
    def state(self) -> State:
        """The current state: the last transition's."""
        return self.trail[-1].state

    @property
    def updated_at(self) -> datetime:
        """When the last transition happened."""
        return self.trail[-1].at


def _trail_problem(review: Review) -> str | None:
    subject: object = review.subject
    if not isinstance(subject, Subject):
        return f"review.subject: expected one of 'report', 'amendment', got {subject!r}"
    where = f"{subject.value} {review.id}"
    if not review.trail:
        return f"{where}.trail: expected at least the creation, got an empty trail"
    initial = ReportState.DRAFT if review.subject is Subject.REPORT else AmendmentState.PROPOSED
    first = review.trail[0]
    if first.event is not None or first.source is not None or first.state is not initial:
        return f"{where}.trail[0]: expected the creation in state {initial.value}, got {first}"
    if first.actor != review.author:
        return f"{where}.trail[0].actor: expected the author {review.author!r}, got {first.actor!r}"
    table: Mapping[Any, State] = REPORT_TRANSITIONS if review.subject is Subject.REPORT else AMENDMENT_TRANSITIONS
    previous = first
    for index, step in enumerate(review.trail[1:], start=1):
        event = step.event.value if step.event is not None else None
        if step.source is not previous.state or table.get((step.source, step.event)) is not step.state:
            return f"{where}.trail[{index}]: cannot {event} in state {previous.state.value} to reach {step.state.value}"
        if step.at < previous.at:
            return f"{where}.trail[{index}].at: {step.at.isoformat()} is before {previous.at.isoformat()}"
        if step.event is AmendmentEvent.APPROVE and step.actor == review.author:
            return f"{where}.trail[{index}]: {step.actor} approved their own amendment"
        previous = step
    return None


def _who(actor: str, reason: str, at: datetime, where: str) -> None:
    require_aware("at", at)
    if not isinstance(actor, str) or not actor.strip():
        msg = f"{where}: expected an actor (who does it), got {actor!r}"
        raise TransitionError(msg)
    if not isinstance(reason, str) or not reason.strip():
        msg = f"{where}: expected a reason (why), got {reason!r}"
        raise TransitionError(msg)


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


def advance_review(review: Review, event: Event | str, *, actor: str, at: datetime, reason: str) -> Review:
    """The review after *event*, with the transition appended to its audit trail.

    Raises `TransitionError` naming the state and
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
