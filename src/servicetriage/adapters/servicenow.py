"""ServiceNow: a Table API ``incident`` record to a `Ticket`, and a triage back to impact and urgency.

The record is read bare or as the API's ``{"result": {...}}``. ``impact``
and ``urgency`` (``"1"`` is the highest, as ServiceNow counts) become the
ticket's recorded ITSM levels on the default ``servicenow`` matrix, and
``priority`` (``"1"`` Critical to ``"5"`` Planning) its declared urgency.
Values read with ``sysparm_display_value=all`` or ``true`` (``"1 - High"``)
are read too. Times without an offset (``"2026-03-02 01:30:00"``) are in
UTC, as the Table API returns them; pass *zone* for records read with
display values, which are in the reading user's zone.

`from_triage` writes ``impact`` and ``urgency`` (ServiceNow derives its
priority from them) and a ``work_notes`` entry with the reasons.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, tzinfo
from typing import Any

from servicetriage.adapters import _common as c
from servicetriage.model import Channel, DeclaredUrgency, Ticket, TicketStatus, Triage

__all__ = ["CHANNELS", "LEVELS", "PRIORITY", "STATES", "from_triage", "to_ticket"]

SYSTEM = "servicenow"

#: ServiceNow's incident priority (``"1"`` Critical is the most pressing) to ours and back.
PRIORITY = c.PriorityTable(
    system=SYSTEM,
    field="priority",
    inbound={"1": 1, "2": 2, "3": 3, "4": 4, "5": 5},
    outbound={1: "1", 2: "2", 3: "3", 4: "4", 5: "5"},
)

#: ServiceNow's impact and urgency (``"1"`` High) to the ticket's ITSM level.
ITSM: Mapping[str, int] = {"1": 1, "2": 2, "3": 3}

#: A triage level (importance or urgency, on the default scale or the matrix's) to ServiceNow's value.
LEVELS: Mapping[str, str] = {"critical": "1", "high": "1", "medium": "2", "low": "3"}

#: The incident ``state`` to ours (``"8"`` Canceled is closed).
STATES: Mapping[str, TicketStatus] = {
    "1": TicketStatus.NEW,
    "2": TicketStatus.OPEN,
    "3": TicketStatus.PENDING,
    "6": TicketStatus.RESOLVED,
    "7": TicketStatus.CLOSED,
    "8": TicketStatus.CLOSED,
}

#: The incident ``contact_type`` to our channel.
CHANNELS: Mapping[str, Channel] = {
    "phone": Channel.PHONE,
    "email": Channel.EMAIL,
    "self-service": Channel.EMAIL,
    "web": Channel.EMAIL,
    "walk-in": Channel.IN_PERSON,
    "chat": Channel.CHAT,
    "virtual_agent": Channel.CHAT,
    "social": Channel.SOCIAL_MEDIA,
}

_CODE = re.compile(r"^\s*(\d+)\s*(?:-.*)?$")


def _value(record: Mapping[str, Any], key: str) -> Any:
    """A field's raw value: the ``value`` of a ``{value, display_value}`` pair, a reference's ``value``."""
    found = record.get(key)
    if isinstance(found, Mapping):
        found = found.get("value")
    return None if found == "" else found


def _code(value: object) -> object:
    """``"1 - High"`` and ``1`` as ``"1"``; other values unchanged (the lookup then names them)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and (match := _CODE.match(value)):
        return match.group(1)
    return value


def to_ticket(payload: object, *, zone: tzinfo | None = UTC) -> Ticket:
    """Build a `Ticket` from a ServiceNow ``incident`` record.

    :raises TicketError: naming the field and the value, for an unknown
        impact, urgency, priority, state or contact type, or a missing number.
    """
    data = c.mapping(SYSTEM, payload, "<payload>")
    record = c.mapping(SYSTEM, data["result"], "result") if "result" in data else data
    ticket_id = c.required_id(SYSTEM, _value(record, "number") or _value(record, "sys_id"), "number")
    opened = c.parse_time(SYSTEM, _value(record, "opened_at") or _value(record, "sys_created_on"), "opened_at", zone)
    impact = _value(record, "impact")
    urgency = _value(record, "urgency")
    priority = _value(record, "priority")
    state = _value(record, "state")
    contact = _value(record, "contact_type")
    due = _value(record, "due_date")
    caller = _value(record, "caller_id")
    customer, attributes = c.customer(None if caller is None else str(caller))
    category = _value(record, "category")
    return Ticket(
        id=ticket_id,
        opened_at=opened,
        due=None if due is None else c.parse_time(SYSTEM, due, "due_date", zone),
        customer=customer,
        channel=Channel.EMAIL if contact is None else c.lookup(SYSTEM, CHANNELS, contact, "contact_type"),
        category=category if isinstance(category, str) and category.strip() else "general",
        subject=c.optional_str(SYSTEM, _value(record, "short_description"), "short_description"),
        text=c.html_to_text(c.optional_str(SYSTEM, _value(record, "description"), "description")),
        declared_urgency=(
            DeclaredUrgency.NORMAL if priority is None else c.declared_for(PRIORITY.ours(_code(priority), "priority"))
        ),
        impact=None if impact is None else c.lookup(SYSTEM, ITSM, _code(impact), "impact"),
        urgency=None if urgency is None else c.lookup(SYSTEM, ITSM, _code(urgency), "urgency"),
        status=TicketStatus.OPEN if state is None else c.lookup(SYSTEM, STATES, _code(state), "state"),
        attributes=attributes,
    )


def from_triage(triage: Triage) -> dict[str, Any]:
    """The incident fields that record *triage*: ``impact``, ``urgency`` and ``work_notes``.

    The triage's importance sets the impact and its urgency the urgency
    (``critical`` and ``high`` are ``"1"``); a level outside `LEVELS` raises
    `TicketError`.
    """
    return {
        "impact": c.lookup(SYSTEM, LEVELS, triage.importance.name, "triage.importance"),
        "urgency": c.lookup(SYSTEM, LEVELS, triage.urgency.name, "triage.urgency"),
        "work_notes": c.reasons_text(triage),
    }
