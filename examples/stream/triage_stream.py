# ruff: noqa: INP001
"""Triage each Zendesk ticket event on a Kafka topic with Quix Streams, and drive its escalation.

Run it (``pip install 'servicetriage[stream]'``)::

    KAFKA_BROKER=localhost:9092 python examples/stream/triage_stream.py

Topics, all keyed by the Zendesk ticket id (text):

- ``zendesk-tickets`` (in): one Zendesk payload per message (a webhook body
  or a Ticket API object, JSON), for instance forwarded by a webhook
  receiver;
- ``ticket-triage`` (out): ``{"triage": row, "zendesk": fields}``, the
  placement as the batch API gives it (with the policy's hash) and the
  fields to write back, or ``zendesk: null`` and the row's ``error`` when the
  adapter refuses the payload;
- ``escalation-ticks`` (in): ``{"at": "2026-03-02T02:10:00Z"}``, a clock
  tick for one ticket (see `on_tick`);
- ``escalation-actions`` (out): one escalation action per message, as
  ``servicetriage.config.unstructure`` writes it.

Time is the message's: a ticket event is judged at its Kafka timestamp and
a tick at its ``at``, never at the wall clock, so replaying a topic gives the
same answers. Each running escalation is stored per ticket in the
application's state as JSON, and `advance_escalation` moves it on each ticket event and
on each tick.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from servicetriage.adapters import zendesk
from servicetriage.batch import RESULT_COLUMNS, policy_hash, result_row
from servicetriage.config import load_section, structure, unstructure
from servicetriage.errors import ServiceTriageError
from servicetriage.escalation import (
    EscalationPolicy,
    EscalationState,
    Event,
    EventKind,
    Status,
    advance_escalation,
    start,
)
from servicetriage.model import Ticket, Triage
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy

if TYPE_CHECKING:  # the handlers are plain functions: only `build` and `main` need Quix Streams
    from quixstreams import Application, State
    from quixstreams.dataframe import StreamingDataFrame

STATE_KEY = "escalation"
OWNER = "queue"  # who owns a case until your helpdesk says who does


def message_time(timestamp_ms: int) -> datetime:
    """A Kafka timestamp (milliseconds since the epoch) as an aware datetime."""
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


def placement(payload: Any, policy: TriagePolicy, now: datetime) -> tuple[Ticket, Triage] | ServiceTriageError:
    """The ticket in a Zendesk payload and its triage at *now*, or the error that refused the payload."""
    try:
        ticket = zendesk.to_ticket(payload)
    except ServiceTriageError as error:
        return error
    return ticket, policy.classify(ticket, now)


def triage_event(payload: Any, policy: TriagePolicy, digest: str, now: datetime) -> dict[str, Any]:
    """The ``ticket-triage`` message for one Zendesk payload: pure, so any stream processor can call it."""
    placed = placement(payload, policy, now)
    if isinstance(placed, ServiceTriageError):
        row: dict[str, Any] = dict.fromkeys(RESULT_COLUMNS)
        row |= {"marks": [], "signals": [], "policy_hash": digest, "error": str(placed)}
        return {"triage": row, "zendesk": None}
    ticket, triage = placed
    return {"triage": result_row(ticket, triage, digest), "zendesk": zendesk.from_triage(triage)}


def _running(stored: Mapping[str, Any] | None) -> EscalationState | None:
    return None if stored is None else structure(stored, EscalationState)


def _out(state: EscalationState, actions: tuple[Any, ...]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """What to store (nothing once resolved) and the actions as plain data."""
    keep = None if state.status is Status.RESOLVED else unstructure(state)
    return keep, [unstructure(action) for action in actions]


def on_ticket_event(
    stored: Mapping[str, Any] | None,
    payload: Any,
    now: datetime,
    policy: TriagePolicy,
    escalation: EscalationPolicy,
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Move one ticket's escalation on a ticket event; return what to store and the actions now due.

    *stored* is what the previous call returned for this ticket (``None``
    for none). A ticket that a chain covers starts escalating on its first
    event; a solved or closed ticket resolves its escalation, which is then
    no longer stored. A payload the adapter refuses leaves the stored state
    as it was (the ``ticket-triage`` message says why). An event older than
    the state's last time (Kafka keeps order within a partition, not across
    producers) is applied at the state's last time.
    """
    placed = placement(payload, policy, now)
    state = _running(stored)
    if isinstance(placed, ServiceTriageError):
        return (None if stored is None else dict(stored)), []
    ticket, triage = placed
    if state is None:
        if not ticket.status.is_open or escalation.select(triage) is None:
            return None, []
        state = start(ticket, triage, escalation, now, owner=OWNER)
    at = max(now, state.last)
    events = [] if ticket.status.is_open else [Event(kind=EventKind.RESOLVED, at=at, by="zendesk")]
    if events and state.status is Status.RESOLVED:  # a repeated "solved" delivery
        events = []
    return _out(*advance_escalation(state, at, events))


def on_tick(stored: Mapping[str, Any] | None, at: datetime) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Move one ticket's escalation to the tick's time *at*; return what to store and the actions now due.

    A tick for a ticket with no running escalation, or one at or before the
    state's last time (a late or repeated tick), changes nothing and emits
    nothing. Ticks may come as often as you like: `advance_escalation` emits each
    action once, stamped with its own due time.
    """
    state = _running(stored)
    if state is None:
        return None, []
    if at <= state.last:
        return dict(stored or {}), []
    return _out(*advance_escalation(state, at))


def build(
    app: Application,
    policy: TriagePolicy = DEFAULT_POLICY,
    escalation: EscalationPolicy | None = None,
) -> dict[str, StreamingDataFrame]:
    """Wire the topics of *app*: triage every ticket event and, with an *escalation* policy, escalate.

    Returns the branches by name (``"triage"``, ``"escalation"``), before
    they are sent to their topics, so that a test can run messages through
    them with ``StreamingDataFrame.test``.
    """
    digest = policy_hash(policy)  # once, at start
    tickets = app.topic("zendesk-tickets", key_deserializer="str")
    triaged = app.topic("ticket-triage", key_serializer="str")
    events = app.dataframe(tickets)
    placed = events.apply(
        lambda value, _key, ts, _headers: triage_event(value, policy, digest, message_time(ts)), metadata=True
    )
    placed.to_topic(triaged)
    if escalation is None:
        return {"triage": placed}

    ticks = app.dataframe(app.topic("escalation-ticks", key_deserializer="str"))
    actions = app.topic("escalation-actions", key_serializer="str")

    def step(value: Any, _key: Any, timestamp: int, _headers: Any, state: State[str, Any]) -> list[dict[str, Any]]:
        stored = state.get(STATE_KEY)
        if isinstance(value, Mapping) and set(value) == {"tick"}:
            keep, due = on_tick(stored, datetime.fromisoformat(value["tick"]))
        else:
            keep, due = on_ticket_event(stored, value, message_time(timestamp), policy, escalation)
        if keep is None:
            state.delete(STATE_KEY)
        else:
            state.set(STATE_KEY, keep)
        return due

    tagged = ticks.apply(lambda tick: {"tick": tick["at"]})
    merged = events.concat(tagged)  # one stream, so one state per ticket for both topics
    due = merged.apply(step, stateful=True, metadata=True, expand=True)
    due.to_topic(actions)
    return {"triage": placed, "escalation": due}


def main() -> None:
    """Run until interrupted."""
    from quixstreams import Application  # noqa: PLC0415

    app = Application(
        broker_address=os.environ.get("KAFKA_BROKER", "localhost:9092"),
        consumer_group="servicetriage",
        auto_offset_reset="earliest",
    )
    escalation = load_section("examples/escalation.toml", "escalation", EscalationPolicy, required=True)
    build(app, DEFAULT_POLICY, escalation)
    app.run()


if __name__ == "__main__":
    main()
