"""Bad input to the learning loop names the field and the value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from servicetriage.errors import PolicyError, StoreError, TicketError
from servicetriage.learning import Drill, LearningConfig, PenaltyRule, PenaltyStep, stale
from servicetriage.review import Deviation, IncidentReport, PlaybookRef
from servicetriage.store import Store, amendment_from_data, report_from_data, version_from_data

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quadrant": "Q7"}, "report.quadrant: expected one of 'Q1', 'Q2', 'Q3', 'Q4', got 'Q7'"),
        ({"outcome": "fine"}, "report.outcome: expected one of 'resolved', .* got 'fine'"),
        ({"customer_tier": "gold"}, "report.customer_tier: expected one of 'standard', .* got 'gold'"),
        ({"channel": "fax"}, "report.channel: expected one of 'phone', .* got 'fax'"),
        ({"exemplary": "yes"}, "report.exemplary: expected true or false, got 'yes'"),
        ({"false_alarm": 1}, "report.false_alarm: expected true or false, got 1"),
        ({"reporter": ""}, "report.reporter: expected a non-empty string or nothing, got ''"),
        ({"customer_id": " "}, "report.customer_id: expected a non-empty string or nothing, got ' '"),
        ({"satisfaction_before": 0}, "report.satisfaction_before: expected a score from 1 to 5, got 0"),
    ],
)
def test_a_bad_report_field_is_named_with_its_value(changes: dict[str, Any], expected: str) -> None:
    fields: dict[str, Any] = {"id": "R1", "ticket_id": "T1", "owner": "li", "opened_at": T0, **changes}
    with pytest.raises(TicketError, match=expected):
        IncidentReport(**fields)


def test_bad_deviation_and_playbook_fields_are_named() -> None:
    with pytest.raises(TicketError, match=r"deviation.amount: expected money >= 0 such as '500 CNY', got '500'"):
        Deviation(kind="refund", authorized_by="li", tier="agent", amount="500")
    with pytest.raises(TicketError, match=r"deviation.grant: expected a non-empty string or nothing, got ''"):
        Deviation(kind="refund", authorized_by="li", tier="agent", grant="")
    with pytest.raises(TicketError, match=r"playbook.version: expected a whole number >= 1, got 0"):
        PlaybookRef(id="p", version=0)


def test_a_report_file_field_error_names_the_path_and_value() -> None:
    data = {"id": "R1", "ticket_id": "T1", "owner": "li", "opened_at": "2026-03-01T08:00:00+00:00"}
    with pytest.raises(TicketError, match=r"deviations\[0\]\.amount: .*'lots'"):
        report_from_data(
            {**data, "deviations": [{"kind": "refund", "authorized_by": "li", "tier": "agent", "amount": "lots"}]}
        )
    with pytest.raises(TicketError, match=r"quadrant: expected .*got 'Q9'"):
        report_from_data({**data, "quadrant": "Q9"})


def test_bad_learning_settings_are_named() -> None:
    with pytest.raises(PolicyError, match=r"learning.min_count: expected a whole number >= 1, got 0"):
        LearningConfig(min_count=0)
    with pytest.raises(PolicyError, match=r"learning.window: expected a duration > 0, got '0s'"):
        LearningConfig(window=timedelta(0))
    with pytest.raises(PolicyError, match=r"learning.min_success_rate: expected a rate from 0 to 1, got 'most'"):
        LearningConfig(min_success_rate="most")
    with pytest.raises(PolicyError, match=r"learning.tiers\[1\]: 'agent' is named twice"):
        LearningConfig(tiers=("agent", "agent"))
    with pytest.raises(PolicyError, match=r"learning.tiers: expected at least one tier"):
        LearningConfig(tiers=())
    with pytest.raises(PolicyError, match=r"learning.conditions\[0\]: expected a non-empty name, got 3"):
        LearningConfig(conditions=(3,))  # type: ignore[arg-type]


def test_bad_penalty_rules_and_drills_are_named() -> None:
    with pytest.raises(PolicyError, match=r"penalty.steps\[1\].after: 1 is also the count of steps\[0\]"):
        PenaltyRule(steps=(PenaltyStep(after=1, action="warning"), PenaltyStep(after=1, action="fee")))
    with pytest.raises(PolicyError, match=r"penalty.steps\[\].action: expected one of 'record', .* got 'jail'"):
        PenaltyStep(after=1, action="jail")
    with pytest.raises(PolicyError, match=r"penalty.steps\[\].fee: expected money >= 0 such as '500 CNY', got 'a lot'"):
        PenaltyStep(after=1, action="fee", fee="a lot")
    assert PenaltyStep(after=2, action="fee", fee="50 CNY").fee is not None
    with pytest.raises(PolicyError, match=r"drill.at: expected an aware datetime"):
        Drill(playbook_id="sos", at=datetime(2026, 3, 1), by="ops")
    with pytest.raises(PolicyError, match=r"drill.by: expected a non-empty string, got ''"):
        Drill(playbook_id="sos", at=T0, by="")
    with pytest.raises(PolicyError, match=r"playbooks\[1\]\.id: expected a playbook id, got None"):
        stale(["sos", {"drill_every": timedelta(days=1)}], T0)


def test_bad_stored_data_and_store_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(
        PolicyError, match=r"amendment.operations\[0\].op: expected one of 'set', 'add', 'remove', got 'move'"
    ):
        amendment_from_data({"id": "A", "target": {"kind": "playbook", "id": "p"}, "operations": [{"op": "move"}]})
    with pytest.raises(PolicyError, match=r"amendment.id: missing"):
        amendment_from_data({"target": {"kind": "playbook", "id": "p"}, "operations": []})
    with pytest.raises(StoreError, match=r"version.number: missing"):
        version_from_data({"target": {"kind": "playbook", "id": "p"}})
    with Store(tmp_path / "s.db") as store:
        with pytest.raises(PolicyError, match=r"subject: expected one of 'report', 'amendment', got 'memo'"):
            store.review("memo", "R1")
        with pytest.raises(PolicyError, match=r"state: expected one of 'draft', .* got 'done'"):
            store.reports("done")
    with pytest.raises(StoreError, match=r"synchronous: expected 'FULL' or 'NORMAL', got 'OFF'"):
        Store(tmp_path / "t.db", synchronous="OFF")  # type: ignore[arg-type]
