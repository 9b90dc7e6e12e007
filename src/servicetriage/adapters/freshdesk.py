"""Freshdesk: a ticket of the v2 API to a `Ticket`, and a triage back to priority and tags.

Freshdesk counts its priority upwards: ``1`` is Low and ``4`` Urgent, the
reverse of ours, so the table maps each value explicitly. ``status`` (2 Open,
3 Pending, 4 Resolved, 5 Closed) and ``source`` (1 Email, 2 Portal, 3 Phone,
7 Chat, 9 Feedback Widget, 10 Outbound Email) are numbers too; a custom
status (6 and up) is refused unless *statuses* names it. The text is
``description_text`` when present, else the HTML ``description`` as text.

Freshdesk replaces the whole tag list on update: merge the returned
``tags`` with the ticket's own before sending them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servicetriage.adapters import _common as c
from servicetriage.model import Channel, Ticket, TicketStatus, Triage

__all__ = ["PRIORITY", "SOURCES", "STATUSES", "from_triage", "to_ticket"]

SYSTEM = "freshdesk"

#: Freshdesk's priority (``4`` Urgent is the most pressing, ``1`` Low the least) to ours and back.
PRIORITY = c.PriorityTable(
    system=SYSTEM,
    field="priority",
    inbound={4: 1, 3: 2, 2: 3, 1: 4},
    outbound={1: 4, 2: 3, 3: 2, 4: 1, 5: 1},
)

#: Freshdesk's built-in statuses to ours.
STATUSES: Mapping[int, TicketStatus] = {
    2: TicketStatus.OPEN,
    3: TicketStatus.PENDING,
    4: TicketStatus.RESOLVED,
    5: TicketStatus.CLOSED,
}

#: Freshdesk's ``source`` to our channel.
SOURCES: Mapping[int, Channel] = {
    1: Channel.EMAIL,
    2: Channel.EMAIL,
    3: Channel.PHONE,
    5: Channel.SOCIAL_MEDIA,
    6: Channel.SOCIAL_MEDIA,
    7: Channel.CHAT,
    9: Channel.CHAT,
    10: Channel.EMAIL,
}


def _custom(value: object, names: Mapping[str, str] | None) -> dict[str, str | int | float | bool]:
    if value is None:
        return {}
    fields = c.mapping(SYSTEM, value, "custom_fields")
    out: dict[str, str | int | float | bool] = {}
    for key, item in fields.items():
        name = key if names is None else names.get(key)
        if name is None or item is None:
            continue
        if not isinstance(item, str | int | float | bool):
            raise c.fail(SYSTEM, f"custom_fields.{key}", f"expected a plain value, got {item!r}")
        out[name] = item
    return out


def to_ticket(
    payload: object,
    *,
    custom_fields: Mapping[str, str] | None = None,
    statuses: Mapping[int, TicketStatus] | None = None,
) -> Ticket:
    """Build a `Ticket` from a Freshdesk ticket.

    *custom_fields* maps ``cf_`` names to attribute names and keeps only
    those; without it every plain custom field is kept under its own name.
    *statuses* adds the account's custom statuses (``{6: TicketStatus.PENDING}``).

    :raises TicketError: naming the field and the value, for an unknown
        priority, status or source, or a missing id.
    """
    ticket = c.mapping(SYSTEM, payload, "<payload>")
    ticket_id = c.required_id(SYSTEM, ticket.get("id"), "id")
    priority = ticket.get("priority")
    status = ticket.get("status")
    source = ticket.get("source")
    due = ticket.get("due_by")
    text = ticket.get("description_text")
    if text is None:
        text = c.html_to_text(c.optional_str(SYSTEM, ticket.get("description"), "description"))
    requester = ticket.get("requester_id")
    customer, attributes = c.customer(None if requester is None else str(requester))
    tags = c.string_list(SYSTEM, ticket.get("tags"), "tags")
    if tags:
        attributes["tags"] = ";".join(tags)
    kind = ticket.get("type")
    return Ticket(
        id=ticket_id,
        opened_at=c.parse_time(SYSTEM, ticket.get("created_at"), "created_at"),
        due=None if due is None else c.parse_time(SYSTEM, due, "due_by"),
        customer=customer,
        channel=Channel.EMAIL if source is None else c.lookup(SYSTEM, SOURCES, source, "source"),
        category=kind if isinstance(kind, str) and kind.strip() else "general",
        subject=c.optional_str(SYSTEM, ticket.get("subject"), "subject"),
        text=c.optional_str(SYSTEM, text, "description_text").strip(),
        declared_urgency=c.declared_for(PRIORITY.ours(priority, "priority")) if priority is not None else "normal",
        status=(
            TicketStatus.OPEN
            if status is None
            else c.lookup(SYSTEM, {**STATUSES, **(statuses or {})}, status, "status")
        ),
        attributes={**attributes, **_custom(ticket.get("custom_fields"), custom_fields)},
    )


def from_triage(triage: Triage, *, tag_prefix: str = "triage") -> dict[str, Any]:
    """The Freshdesk fields that record *triage*: ``priority`` (1 to 4) and ``tags`` (merge before sending)."""
    return {"priority": PRIORITY.theirs(triage.priority), "tags": c.triage_tags(triage, tag_prefix)}
