"""Contingency plans (playbooks): triggers, steps, matching and start.

A `Playbook` is a versioned plan with trigger conditions (any one
`Trigger` starts it) and ordered steps (`PlaybookStep`: an
action, a role, a due offset and the authority tier it needs). When a ticket,
or its early signs, matches, the plan starts at once:

- `match` returns every matching playbook, **most specific first**:
  more conditions in the matching trigger first, then the higher
  ``priority``, then the id (alphabetical), then the newer version. The
  order is deterministic.
- `start_playbook` turns the steps into `PlannedStep` values
  with absolute deadlines.

A Q1 ticket that no playbook matches gets ``()`` from `match`; the
frontline then acts under delegated authority (the authority engine says so
in its decision when the request names no playbook).

Two worked playbooks ship as constants: `ANGRY_CUSTOMER` (the
seven-step method) and `RIDE_SAFETY_SOS`.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs

from servicetriage._deprecated import warn_calendar_argument
from servicetriage._inputs import duration, members
from servicetriage._validators import (
    check_non_empty_items,
    check_priorities,
    check_whole_number,
    field_path,
    non_empty,
    to_tuple,
)
from servicetriage.calendar import BusinessCalendar
from servicetriage.errors import PolicyError, TicketError
from servicetriage.model import (
    DEFAULT_TIERS,
    PROTECTED_ATTRIBUTES,
    AttributeValue,
    Channel,
    CustomerTier,
    Finding,
    Flag,
    FrozenMap,
    Mark,
    Obligation,
    ObligationKind,
    Quadrant,
    Reason,
    Severity,
    Ticket,
    Triage,
    require_aware,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from servicetriage.authority import Decision
    from servicetriage.escalation import BusinessClock

__all__ = [
    "ANGRY_CUSTOMER",
    "RIDE_SAFETY_SOS",
    "WORKED_PLAYBOOKS",
    "Match",
    "PlannedStep",
    "Playbook",
    "PlaybookSet",
    "PlaybookStep",
    "Trigger",
    "check_playbooks",
    "match",
    "start_playbook",
]

_ZERO = timedelta(0)

#: Flags and marks that the method always places in Q1 (a safety signal, a
#: call from the police, the gravest cases): a trigger that asks for one of
#: them but excludes Q1 can never match.
_FORCES_Q1_FLAGS = frozenset({Flag.SAFETY, Flag.POLICE})
_FORCES_Q1_MARKS = frozenset({Mark.DIRECT_TO_TOP, Mark.VERIFY_AFTERWARDS})


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


@functools.lru_cache(maxsize=4096)
def _keyword_pattern(word: str) -> re.Pattern[str]:
    """The pattern of one early-sign keyword, matched against lower-cased text.

    The same rule as the triage keyword scanner: an end of the keyword that is
    an ASCII letter or digit must not touch another one (``SOS`` is not found
    in ``pesos``); other scripts (Chinese) match anywhere.
    """
    term = word.strip().lower()
    head = r"(?<![a-z0-9])" if term[:1] in _ALNUM else ""
    tail = r"(?![a-z0-9])" if term[-1:] in _ALNUM else ""
    return re.compile(head + re.escape(term) + tail)


def _fmt(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    sign = "-" if seconds < 0 else ""
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (f"{secs}s" if secs else "")
    return sign + (text or "0s")


def _tuple(value: Any) -> tuple[Any, ...]:
    return to_tuple(value)


def _quadrants(value: Any) -> frozenset[Quadrant]:
    return members(Quadrant, value, "trigger.quadrants", PolicyError)


def _flags(value: Any) -> frozenset[Flag]:
    return members(Flag, value, "trigger.flags", PolicyError)


def _marks(value: Any) -> frozenset[Mark]:
    return members(Mark, value, "trigger.marks", PolicyError)


def _channels(value: Any) -> frozenset[Channel]:
    return members(Channel, value, "trigger.channels", PolicyError)


def _customer_tiers(value: Any) -> frozenset[CustomerTier]:
    return members(CustomerTier, value, "trigger.customer_tiers", PolicyError)


def _str_set(value: Any) -> frozenset[str]:
    return frozenset(_tuple(value))


def _names(instance: Any, attribute: attrs.Attribute[Any], value: Iterable[Any]) -> None:
    check_non_empty_items(field_path(instance, attribute), value)


def _check_attributes(_instance: Trigger, _attribute: attrs.Attribute[Any], value: FrozenMap[str, Any]) -> None:
    for key, item in value.items():
        if key in PROTECTED_ATTRIBUTES:
            msg = f"trigger.attributes.{key}: a trigger may not read the protected attribute {key!r} (equal treatment)"
            raise PolicyError(msg)
        if not isinstance(item, str | int | float | bool):
            msg = f"trigger.attributes.{key}: expected a string, number or boolean, got {item!r}"
            raise PolicyError(msg)


def _check_signals(_instance: Trigger, _attribute: attrs.Attribute[Any], value: frozenset[str]) -> None:
    from servicetriage.signals import Signal  # noqa: PLC0415 - signals import the model; keep this module light

    known = {s.value for s in Signal}
    for name in sorted(value):
        if name not in known:
            msg = f"trigger.signals: unknown signal {name!r}; expected one of {', '.join(sorted(known))}"
            raise PolicyError(msg)


def _check_priorities(_instance: Trigger, _attribute: attrs.Attribute[Any], value: frozenset[int]) -> None:
    check_priorities("trigger.priorities", value)


@attrs.frozen(kw_only=True)
class Trigger:
    """Conditions that start a playbook; all the given ones must hold.

    Sets such as ``quadrants``, ``priorities``, ``categories``, ``channels``
    and ``customer_tiers`` need *any one* member to match; ``flags`` and
    ``marks`` need *every* member; ``keywords`` (early signs) need any one
    to appear in the ticket's subject or text, ignoring case (as in triage,
    keywords in ASCII letters and digits match whole words: ``SOS`` is not
    found in ``pesos``; other scripts, such as Chinese, match anywhere);
    ``attributes`` need every key to hold exactly that value. ``signals``
    need any one to have been found by triage (``safety``, ``regulator``...)
    and ``concepts`` any one concept, named exactly (``safety.trapped``) or
    by its family (``safety`` matches every ``safety.*`` concept): these
    read what triage found in any language, where ``keywords`` read the
    words. A trigger may never read a protected attribute (language,
    nationality...).
    """

    quadrants: frozenset[Quadrant] = attrs.field(default=frozenset(), converter=_quadrants)
    priorities: frozenset[int] = attrs.field(default=frozenset(), converter=frozenset, validator=_check_priorities)
    flags: frozenset[Flag] = attrs.field(default=frozenset(), converter=_flags)
    marks: frozenset[Mark] = attrs.field(default=frozenset(), converter=_marks)
    categories: frozenset[str] = attrs.field(default=frozenset(), converter=_str_set, validator=_names)
    channels: frozenset[Channel] = attrs.field(default=frozenset(), converter=_channels)
    customer_tiers: frozenset[CustomerTier] = attrs.field(default=frozenset(), converter=_customer_tiers)
    keywords: tuple[str, ...] = attrs.field(default=(), converter=_tuple, validator=_names)
    signals: frozenset[str] = attrs.field(default=frozenset(), converter=_str_set, validator=_check_signals)
    concepts: frozenset[str] = attrs.field(default=frozenset(), converter=_str_set, validator=_names)
    attributes: FrozenMap[str, AttributeValue] = attrs.field(
        factory=FrozenMap, converter=FrozenMap, validator=_check_attributes
    )

    def __attrs_post_init__(self) -> None:
        if self.specificity == 0:
            msg = "expected at least one condition in a trigger (one with none would match every ticket)"
            raise PolicyError(msg)

    @property
    def specificity(self) -> int:
        """The number of conditions: one per non-empty field, one per required flag, mark and attribute."""
        return (
            bool(self.quadrants)
            + bool(self.priorities)
            + len(self.flags)
            + len(self.marks)
            + bool(self.categories)
            + bool(self.channels)
            + bool(self.customer_tiers)
            + bool(self.keywords)
            + bool(self.signals)
            + bool(self.concepts)
            + len(self.attributes)
        )

    def evaluate(self, ticket: Ticket, triage: Triage) -> tuple[Reason, ...] | None:
        """Return the reasons this trigger matches, or ``None`` when it does not."""
        reasons: list[Reason] = []
        if self.quadrants:
            if triage.quadrant not in self.quadrants:
                return None
            reasons.append(Reason("trigger.quadrant", f"quadrant {triage.quadrant.name}"))
        if self.priorities:
            if triage.priority not in self.priorities:
                return None
            reasons.append(Reason("trigger.priority", f"priority {triage.priority}"))
        if self.flags:
            if not self.flags <= ticket.flags:
                return None
            names = ", ".join(sorted(f.value for f in self.flags))
            reasons.append(Reason("trigger.flags", f"flags {names}"))
        if self.marks:
            if not self.marks <= triage.marks:
                return None
            names = ", ".join(sorted(m.value for m in self.marks))
            reasons.append(Reason("trigger.marks", f"marks {names}"))
        if self.categories:
            if ticket.category not in self.categories:
                return None
            reasons.append(Reason("trigger.category", f"category {ticket.category}"))
        if self.channels:
            if ticket.channel not in self.channels:
                return None
            reasons.append(Reason("trigger.channel", f"channel {ticket.channel.value}"))
        if self.customer_tiers:
            if ticket.customer.tier not in self.customer_tiers:
                return None
            reasons.append(Reason("trigger.customer_tier", f"customer tier {ticket.customer.tier.value}"))
        if self.keywords:
            haystack = f"{ticket.subject}\n{ticket.text}".lower()
            found = [word for word in self.keywords if _keyword_pattern(word).search(haystack)]
            if not found:
                return None
            evidence = FrozenMap({"keywords": ", ".join(found)})
            reasons.append(Reason("trigger.keyword", f"early sign {found[0]!r}", evidence=evidence))  # type: ignore[arg-type, unused-ignore]
        if self.signals:
            signals = sorted(self.signals & triage.signals)
            if not signals:
                return None
            reasons.append(Reason("trigger.signal", f"signal {', '.join(signals)}"))
        if self.concepts:
            concepts = sorted(c for c in triage.concepts if c in self.concepts or c.split(".", 1)[0] in self.concepts)
            if not concepts:
                return None
            reasons.append(Reason("trigger.concept", f"concept {', '.join(concepts)}"))
        for key, expected in self.attributes.items():
            if key not in ticket.attributes or ticket.attributes[key] != expected:
                return None
            reasons.append(Reason("trigger.attribute", f"{key} = {expected!r}"))
        return tuple(reasons)


def _check_due(_instance: PlaybookStep, _attribute: attrs.Attribute[Any], value: Any) -> None:
    duration(value, "playbookstep.due", PolicyError, positive=False)  # an offset from the start


def _optional_name(instance: Any, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        non_empty(instance, attribute, value)


def _check_conditional(instance: PlaybookStep, _attribute: attrs.Attribute[Any], value: bool) -> None:
    if value and instance.obligation is None:
        msg = "playbookstep.without_authority: true needs an obligation to make conditional, got obligation = none"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class PlaybookStep:
    """One step of a plan: what to do, who does it, whom it addresses, by when, with what authority.

    ``role`` does the step (the case's ``owner`` by default, or a team such
    as ``safety_team``); ``to`` is the party the step addresses: the
    ``customer``, the ``police``, the ``safety_team``, a department
    (``department:billing``) or a tier (``None``: nobody outside the case).
    ``authority`` names the lowest tier that may take the step (``None``:
    anyone). ``obligation``, when set, says what kind of obligation the
    step creates, owed to ``to`` (else to ``role``; see
    `PlannedStep.as_obligation`). ``without_authority`` makes that
    obligation conditional on the agent **lacking** the authority for the
    case: `authorize` decides (pass its decision to `start_playbook`); the
    seven-step method's call-back is such a promise.
    """

    action: str = attrs.field(validator=non_empty)
    role: str = attrs.field(default="owner", validator=non_empty)
    to: str | None = attrs.field(default=None, validator=_optional_name)
    due: timedelta = attrs.field(default=_ZERO, validator=_check_due)
    authority: str | None = attrs.field(default=None, validator=_optional_name)
    obligation: ObligationKind | None = None
    without_authority: bool = attrs.field(default=False, validator=_check_conditional)
    note: str = ""


def _check_version(_instance: Playbook, _attribute: attrs.Attribute[Any], value: Any) -> None:
    check_whole_number("playbook.version", value)


def _check_steps(_instance: Playbook, _attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    if not value:
        msg = "playbook.steps: expected at least one step, got []"
        raise PolicyError(msg)
    for index, step in enumerate(value):
        if not isinstance(step, PlaybookStep):
            msg = f"playbook.steps[{index}]: expected a PlaybookStep, got {step!r}"
            raise PolicyError(msg)


def _check_triggers(_instance: Playbook, _attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
    for index, trigger in enumerate(value):
        if not isinstance(trigger, Trigger):
            msg = f"playbook.triggers[{index}]: expected a Trigger, got {trigger!r}"
            raise PolicyError(msg)


def _check_drill(_instance: Playbook, _attribute: attrs.Attribute[Any], value: timedelta | None) -> None:
    if value is not None:
        duration(value, "playbook.drill_every", PolicyError)


def _optional_aware(_instance: Playbook, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if value is not None:
        require_aware(f"playbook.{attribute.name}", value, PolicyError)


def _check_calendar(_instance: Playbook, _attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, BusinessCalendar):
        msg = f"playbook.calendar: expected a BusinessCalendar or none, got {value!r}"
        raise PolicyError(msg)


@attrs.frozen(kw_only=True)
class Playbook:
    """A versioned contingency plan.

    ``triggers``: any one starts the plan (none: it starts only by hand).
    ``priority`` breaks ties between equally specific matches (higher
    first). ``business_time`` makes step deadlines count business time in
    the plan's ``calendar`` (none: wall-clock time; see
    `servicetriage.calendar`, "Which calendar a deadline counts in").
    ``drill_every``, ``last_drilled`` and ``last_used`` keep rare plans
    alive: `check_playbooks` flags a plan not drilled or used within its
    interval.
    """

    id: str = attrs.field(validator=non_empty)
    version: int = attrs.field(default=1, validator=_check_version)
    title: str = attrs.field(validator=non_empty)
    description: str = ""
    triggers: tuple[Trigger, ...] = attrs.field(default=(), converter=_tuple, validator=_check_triggers)
    steps: tuple[PlaybookStep, ...] = attrs.field(converter=_tuple, validator=_check_steps)
    priority: int = 0
    business_time: bool = False
    calendar: BusinessCalendar | None = attrs.field(default=None, validator=_check_calendar)
    drill_every: timedelta | None = attrs.field(default=None, validator=_check_drill)
    last_drilled: datetime | None = attrs.field(default=None, validator=_optional_aware)
    last_used: datetime | None = attrs.field(default=None, validator=_optional_aware)


@attrs.frozen(kw_only=True)
class PlaybookSet:
    """The playbooks of a file: a top-level array of tables ``[[playbooks]]``."""

    playbooks: tuple[Playbook, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(kw_only=True)
class Match:
    """A playbook that matched, with the trigger that did and why."""

    playbook: Playbook
    trigger: int
    specificity: int
    reasons: tuple[Reason, ...]


def match(ticket: Ticket, triage: Triage, playbooks: Iterable[Playbook] | PlaybookSet) -> tuple[Match, ...]:
    """Return every playbook that matches *ticket*, most specific first.

    A playbook matches when any of its triggers does; its specificity is
    that of its most specific matching trigger (the first such on a tie).
    Order: specificity (descending), ``priority`` (descending), id,
    version (descending). ``()`` when nothing matches: for a Q1 ticket the
    frontline then acts under delegated authority.
    """
    if triage.ticket_id != ticket.id:
        msg = f"triage.ticket_id: expected the ticket's id {ticket.id!r}, got {triage.ticket_id!r}"
        raise TicketError(msg)
    items = playbooks.playbooks if isinstance(playbooks, PlaybookSet) else playbooks
    found: list[Match] = []
    for playbook in items:
        best: Match | None = None
        for index, trigger in enumerate(playbook.triggers):
            reasons = trigger.evaluate(ticket, triage)
            if reasons is None:
                continue
            if best is None or trigger.specificity > best.specificity:
                best = Match(playbook=playbook, trigger=index, specificity=trigger.specificity, reasons=reasons)
        if best is not None:
            found.append(best)
    found.sort(key=lambda m: (-m.specificity, -m.playbook.priority, m.playbook.id, -m.playbook.version))
    return tuple(found)


@attrs.frozen(kw_only=True)
class PlannedStep:
    """A playbook step with its absolute deadline, for one ticket.

    ``pending`` is true for a step whose obligation holds only when the
    agent lacks the authority (``without_authority``) and no decision was
    given to `start_playbook`: no promise is made until `authorize` has
    said so.
    """

    playbook_id: str
    version: int
    index: int
    ticket_id: str
    action: str
    role: str
    authority: str | None
    due: datetime
    obligation: ObligationKind | None = None
    note: str = ""
    to: str | None = None
    pending: bool = False

    def as_obligation(self) -> Obligation | None:
        """Return the obligation this step creates, owed to ``to`` (else ``role``).

        ``None`` when the step names none, or while it is ``pending`` on a decision.
        """
        if self.obligation is None or self.pending:
            return None
        return Obligation(
            kind=self.obligation,
            due=self.due,
            to=self.to or self.role,
            note=self.action,
            rule=f"playbook:{self.playbook_id}@{self.version}#steps[{self.index}]",
        )


def start_playbook(
    playbook: Playbook,
    ticket: Ticket,
    now: datetime,
    calendar: BusinessClock | None = None,
    *,
    decision: Decision | None = None,
) -> tuple[PlannedStep, ...]:
    """Start *playbook* for *ticket* at *now*: every step with its absolute deadline.

    A step is due ``step.due`` after *now*: in business time (counting the
    ticket's pauses) when the playbook says ``business_time`` and has a
    ``calendar``, else on the wall clock. Safety plans should keep the wall
    clock.

    *decision* is the agent's authority `Decision` for the case (from
    `authorize`): a ``without_authority`` step keeps its obligation when the
    decision is not ``ALLOWED`` (the agent promises the call-back) and
    drops it when it is (the agent acts at once, nothing to promise).
    Without a decision such a step is planned ``pending``: no obligation yet.

    *calendar* is deprecated (it goes in 0.3.0): set ``Playbook.calendar``
    instead. When given, it still replaces the plan's calendar, with a
    `DeprecationWarning`.
    """
    require_aware("now", now)
    if calendar is not None:
        warn_calendar_argument("start_playbook", "Playbook.calendar")
    else:
        calendar = playbook.calendar
    use_calendar = calendar is not None and playbook.business_time
    planned = []
    for index, step in enumerate(playbook.steps):
        if use_calendar:
            assert calendar is not None
            due = calendar.add(now, step.due, ticket.pauses)
        else:
            due = now + step.due
        obligation, note, pending = step.obligation, step.note, False
        if step.without_authority:
            if decision is None:
                pending = True
            elif decision.allowed:
                obligation = None
                note = f"{decision.actor} holds the authority ({decision.tier}): nothing to promise"
        planned.append(
            PlannedStep(
                playbook_id=playbook.id,
                version=playbook.version,
                index=index,
                ticket_id=ticket.id,
                action=step.action,
                role=step.role,
                authority=step.authority,
                due=due,
                obligation=obligation,
                note=note,
                to=step.to,
                pending=pending,
            )
        )
    return tuple(planned)


def check_playbooks(
    playbooks: Iterable[Playbook] | PlaybookSet,
    *,
    tiers: tuple[str, ...] = DEFAULT_TIERS,
    now: datetime | None = None,
) -> tuple[Finding, ...]:
    """Find what is wrong or doubtful in *playbooks*, each with its path.

    Codes: ``playbook.never-matches`` (error: a trigger that asks for a
    safety or police flag, or a direct-to-top / verify-afterwards mark,
    while excluding Q1: such tickets are always Q1), ``playbook.duplicate``
    (error: the same id and version twice), ``playbook.unknown-tier``
    (error: a step needs a tier not in *tiers*), ``playbook.deadline-backwards``
    (warning: a step due before the step above it), ``playbook.no-triggers``
    (warning: the plan only starts by hand), and, when *now* is given,
    ``playbook.drill-overdue`` (warning: not drilled or used within
    ``drill_every``).
    """
    if now is not None:
        require_aware("now", now)
    items = playbooks.playbooks if isinstance(playbooks, PlaybookSet) else tuple(playbooks)
    findings: list[Finding] = []
    seen: dict[tuple[str, int], int] = {}
    known = set(tiers)

    def add(code: str, severity: Severity, path: str, message: str) -> None:
        findings.append(Finding(code=code, severity=severity, path=path, message=message))

    for p, playbook in enumerate(items):
        base = f"playbooks[{p}]"
        key = (playbook.id, playbook.version)
        if key in seen:
            add(
                "playbook.duplicate",
                Severity.ERROR,
                f"{base}.id",
                f"{playbook.id!r} version {playbook.version} is already defined at playbooks[{seen[key]}]",
            )
        else:
            seen[key] = p
        if not playbook.triggers:
            add("playbook.no-triggers", Severity.WARNING, f"{base}.triggers", "no trigger: it starts only by hand")
        for t, trigger in enumerate(playbook.triggers):
            if trigger.quadrants and Quadrant.Q1 not in trigger.quadrants:
                forcing = sorted(f.value for f in trigger.flags & _FORCES_Q1_FLAGS) + sorted(
                    m.value for m in trigger.marks & _FORCES_Q1_MARKS
                )
                if forcing:
                    wanted = ", ".join(sorted(q.name for q in trigger.quadrants))
                    add(
                        "playbook.never-matches",
                        Severity.ERROR,
                        f"{base}.triggers[{t}]",
                        f"asks for {', '.join(forcing)}, which always places a ticket in Q1, but only matches {wanted}",
                    )
        previous: timedelta | None = None
        for s, step in enumerate(playbook.steps):
            if step.authority is not None and step.authority not in known:
                add(
                    "playbook.unknown-tier",
                    Severity.ERROR,
                    f"{base}.steps[{s}].authority",
                    f"unknown tier {step.authority!r}; known tiers: {', '.join(tiers)}",
                )
            if previous is not None and step.due < previous:
                add(
                    "playbook.deadline-backwards",
                    Severity.WARNING,
                    f"{base}.steps[{s}].due",
                    f"due {_fmt(step.due)} after the start, before steps[{s - 1}] ({_fmt(previous)})",
                )
            previous = step.due
        if now is not None and playbook.drill_every is not None:
            times = [t for t in (playbook.last_drilled, playbook.last_used) if t is not None]
            latest = max(times) if times else None
            if latest is None or latest + playbook.drill_every < now:
                since = "never drilled or used" if latest is None else f"last drilled or used {latest.isoformat()}"
                add(
                    "playbook.drill-overdue",
                    Severity.WARNING,
                    f"{base}.last_drilled",
                    f"{since}; drill every {_fmt(playbook.drill_every)}",
                )
    return tuple(findings)


# --------------------------------------------------------------------------
# The worked playbooks

#: The seven-step method for an angry customer: compose yourself, listen,
#: restate, empathise and apologise, propose a solution, act and follow up,
#: feed back internally.
ANGRY_CUSTOMER = Playbook(
    id="angry-customer",
    version=1,
    title="The seven-step method for an angry customer",
    description=(
        "The customer is angry. The agent is not a bin for negative emotion but a guide out of the problem: "
        "seven steps, owned by the agent from the first word to the internal feedback."
    ),
    triggers=(
        Trigger(marks=frozenset({Mark.COMPLAINT_RISK})),
        Trigger(signals=frozenset({"anger"})),
    ),
    steps=(
        PlaybookStep(
            action="Compose yourself: step into the service role, not the personal one; focus on the problem",
            due=_ZERO,
        ),
        PlaybookStep(
            action="Listen actively: ask neutrally ('could you tell me what happened?'); do not interrupt",
            due=timedelta(minutes=1),
        ),
        PlaybookStep(
            action="Restate the problem calmly and objectively, to show you listened and agree on what to solve",
            due=timedelta(minutes=5),
        ),
        PlaybookStep(
            action="Empathise and apologise sincerely for what the customer went through",
            due=timedelta(minutes=6),
        ),
        PlaybookStep(
            action=(
                "Propose a solution, or let the customer choose; without the authority, say "
                "'we will discuss internally and call you back soon'"
            ),
            to="customer",
            due=timedelta(minutes=10),
            authority="agent",
            obligation=ObligationKind.CALL_BACK,
            without_authority=True,
            note="the call-back obligation applies when the agent lacks the authority",
        ),
        PlaybookStep(
            action=(
                "Act at once and follow up: explain the steps, record name and contact, check satisfaction; "
                "exceed expectations where you can (a voucher, a handwritten apology)"
            ),
            to="customer",
            due=timedelta(hours=4),
            obligation=ObligationKind.FOLLOW_UP,
        ),
        PlaybookStep(
            action="Feed back internally: the cause and the open problems, to the departments concerned",
            to="departments",
            due=timedelta(days=1),
            obligation=ObligationKind.FILE_SUMMARY,
        ),
    ),
    priority=10,
)

#: The ride-safety SOS plan: a safety signal or a call from the police is
#: treated as real whether or not it may be false; handle first, judge later.
RIDE_SAFETY_SOS = Playbook(
    id="ride-safety-sos",
    version=1,
    title="Ride safety: an SOS from a rider or a call from the police",
    description=(
        "Behind the signal there may be one or more lives. Treat it as real; a false alarm is recorded "
        "and penalised afterwards by rule, never used as a reason to wait."
    ),
    triggers=(
        Trigger(flags=frozenset({Flag.SAFETY})),
        Trigger(flags=frozenset({Flag.POLICE})),
        # What triage found in the text, in any language: a safety or police signal on a ride, an SOS anywhere.
        Trigger(categories=frozenset({"ride"}), signals=frozenset({"safety", "police"})),
        Trigger(concepts=frozenset({"safety.sos"})),
    ),
    steps=(
        PlaybookStep(
            action="Call the rider at once; keep the line open; treat the signal as real",
            role="owner",
            to="customer",
            due=_ZERO,
            authority="agent",
        ),
        PlaybookStep(
            action="Contact the police with the trip details (route, vehicle, driver)",
            role="owner",
            to="police",
            due=timedelta(minutes=2),
            authority="agent",
            obligation=ObligationKind.NOTIFY_DEPARTMENT,
        ),
        PlaybookStep(
            action="Alert the safety team: locate the vehicle and the driver; contact the driver",
            role="owner",
            to="safety_team",
            obligation=ObligationKind.NOTIFY_DEPARTMENT,
            due=timedelta(minutes=5),
        ),
        PlaybookStep(
            action="Escalate to the executive tier and report progress until it is over",
            role="owner",
            to="executive",
            due=timedelta(minutes=10),
            obligation=ObligationKind.REPORT_UPWARD,
        ),
        PlaybookStep(
            action="Tell the rider (or the emergency contact) what is being done",
            role="owner",
            to="customer",
            due=timedelta(minutes=30),
            obligation=ObligationKind.REPORT_TO_CUSTOMER,
        ),
        PlaybookStep(
            action="Verify afterwards whether the alarm was real; a false alarm is penalised by rule",
            role="safety_team",
            due=timedelta(days=1),
            authority="supervisor",
            obligation=ObligationKind.VERIFY,
        ),
        PlaybookStep(
            action="File the post-incident summary and propose amendments to this plan",
            role="owner",
            to="supervisor",
            due=timedelta(days=1),
            obligation=ObligationKind.FILE_SUMMARY,
        ),
    ),
    priority=100,
    drill_every=timedelta(days=90),
)

#: Both worked playbooks.
WORKED_PLAYBOOKS: tuple[Playbook, ...] = (RIDE_SAFETY_SOS, ANGRY_CUSTOMER)
