"""Signal building blocks: the built-in signal names, the detectors that find them, time arithmetic.

A *signal* is one observable fact about a ticket that moves its urgency or
its importance: a deadline coming closer, an SOS, a call from the police, a
complaint sent to a regulator, a customer whose story many people hear. The
triage policy (`servicetriage.triage`) decides which signals are on and
how far each one raises a level; this module holds what the signals are made
of:

- `Signal`, the closed set of built-in signal names;
- the signal concepts and the lexicon detector that finds them in every
  supported language (`servicetriage.signals.lexicon`), the detector
  protocol for plugging in others (`servicetriage.signals.detectors`) and
  the normal form texts and terms are compared in
  (`servicetriage.signals.normalize`);
- the clock arithmetic of deadlines: `add_time`,
  `elapsed_time`, `extend_due` and `effective_pauses`; `status_pauses`
  turns a status history into pauses (statuses that stop the SLA clock),
  in wall-clock time or, when a business calendar is given, in business time;
  pauses always stop the clock.

Nothing here reads a protected attribute: the lexicons apply to every text
in every language, whatever the ticket's ``language`` says.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from servicetriage.errors import TicketError
from servicetriage.model import Pause, require_aware

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "Clock",
    "LexiconKind",
    "Signal",
    "add_time",
    "effective_pauses",
    "elapsed_time",
    "extend_due",
    "status_key",
    "status_pauses",
]


class Signal(enum.StrEnum):
    """The built-in signals a triage policy can switch on.

    Each one reads only non-protected ticket fields.
    """

    DEADLINE = "deadline"
    """How close the ticket's own due time is (business time with a calendar; pauses stop the clock)."""
    DECLARED_URGENCY = "declared_urgency"
    """How urgent the customer says the need is."""
    SAFETY = "safety"
    """An SOS or a threat to life or health: the ``safety`` flag or a ``safety.*`` concept."""
    POLICE = "police"
    """The police called or are involved: the ``police`` flag or the ``police`` concept."""
    REGULATOR = "regulator"
    """A regulator is involved: the ``regulator`` flag, the ``regulator`` channel or a concept (12315, the CFPB...)."""
    PUBLIC_EXPOSURE = "public_exposure"
    """The need is seen in public: the flag, the ``social_media`` channel or a concept (the press, social media...)."""
    REACH = "reach"
    """How many people hear this customer's story (the "250 law")."""
    VIP = "vip"
    """The customer's tier."""
    MONEY = "money"
    """The money at stake, with thresholds per currency."""
    AFFECTED = "affected"
    """How many customers share the need."""
    REPEAT_CONTACTS = "repeat_contacts"
    """How often the customer had to come back: a complaint risk."""
    DISCRIMINATION = "discrimination"
    """The customer says they were treated unequally for who they are: an equal-treatment complaint."""
    ANGER = "anger"
    """The customer is angry or threatens to escalate: time presses, before it turns into a complaint."""
    ITSM = "itsm"
    """The impact and urgency a helpdesk recorded on the ticket (level 1 the highest)."""


class LexiconKind(enum.StrEnum):
    """What a keyword lexicon detects."""

    SAFETY = "safety"
    POLICE = "police"
    REGULATOR = "regulator"
    PUBLIC = "public"
    DOUBT = "doubt"
    """Hints that a safety signal may be a false alarm (it never lowers the placement)."""
    DECEPTIVE = "deceptive"
    """Patterns of requests that are often deceptive (verify before acting)."""


# --------------------------------------------------------------------------
# Time


class Clock(Protocol):
    """What a business calendar offers to the triage clock.

    `servicetriage.calendar.BusinessCalendar` satisfies it.
    """

    def add(self, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()) -> datetime:
        """*start* plus *duration* of business time, skipping closed hours and pauses."""
        ...  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
        """Return the business time from *start* to *end* (negative if *end* is earlier), without pauses."""
        ...  # pragma: no cover


def effective_pauses(pauses: Sequence[Pause], now: datetime) -> tuple[Pause, ...]:
    """Return the pauses as seen at *now*: an open pause ends at *now*; pauses not begun yet are dropped."""
    require_aware("now", now)
    result: list[Pause] = []
    for pause in pauses:
        if pause.start >= now:
            break
        if pause.end is None or pause.end > now:
            result.append(Pause(pause.start, now))
            break
        result.append(pause)
    return tuple(result)


def status_key(status: object) -> str:
    """The normal form statuses are compared in: ``"Waiting on customer"`` is ``"waiting_on_customer"``."""
    text = str(getattr(status, "value", status)).strip().lower()
    return "_".join(text.replace("-", " ").split())


def status_pauses(
    history: Iterable[tuple[datetime, object]], pausing: Iterable[object], *, opened_at: datetime | None = None
) -> tuple[Pause, ...]:
    """Turn a ticket's status history into the pauses of its SLA clock.

    *history* lists ``(at, status)`` changes, oldest first; a status in
    *pausing* (``"pending"``, ``"waiting on customer"``..., compared by
    `status_key`) stops the clock until the next change to a status that is
    not in it; a pause still running at the end is open (``end`` is
    ``None``). Consecutive pausing statuses make one pause. Changes before
    *opened_at* are clipped to it.

    :raises TicketError: an instant is naive, or the changes are not in time
        order (naming the change and both instants).
    """
    stops = {status_key(s) for s in pausing}
    pauses: list[Pause] = []
    start: datetime | None = None
    previous: datetime | None = None
    for index, (at, status) in enumerate(history):
        require_aware(f"history[{index}].at", at)
        if previous is not None and at < previous:
            msg = (
                f"history[{index}].at: status changes must be in time order; got {at.isoformat()} "
                f"after {previous.isoformat()}"
            )
            raise TicketError(msg)
        previous = at
        when = max(at, opened_at) if opened_at is not None else at
        if status_key(status) in stops:
            if start is None:
                start = when
        elif start is not None:
            if when > start:
                pauses.append(Pause(start, when))
            start = None
    if start is not None:
        pauses.append(Pause(start, None))
    return tuple(pauses)


def _wall_add(start: datetime, duration: timedelta, pauses: Sequence[Pause]) -> datetime:
    cursor, remaining = start, duration
    for pause in pauses:
        end = pause.end if pause.end is not None else pause.start
        if end <= cursor:
            continue
        if pause.start >= cursor + remaining:
            break
        if pause.start > cursor:
            remaining -= pause.start - cursor
        cursor = end
    return cursor + remaining


def _paused_within(pauses: Sequence[Pause], start: datetime, end: datetime) -> timedelta:
    total = timedelta(0)
    for pause in pauses:
        lo = max(pause.start, start)
        hi = min(pause.end if pause.end is not None else pause.start, end)
        if hi > lo:
            total += hi - lo
    return total


def add_time(
    start: datetime, duration: timedelta, pauses: Sequence[Pause] = (), calendar: Clock | None = None
) -> datetime:
    """*start* plus *duration*, with the clock stopped during *pauses*.

    With a *calendar* the duration is business time; without one it is wall
    time. Pauses must be closed (see `effective_pauses`).

    >>> from datetime import UTC
    >>> t0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    >>> add_time(t0, timedelta(hours=2), [Pause(t0 + timedelta(hours=1), t0 + timedelta(hours=4))]).hour
    14
    """
    if calendar is not None:
        return calendar.add(start, duration, pauses)
    if duration <= timedelta(0):
        return start + duration
    return _wall_add(start, duration, pauses)


def elapsed_time(
    start: datetime, end: datetime, pauses: Sequence[Pause] = (), calendar: Clock | None = None
) -> timedelta:
    """Return the clock time from *start* to *end*, less *pauses*; negative if *end* < *start*."""
    if calendar is not None:
        return calendar.elapsed(start, end, pauses)
    if end < start:
        return -(start - end - _paused_within(pauses, end, start))
    return end - start - _paused_within(pauses, start, end)


def extend_due(
    due: datetime, opened_at: datetime, pauses: Sequence[Pause] = (), calendar: Clock | None = None
) -> datetime:
    """Return a ticket's own due time, pushed back by the time it spent paused before it.

    The pushed-back time is business time when a *calendar* is given. A due
    time with no pause before it is returned unchanged. Pauses must be closed
    (see `effective_pauses`).
    """
    if not pauses or due <= opened_at:
        return due
    if calendar is None:
        paused = _paused_within(pauses, opened_at, due)
        return due + paused if paused else due
    paused = timedelta(0)
    for pause in pauses:
        if pause.start >= due:
            break
        end = min(pause.end if pause.end is not None else pause.start, due)
        paused += calendar.elapsed(pause.start, end)
    return calendar.add(due, paused) if paused > timedelta(0) else due
