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

The package reads in the order of the method: the policy as data
(`_policy`), ownership and work orders (`_ownership`), events, actions and
the state of a running escalation (`_state`), the machine that moves a state
(`_machine`) and the static checks (`_check`).
"""

from __future__ import annotations

from typing import Any

from servicetriage._deprecated import renamed
from servicetriage.escalation._check import check_escalation_policy
from servicetriage.escalation._machine import advance_escalation, start
from servicetriage.escalation._ownership import Case, WorkOrder, open_work_order
from servicetriage.escalation._policy import (
    BusinessClock,
    Chain,
    EscalationPolicy,
    ProgressReport,
    Recipient,
    RecipientKind,
    Step,
    WhenEmpty,
)
from servicetriage.escalation._state import Action, ActionType, EscalationState, Event, EventKind, Standing, Status

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


#: Old names, kept for one release: reading one warns and gives the object under its new name.
_RENAMED = {"Target": "Recipient", "TargetKind": "RecipientKind", "advance": "advance_escalation"}


def __getattr__(name: str) -> Any:
    return renamed(__name__, name, _RENAMED, globals())
