"""Obligations and work orders with a life: pure state functions, the store's tables, the commands."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicetriage.cli import main
from servicetriage.errors import PolicyError, StoreError, TransitionError
from servicetriage.escalation import Case, open_work_order
from servicetriage.followup import (
    ObligationEvent,
    ObligationStatus,
    OrderEvent,
    OrderStatus,
    advance_order,
    open_order,
    orders_of,
    overdue_orders,
    promise_figures,
    settle,
    track,
)
from servicetriage.model import Obligation, ObligationKind
from servicetriage.store import MIGRATIONS, SCHEMA_VERSION, Store

T0 = datetime(2026, 5, 1, 9, tzinfo=UTC)
H = timedelta(hours=1)
CASE = Case(ticket_id="T1", owner="li")


def _promises() -> tuple[Obligation, ...]:
    return (
        Obligation(kind=ObligationKind.CALL_BACK, due=T0 + H, to="customer", note="we will call you back"),
        Obligation(kind=ObligationKind.REPORT_UPWARD, due=T0 + H / 2, to="supervisor", note="ask for approval"),
        Obligation(kind=ObligationKind.CALL_BACK, due=T0 + 2 * H, to="customer", note="second call-back"),
    )


def test_a_call_back_met_on_time_a_report_missed_and_the_figures_show_it() -> None:
    """Met, missed and open promises give the kept rate per kind; a miss raises an escalation event."""
    tracked = track("T1", _promises())
    assert [t.id for t in tracked] == ["T1#1", "T1#2", "T1#3"]
    state, missed = settle(
        tracked,
        [
            ObligationEvent(obligation="T1#2", status="missed", at=T0 + H, by="li"),
            ObligationEvent(obligation="T1#1", status="met", at=T0 + H / 2, by="li"),
        ],
    )
    assert [t.status for t in state] == [ObligationStatus.MET, ObligationStatus.MISSED, ObligationStatus.OPEN]
    (escalation,) = missed
    assert (escalation.obligation, escalation.kind, escalation.to) == (
        "T1#2",
        ObligationKind.REPORT_UPWARD,
        "supervisor",
    )
    figures = {f.kind: f for f in promise_figures(state, T0 + 3 * H)}
    call_back = figures[ObligationKind.CALL_BACK]
    assert (call_back.on_time, call_back.open, call_back.overdue, call_back.kept_rate) == (1, 1, 1, 0.5)
    assert figures[ObligationKind.REPORT_UPWARD].kept_rate == 0.0
    assert "call_back: 1 kept on time" in str(call_back)


def test_a_late_call_back_counts_as_kept_late_and_a_waived_one_is_not_judged() -> None:
    """Met after its due time is late; waived promises stay out of the kept rate."""
    tracked = track("T1", _promises()[:1] + _promises()[2:])
    state, _ = settle(
        tracked,
        [
            ObligationEvent(obligation="T1#1", status="met", at=T0 + 2 * H, by="li"),
            ObligationEvent(obligation="T1#2", status="waived", at=T0, by="wang", note="customer withdrew"),
        ],
    )
    (figures,) = promise_figures(state, T0 + 3 * H)
    assert (figures.on_time, figures.late, figures.waived, figures.kept_rate) == (0, 1, 1, 0.0)


def test_an_event_for_an_unknown_or_closed_obligation_is_named_and_nothing_applies() -> None:
    """Bad input raises TransitionError naming the obligation; the valid events before it are not half-applied."""
    tracked = track("T1", _promises())
    with pytest.raises(TransitionError, match=r"obligation 'T9#1': unknown"):
        settle(tracked, [ObligationEvent(obligation="T9#1", status="met", at=T0, by="li")])
    with pytest.raises(TransitionError, match=r"obligation 'T1#1': already met .* cannot be waived"):
        settle(
            tracked,
            [
                ObligationEvent(obligation="T1#1", status="met", at=T0, by="li"),
                ObligationEvent(obligation="T1#1", status="waived", at=T0 + H, by="li"),
            ],
        )
    with pytest.raises(PolicyError, match=r"obligationevent.status: expected 'met', 'missed' or 'waived', got 'done'"):
        ObligationEvent(obligation="T1#1", status="done", at=T0, by="li")


@given(st.permutations(["met", "missed", "waived"]))
def test_the_figures_account_for_every_tracked_obligation(statuses: list[str]) -> None:
    """Every obligation is counted exactly once, whatever happens to it."""
    tracked = track("T1", _promises())
    events = [
        ObligationEvent(obligation=t.id, status=s, at=T0, by="li") for t, s in zip(tracked, statuses, strict=True)
    ]
    state, missed = settle(tracked, events[:2])
    figures = promise_figures(state, T0 + 5 * H)
    assert sum(f.on_time + f.late + f.missed + f.waived + f.open for f in figures) == 3
    assert len(missed) == statuses[:2].count("missed")


def test_a_work_order_is_acknowledged_done_and_reported_in_that_order() -> None:
    """The life of a work order: each step once, in order, never earlier than the one before."""
    order, obligations = open_work_order(CASE, "billing", "refund the fare", T0, 4 * H, id="W1")
    assert [o.to for o in obligations] == ["billing", "billing", "customer"]
    state = open_order(order)
    with pytest.raises(TransitionError, match=r"work order 'W1' is open: expected 'acknowledged' next, got 'done'"):
        advance_order(state, OrderEvent(order="W1", status="done", at=T0 + H, by="bob"))
    state = advance_order(state, OrderEvent(order="W1", status="acknowledged", at=T0 + H, by="bob"))
    with pytest.raises(TransitionError, match=r"done at .* is earlier than its acknowledged"):
        advance_order(state, OrderEvent(order="W1", status="done", at=T0, by="bob"))
    state = advance_order(state, OrderEvent(order="W1", status="done", at=T0 + 5 * H, by="bob"))
    state = advance_order(state, OrderEvent(order="W1", status="reported", at=T0 + 6 * H, by="li"))
    assert state.status is OrderStatus.REPORTED
    assert state.overdue(T0 + 7 * H)  # done an hour after its due time
    with pytest.raises(TransitionError, match=r"expected nothing \(it is closed\)"):
        advance_order(state, OrderEvent(order="W1", status="reported", at=T0 + 7 * H, by="li"))


def test_an_overdue_department_escalates_to_its_head_and_the_case_lists_its_orders() -> None:
    """Orders not done by their due time name the department's head; the owner's case lists its own orders."""
    w1, _ = open_work_order(CASE, "billing", "refund", T0, 2 * H, id="W1")
    w2, _ = open_work_order(CASE, "ops", "check the car", T0, 8 * H, id="W2")
    other, _ = open_work_order(Case(ticket_id="T2", owner="wang"), "billing", "refund", T0, H, id="W3")
    states = [open_order(w) for w in (w2, w1, other)]
    late = overdue_orders(states, T0 + 3 * H, {"billing": "anna"})
    assert [(o.order, o.head) for o in late] == [("W3", "anna"), ("W1", "anna")]
    assert overdue_orders(states, T0 + 9 * H)[-1].head == "head:ops"
    assert [s.id for s in orders_of(CASE, states)] == ["W1", "W2"]


# --------------------------------------------------------------------------
# The store


def test_the_store_keeps_obligations_and_work_orders_and_refuses_bad_events_whole(tmp_path: Path) -> None:
    """Events persist and replay; a bad event in a batch writes nothing; every row is in the audit chain."""
    path = tmp_path / "f.db"
    with Store(path) as store:
        store.track_obligations(track("T1", _promises()))
        with pytest.raises(StoreError, match=r"obligation 'T1#1': already tracked"):
            store.track_obligations(track("T1", _promises()[:1]))
        with pytest.raises(TransitionError, match=r"obligation 'T1#9': unknown"):
            store.settle_obligations(
                [
                    ObligationEvent(obligation="T1#1", status="met", at=T0, by="li"),
                    ObligationEvent(obligation="T1#9", status="met", at=T0, by="li"),
                ]
            )
        assert all(t.status is ObligationStatus.OPEN for t in store.obligations())  # nothing half-applied
        (missed,) = store.settle_obligations([ObligationEvent(obligation="T1#2", status="missed", at=T0 + H, by="li")])
        assert missed.obligation == "T1#2"
        order, obligations = open_work_order(CASE, "billing", "refund", T0, 2 * H, id="W1")
        store.open_work_order(order, obligations)
        with pytest.raises(TransitionError, match=r"work order 'W9': unknown"):
            store.work_order_event(OrderEvent(order="W9", status="acknowledged", at=T0, by="bob"))
        store.work_order_event(OrderEvent(order="W1", status="acknowledged", at=T0 + H, by="bob"))
        with pytest.raises(TransitionError, match=r"expected 'done' next, got 'reported'"):
            store.work_order_event(OrderEvent(order="W1", status="reported", at=T0 + H, by="li"))
        assert store.verify() == ()
    with Store(path) as store:
        assert [t.status.value for t in store.obligations("T1")] == ["open", "missed", "open", "open", "open", "open"]
        assert [t.id for t in store.obligations("T1")][-3:] == ["W1#1", "W1#2", "W1#3"]
        (state,) = store.work_orders("T1")
        assert state.status is OrderStatus.ACKNOWLEDGED
        assert overdue_orders(store.work_orders(), T0 + 3 * H)[0].order == "W1"


def test_the_followup_tables_are_append_only_and_tampering_fails_verify(tmp_path: Path) -> None:
    """An UPDATE is refused by trigger; with the trigger dropped, verify names the rewritten event."""
    path = tmp_path / "f.db"
    with Store(path) as store:
        store.track_obligations(track("T1", _promises()[:1]))
        store.settle_obligations([ObligationEvent(obligation="T1#1", status="met", at=T0, by="li")])
    db = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE obligation_events SET data = replace(data, 'met', 'waived')")
    db.execute("DROP TRIGGER obligation_events_no_update")
    db.execute("UPDATE obligation_events SET data = replace(data, '\"li\"', '\"mallory\"')")
    db.commit()
    db.close()
    with Store(path) as store:
        assert any("obligation_events 1: differs" in p for p in store.verify())


def test_a_schema_4_store_migrates_forward_to_the_followup_tables(tmp_path: Path) -> None:
    """A file written at schema 4 opens, gains the tables, and still verifies."""
    path = tmp_path / "v4.db"
    db = sqlite3.connect(path)
    db.executescript(";".join(MIGRATIONS[:4]) + "; PRAGMA user_version=4;")
    db.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 5
        store.track_obligations(track("T1", _promises()[:1]))
        assert store.verify() == ()


# --------------------------------------------------------------------------
# The commands


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_obligation_and_workorder_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Track, settle, list and count promises; open, step and find overdue work orders; errors exit 2."""
    db = str(tmp_path / "f.db")
    at = "2026-05-01T09:00:00+00:00"
    assert _run(
        capsys,
        "obligation",
        "track",
        "--ticket",
        "T1",
        "--kind",
        "call_back",
        "--to",
        "customer",
        "--due",
        "2026-05-01T10:00:00+00:00",
        "--store",
        db,
    )[1].startswith("tracking T1#1: call_back")
    code, out, _ = _run(capsys, "obligation", "missed", "T1#1", "--by", "li", "--at", at, "--store", db)
    assert code == 0
    assert "escalate: 2026-05-01T09:00:00+00:00 missed call_back to customer on T1" in out
    code, _, err = _run(capsys, "obligation", "met", "T1#1", "--by", "li", "--at", at, "--store", db)
    assert code == 2
    assert "already missed" in err
    assert "kept 0%" in _run(capsys, "obligation", "figures", "--now", at, "--store", db)[1]
    code, out, _ = _run(
        capsys,
        "workorder",
        "open",
        "--ticket",
        "T1",
        "--owner",
        "li",
        "--department",
        "billing",
        "--task",
        "refund",
        "--due-in",
        "2h",
        "--at",
        at,
        "--id",
        "W1",
        "--store",
        db,
    )
    assert "tracking W1#3: report_to_customer to customer" in out
    code, _, err = _run(capsys, "workorder", "report", "W1", "--by", "li", "--at", at, "--store", db)
    assert code == 2
    assert "expected 'acknowledged' next, got 'reported'" in err
    assert _run(capsys, "workorder", "ack", "W1", "--by", "bob", "--at", at, "--store", db)[0] == 0
    out = _run(
        capsys,
        "workorder",
        "list",
        "--ticket",
        "T1",
        "--owner",
        "li",
        "--now",
        "2026-05-01T12:00:00+00:00",
        "--store",
        db,
    )[1]
    assert "W1\tT1\tbilling\tacknowledged" in out
    assert "OVERDUE" in out
    out = _run(
        capsys, "workorder", "overdue", "--head", "billing=anna", "--now", "2026-05-01T12:00:00+00:00", "--store", db
    )[1]
    assert "escalate to anna; owner li" in out
    assert "W1#2\tfollow_up to billing" in _run(capsys, "obligation", "list", "--ticket", "T1", "--store", db)[1]
