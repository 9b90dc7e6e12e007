"""Adapters from helpdesk payloads to tickets, and from triage results back: one module per system.

Each module has two pure functions, with no network and no vendor SDK:

- ``to_ticket(payload) -> Ticket``: the system's ticket, as its API or a
  webhook sends it (plain JSON data), to our `Ticket`;
- ``from_triage(triage) -> dict``: the system's own fields (priority,
  impact and urgency, tags or labels, custom fields) that record a triage,
  ready for the caller to write back.

Each module's ``PRIORITY`` table maps the system's priority scale to ours
explicitly, both ways; an unknown value raises
`servicetriage.errors.TicketError` naming the system, the field and the
value. The field mappings are tabled in the reference. `html_to_text`
turns an HTML body into safe plain text, for mappings of your own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from servicetriage.adapters._common import UNKNOWN_REQUESTER, html_to_text
from servicetriage.errors import TicketError
from servicetriage.model import Ticket

__all__ = ["SYSTEMS", "UNKNOWN_REQUESTER", "adapter", "html_to_text", "reader"]

#: The systems with an adapter, by module name.
SYSTEMS: tuple[str, ...] = ("zendesk", "servicenow", "jira", "freshdesk", "zammad", "salesforce", "frappe")


def adapter(system: str) -> ModuleType:
    """The adapter module of *system* (one of `SYSTEMS`); `TicketError` for another name."""
    if system not in SYSTEMS:
        msg = f"adapter: expected one of {', '.join(SYSTEMS)}, got {system!r}"
        raise TicketError(msg)
    return importlib.import_module(f"servicetriage.adapters.{system}")


def reader(system: str, **options: Any) -> Callable[[object], Ticket]:
    """The ``to_ticket`` of *system* with *options* bound (``zone=``, ``custom_fields=``...)."""
    to_ticket: Callable[..., Ticket] = adapter(system).to_ticket

    def read(payload: object) -> Ticket:
        return to_ticket(payload, **options)

    return read
