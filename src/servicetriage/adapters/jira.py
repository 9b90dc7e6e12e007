"""Jira Service Management: an issue of the REST API to a `Ticket`, and a triage back to priority and labels.

An issue's ``fields`` hold the summary, the description (Atlassian Document
Format in API v3, plain text in v2), ``priority`` (``Highest`` to
``Lowest``), ``reporter``, ``labels``, ``status`` and ``created``
(``2026-03-02T09:30:00.000+0800``). The request type, the SLA cycles and
the impact and urgency fields are custom fields whose ids differ from site
to site: name them with `JiraFields`. The earliest breach time of an
ongoing SLA cycle becomes the ticket's due time.

`from_triage` returns an issue update body: ``fields.priority`` by name and
``update.labels`` additions (labels are never replaced).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from servicetriage.adapters import _common as c
from servicetriage.model import Ticket, TicketStatus, Triage

__all__ = ["IMPACT", "PRIORITY", "STATUS_CATEGORIES", "URGENCY", "JiraFields", "from_triage", "to_ticket"]

SYSTEM = "jira"

#: Jira's default priority scheme (``Highest`` is the most pressing) to ours and back, one to one.
PRIORITY = c.PriorityTable(
    system=SYSTEM,
    field="fields.priority.name",
    inbound={"highest": 1, "high": 2, "medium": 3, "low": 4, "lowest": 5},
    outbound={1: "Highest", 2: "High", 3: "Medium", 4: "Low", 5: "Lowest"},
    fold=str.casefold,
)

#: The service project's Impact field to the ticket's ITSM impact (1 is the highest, three levels).
IMPACT: Mapping[str, int] = {
    "extensive / widespread": 1,
    "significant / large": 1,
    "moderate / limited": 2,
    "minor / localized": 3,
}

#: The service project's Urgency field to the ticket's ITSM urgency.
URGENCY: Mapping[str, int] = {"critical": 1, "high": 1, "medium": 2, "low": 3}

#: The status category key to ours.
STATUS_CATEGORIES: Mapping[str, TicketStatus] = {
    "new": TicketStatus.NEW,
    "indeterminate": TicketStatus.OPEN,
    "done": TicketStatus.RESOLVED,
}


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class JiraFields:
    """The ids of a site's custom fields (see *Custom fields* in the site's admin, or ``GET /rest/api/3/field``).

    ``None`` leaves a field unread.
    """

    request_type: str | None = "customfield_10010"
    slas: tuple[str, ...] = attrs.field(default=(), converter=_names)
    impact: str | None = None
    urgency: str | None = None


def _adf_text(node: object) -> str:
    """The plain text of an Atlassian Document Format node: text nodes joined, one block a line."""
    if isinstance(node, str):
        return node
    if isinstance(node, list):
        return "".join(_adf_text(child) for child in node)
    if not isinstance(node, Mapping):
        return ""
    kind = node.get("type")
    if kind == "text":
        text = node.get("text")
        return text if isinstance(text, str) else ""
    if kind == "hardBreak":
        return "\n"
    inner = _adf_text(node.get("content", []))
    return inner + "\n" if kind in {"paragraph", "heading", "listItem", "codeBlock", "blockquote"} else inner


def _due(fields: Mapping[str, Any], ids: tuple[str, ...]) -> datetime | None:
    times: list[datetime] = []
    for field_id in ids:
        sla = fields.get(field_id)
        if sla is None:
            continue
        where = f"fields.{field_id}"
        cycle = c.mapping(SYSTEM, sla, where).get("ongoingCycle")
        if cycle is None:
            continue
        breach = c.mapping(SYSTEM, cycle, f"{where}.ongoingCycle").get("breachTime")
        if breach is None:
            continue
        breach = c.mapping(SYSTEM, breach, f"{where}.ongoingCycle.breachTime")
        if breach.get("iso8601") is not None:
            times.append(c.parse_time(SYSTEM, breach["iso8601"], f"{where}.ongoingCycle.breachTime.iso8601"))
        else:
            times.append(c.epoch_millis(SYSTEM, breach.get("epochMillis"), f"{where}.ongoingCycle.breachTime"))
    return min(times) if times else None


def _option(fields: Mapping[str, Any], field_id: str | None, table: Mapping[str, int]) -> int | None:
    if field_id is None or fields.get(field_id) is None:
        return None
    value = fields[field_id]
    name = value.get("value") if isinstance(value, Mapping) else value
    return c.lookup(SYSTEM, table, name, f"fields.{field_id}.value")


def to_ticket(payload: object, *, fields: JiraFields | None = None) -> Ticket:
    """Build a `Ticket` from a Jira Service Management issue.

    :raises TicketError: naming the field and the value, for an unknown
        priority, impact, urgency or status category, or a missing key.
    """
    ids = fields or JiraFields()
    issue = c.mapping(SYSTEM, payload, "<payload>")
    if "issue" in issue and "fields" not in issue:  # a webhook body: {"webhookEvent": ..., "issue": {...}}
        issue = c.mapping(SYSTEM, issue["issue"], "issue")
    data = c.mapping(SYSTEM, issue.get("fields"), "fields")
    ticket_id = c.required_id(SYSTEM, c.pick(issue, "key", "id"), "key")
    priority = data.get("priority")
    priority_name = priority.get("name") if isinstance(priority, Mapping) else priority
    reporter = data.get("reporter")
    requester = None
    if isinstance(reporter, Mapping):
        found = c.pick(reporter, "accountId", "emailAddress", "name")
        requester = None if found is None else str(found)
    status = data.get("status")
    status_key = None
    if isinstance(status, Mapping) and isinstance(status.get("statusCategory"), Mapping):
        status_key = status["statusCategory"].get("key")
    category = "general"
    if ids.request_type is not None and isinstance(data.get(ids.request_type), Mapping):
        request_type = data[ids.request_type].get("requestType")
        if isinstance(request_type, Mapping) and isinstance(request_type.get("name"), str):
            category = request_type["name"]
    customer, attributes = c.customer(requester)
    labels = c.string_list(SYSTEM, data.get("labels"), "fields.labels")
    if labels:
        attributes["labels"] = ";".join(labels)
    return Ticket(
        id=ticket_id,
        opened_at=c.parse_time(SYSTEM, data.get("created"), "fields.created"),
        due=_due(data, ids.slas),
        customer=customer,
        category=category,
        subject=c.optional_str(SYSTEM, data.get("summary"), "fields.summary"),
        text=" ".join(_adf_text(data.get("description")).split(" ")).strip(),
        declared_urgency=(
            "normal" if priority_name is None else c.declared_for(PRIORITY.ours(priority_name, "fields.priority.name"))
        ),
        impact=_option(data, ids.impact, IMPACT),
        urgency=_option(data, ids.urgency, URGENCY),
        status=(
            TicketStatus.OPEN
            if status_key is None
            else c.lookup(SYSTEM, STATUS_CATEGORIES, status_key, "fields.status.statusCategory.key")
        ),
        attributes=attributes,
    )


def from_triage(triage: Triage, *, label_prefix: str = "triage") -> dict[str, Any]:
    """The issue update that records *triage*: ``{"fields": {"priority": {"name"}}, "update": {"labels": [...]}}``."""
    return {
        "fields": {"priority": {"name": PRIORITY.theirs(triage.priority)}},
        "update": {"labels": [{"add": tag} for tag in c.triage_tags(triage, label_prefix)]},
    }
