"""Frappe Helpdesk: an ``HD Ticket`` document to a `Ticket`, and a triage back to its fields.

A document comes bare (as a hook receives ``doc.as_dict()``) or as the REST
API's ``{"data": {...}}``. Its ``priority`` links to an ``HD Ticket
Priority`` record: the shipped ones are ``Urgent``, ``High``, ``Medium`` and
``Low``. Frappe stores times without an offset, in the site's time zone
(System Settings): pass it as *zone*; without it such a time is refused.
``resolution_by`` (the SLA's resolution deadline) becomes the due time.

`from_triage` returns ``priority`` and two custom fields (``custom_`` is the
prefix Frappe gives fields added with Customize Form).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from servicetriage.adapters import _common as c
from servicetriage.model import Ticket, TicketStatus, Triage

__all__ = ["PRIORITY", "STATUSES", "from_triage", "to_ticket"]

SYSTEM = "frappe"

#: The shipped HD Ticket priorities (``Urgent`` is the most pressing) to ours and back.
PRIORITY = c.PriorityTable(
    system=SYSTEM,
    field="priority",
    inbound={"urgent": 1, "high": 2, "medium": 3, "low": 4},
    outbound={1: "Urgent", 2: "High", 3: "Medium", 4: "Low", 5: "Low"},
    fold=str.casefold,
)

#: HD Ticket ``status`` to ours (``Replied`` waits on the customer).
STATUSES: Mapping[str, TicketStatus] = {
    "open": TicketStatus.OPEN,
    "replied": TicketStatus.PENDING,
    "paused": TicketStatus.PENDING,
    "resolved": TicketStatus.RESOLVED,
    "closed": TicketStatus.CLOSED,
}


def to_ticket(payload: object, *, zone: tzinfo | None = None) -> Ticket:
    """Build a `Ticket` from an ``HD Ticket`` document.

    :raises TicketError: naming the field and the value, for another
        doctype, an unknown priority or status, a missing name, or a time
        without an offset when *zone* is not given.
    """
    data = c.mapping(SYSTEM, payload, "<payload>")
    doc = c.mapping(SYSTEM, data["data"], "data") if "data" in data and "name" not in data else data
    doctype = doc.get("doctype")
    if doctype not in (None, "HD Ticket"):
        raise c.fail(SYSTEM, "doctype", f"expected 'HD Ticket', got {doctype!r}")
    ticket_id = c.required_id(SYSTEM, doc.get("name"), "name")
    opened_value = doc.get("creation")
    if opened_value is None and doc.get("opening_date") is not None:
        opened_value = f"{doc['opening_date']} {doc.get('opening_time') or '00:00:00'}"
    priority = doc.get("priority")
    status = doc.get("status")
    due = doc.get("resolution_by")
    requester = c.pick(doc, "raised_by", "contact", "customer")
    customer, attributes = c.customer(None if requester is None else str(requester))
    for key, value in doc.items():
        if key.startswith("custom_") and isinstance(value, str | int | float | bool):
            attributes[key] = value
    kind = doc.get("ticket_type")
    return Ticket(
        id=ticket_id,
        opened_at=c.parse_time(SYSTEM, opened_value, "creation", zone),
        due=None if due in (None, "") else c.parse_time(SYSTEM, due, "resolution_by", zone),
        customer=customer,
        category=kind if isinstance(kind, str) and kind.strip() and kind != "Unspecified" else "general",
        subject=c.optional_str(SYSTEM, doc.get("subject"), "subject"),
        text=c.html_to_text(c.optional_str(SYSTEM, doc.get("description"), "description")),
        declared_urgency="normal" if priority in (None, "") else c.declared_for(PRIORITY.ours(priority)),
        status=TicketStatus.OPEN if status is None else c.lookup(SYSTEM, STATUSES, status, "status"),
        attributes=attributes,
    )


def from_triage(triage: Triage, *, prefix: str = "custom_triage_") -> dict[str, Any]:
    """The HD Ticket fields that record *triage*: ``priority`` and ``<prefix>quadrant``, ``<prefix>reasons``."""
    return {
        "priority": PRIORITY.theirs(triage.priority),
        f"{prefix}quadrant": triage.quadrant.name,
        f"{prefix}reasons": c.reasons_text(triage),
    }
