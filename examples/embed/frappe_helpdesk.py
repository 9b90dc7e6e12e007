# ruff: noqa: INP001
"""Frappe Helpdesk: triage an HD Ticket each time it is saved.

Put this module in your Frappe app (``myapp/triage.py``) and register it in
the app's ``hooks.py``::

    doc_events = {"HD Ticket": {"before_save": "myapp.triage.on_hd_ticket_save"}}

``before_save`` runs inside the save, so the fields set here are stored with
it, with no second write and no recursion. Add the custom fields
``custom_triage_quadrant`` (Data) and ``custom_triage_reasons`` (Small Text)
to HD Ticket with Customize Form.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import frappe
from frappe.utils import get_system_timezone

from servicetriage import classify, config
from servicetriage.adapters import frappe as hd_ticket
from servicetriage.errors import TicketError
from servicetriage.triage import DEFAULT_POLICY, TriagePolicy

POLICY_FILE = Path(__file__).with_name("triage.toml")


@functools.cache
def policy() -> TriagePolicy:
    """Load and compile the policy once per worker process."""
    if not POLICY_FILE.exists():
        return DEFAULT_POLICY
    loaded = config.load_section(POLICY_FILE, "triage", TriagePolicy, required=True)
    assert loaded is not None
    return loaded


def on_hd_ticket_save(doc: Any, method: str | None = None) -> None:  # noqa: ARG001 - Frappe passes the event name
    """Place the ticket and write priority, quadrant and reasons onto the document being saved."""
    try:
        ticket = hd_ticket.to_ticket(doc.as_dict(), zone=ZoneInfo(get_system_timezone()))
    except TicketError as error:
        # Fail closed: keep the priority a person set, and say why the ticket was not placed.
        doc.custom_triage_quadrant = ""
        doc.custom_triage_reasons = f"not triaged: {error}"
        frappe.log_error(title="servicetriage", message=str(error))
        return
    result = classify(ticket, policy(), datetime.now(UTC))
    doc.update(hd_ticket.from_triage(result))
