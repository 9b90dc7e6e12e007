"""Zammad: a ticket of the REST API or a webhook body to a `Ticket`, and a triage back to its priority.

Zammad has three priorities and counts them upwards: ``1 low``,
``2 normal``, ``3 high``. A ticket names it as ``priority_id``, as the
expanded name ``"3 high"``, or (in a webhook) as an object with ``id`` and
``name``. A webhook body is ``{"ticket": {...}, "article": {...}}``: the
article's body (HTML when its ``content_type`` says so) is the text; an API
ticket has no body, only its title. ``escalation_at`` becomes the due time.

`from_triage` returns ``priority_id`` and a custom attribute that holds the
quadrant (create it in the object manager, or pass ``quadrant_attribute=None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servicetriage.adapters import _common as c
from servicetriage.model import Ticket, TicketStatus, Triage

__all__ = ["PRIORITY", "STATES", "from_triage", "to_ticket"]

SYSTEM = "zammad"

#: Zammad's ``priority_id`` (``3`` high is the most pressing, ``1`` low the least) to ours and back.
PRIORITY = c.PriorityTable(
    system=SYSTEM,
    field="ticket.priority_id",
    inbound={3: 2, 2: 3, 1: 4},
    outbound={1: 3, 2: 3, 3: 2, 4: 1, 5: 1},
)

_PRIORITY_NAMES: Mapping[str, int] = {"3 high": 3, "2 normal": 2, "1 low": 1}

#: Zammad's ticket state names (and the default ``state_id`` numbers) to ours.
STATES: Mapping[object, TicketStatus] = {
    "new": TicketStatus.NEW,
    "open": TicketStatus.OPEN,
    "pending reminder": TicketStatus.PENDING,
    "pending close": TicketStatus.PENDING,
    "closed": TicketStatus.CLOSED,
    "merged": TicketStatus.CLOSED,
    1: TicketStatus.NEW,
    2: TicketStatus.OPEN,
    3: TicketStatus.PENDING,
    4: TicketStatus.CLOSED,
    5: TicketStatus.CLOSED,
    7: TicketStatus.PENDING,
}


def _priority_id(ticket: Mapping[str, Any]) -> int | None:
    value = ticket.get("priority_id")
    if value is not None:
        return int(value) if isinstance(value, str) and value.isdigit() else value
    named = ticket.get("priority")
    if isinstance(named, Mapping):
        named = c.pick(named, "id", "name")
        if isinstance(named, int):
            return named
    if named is None:
        return None
    return c.lookup(SYSTEM, _PRIORITY_NAMES, named, "ticket.priority")


def _name(value: object) -> object:
    return value.get("name") if isinstance(value, Mapping) else value


def to_ticket(payload: object) -> Ticket:
    """Build a `Ticket` from a Zammad ticket or webhook body.

    :raises TicketError: naming the field and the value, for an unknown
        priority or state, or a missing id.
    """
    data = c.mapping(SYSTEM, payload, "<payload>")
    ticket = c.mapping(SYSTEM, data["ticket"], "ticket") if "ticket" in data else data
    article = data.get("article") if "ticket" in data else None
    ticket_id = c.required_id(SYSTEM, c.pick(ticket, "number", "id"), "ticket.number")
    priority = _priority_id(ticket)
    state = c.pick(ticket, "state", "state_id")
    customer_value = ticket.get("customer")
    if isinstance(customer_value, Mapping):
        customer_value = c.pick(customer_value, "email", "login", "id")
    requester = c.pick({"c": customer_value, "id": ticket.get("customer_id")}, "c", "id")
    customer, attributes = c.customer(None if requester is None else str(requester))
    text = ""
    if article is not None:
        body = c.mapping(SYSTEM, article, "article")
        raw = c.optional_str(SYSTEM, body.get("body"), "article.body")
        text = c.html_to_text(raw) if body.get("content_type") == "text/html" else raw.strip()
    escalation = ticket.get("escalation_at")
    group = _name(ticket.get("group"))
    return Ticket(
        id=ticket_id,
        opened_at=c.parse_time(SYSTEM, ticket.get("created_at"), "ticket.created_at"),
        due=None if escalation is None else c.parse_time(SYSTEM, escalation, "ticket.escalation_at"),
        customer=customer,
        category=group if isinstance(group, str) and group.strip() else "general",
        subject=c.optional_str(SYSTEM, ticket.get("title"), "ticket.title"),
        text=text,
        declared_urgency="normal" if priority is None else c.declared_for(PRIORITY.ours(priority)),
        status=TicketStatus.OPEN if state is None else c.lookup(SYSTEM, STATES, _name(state), "ticket.state"),
        attributes=attributes,
    )


def from_triage(triage: Triage, *, quadrant_attribute: str | None = "triage_quadrant") -> dict[str, Any]:
    """The ticket fields that record *triage*: ``priority_id`` (1 to 3) and the quadrant attribute."""
    out: dict[str, Any] = {"priority_id": PRIORITY.theirs(triage.priority)}
    if quadrant_attribute is not None:
        out[quadrant_attribute] = triage.quadrant.name
    return out
