"""The public functions: classify, classify_many, rank_key and rank."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from servicetriage.model import (
    Ticket,
    Triage,
    require_aware,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
from servicetriage.triage._common import _OPEN
from servicetriage.triage._policy import TriagePolicy

# --------------------------------------------------------------------------
# Public functions


def classify(ticket: Ticket, policy: TriagePolicy, now: datetime) -> Triage:
    """Place one ticket: quadrant, priority, levels, due time, reasons and marks.

    *now* is the caller's clock (an aware datetime; a naive one raises
    `TicketError`); the deadline signal and the
    overdue mark are judged against it. Never raises on a valid ticket.
    """
    if now.tzinfo is None:
        require_aware("now", now)
    return policy._engine.classify(ticket, now)  # noqa: SLF001


def classify_many(tickets: Iterable[Ticket], policy: TriagePolicy, now: datetime) -> list[Triage]:
    """Place many tickets at once: the batch path, same results as `classify`."""
    require_aware("now", now)
    run = policy._engine.classify  # noqa: SLF001
    return [run(ticket, now) for ticket in tickets]


def rank_key(ticket: Ticket, triage: Triage) -> tuple[int, bool, int, int, int, bool, float, float, str]:
    """Return the sort key of `rank`: smaller is handled first.

    The order is: quadrant (Q1 first), a live safety signal (an open ticket
    whose triage fired the ``safety`` signal) before every ticket without
    one, whatever their due times: lives first; then priority (1 first), importance level
    (highest first), urgency level (highest first), due time (earliest
    first; no due time last), opened_at (oldest first), ticket id. Instants
    are compared as instants, whatever their time zone.

    The two levels come before the due time because a priority matrix is
    coarser than the levels it is fed: with four levels on a three-level
    matrix, a life at stake (importance ``critical``) and a repeat complaint
    (``high``) share priority 1, and the method handles the life first, even
    when the complaint has been overdue for hours.
    """
    due = triage.due
    return (
        triage.quadrant._value_,  # Enum.value is a slow descriptor; this is the hot sort path
        not ("safety" in triage.signals and ticket.status._value_ in _OPEN),
        triage.priority,
        -triage.importance.rank,
        -triage.urgency.rank,
        due is None,
        due.timestamp() if due is not None else 0.0,
        ticket.opened_at.timestamp(),
        ticket.id,
    )


def rank(tickets: Iterable[Ticket], policy: TriagePolicy, now: datetime) -> list[tuple[Ticket, Triage]]:
    """Classify *tickets* and order them, best first, by `rank_key`.

    The order is total and deterministic for tickets with distinct ids, and
    does not depend on the order of the input.
    """
    require_aware("now", now)
    run = policy._engine.classify  # noqa: SLF001
    pairs = [(ticket, run(ticket, now)) for ticket in tickets]
    keys = [rank_key(ticket, triage) for ticket, triage in pairs]
    order = sorted(range(len(pairs)), key=keys.__getitem__)
    return [pairs[index] for index in order]
