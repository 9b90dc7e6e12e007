"""Salesforce Service Cloud: a ``Case`` record to a `Ticket`, and a triage back to its fields.

A record from the REST API or a SOQL query has an ``attributes`` object
whose ``type`` must be ``Case``. The standard ``Priority`` picklist is
``High``, ``Medium``, ``Low``; ``Status`` and ``Origin`` are picklists an
org may extend, so *statuses* and *origins* add values. Custom fields
(names ending in ``__c``) with plain values are kept as attributes under
their own names. ``CreatedDate`` has an offset (``+0000``).

`from_triage` returns ``Priority`` and three custom fields (create them as
fields on Case, or rename them with *fields*).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servicetriage.adapters import _common as c
from servicetriage.model import Channel, Ticket, TicketStatus, Triage

__all__ = ["ORIGINS", "PRIORITY", "STATUSES", "WRITE_FIELDS", "from_triage", "to_ticket"]

SYSTEM = "salesforce"

#: The standard Case priority picklist (``High`` is the most pressing) to ours and back.
PRIORITY = c.PriorityTable(
    system=SYSTEM,
    field="Priority",
    inbound={"high": 2, "medium": 3, "low": 4},
    outbound={1: "High", 2: "High", 3: "Medium", 4: "Low", 5: "Low"},
    fold=str.casefold,
)

#: The standard Case ``Status`` values to ours.
STATUSES: Mapping[str, TicketStatus] = {
    "new": TicketStatus.NEW,
    "working": TicketStatus.OPEN,
    "escalated": TicketStatus.OPEN,
    "on hold": TicketStatus.PENDING,
    "closed": TicketStatus.CLOSED,
}

#: The standard Case ``Origin`` values to our channel.
ORIGINS: Mapping[str, Channel] = {
    "phone": Channel.PHONE,
    "email": Channel.EMAIL,
    "web": Channel.EMAIL,
    "chat": Channel.CHAT,
    "messaging": Channel.CHAT,
    "social": Channel.SOCIAL_MEDIA,
}

#: The custom fields `from_triage` writes by default.
WRITE_FIELDS: Mapping[str, str] = {
    "quadrant": "Triage_Quadrant__c",
    "priority": "Triage_Priority__c",
    "reasons": "Triage_Reasons__c",
}


def to_ticket(
    payload: object,
    *,
    statuses: Mapping[str, TicketStatus] | None = None,
    origins: Mapping[str, Channel] | None = None,
) -> Ticket:
    """Build a `Ticket` from a Salesforce ``Case`` record.

    :raises TicketError: naming the field and the value, for a record of
        another type, an unknown priority, status or origin, or a missing id.
    """
    case = c.mapping(SYSTEM, payload, "<payload>")
    kind = case.get("attributes")
    if isinstance(kind, Mapping) and kind.get("type") not in (None, "Case"):
        raise c.fail(SYSTEM, "attributes.type", f"expected 'Case', got {kind.get('type')!r}")
    ticket_id = c.required_id(SYSTEM, c.pick(case, "CaseNumber", "Id"), "CaseNumber")
    priority = case.get("Priority")
    status = case.get("Status")
    origin = case.get("Origin")
    requester = c.pick(case, "ContactId", "SuppliedEmail", "AccountId")
    customer, attributes = c.customer(None if requester is None else str(requester))
    for key, value in case.items():
        if key.endswith("__c") and isinstance(value, str | int | float | bool):
            attributes[key] = value
    extra_statuses = {k.casefold(): v for k, v in (statuses or {}).items()}
    extra_origins = {k.casefold(): v for k, v in (origins or {}).items()}
    kind_name = case.get("Type")
    return Ticket(
        id=ticket_id,
        opened_at=c.parse_time(SYSTEM, case.get("CreatedDate"), "CreatedDate"),
        customer=customer,
        channel=Channel.EMAIL if origin is None else c.lookup(SYSTEM, {**ORIGINS, **extra_origins}, origin, "Origin"),
        category=kind_name if isinstance(kind_name, str) and kind_name.strip() else "general",
        subject=c.optional_str(SYSTEM, case.get("Subject"), "Subject"),
        text=c.html_to_text(c.optional_str(SYSTEM, case.get("Description"), "Description")),
        declared_urgency="normal" if priority is None else c.declared_for(PRIORITY.ours(priority)),
        status=(
            TicketStatus.OPEN if status is None else c.lookup(SYSTEM, {**STATUSES, **extra_statuses}, status, "Status")
        ),
        attributes=attributes,
    )


def from_triage(triage: Triage, *, fields: Mapping[str, str] = WRITE_FIELDS) -> dict[str, Any]:
    """The Case fields that record *triage*: ``Priority`` and the quadrant, priority and reasons fields.

    *fields* renames the custom fields (keys ``quadrant``, ``priority``,
    ``reasons``); a key left out is not written.
    """
    out: dict[str, Any] = {"Priority": PRIORITY.theirs(triage.priority)}
    values = {"quadrant": triage.quadrant.name, "priority": triage.priority, "reasons": c.reasons_text(triage)}
    for key, name in fields.items():
        out[name] = values[key]
    return out
