"""Signal building blocks: the clock arithmetic of deadlines (the lexicon has its own tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from servicetriage import strategies as sts
from servicetriage.calendar import ALWAYS_OPEN
from servicetriage.model import Pause
from servicetriage.signals import (
    add_time,
    effective_pauses,
    elapsed_time,
    extend_due,
)

T0 = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)


def test_open_pause_ends_at_now_and_future_pauses_are_dropped() -> None:
    pauses = (Pause(T0, T0 + timedelta(hours=1)), Pause(T0 + timedelta(hours=2)))
    now = T0 + timedelta(hours=3)
    assert effective_pauses(pauses, now) == (Pause(T0, T0 + timedelta(hours=1)), Pause(T0 + timedelta(hours=2), now))
    assert effective_pauses(pauses, T0 - timedelta(minutes=1)) == ()


def test_wall_clock_add_skips_pauses() -> None:
    pause = Pause(T0 + timedelta(hours=1), T0 + timedelta(hours=4))
    assert add_time(T0, timedelta(hours=2), [pause]) == T0 + timedelta(hours=5)
    assert add_time(T0, timedelta(minutes=30), [pause]) == T0 + timedelta(minutes=30)


def test_own_due_is_pushed_back_by_the_pause_before_it() -> None:
    due = T0 + timedelta(hours=8)
    pause = Pause(T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    assert extend_due(due, T0, [pause]) == due + timedelta(hours=2)
    assert extend_due(due, T0, []) == due
    late = Pause(T0 + timedelta(hours=9), T0 + timedelta(hours=10))
    assert extend_due(due, T0, [late]) == due


@st.composite
def _closed_pauses(draw: st.DrawFn, start: datetime) -> tuple[Pause, ...]:
    cursor, pauses = start, []
    for _ in range(draw(st.integers(0, 3))):
        begin = cursor + timedelta(minutes=draw(st.integers(0, 600)))
        cursor = begin + timedelta(minutes=draw(st.integers(0, 600)))
        pauses.append(Pause(begin, cursor))
    return tuple(pauses)


@given(sts.aware_datetimes(), st.integers(0, 10_000), st.data())
def test_elapsed_time_undoes_add_time_on_the_wall_clock(start: datetime, minutes: int, data: st.DataObject) -> None:
    pauses = data.draw(_closed_pauses(start))
    duration = timedelta(minutes=minutes)
    end = add_time(start, duration, pauses)
    assert end >= start + duration
    assert elapsed_time(start, end, pauses) == duration


@given(sts.aware_datetimes(), st.integers(0, 10_000), st.data())
def test_an_always_open_calendar_counts_like_the_wall_clock(start: datetime, minutes: int, data: st.DataObject) -> None:
    pauses = data.draw(_closed_pauses(start))
    duration = timedelta(minutes=minutes)
    assert add_time(start, duration, pauses, ALWAYS_OPEN) == add_time(start, duration, pauses)


@given(sts.aware_datetimes(), sts.aware_datetimes())
def test_elapsed_time_is_antisymmetric(a: datetime, b: datetime) -> None:
    assert elapsed_time(a, b) == -elapsed_time(b, a)
