"""States, actions and events round-trip through JSON, so a CRM can store them between `advance_escalation` calls."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from servicetriage import config
from servicetriage import strategies as sts
from servicetriage.calendar import ALWAYS_OPEN, BusinessCalendar, WeeklyHours
from servicetriage.errors import PolicyError
from servicetriage.escalation import (
    Action,
    EscalationPolicy,
    EscalationState,
    Event,
    Status,
    WorkOrder,
    advance_escalation,
    open_work_order,
)

MINUTE = timedelta(minutes=1)
Run = tuple[EscalationState, tuple[Event, ...], datetime, datetime]


def through_json(value: object, cls: type[Any]) -> Any:
    """Write *value* as JSON text and read it back as a *cls*, as a CRM's database column would."""
    return config.structure(json.loads(json.dumps(config.unstructure(value))), cls)


@st.composite
def runs(draw: st.DrawFn, *, business_time: bool | None = None) -> Run:
    """A started escalation (with a business calendar or not), events, a time to store it at and a time to end."""
    with_calendar = draw(st.booleans()) if business_time is None else business_time
    state = draw(sts.escalation_states(calendars=sts.calendars() if with_calendar else None))
    events = draw(sts.escalation_events(after=state.last, max_gap=timedelta(minutes=90)))
    end = (events[-1].at if events else state.last) + draw(st.integers(0, 600)) * MINUTE
    stored_at = state.last + draw(st.integers(0, int((end - state.last) / MINUTE))) * MINUTE
    return state, events, stored_at, end


def stored_and_resumed(run: Run) -> tuple[EscalationState, EscalationState, EscalationState, tuple[Action, ...]]:
    """Advance to the storing time, store and reload the state, then advance the reloaded one to the end."""
    state, events, stored_at, end = run
    before = tuple(e for e in events if e.at <= stored_at)
    middle, first = advance_escalation(state, stored_at, before)
    reloaded = through_json(middle, EscalationState)
    final, second = advance_escalation(reloaded, end, events[len(before) :])
    return middle, reloaded, final, (*first, *second)


@given(runs())
@settings(max_examples=60)
def test_a_stored_state_reads_back_equal_and_resumes_as_if_never_stored(run: Run) -> None:
    """Storing between two `advance_escalation` calls changes nothing: not the state, not the actions, not the end."""
    state, events, _, end = run
    middle, reloaded, final, actions = stored_and_resumed(run)
    assert reloaded == middle
    assert (final, actions) == advance_escalation(state, end, events)


@given(runs(business_time=True))
@settings(max_examples=30)
def test_a_business_time_state_keeps_its_calendar(run: Run) -> None:
    """The calendar comes back as the same `BusinessCalendar`, holidays and shifts included."""
    middle, reloaded, _, _ = stored_and_resumed(run)
    assert isinstance(reloaded.standing.calendar, BusinessCalendar)
    assert reloaded.standing.calendar == middle.standing.calendar


@given(runs())
@settings(max_examples=30)
def test_actions_and_events_read_back_equal(run: Run) -> None:
    """The actions `advance_escalation` returns and the events it applied are stored as plain JSON too."""
    state, events, _, end = run
    final, actions = advance_escalation(state, end, events)
    assert tuple(through_json(list(actions), list[Action])) == actions
    assert tuple(through_json(list(events), list[Event])) == events
    assert tuple(through_json(list(final.standing.applied), list[Event])) == final.standing.applied


@given(runs(), st.integers(0, 3 * 24 * 60), st.booleans())
@settings(max_examples=30)
def test_work_orders_read_back_equal(run: Run, minutes: int, business_time: bool) -> None:
    """A work order opened for the case (in business time or not) is stored as plain JSON."""
    state = run[0]
    calendar = state.standing.calendar if business_time else None
    policy = EscalationPolicy(calendar=calendar)  # type: ignore[arg-type]  # a drawn state's calendar is a BusinessCalendar
    order, _ = open_work_order(state.case, "billing", "refund 80 CNY", state.last, minutes * MINUTE, policy=policy)
    assert through_json(order, WorkOrder) == order


def _reaches(status: Status, run: Run) -> bool:
    state, events, stored_at, _ = run
    return advance_escalation(state, stored_at, [e for e in events if e.at <= stored_at])[0].status is status


@pytest.mark.parametrize("business_time", [False, True], ids=["wall-clock", "business-time"])
@pytest.mark.parametrize("status", list(Status), ids=lambda s: s.name)
def test_a_state_in_every_status_round_trips(status: Status, business_time: bool) -> None:
    """Whatever the status at the time of storing (climbing, exhausted, acknowledged, resolved), it resumes."""
    quick = settings(max_examples=3_000, database=None, phases=(Phase.generate,))
    found = find(runs(business_time=business_time), lambda run: _reaches(status, run), settings=quick)
    middle, reloaded, final, actions = stored_and_resumed(found)
    assert middle.status is status
    assert reloaded == middle
    assert (final, actions) == advance_escalation(found[0], found[3], found[1])


_SHANGHAI = BusinessCalendar(zone="Asia/Shanghai", hours=WeeklyHours.every_day("09:00-18:00"))


@given(sts.escalation_states(calendars=st.just(_SHANGHAI)))
@settings(max_examples=5)
def test_a_stored_calendar_is_a_table_of_plain_values(state: EscalationState) -> None:
    """The calendar is written as the same table a policy file holds, which a person can read."""
    data = json.loads(json.dumps(config.unstructure(state)))
    assert data["standing"]["calendar"]["zone"] == "Asia/Shanghai"
    assert data["standing"]["calendar"]["hours"]["mon"] == ["09:00-18:00"]
    assert through_json(ALWAYS_OPEN, BusinessCalendar) == ALWAYS_OPEN


@given(sts.escalation_states(calendars=st.just(ALWAYS_OPEN)))
@settings(max_examples=5)
def test_a_bad_stored_calendar_names_its_path(state: EscalationState) -> None:
    """A damaged calendar in a stored state is an error naming ``standing.calendar`` and the field."""
    data = json.loads(json.dumps(config.unstructure(state)))
    data["standing"]["calendar"]["zone"] = "Mars/Olympus"
    with pytest.raises(PolicyError, match=r"standing\.calendar\.zone: .*Mars/Olympus"):
        config.structure(data, EscalationState)
