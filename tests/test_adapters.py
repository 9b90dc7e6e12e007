"""Adapters read each system's real payload shapes, fail closed on unknown values, and write triages back."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from servicetriage import classify
from servicetriage.adapters import (
    SYSTEMS,
    adapter,
    frappe,
    freshdesk,
    jira,
    reader,
    salesforce,
    servicenow,
    zammad,
    zendesk,
)
from servicetriage.adapters._common import UNKNOWN_REQUESTER, html_to_text
from servicetriage.errors import TicketError
from servicetriage.model import Channel, DeclaredUrgency, Level, Quadrant, TicketStatus, Triage
from servicetriage.triage import DEFAULT_POLICY

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
KOLKATA = ZoneInfo("Asia/Kolkata")
JIRA_FIELDS = jira.JiraFields(
    slas=("customfield_10030", "customfield_10031"), impact="customfield_10004", urgency="customfield_10042"
)


def payloads(system: str) -> list[Any]:
    data: list[Any] = json.loads((FIXTURES / f"{system}.json").read_text(encoding="utf-8"))
    return data


def a_triage(
    priority: int, quadrant: Quadrant = Quadrant.Q1, *, urgency: str = "high", importance: str = "high"
) -> Triage:
    return Triage(
        ticket_id="T1",
        quadrant=quadrant,
        priority=priority,
        urgency=Level(2, urgency),
        importance=Level(2, importance),
        due=None,
        reasons=(),
    )


# --------------------------------------------------------------------------
# Zendesk


def test_zendesk_api_object_keeps_type_tags_and_named_custom_fields() -> None:
    ticket = zendesk.to_ticket(payloads("zendesk")[0], custom_fields={360012345671: "plan", 360012345673: "wallets"})
    assert ticket.id == "35436"
    assert ticket.opened_at == datetime(2026, 3, 2, 1, 12, 40, tzinfo=UTC)
    assert ticket.customer.id == "20978392"
    assert ticket.declared_urgency is DeclaredUrgency.HIGH
    assert ticket.category == "incident"
    assert ticket.status is TicketStatus.OPEN
    assert dict(ticket.attributes) == {"tags": "billing;refund", "plan": "gold", "wallets": "card;wallet"}


def test_zendesk_html_description_becomes_text_without_the_script() -> None:
    ticket = zendesk.to_ticket(payloads("zendesk")[1])
    assert ticket.text == "Flight cancelled, passenger & two children stranded at gate 12.\nNeeds rebooking tonight."
    assert ticket.channel is Channel.PHONE
    assert ticket.due == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert ticket.opened_at.utcoffset() == timedelta(hours=8)


def test_zendesk_ticket_without_requester_or_priority_is_read_as_unknown_and_normal() -> None:
    ticket = zendesk.to_ticket(payloads("zendesk")[2])
    assert ticket.customer.id == UNKNOWN_REQUESTER
    assert ticket.attributes["requester_missing"] is True
    assert ticket.declared_urgency is DeclaredUrgency.NORMAL
    assert ticket.status is TicketStatus.PENDING


def test_zendesk_trigger_webhook_with_string_values_reads_like_the_api_object() -> None:
    ticket = zendesk.to_ticket(payloads("zendesk")[3])
    assert (ticket.id, ticket.customer.id, ticket.channel) == ("35439", "20978411", Channel.CHAT)
    assert ticket.declared_urgency is DeclaredUrgency.CRITICAL
    assert ticket.attributes["tags"] == "sos;ride"


def test_zendesk_event_webhook_reads_the_detail_object() -> None:
    ticket = zendesk.to_ticket(payloads("zendesk")[4])
    assert (ticket.id, ticket.category, ticket.status) == ("35440", "problem", TicketStatus.NEW)
    assert ticket.declared_urgency is DeclaredUrgency.LOW


def test_zendesk_event_of_another_domain_is_refused() -> None:
    with pytest.raises(TicketError, match=r"zendesk: type: expected a ticket event, got 'zen:event-type:user.created'"):
        zendesk.to_ticket({"type": "zen:event-type:user.created", "detail": {}})


def test_zendesk_unknown_priority_names_the_field_and_value() -> None:
    payload = {**payloads("zendesk")[2], "priority": "asap"}
    with pytest.raises(TicketError, match=r"zendesk: ticket\.priority: expected one of 'urgent', .*got 'asap'"):
        zendesk.to_ticket(payload)


def test_zendesk_unknown_channel_is_refused() -> None:
    payload = {**payloads("zendesk")[2], "via": {"channel": "carrier_pigeon"}}
    with pytest.raises(TicketError, match=r"ticket\.via\.channel: .*got 'carrier_pigeon'"):
        zendesk.to_ticket(payload)


def test_zendesk_writes_priority_and_additional_tags() -> None:
    assert zendesk.from_triage(a_triage(1)) == {"priority": "urgent", "additional_tags": ["triage_q1", "triage_p1"]}


# --------------------------------------------------------------------------
# ServiceNow


def test_servicenow_impact_and_urgency_become_itsm_levels_and_times_are_utc() -> None:
    ticket = servicenow.to_ticket(payloads("servicenow")[0])
    assert (ticket.id, ticket.impact, ticket.urgency) == ("INC0010042", 1, 1)
    assert ticket.opened_at == datetime(2026, 3, 2, 0, 45, 10, tzinfo=UTC)
    assert ticket.channel is Channel.PHONE
    assert ticket.declared_urgency is DeclaredUrgency.CRITICAL
    assert classify(ticket, DEFAULT_POLICY, NOW).quadrant is Quadrant.Q1


def test_servicenow_empty_caller_is_a_missing_requester() -> None:
    ticket = servicenow.to_ticket(payloads("servicenow")[1])
    assert ticket.customer.id == UNKNOWN_REQUESTER
    assert ticket.status is TicketStatus.NEW


def test_servicenow_display_value_pairs_read_their_raw_value() -> None:
    ticket = servicenow.to_ticket(payloads("servicenow")[2])
    assert (ticket.id, ticket.impact, ticket.urgency, ticket.status) == ("INC0010044", 2, 2, TicketStatus.PENDING)
    assert ticket.opened_at == datetime(2026, 3, 1, 20, 0, tzinfo=UTC)


def test_servicenow_labelled_values_and_another_zone() -> None:
    record = {"number": "INC1", "opened_at": "2026-03-02 09:00:00", "impact": "1 - High", "urgency": 3}
    ticket = servicenow.to_ticket(record, zone=ZoneInfo("Asia/Shanghai"))
    assert (ticket.impact, ticket.urgency) == (1, 3)
    assert ticket.opened_at == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def test_servicenow_unknown_impact_names_the_field() -> None:
    with pytest.raises(TicketError, match=r"servicenow: impact: expected one of '1', '2', '3', got '4'"):
        servicenow.to_ticket({"number": "INC1", "opened_at": "2026-03-02 09:00:00", "impact": "4"})


def test_servicenow_writes_impact_and_urgency_from_the_levels() -> None:
    out = servicenow.from_triage(a_triage(2, urgency="medium", importance="critical"))
    assert (out["impact"], out["urgency"]) == ("1", "2")
    assert out["work_notes"].startswith("T1: Q1 priority 2")


def test_servicenow_refuses_a_level_it_cannot_write() -> None:
    with pytest.raises(TicketError, match=r"servicenow: triage\.urgency: .*got 'severe'"):
        servicenow.from_triage(a_triage(1, urgency="severe"))


# --------------------------------------------------------------------------
# Jira Service Management


def test_jira_reads_adf_request_type_itsm_fields_and_earliest_sla_breach() -> None:
    ticket = jira.to_ticket(payloads("jira")[0], fields=JIRA_FIELDS)
    assert ticket.id == "HELP-231"
    assert (
        ticket.text == "Since the update, the payroll export stops at step 3.\nSalaries are due tomorrow.\nFinance team"
    )
    assert ticket.category == "Report a system problem"
    assert (ticket.impact, ticket.urgency) == (1, 1)
    assert ticket.due == datetime(2026, 3, 2, 7, 45, tzinfo=UTC)  # the first-response SLA, by epochMillis
    assert ticket.opened_at == datetime(2026, 3, 2, 7, 15, tzinfo=UTC)
    assert ticket.declared_urgency is DeclaredUrgency.CRITICAL


def test_jira_plain_description_and_no_reporter() -> None:
    ticket = jira.to_ticket(payloads("jira")[1], fields=JIRA_FIELDS)
    assert ticket.text == "Plain text from API v2: the reset link has expired."
    assert ticket.customer.id == UNKNOWN_REQUESTER
    assert ticket.due is None
    assert ticket.status is TicketStatus.NEW


def test_jira_webhook_body_reads_the_issue() -> None:
    ticket = jira.to_ticket(payloads("jira")[2])
    assert (ticket.id, ticket.declared_urgency) == ("HELP-233", DeclaredUrgency.NORMAL)


def test_jira_unknown_impact_option_is_refused() -> None:
    issue = payloads("jira")[0]
    issue["fields"]["customfield_10004"] = {"value": "Galactic"}
    with pytest.raises(TicketError, match=r"jira: fields\.customfield_10004\.value: .*got 'Galactic'"):
        jira.to_ticket(issue, fields=JIRA_FIELDS)


def test_jira_writes_priority_by_name_and_adds_labels() -> None:
    assert jira.from_triage(a_triage(5, Quadrant.Q4)) == {
        "fields": {"priority": {"name": "Lowest"}},
        "update": {"labels": [{"add": "triage_q4"}, {"add": "triage_p5"}]},
    }


# --------------------------------------------------------------------------
# Freshdesk


def test_freshdesk_counts_priority_upwards() -> None:
    urgent, low = payloads("freshdesk")[0], payloads("freshdesk")[1]
    assert freshdesk.to_ticket(urgent).declared_urgency is DeclaredUrgency.CRITICAL
    assert freshdesk.to_ticket(low).declared_urgency is DeclaredUrgency.LOW
    assert freshdesk.from_triage(a_triage(1))["priority"] == 4
    assert freshdesk.from_triage(a_triage(5))["priority"] == 1


def test_freshdesk_keeps_plain_custom_fields_and_prefers_description_text() -> None:
    ticket = freshdesk.to_ticket(payloads("freshdesk")[0])
    assert ticket.attributes["cf_contract_level"] == "Enterprise"
    assert ticket.attributes["cf_seats"] == 250
    assert "cf_renewal_date" not in ticket.attributes
    assert ticket.text.startswith("I reset my password")
    renamed = freshdesk.to_ticket(payloads("freshdesk")[0], custom_fields={"cf_contract_level": "contract"})
    assert renamed.attributes["contract"] == "Enterprise"
    assert "cf_seats" not in renamed.attributes


def test_freshdesk_escaped_angle_brackets_stay_text() -> None:
    assert freshdesk.to_ticket(payloads("freshdesk")[1]).text == "Would love a dark mode <please>"


def test_freshdesk_custom_status_is_refused_unless_named() -> None:
    payload = {**payloads("freshdesk")[2], "status": 6}
    with pytest.raises(TicketError, match=r"freshdesk: status: expected one of 2, 3, 4, 5, got 6"):
        freshdesk.to_ticket(payload)
    assert freshdesk.to_ticket(payload, statuses={6: TicketStatus.PENDING}).status is TicketStatus.PENDING


# --------------------------------------------------------------------------
# Zammad


def test_zammad_api_ticket_priority_id_three_is_high() -> None:
    ticket = zammad.to_ticket(payloads("zammad")[0])
    assert (ticket.id, ticket.declared_urgency, ticket.customer.id) == ("67311", DeclaredUrgency.HIGH, "12")
    assert ticket.due == datetime(2026, 3, 2, 2, 30, tzinfo=UTC)


def test_zammad_webhook_reads_article_html_and_nested_objects() -> None:
    ticket = zammad.to_ticket(payloads("zammad")[1])
    assert ticket.text == "I returned the shoes two weeks ago.\nStill no refund. link"
    assert (ticket.category, ticket.customer.id, ticket.status) == ("Billing", "li.wei@example.cn", TicketStatus.NEW)
    assert ticket.declared_urgency is DeclaredUrgency.LOW


def test_zammad_expanded_names() -> None:
    ticket = zammad.to_ticket(payloads("zammad")[2])
    assert (ticket.declared_urgency, ticket.status) == (DeclaredUrgency.NORMAL, TicketStatus.PENDING)
    assert ticket.customer.id == UNKNOWN_REQUESTER


def test_zammad_unknown_state_is_refused() -> None:
    with pytest.raises(TicketError, match=r"zammad: ticket\.state: .*got 'frozen'"):
        zammad.to_ticket({"id": 1, "created_at": "2026-03-02T01:00:00Z", "state": "frozen"})


def test_zammad_writes_priority_id_and_quadrant() -> None:
    assert zammad.from_triage(a_triage(1)) == {"priority_id": 3, "triage_quadrant": "Q1"}
    assert zammad.from_triage(a_triage(4), quadrant_attribute=None) == {"priority_id": 1}


# --------------------------------------------------------------------------
# Salesforce


def test_salesforce_case_keeps_custom_fields_and_reads_offsets_without_colon() -> None:
    ticket = salesforce.to_ticket(payloads("salesforce")[0])
    assert (ticket.id, ticket.customer.id, ticket.channel) == ("00001026", "0033000000Qz2ZkAAJ", Channel.PHONE)
    assert ticket.attributes["PotentialLiability__c"] == "Yes"
    assert "EngineeringReqNumber__c" not in ticket.attributes
    assert ticket.opened_at == datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


def test_salesforce_case_without_contact_and_with_html_description() -> None:
    ticket = salesforce.to_ticket(payloads("salesforce")[1])
    assert ticket.customer.id == UNKNOWN_REQUESTER
    assert ticket.text == "Is the seal covered by the warranty?"
    assert ticket.opened_at.utcoffset() == timedelta(hours=-8)


def test_salesforce_other_object_type_is_refused() -> None:
    with pytest.raises(TicketError, match=r"salesforce: attributes\.type: expected 'Case', got 'Lead'"):
        salesforce.to_ticket({"attributes": {"type": "Lead"}, "Id": "00Q1"})


def test_salesforce_org_specific_status_can_be_added() -> None:
    case = {**payloads("salesforce")[1], "Status": "Waiting on Customer"}
    with pytest.raises(TicketError, match=r"salesforce: Status: .*got 'Waiting on Customer'"):
        salesforce.to_ticket(case)
    ticket = salesforce.to_ticket(case, statuses={"Waiting on Customer": TicketStatus.PENDING})
    assert ticket.status is TicketStatus.PENDING


def test_salesforce_writes_priority_and_named_custom_fields() -> None:
    out = salesforce.from_triage(a_triage(3, Quadrant.Q2), fields={"quadrant": "Quadrant__c"})
    assert out == {"Priority": "Medium", "Quadrant__c": "Q2"}


# --------------------------------------------------------------------------
# Frappe Helpdesk


def test_frappe_naive_times_take_the_site_zone() -> None:
    ticket = frappe.to_ticket(payloads("frappe")[0], zone=KOLKATA)
    assert ticket.opened_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert ticket.due == datetime(2026, 3, 2, 11, 45, 10, 482113, tzinfo=KOLKATA)
    assert ticket.text == "All card payments fail with 502 since 07:30.\nWe are losing every order."
    assert ticket.attributes["custom_store_tier"] == "Gold"


def test_frappe_naive_time_without_zone_fails_closed() -> None:
    with pytest.raises(TicketError, match=r"frappe: creation: expected a time with a UTC offset.*(zone=, or --zone)"):
        frappe.to_ticket(payloads("frappe")[0])


def test_frappe_rest_envelope_and_opening_date_and_time() -> None:
    ticket = frappe.to_ticket(payloads("frappe")[1], zone=UTC)
    assert (ticket.id, ticket.category, ticket.status) == ("1208", "general", TicketStatus.PENDING)
    assert ticket.opened_at == datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
    assert ticket.customer.id == UNKNOWN_REQUESTER


def test_frappe_other_doctype_is_refused() -> None:
    with pytest.raises(TicketError, match=r"frappe: doctype: expected 'HD Ticket', got 'Issue'"):
        frappe.to_ticket({"doctype": "Issue", "name": "ISS-1"})


def test_frappe_writes_priority_and_custom_fields() -> None:
    out = frappe.from_triage(a_triage(1))
    assert out["priority"] == "Urgent"
    assert out["custom_triage_quadrant"] == "Q1"


# --------------------------------------------------------------------------
# Shared behaviour


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_fixture_reads_and_writes_back(system: str) -> None:
    all_options: dict[str, dict[str, Any]] = {"frappe": {"zone": KOLKATA}, "jira": {"fields": JIRA_FIELDS}}
    options = all_options.get(system, {})
    read = reader(system, **options)
    for payload in payloads(system):
        ticket = read(payload)
        result = classify(ticket, DEFAULT_POLICY, NOW)
        assert adapter(system).from_triage(result)


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_payload_that_is_not_an_object_is_refused(system: str) -> None:
    with pytest.raises(TicketError, match=rf"^{system}: <payload>: expected an object, got \[1, 2\]"):
        adapter(system).to_ticket([1, 2])


def test_unknown_system_is_refused() -> None:
    with pytest.raises(TicketError, match=r"adapter: expected one of zendesk, .*got 'kayako'"):
        adapter("kayako")


def test_missing_id_names_the_field() -> None:
    with pytest.raises(TicketError, match=r"freshdesk: id: expected an id .*got None"):
        freshdesk.to_ticket({"created_at": "2026-03-02T01:00:00Z"})


def test_priority_outside_the_table_cannot_be_written() -> None:
    with pytest.raises(TicketError, match=r"zendesk: triage\.priority: expected a priority from 1 to 5 .*got 7"):
        zendesk.from_triage(a_triage(7))


def test_html_entities_are_decoded_once() -> None:
    assert html_to_text("<p>&amp;lt;b&amp;gt;</p>") == "&lt;b&gt;"
    assert html_to_text("<p>a<br>b</p><style>p {}</style><template><p>x</p></template>") == "a\nb"


def test_adapters_import_no_cattrs_and_no_shell_module() -> None:
    """The adapters are pure: importing all of them loads neither cattrs nor config, store or cli."""
    probe = (
        "import importlib, json, sys\n"
        f"for name in {list(SYSTEMS)!r}: importlib.import_module('servicetriage.adapters.' + name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout)
    forbidden = ("cattrs", "servicetriage.config", "servicetriage.store", "servicetriage.cli")
    assert [name for name in loaded if name.startswith(forbidden)] == []


def test_frappe_document_from_a_hook_with_datetime_objects() -> None:
    """``doc.as_dict()`` in a hook holds naive datetimes, not text: they take the site's zone too."""
    doc = {**payloads("frappe")[0], "creation": datetime(2026, 3, 2, 7, 45), "resolution_by": None}
    ticket = frappe.to_ticket(doc, zone=KOLKATA)
    assert ticket.opened_at == datetime(2026, 3, 2, 7, 45, tzinfo=KOLKATA)
    with pytest.raises(TicketError, match=r"frappe: creation: expected a time with a UTC offset"):
        frappe.to_ticket(doc)
