"""Drills scheduled: the next drill per playbook, overdue ones on the command line, recorded drills counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from servicetriage.cli import main
from servicetriage.errors import TicketError
from servicetriage.learning import Drill, drill_schedule, stale

if TYPE_CHECKING:
    from servicetriage.learning import DrillDue

PLAYBOOKS = Path(__file__).parent.parent / "examples" / "playbooks.toml"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_next_drill_is_the_last_activity_plus_the_interval() -> None:
    """Drilled on day 0 every 30 days: due on day 30, overdue after it; never drilled: due now."""
    plans = [{"id": "sos", "drill_every": timedelta(days=30)}, {"id": "angry", "drill_every": timedelta(days=60)}]
    drills = [Drill(playbook_id="sos", at=T0, by="ops"), Drill(playbook_id="sos", at=T0 + timedelta(days=40), by="x")]
    on_day_20 = {d.playbook_id: d for d in drill_schedule(plans, T0 + timedelta(days=20), drills=drills)}
    assert on_day_20["sos"].due == T0 + timedelta(days=30)
    assert not on_day_20["sos"].overdue
    assert on_day_20["sos"].drills == 1  # the drill on day 40 has not happened yet
    assert on_day_20["angry"].due == T0 + timedelta(days=20)
    assert on_day_20["angry"].overdue
    on_day_35: tuple[DrillDue, ...] = drill_schedule(plans, T0 + timedelta(days=35), drills=drills)
    assert [d.playbook_id for d in on_day_35] == ["sos", "angry"]  # soonest due first
    assert str(on_day_35[0]) == "sos: overdue since 2026-01-31T00:00:00+00:00; 1 drill(s) recorded"


def test_overdue_in_the_schedule_is_exactly_stale() -> None:
    """The schedule and `stale` agree on which plans are overdue, at every day of a year."""
    plans = [{"id": "a", "drill_every": timedelta(days=30)}, "b"]
    drills = [Drill(playbook_id="a", at=T0 + timedelta(days=d), by="ops") for d in (0, 25, 90)]
    for day in range(0, 365, 5):
        now = T0 + timedelta(days=day)
        overdue = [d.playbook_id for d in drill_schedule(plans, now, drills=drills) if d.overdue]
        assert sorted(overdue) == [e.playbook_id for e in stale(plans, now, drills=drills)]


def test_a_naive_now_is_refused() -> None:
    """The schedule needs an aware time: a naive one is a bad argument, as everywhere."""
    with pytest.raises(TicketError, match="now: expected an aware"):
        drill_schedule(["a"], datetime(2026, 1, 1))


def test_check_now_warns_of_an_overdue_drill_until_one_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check --now` shows the overdue drill; a drill recorded in the store (`--store`) clears it."""
    store = ["--store", str(tmp_path / "s.db")]
    code, out, _ = _run(capsys, "check", str(PLAYBOOKS), "--strict")
    assert "drill-overdue" not in out
    code, out, _ = _run(capsys, "check", str(PLAYBOOKS), "--now", "2026-06-01T00:00:00+00:00")
    assert "playbook.drill-overdue" in out
    assert "playbooks[0].last_drilled: never drilled or used; drill every 2160h" in out
    code, out, _ = _run(
        capsys, "playbook", "drill", "ride-safety-sos", "--actor", "ops", "--at", "2026-05-01T00:00:00+00:00", *store
    )
    assert out.strip() == "recorded drill 1 of ride-safety-sos at 2026-05-01T00:00:00+00:00 by ops"
    code, out, _ = _run(capsys, "check", str(PLAYBOOKS), "--now", "2026-06-01T00:00:00+00:00", *store)
    assert "drill-overdue" not in out  # the recorded drill counts
    code, out, _ = _run(
        capsys,
        "playbook",
        "drills",
        "--playbooks",
        str(PLAYBOOKS),
        "--now",
        "2026-06-01T00:00:00+00:00",
        "--json",
        *store,
    )
    schedule = {d["playbook"]: d for d in json.loads(out)}
    assert schedule["ride-safety-sos"] == {
        "playbook": "ride-safety-sos",
        "due": "2026-07-30T00:00:00+00:00",
        "overdue": False,
        "drills": 1,
        "interval_days": 90,
        "last_drill": "2026-05-01T00:00:00+00:00",
        "last_use": None,
    }
    code, _, err = _run(capsys, "check", str(PLAYBOOKS), *store)
    assert code == 2
    assert "--store: recorded drills count only with --now" in err
    code, _, err = _run(capsys, "check", str(PLAYBOOKS), "--now", "2026-06-01")
    assert code == 2
    assert "--now: expected an aware time" in err
