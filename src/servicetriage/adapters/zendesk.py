"""Zendesk: the Ticket API object and the webhook bodies, to a `Ticket`, and a triage back.

Three shapes are read:

- the **Ticket API object**, bare or wrapped as ``{"ticket": {...}}``
  (numeric ids, lower-case ``priority`` and ``status``, ``tags`` as a list,
  ``custom_fields`` as ``[{"id", "value"}]``);
- a **trigger webhook** whose JSON body an admin wrote with placeholders,
  wrapped as ``{"ticket": {...}}``: every value is a string there
  (``"id": "35436"``, ``"priority": "Urgent"``, ``"tags": "vip billing"``);
- an **event webhook** (``{"type": "zen:event-type:ticket.created",
  "detail": {...}}``): string ids, upper-case values.

Zendesk counts ``urgent`` as its most pressing priority; a ticket without a
priority declares a normal urgency. `from_triage` returns the fields of a
``PUT /api/v2/tickets/{id}`` body: ``priority`` and ``additional_tags``
(which adds tags without replacing the ticket's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from servicetriage.adapters import _common as c
from servicetriage.model import Channel, DeclaredUrgency, Ticket, TicketStatus, Triage

__all__ = ["CHANNELS", "PRIORITY", "STATUSES", "from_triage", "to_ticket"]

SYSTEM = "zendesk"

#: Zendesk's priority (``urgent`` is the most pressing) to ours and back.
PRIORITY = c.PriorityTable(
    system=SYSTEM,
    field="ticket.priority",
    inbound={"urgent": 1, "high": 2, "normal": 3, "low": 4},
    outbound={1: "urgent", 2: "high", 3: "normal", 4: "low", 5: "low"},
    fold=str.casefold,
)

#: Zendesk's ticket status to ours (``hold`` waits as ``pending`` does).
STATUSES: Mapping[str, TicketStatus] = {
    "new": TicketStatus.NEW,
    "open": TicketStatus.OPEN,
    "pending": TicketStatus.PENDING,
    "hold": TicketStatus.PENDING,
    "solved": TicketStatus.RESOLVED,
    "closed": TicketStatus.CLOSED,
}

_CHAT = ("chat", "native_messaging", "whatsapp", "line", "wechat", "sms", "mobile_sdk", "instagram_dm", "telegram")
_SOCIAL = ("twitter", "facebook", "twitter_dm", "facebook_message")
_EMAIL = ("email", "web", "api", "mobile", "help_center", "any_channel", "rule", "closed_ticket", "sample_ticket")

#: Zendesk's ``via.channel`` to ours; another value is refused.
CHANNELS: Mapping[str, Channel] = (
    {"voice": Channel.PHONE}
    | dict.fromkeys(_CHAT, Channel.CHAT)
    | dict.fromkeys(_SOCIAL, Channel.SOCIAL_MEDIA)
    | dict.fromkeys(_EMAIL, Channel.EMAIL)
)


def _unwrap(payload: object) -> tuple[Mapping[str, Any], str]:
    """The ticket object and the path prefix its fields are named under."""
    data = c.mapping(SYSTEM, payload, "<payload>")
    kind = data.get("type")
    if isinstance(kind, str) and kind.startswith("zen:event-type:"):
        if not kind.startswith("zen:event-type:ticket."):
            raise c.fail(SYSTEM, "type", f"expected a ticket event, got {kind!r}")
        return c.mapping(SYSTEM, data.get("detail"), "detail"), "detail"
    if "ticket" in data:
        return c.mapping(SYSTEM, data["ticket"], "ticket"), "ticket"
    return data, "ticket"


def _custom(fields: object, where: str, names: Mapping[int | str, str]) -> dict[str, str | int | float | bool]:
    out: dict[str, str | int | float | bool] = {}
    if fields is None or not names:
        return out
    if not isinstance(fields, list):
        raise c.fail(SYSTEM, f"{where}.custom_fields", f"expected a list of {{id, value}}, got {fields!r}")
    wanted = {str(k): v for k, v in names.items()}
    for index, item in enumerate(fields):
        entry = c.mapping(SYSTEM, item, f"{where}.custom_fields[{index}]")
        name = wanted.get(str(entry.get("id")))
        value = entry.get("value")
        if name is None or value is None:
            continue
        if isinstance(value, list):
            value = ";".join(str(v) for v in value)
        if not isinstance(value, str | int | float | bool):
            raise c.fail(SYSTEM, f"{where}.custom_fields[{index}].value", f"expected a plain value, got {value!r}")
        out[name] = value
    return out


def _requester(ticket: Mapping[str, Any]) -> str | None:
    requester = ticket.get("requester")
    if isinstance(requester, Mapping):
        found = c.pick(requester, "id", "email")
        return None if found is None else str(found)
    found = ticket.get("requester_id")
    return None if found in (None, "", 0) else str(found)


def to_ticket(
    payload: object, *, custom_fields: Mapping[int | str, str] | None = None, zone: tzinfo | None = None
) -> Ticket:
    """Build a `Ticket` from a Zendesk ticket (API object, trigger webhook or event webhook).

    *custom_fields* maps Zendesk custom field ids to the attribute names the
    ticket keeps them under (``{360001234567: "contract"}``); other custom
    fields are left out. *zone* is for webhook bodies whose times were
    rendered without an offset.

    :raises TicketError: naming the field and the value, for an unknown
        priority, status or channel, a missing id, or a time without a zone.
    """
    ticket, where = _unwrap(payload)
    ticket_id = c.required_id(SYSTEM, ticket.get("id"), f"{where}.id")
    opened = c.parse_time(SYSTEM, ticket.get("created_at"), f"{where}.created_at", zone)
    due = ticket.get("due_at")
    priority = ticket.get("priority")
    declared = (
        DeclaredUrgency.NORMAL
        if priority in (None, "", "-")
        else c.declared_for(PRIORITY.ours(priority, f"{where}.priority"))
    )
    status_value = ticket.get("status")
    status = TicketStatus.OPEN if status_value is None else c.lookup(SYSTEM, STATUSES, status_value, f"{where}.status")
    channel = Channel.EMAIL
    via = ticket.get("via")
    if isinstance(via, Mapping) and via.get("channel") is not None:
        channel = c.lookup(SYSTEM, CHANNELS, via["channel"], f"{where}.via.channel")
    customer, attributes = c.customer(_requester(ticket))
    tags = c.string_list(SYSTEM, ticket.get("tags"), f"{where}.tags")
    attributes_tags = {"tags": ";".join(tags)} if tags else {}
    description = c.optional_str(SYSTEM, ticket.get("description"), f"{where}.description")
    kind = ticket.get("type")
    return Ticket(
        id=ticket_id,
        opened_at=opened,
        due=None if due in (None, "") else c.parse_time(SYSTEM, due, f"{where}.due_at", zone),
        customer=customer,
        channel=channel,
        category=kind.strip().lower() if isinstance(kind, str) and kind.strip() else "general",
        subject=c.optional_str(SYSTEM, ticket.get("subject"), f"{where}.subject"),
        text=c.html_to_text(description),
        declared_urgency=declared,
        status=status,
        attributes={
            **attributes,
            **attributes_tags,
            **_custom(ticket.get("custom_fields"), where, custom_fields or {}),
        },
    )


def from_triage(triage: Triage, *, tag_prefix: str = "triage") -> dict[str, Any]:
    """The Zendesk fields that record *triage*: ``priority`` and ``additional_tags``.

    Send them as ``{"ticket": from_triage(result)}`` in a ticket update.
    """
    return {"priority": PRIORITY.theirs(triage.priority), "additional_tags": c.triage_tags(triage, tag_prefix)}
