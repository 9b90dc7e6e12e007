"""Each system's priority scale maps to ours and back without loss, and HTML bodies always come out as text."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from servicetriage.adapters import SYSTEMS, adapter
from servicetriage.adapters._common import PriorityTable, declared_for, html_to_text
from servicetriage.model import Level, Quadrant, Triage

TABLES: dict[str, PriorityTable] = {system: adapter(system).PRIORITY for system in SYSTEMS}

#: A payload carrying one priority value, per system: the smallest ticket each adapter reads.
BUILD: dict[str, Any] = {
    "zendesk": lambda v: {"id": 1, "created_at": "2026-03-02T01:00:00Z", "priority": v},
    "servicenow": lambda v: {"number": "INC1", "opened_at": "2026-03-02 01:00:00", "priority": v},
    "jira": lambda v: {"key": "H-1", "fields": {"created": "2026-03-02T01:00:00.000+0000", "priority": {"name": v}}},
    "freshdesk": lambda v: {"id": 1, "created_at": "2026-03-02T01:00:00Z", "priority": v},
    "zammad": lambda v: {"id": 1, "created_at": "2026-03-02T01:00:00Z", "priority_id": v},
    "salesforce": lambda v: {"CaseNumber": "1", "CreatedDate": "2026-03-02T01:00:00.000+0000", "Priority": v},
    "frappe": lambda v: {"name": 1, "creation": "2026-03-02T01:00:00+00:00", "priority": v},
}
#: Where `from_triage` puts the priority, per system.
WRITTEN: dict[str, Any] = {
    "zendesk": lambda out: out["priority"],
    "servicenow": lambda out: None,  # ServiceNow derives its priority from impact and urgency
    "jira": lambda out: out["fields"]["priority"]["name"],
    "freshdesk": lambda out: out["priority"],
    "zammad": lambda out: out["priority_id"],
    "salesforce": lambda out: out["Priority"],
    "frappe": lambda out: out["priority"],
}


def _triage(priority: int) -> Triage:
    level = Level(2, "high")
    return Triage(
        ticket_id="T", quadrant=Quadrant.Q1, priority=priority, urgency=level, importance=level, due=None, reasons=()
    )


def _folded(table: PriorityTable, value: Any) -> Any:
    return table.fold(value) if table.fold is not None and isinstance(value, str) else value


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_system_value_maps_to_ours_and_back_to_itself(system: str) -> None:
    table = TABLES[system]
    for value in table.inbound:
        assert _folded(table, table.theirs(table.ours(value))) == value


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_priority_we_give_is_written_and_read_back_no_less_pressing(system: str) -> None:
    """Writing our priority 1-5 and reading it back never makes a ticket less pressing than the triage said.

    A system with fewer levels than ours merges our lowest ones (or our highest two), so the way back may land
    one step higher, never lower, for the levels the system can express.
    """
    table = TABLES[system]
    for priority in range(1, 6):
        back = table.ours(table.theirs(priority))
        assert back <= max(priority, min(table.inbound.values()))


@pytest.mark.parametrize("system", SYSTEMS)
def test_the_outbound_table_is_monotone(system: str) -> None:
    table = TABLES[system]
    ranks = [table.ours(table.theirs(priority)) for priority in range(1, 6)]
    assert ranks == sorted(ranks)


@given(data=st.data(), system=st.sampled_from([s for s in SYSTEMS if s != "servicenow"]))
def test_payload_priority_survives_triage_and_write_back(data: st.DataObject, system: str) -> None:
    """A payload's priority, read as a ticket and written back from a triage of that priority, is the same value."""
    table = TABLES[system]
    value = data.draw(st.sampled_from(list(table.inbound)))
    if isinstance(value, str):
        value = data.draw(st.sampled_from([value, value.upper(), value.title()])) if table.fold else value
    module = adapter(system)
    ticket = module.to_ticket(BUILD[system](value))
    ours = table.ours(value)
    assert ticket.declared_urgency is declared_for(ours)
    written = WRITTEN[system](module.from_triage(_triage(ours)))
    assert _folded(table, written) == _folded(table, value)


@given(st.sampled_from(["1", "2", "3", "4", "5"]))
def test_servicenow_priority_reads_as_declared_urgency(value: str) -> None:
    ticket = adapter("servicenow").to_ticket(BUILD["servicenow"](value))
    assert ticket.declared_urgency is declared_for(int(value))


@given(st.sampled_from(SYSTEMS), st.one_of(st.text(max_size=8), st.integers(), st.none(), st.booleans()))
def test_an_unknown_priority_fails_closed_naming_the_value(system: str, value: object) -> None:
    table = TABLES[system]
    key = _folded(table, value)
    assume(value is not None and key not in table.inbound)
    with pytest.raises(ValueError, match=rf"^{system}: {re.escape(table.field)}: .*got {re.escape(repr(value))}$"):
        table.ours(value)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60))
def test_escaped_text_in_html_comes_back_as_the_same_words(text: str) -> None:
    body = f"<div><p>{html.escape(text)}</p><script>steal()</script></div>"
    assert html_to_text(body) == " ".join(text.split())


@given(st.sampled_from(["script", "style"]), st.text(alphabet=st.characters(blacklist_characters="<"), max_size=60))
def test_script_and_style_content_never_reaches_the_text(tag: str, content: str) -> None:
    assert html_to_text(f"<p>before</p><{tag}>{content}</{tag}><p>after</p>") == "before\nafter"
