# ruff: noqa: INP001
"""Odoo Helpdesk: triage ``helpdesk.ticket`` records on create and on write.

Put this class in your addon's ``models/`` (the addon depends on
``helpdesk``) and add an ``x_triage_quadrant`` (Char) field to the model.

Odoo's ticket priority is a selection that counts upwards: ``"0"`` Low,
``"1"`` Medium, ``"2"`` High, ``"3"`` Urgent. Odoo stores datetimes naive,
in UTC. The override writes its own fields with a context flag, so its
write does not triage again.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from odoo import api, models

from servicetriage import Customer, Ticket, classify
from servicetriage.adapters import UNKNOWN_REQUESTER, html_to_text
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy

#: Odoo's priority ("3" Urgent is the most pressing) to the declared urgency, and our priority back.
DECLARED = {"3": "critical", "2": "high", "1": "normal", "0": "low"}
WRITTEN = {1: "3", 2: "2", 3: "1", 4: "0", 5: "0"}
#: The fields whose change may change the placement.
WATCHED = frozenset({"name", "description", "priority", "partner_id", "sla_deadline", "stage_id"})


@functools.cache
def policy() -> TriagePolicy:
    """The policy, compiled once per Odoo worker."""
    return DEFAULT_POLICY


def to_ticket(record: Any) -> Ticket:
    """Our ticket for one ``helpdesk.ticket`` record."""
    deadline = record.sla_deadline
    return Ticket(
        id=str(record.id),
        opened_at=record.create_date.replace(tzinfo=UTC),
        due=deadline.replace(tzinfo=UTC) if deadline else None,
        customer=Customer(id=str(record.partner_id.id) if record.partner_id else UNKNOWN_REQUESTER),
        subject=record.name or "",
        text=html_to_text(record.description or ""),
        declared_urgency=DECLARED[record.priority or "0"],
        status="closed" if record.stage_id.fold else "open",
    )


class HelpdeskTicket(models.Model):
    """``helpdesk.ticket``, triaged on create and on every write that may change the placement."""

    _inherit = "helpdesk.ticket"

    @api.model_create_multi
    def create(self, vals_list: list[dict[str, Any]]) -> Any:
        """Create the tickets, then place them."""
        tickets = super().create(vals_list)
        tickets._servicetriage()  # noqa: SLF001 - the model's own method, on its own records
        return tickets

    def write(self, vals: dict[str, Any]) -> bool:
        """Write, then place the tickets again if a watched field changed (not on our own write)."""
        done = super().write(vals)
        if not self.env.context.get("servicetriage") and WATCHED & set(vals):
            self._servicetriage()
        return done

    def _servicetriage(self) -> None:
        """Place each record and write the priority and quadrant back, flagged so the write does not recurse."""
        now = datetime.now(UTC)
        for record in self:
            result = classify(to_ticket(record), policy(), now)
            record.with_context(servicetriage=True).write(
                {"priority": WRITTEN[min(result.priority, 5)], "x_triage_quadrant": result.quadrant.name}
            )
