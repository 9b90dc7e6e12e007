"""Tests of business calendars: vectors from other helpdesks, the boundary rule, DST and properties."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicetriage import config
from servicetriage import strategies as sts
from servicetriage.calendar import (
    ALWAYS_OPEN,
    NEVER,
    BusinessCalendar,
    Shift,
    Weekday,
    WeeklyHours,
    check_calendar,
)
from servicetriage.errors import PolicyError
from servicetriage.model import Pause, Severity

H = timedelta(hours=1)
M = timedelta(minutes=1)
US = timedelta(microseconds=1)

# Frappe Helpdesk's default: Mon-Fri 10:00-18:00 (UTC here).
FRAPPE = BusinessCalendar(hours=WeeklyHours.weekdays("10:00-18:00"))
# 2026-05-04 is a Monday.
MON = datetime(2026, 5, 4, tzinfo=UTC)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Chinese office: lunch break, the National Day holidays, a make-up Saturday.
CN_OFFICE = BusinessCalendar(
    zone="Asia/Shanghai",
    hours=WeeklyHours.weekdays("09:00-12:00", "13:00-18:00"),
    holidays=[date(2026, 10, d) for d in range(1, 8)],
    workdays=["2026-10-10"],
)


def at(day_offset: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return MON + timedelta(days=day_offset, hours=hour, minutes=minute, seconds=second)


# ---------------------------------------------------------------------------
# Vectors from other helpdesks


@pytest.mark.parametrize(
    ("created", "response", "response_by", "resolution", "resolution_by"),
    [
        (at(0, 10), 1 * H, at(0, 11), 4 * H, at(0, 14)),  # Mon 10:00 High
        (at(0, 8), 1 * H, at(0, 11), 4 * H, at(0, 14)),  # Mon 08:00, before opening
        (at(0, 20), 30 * M, at(1, 10, 30), 2 * H, at(1, 12)),  # Mon 20:00 Urgent
        (at(5, 15), 24 * H, at(9, 18), 72 * H, at(5 + 12, 18)),  # Sat 15:00 Low
        (at(4, 17), 30 * M, at(4, 17, 30), 2 * H, at(7, 11)),  # Fri 17:00 Urgent
        (at(4, 19), 1 * H, at(7, 11), 4 * H, at(7, 14)),  # Fri 19:00 High
    ],
)
def test_frappe_helpdesk_vectors(
    created: datetime, response: timedelta, response_by: datetime, resolution: timedelta, resolution_by: datetime
) -> None:
    """Frappe Helpdesk's published SLA vectors come out the same."""
    assert FRAPPE.add(created, response) == response_by
    assert FRAPPE.add(created, resolution) == resolution_by


def test_frappe_vector_with_thursday_and_friday_holidays() -> None:
    """Thu 15:00 with Thu and Fri holidays starts counting on Monday."""
    cal = BusinessCalendar(hours=FRAPPE.hours, holidays=[at(3, 0).date(), at(4, 0).date()])
    assert cal.add(at(3, 15), 30 * M) == at(7, 10, 30)
    assert cal.add(at(3, 15), 2 * H) == at(7, 12)


def test_hold_time_may_end_exactly_on_closing_time() -> None:
    """An hour of hold moves 17:00 to 18:00 (closing); one second more rolls to the next morning."""
    thursday = at(3, 15)
    assert FRAPPE.add(thursday, 2 * H) == at(3, 17)
    assert FRAPPE.add(thursday, 2 * H, [Pause(thursday, thursday + timedelta(seconds=3600))]) == at(3, 18)
    assert FRAPPE.add(thursday, 2 * H, [Pause(thursday, thursday + timedelta(seconds=3601))]) == at(4, 10, 0, 1)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (at(4, 16, 30), 1 * H, at(7, 9, 30)),  # Fri 16:30 + 1h -> Mon 09:30
        (at(2, 10), 2 * H, at(2, 12)),  # Wed 10:00 + 2h
        (at(2, 7), 2 * H, at(2, 11)),  # Wed 07:00 (closed) + 2h
    ],
)
def test_chatwoot_vectors(start: datetime, duration: timedelta, expected: datetime) -> None:
    """Chatwoot's business-hours vectors (Mon-Fri 09:00-17:00) come out the same."""
    cal = BusinessCalendar(hours=WeeklyHours.weekdays("09:00-17:00"))
    assert cal.add(start, duration) == expected


@pytest.mark.parametrize(
    ("zone", "expected_start", "expected_due"),
    [
        ("America/New_York", datetime(2007, 1, 1, 22, tzinfo=UTC), datetime(2007, 1, 2, 15, tzinfo=UTC)),
        ("Europe/Moscow", datetime(2007, 1, 2, 6, tzinfo=UTC), datetime(2007, 1, 2, 8, tzinfo=UTC)),
    ],
)
def test_request_tracker_time_zone_vectors(zone: str, expected_start: datetime, expected_due: datetime) -> None:
    """RT's time-zone vectors: the same UTC instant is open in New York and closed in Moscow."""
    cal = BusinessCalendar(zone=zone, hours=WeeklyHours.weekdays("09:00-18:00"))
    now = datetime(2007, 1, 1, 22, tzinfo=UTC)
    assert cal.add(now, 120 * M) == expected_due
    assert cal.is_open(expected_start)
    assert cal.elapsed(now, expected_start) == timedelta(0)


# ---------------------------------------------------------------------------
# The method's examples and the boundary rule


def test_deadline_crosses_a_public_holiday_and_a_lunch_break() -> None:
    """Wed 30 Sep 16:00 + 8 business hours skips National Day and lunch: Thu 8 Oct 16:00."""
    opened = datetime(2026, 9, 30, 16, tzinfo=SHANGHAI)
    due = CN_OFFICE.add(opened, 8 * H)
    assert due == datetime(2026, 10, 8, 16, tzinfo=SHANGHAI)
    assert CN_OFFICE.elapsed(opened, due) == 8 * H
    assert not CN_OFFICE.is_open(datetime(2026, 10, 8, 12, 30, tzinfo=SHANGHAI))  # lunch


def test_make_up_saturday_is_a_working_day() -> None:
    """The make-up Saturday keeps Monday's hours, lunch break included."""
    saturday = datetime(2026, 10, 10, 8, tzinfo=SHANGHAI)
    assert CN_OFFICE.is_open(saturday.replace(hour=9))
    assert not CN_OFFICE.is_open(saturday.replace(hour=12, minute=30))
    assert CN_OFFICE.add(saturday, 4 * H) == saturday.replace(hour=14)


def test_ticket_opened_after_closing_starts_at_next_opening() -> None:
    """A ticket opened at 19:00 starts counting at 09:00 the next morning."""
    opened = datetime(2026, 5, 4, 19, tzinfo=SHANGHAI)
    assert CN_OFFICE.add(opened, H) == datetime(2026, 5, 5, 10, tzinfo=SHANGHAI)
    assert CN_OFFICE.elapsed(opened, datetime(2026, 5, 5, 9, tzinfo=SHANGHAI)) == timedelta(0)


def test_deadline_lands_on_closing_time_which_is_closed() -> None:
    """A deadline may be the closing time itself; the desk is closed at that instant."""
    start = datetime(2026, 5, 4, 17, tzinfo=SHANGHAI)
    due = CN_OFFICE.add(start, H)
    assert due == datetime(2026, 5, 4, 18, tzinfo=SHANGHAI)
    assert not CN_OFFICE.is_open(due)
    assert CN_OFFICE.is_open(due - US)


def test_zero_duration_returns_the_start_even_when_closed() -> None:
    """Adding nothing changes nothing."""
    night = datetime(2026, 5, 4, 23, tzinfo=SHANGHAI)
    assert CN_OFFICE.add(night, timedelta(0)) is night


def test_result_is_in_the_zone_of_the_start() -> None:
    """The deadline is expressed in the caller's zone."""
    start = datetime(2026, 5, 4, 1, tzinfo=UTC)  # 09:00 in Shanghai
    due = CN_OFFICE.add(start, H)
    assert due.tzinfo is UTC
    assert due == datetime(2026, 5, 4, 10, tzinfo=SHANGHAI)


def test_night_shift_runs_into_the_next_day() -> None:
    """From 05:00 inside a night shift, an hour remains; the rest waits for 22:00."""
    cal = BusinessCalendar(hours=WeeklyHours.every_day("22:00-06:00+1"))
    assert cal.add(at(1, 5), 2 * H) == at(1, 23)
    assert cal.is_open(at(1, 3))
    assert not cal.is_open(at(1, 6))


def test_holiday_cancels_the_night_shift_that_starts_on_it() -> None:
    """A night shift belongs to the day it starts on."""
    cal = BusinessCalendar(hours=WeeklyHours.every_day("22:00-06:00+1"), holidays=[at(0, 0).date()])
    assert not cal.is_open(at(0, 23))
    assert not cal.is_open(at(1, 3))
    assert cal.is_open(at(0, 3))  # Sunday's night shift
    assert cal.elapsed(at(0, 0), at(2, 0)) == 6 * H + 2 * H


def test_pause_stops_the_clock() -> None:
    """Two paused business hours push the deadline two business hours later."""
    start = at(0, 10)
    pause = Pause(at(0, 11), at(0, 13))
    assert FRAPPE.add(start, 4 * H, [pause]) == at(0, 16)
    assert FRAPPE.elapsed(start, at(0, 16), [pause]) == 4 * H


def test_open_pause_means_the_deadline_is_never_reached() -> None:
    """An open-ended pause stops the clock for good."""
    start = at(0, 10)
    assert FRAPPE.add(start, 4 * H, [Pause(at(0, 11))]) is NEVER
    assert ALWAYS_OPEN.add(start, 4 * H, [Pause(at(0, 11))]) is NEVER
    assert FRAPPE.elapsed(start, at(30, 0), [Pause(at(0, 11))]) == H
    assert FRAPPE.add(start, H, [Pause(at(0, 11))]) == at(0, 11)


def test_overlapping_pauses_count_once() -> None:
    """Overlapping pause intervals are merged."""
    pauses = [Pause(at(0, 11), at(0, 13)), Pause(at(0, 12), at(0, 14))]
    assert FRAPPE.elapsed(at(0, 10), at(0, 18), pauses) == 5 * H
    assert ALWAYS_OPEN.elapsed(at(0, 10), at(0, 18), pauses) == 5 * H


def test_elapsed_is_negative_when_end_is_earlier() -> None:
    """Business time from a later to an earlier time is negative."""
    assert FRAPPE.elapsed(at(0, 14), at(0, 11)) == -3 * H


def test_always_open_counts_real_time() -> None:
    """The 24x7 calendar adds real (absolute) time, also across a DST change."""
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 3, 28, 12, tzinfo=berlin)
    due = ALWAYS_OPEN.add(start, 24 * H)
    assert due == datetime(2026, 3, 29, 13, tzinfo=berlin)
    assert ALWAYS_OPEN.is_open(start)
    assert ALWAYS_OPEN.elapsed(start, due) == 24 * H


def test_night_shift_over_a_dst_change_is_an_hour_shorter_or_longer() -> None:
    """Shifts are wall-clock times: the spring night has 7 hours, the autumn night 9."""
    cal = BusinessCalendar(zone="Europe/Berlin", hours=WeeklyHours(sat=("22:00-06:00+1",)))
    berlin = ZoneInfo("Europe/Berlin")
    spring = datetime(2026, 3, 28, 12, tzinfo=berlin)
    autumn = datetime(2026, 10, 24, 12, tzinfo=berlin)
    assert cal.elapsed(spring, spring + timedelta(days=1)) == 7 * H
    assert cal.elapsed(autumn, autumn + timedelta(days=1)) == 9 * H
    assert cal.add(spring, 7 * H) == datetime(2026, 3, 29, 6, tzinfo=berlin)


def test_day_shift_keeps_its_wall_clock_hours_across_dst() -> None:
    """After the clocks change, the desk still opens at 09:00 local time."""
    cal = BusinessCalendar(zone="America/New_York", hours=WeeklyHours.every_day("09:00-17:00"))
    new_york = ZoneInfo("America/New_York")
    friday = datetime(2026, 3, 6, 16, tzinfo=new_york)
    assert cal.add(friday, 2 * H) == datetime(2026, 3, 7, 10, tzinfo=new_york)
    assert cal.add(friday, 17 * H) == datetime(2026, 3, 8, 17, tzinfo=new_york)  # Sun 8 March: 23 hours long
    assert cal.add(friday, 18 * H) == datetime(2026, 3, 9, 10, tzinfo=new_york)


def test_shift_in_the_spring_gap_has_no_business_time() -> None:
    """A shift whose wall times do not exist that night is empty, not an error."""
    cal = BusinessCalendar(zone="Europe/Berlin", hours=WeeklyHours(sun=("02:00-03:00",)))
    berlin = ZoneInfo("Europe/Berlin")
    day = datetime(2026, 3, 29, tzinfo=berlin)
    assert cal.elapsed(day, day + timedelta(days=1)) == timedelta(0)
    assert cal.elapsed(day + timedelta(days=7), day + timedelta(days=8)) == H


def test_long_additions_skip_weeks_and_cross_years() -> None:
    """Ten thousand business hours on a split-shift calendar with holidays agree with elapsed()."""
    opened = datetime(2026, 9, 30, 16, tzinfo=SHANGHAI)
    due = CN_OFFICE.add(opened, 10_000 * H)
    assert due.year == 2031
    assert CN_OFFICE.elapsed(opened, due) == 10_000 * H
    assert CN_OFFICE.is_open(due - US)


# ---------------------------------------------------------------------------
# Validation


def test_overlapping_shifts_are_rejected_naming_both() -> None:
    """Overlapping shifts name the day, the index and both shifts."""
    with pytest.raises(PolicyError, match=r"hours\.mon\[1\]: shift '11:00-13:00' overlaps mon\[0\] '09:00-12:00'"):
        WeeklyHours(mon=("09:00-12:00", "11:00-13:00"))


def test_night_shift_overlapping_the_next_morning_is_rejected() -> None:
    """A night shift may not run into the next day's first shift, also from Sunday into Monday."""
    with pytest.raises(PolicyError, match=r"hours\.sun\[0\]: shift '22:00-06:00\+1' overlaps mon\[0\] '05:00-09:00'"):
        WeeklyHours(sun=("22:00-06:00+1",), mon=("05:00-09:00",))


def test_touching_shifts_are_allowed() -> None:
    """A shift may start when the previous one ends."""
    hours = WeeklyHours(mon=("09:00-12:00", "12:00-18:00"))
    assert hours.total == 9 * H


def test_shift_ending_before_it_starts_needs_plus_one() -> None:
    """'18:00-09:00' is a typo until written '18:00-09:00+1'."""
    with pytest.raises(PolicyError, match=r"hours\.tue\[0\]: shift '18:00-09:00' ends before it starts; write"):
        WeeklyHours(tue=("18:00-09:00",))
    assert Shift.parse("18:00-09:00+1").duration == 15 * H


@pytest.mark.parametrize(
    "text", ["", "9-18", "09:00", "25:00-26:00", "09:60-10:00", "10:00-10:00", "09:00-24:01", "09:00-10:00+1", "x"]
)
def test_bad_shift_strings_are_rejected_with_the_value(text: str) -> None:
    """Malformed or empty shifts raise PolicyError quoting the text."""
    with pytest.raises(PolicyError, match="shift"):
        Shift.parse(text)


@pytest.mark.parametrize(
    ("text", "seconds", "rendered"),
    [
        ("09:00-18:00", (32400, 64800), "09:00-18:00"),
        ("00:00-24:00", (0, 86400), "00:00-24:00"),
        ("22:00-06:00+1", (79200, 108000), "22:00-06:00+1"),
        ("09:00-00:00+1", (32400, 86400), "09:00-24:00"),
        ("08:30:15-09:00", (30615, 32400), "08:30:15-09:00"),
    ],
)
def test_shift_strings_parse_and_render(text: str, seconds: tuple[int, int], rendered: str) -> None:
    """Shifts parse to seconds and render in canonical form, which parses back the same."""
    shift = Shift.parse(text)
    assert shift.seconds == seconds
    assert str(shift) == rendered
    assert Shift.parse(str(shift)) == shift


def test_naive_times_are_rejected_naming_the_argument() -> None:
    """Naive start, end, when or pause times raise PolicyError naming the argument."""
    naive = datetime(2026, 5, 4, 10)
    with pytest.raises(PolicyError, match=r"^start: .*naive"):
        FRAPPE.add(naive, H)
    with pytest.raises(PolicyError, match=r"^end: .*naive"):
        FRAPPE.elapsed(MON, naive)
    with pytest.raises(PolicyError, match=r"^when: .*naive"):
        FRAPPE.is_open(naive)


def test_negative_duration_is_rejected() -> None:
    """Add only moves forward."""
    with pytest.raises(PolicyError, match=r"^duration: expected a duration >= 0, got '-1h'$"):
        FRAPPE.add(MON, -H)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"zone": "Mars/Olympus"}, r"calendar\.zone: .*'Mars/Olympus'"),
        ({"hours": {"monday": ["09:00-17:00"]}}, r"calendar\.hours: .*'monday'"),
        ({"hours": 5}, r"calendar\.hours: .*5"),
        ({"holidays": ["2026-13-01"]}, r"calendar\.holidays: .*'2026-13-01'"),
        ({"workdays": [datetime(2026, 1, 1, tzinfo=UTC)]}, r"calendar\.workdays: .*datetime"),
        ({"workdays_like": "someday"}, r"calendar\.workdays_like: .*'someday'"),
    ],
)
def test_bad_calendar_fields_are_named(kwargs: dict[str, object], message: str) -> None:
    """Each bad field raises PolicyError naming the field and the value."""
    fields: dict[str, object] = {"hours": WeeklyHours.weekdays("09:00-17:00"), **kwargs}
    with pytest.raises(PolicyError, match=message):
        BusinessCalendar(**fields)  # type: ignore[arg-type]


def test_calendar_never_open_raises_instead_of_looping() -> None:
    """A week without hours has no deadline: add() raises, check_calendar() reports it."""
    cal = BusinessCalendar(hours=WeeklyHours(), workdays=["2026-05-09"])
    with pytest.raises(PolicyError, match=r"calendar\.hours: no shift on any weekday"):
        cal.add(MON, H)
    assert cal.elapsed(MON, MON + 100 * H) == timedelta(0)
    assert [f.code for f in check_calendar(cal)] == ["calendar.empty_week", "calendar.workdays_closed"]


# ---------------------------------------------------------------------------
# Static checks


def test_check_calendar_reports_conflicts_and_redundancies() -> None:
    """Holiday-and-workday clashes, redundant make-up days and holidays on closed days are reported."""
    cal = BusinessCalendar(
        hours=WeeklyHours.weekdays("09:00-17:00"),
        holidays=["2026-05-09", "2026-05-11"],  # a Saturday; a Monday
        workdays=["2026-05-11", "2026-05-12"],  # the same Monday; a Tuesday
    )
    findings = {(f.code, f.severity) for f in check_calendar(cal)}
    assert findings == {
        ("calendar.holiday_is_workday", Severity.ERROR),
        ("calendar.workday_already_open", Severity.WARNING),
        ("calendar.holiday_on_closed_day", Severity.INFO),
    }
    assert not cal.is_open(datetime(2026, 5, 11, 10, tzinfo=UTC))  # the holiday wins


def test_clean_calendars_have_no_findings() -> None:
    """The example calendars pass the checks."""
    assert check_calendar(ALWAYS_OPEN) == ()
    assert check_calendar(FRAPPE) == ()
    assert {f.severity for f in check_calendar(CN_OFFICE)} == {Severity.INFO}  # holidays on weekends


# ---------------------------------------------------------------------------
# Values: round trips, pickling, hashing


@given(sts.calendars(), st.sampled_from(["toml", "json", "yaml"]))
def test_calendar_round_trips_through_files(calendar: BusinessCalendar, fmt: config.Format) -> None:
    """load(dump(calendar)) == calendar in every format."""
    assert config.load(config.dump(calendar, fmt), BusinessCalendar, fmt) == calendar


@given(sts.calendars())
def test_calendar_pickles_and_hashes(calendar: BusinessCalendar) -> None:
    """A calendar survives pickling and works the same afterwards."""
    copy = pickle.loads(pickle.dumps(calendar))
    assert copy == calendar
    assert hash(copy) == hash(calendar)
    assert copy.add(MON, 5 * H) == calendar.add(MON, 5 * H)


def test_calendar_loads_from_a_toml_table() -> None:
    """The documented TOML shape loads; weekday names and 'HH:MM-HH:MM' strings."""
    text = """
zone = "Asia/Shanghai"
holidays = ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"]
workdays = ["2026-10-10"]

[hours]
mon = ["09:00-12:00", "13:00-18:00"]
tue = ["09:00-12:00", "13:00-18:00"]
wed = ["09:00-12:00", "13:00-18:00"]
thu = ["09:00-12:00", "13:00-18:00"]
fri = ["09:00-12:00", "13:00-18:00"]
"""
    assert config.load(text, BusinessCalendar) == CN_OFFICE


def test_calendar_file_errors_list_every_bad_field() -> None:
    """All problems of a calendar table are reported at once, each with its path."""
    data = {"zone": "Nowhere", "hours": {"mon": ["09:00-12:00", "25:00-26:00"]}, "holidays": ["soon"]}
    with pytest.raises(PolicyError) as info:
        config.structure(data, BusinessCalendar)
    problems = info.value.problems
    assert any(p.startswith("zone: ") and "'Nowhere'" in p for p in problems)
    assert any(p.startswith("hours.mon[1]: ") and "'25:00-26:00'" in p for p in problems)
    assert any(p.startswith("holidays[0]: ") and "'soon'" in p for p in problems)


# ---------------------------------------------------------------------------
# Properties

durations = st.integers(1, 200 * 60).map(lambda m: timedelta(minutes=m))
starts = sts.aware_datetimes()


@st.composite
def pause_lists(draw: st.DrawFn, start: datetime) -> list[Pause]:
    pauses = []
    cursor = start - timedelta(hours=draw(st.integers(0, 48)))
    for _ in range(draw(st.integers(0, 3))):
        begin = cursor + timedelta(minutes=draw(st.integers(0, 5000)))
        end = None if draw(st.integers(0, 9)) == 0 else begin + timedelta(minutes=draw(st.integers(1, 3000)))
        pauses.append(Pause(begin, end))
        if end is None:
            break
        cursor = end
    return pauses


@given(sts.calendars(), starts, durations, durations)
def test_add_is_additive(calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta) -> None:
    """Adding a then b equals adding a + b."""
    assert calendar.add(calendar.add(start, a), b) == calendar.add(start, a + b)


@given(sts.calendars(), starts, durations)
def test_elapsed_inverts_add(calendar: BusinessCalendar, start: datetime, d: timedelta) -> None:
    """The business time from start to add(start, d) is d."""
    assert calendar.elapsed(start, calendar.add(start, d)) == d


@given(sts.calendars(), starts, durations, durations)
def test_add_is_monotone_in_duration(calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta) -> None:
    """A longer duration never gives an earlier deadline."""
    short, long = sorted((a, b))
    assert calendar.add(start, short) <= calendar.add(start, long)


@given(sts.calendars(), starts, durations, st.data())
def test_pausing_never_brings_a_deadline_earlier(
    calendar: BusinessCalendar, start: datetime, d: timedelta, data: st.DataObject
) -> None:
    """A deadline with pauses is at or after the deadline without; elapsed agrees."""
    pauses = data.draw(pause_lists(start))
    paused = calendar.add(start, d, pauses)
    assert paused >= calendar.add(start, d)
    if paused is not NEVER:
        assert calendar.elapsed(start, paused, pauses) == d


@given(sts.calendars(), starts, durations)
def test_deadline_is_inside_an_open_interval_or_at_its_end(
    calendar: BusinessCalendar, start: datetime, d: timedelta
) -> None:
    """The instant just before a deadline is open (also on DST days, in any zone)."""
    due = calendar.add(start, d)
    assert calendar.is_open(due - US)


@given(sts.calendars(), starts, starts)
def test_elapsed_is_antisymmetric(calendar: BusinessCalendar, a: datetime, b: datetime) -> None:
    """elapsed(a, b) == -elapsed(b, a), and never more than real time."""
    forward = calendar.elapsed(a, b)
    assert forward == -calendar.elapsed(b, a)
    assert abs(forward) <= abs(b - a)


@settings(max_examples=40)
@given(sts.calendars(), st.integers(0, 365 * 96), st.integers(0, 4 * 96))
def test_elapsed_equals_a_quarter_hour_by_quarter_hour_count(calendar: BusinessCalendar, start: int, span: int) -> None:
    """A reference count of open quarter hours (shifts start on quarter hours) equals elapsed()."""
    quarter = timedelta(minutes=15)
    first = datetime(2026, 1, 1, tzinfo=UTC) + start * quarter
    expected = sum((quarter for k in range(span) if calendar.is_open(first + k * quarter)), timedelta(0))
    assert calendar.elapsed(first, first + span * quarter) == expected


@settings(max_examples=50)
@given(sts.calendars(), starts, st.integers(1, 3000), st.integers(1, 30))
def test_long_additions_equal_small_steps(calendar: BusinessCalendar, start: datetime, hours: int, steps: int) -> None:
    """Adding a long duration at once (skipping whole weeks) equals adding it in short steps."""
    total = timedelta(hours=hours)
    step = total / steps
    cursor = start
    for _ in range(steps - 1):
        cursor = calendar.add(cursor, step)
    cursor = calendar.add(cursor, total - step * (steps - 1))
    assert cursor == calendar.add(start, total)


def test_weekday_names_and_indexes_agree_with_dates() -> None:
    """Weekday.of matches date.weekday()."""
    assert [Weekday.of(MON + timedelta(days=k)).index for k in range(7)] == list(range(7))
    assert str(Weekday.of(MON)) == "mon"


def _near(anchors: list[datetime]) -> st.SearchStrategy[datetime]:
    """Times at, just around, and within two days of the *anchors*."""
    return st.sampled_from(anchors).flatmap(
        lambda anchor: st.one_of(
            st.integers(-3, 3).map(lambda k: anchor + k * US),
            st.integers(-48 * 60, 48 * 60).map(lambda m: anchor + m * M),
        )
    )


@settings(max_examples=300)
@given(sts.calendars(), starts, st.integers(0, 200 * 60).map(lambda m: m * M), st.data())
def test_cutoff_bounds_elapsed_exactly(
    calendar: BusinessCalendar, now: datetime, within: timedelta, data: st.DataObject
) -> None:
    """A due time is at most *within* of business time after now exactly when it is at or before the cutoff."""
    cutoff = calendar._cutoff(now, within)
    assert cutoff is not None  # the drawn calendars open every week
    local = cutoff.astimezone(calendar.zone).date()
    closings = [end for k in (-1, 0, 1) for _, end in calendar._day(local + timedelta(days=k))[1]]
    anchors = [cutoff, calendar.add(now, within), now, *closings]
    due = data.draw(st.one_of(_near(anchors), starts), label="due")
    due = due.astimezone(data.draw(st.sampled_from([UTC, calendar.zone, SHANGHAI]), label="zone"))
    assert (calendar.elapsed(now, due) <= within) == (due <= cutoff)


@given(sts.calendars(), starts)
def test_zero_cutoff_is_the_next_opening(calendar: BusinessCalendar, now: datetime) -> None:
    """With no duration the cutoff is now when open, else the next opening: no business time passes before it."""
    cutoff = calendar._cutoff(now, timedelta(0))
    assert cutoff is not None
    assert cutoff >= now
    assert calendar.is_open(cutoff)
    assert calendar.elapsed(now, cutoff) == timedelta(0)
    assert cutoff == now or not calendar.is_open(cutoff - US)


def test_cutoff_at_closing_time_moves_to_the_next_opening() -> None:
    """Two hours from Monday 16:00 end at 18:00 closing; business time stays at two hours until Tuesday 10:00."""
    cutoff = FRAPPE._cutoff(MON + 16 * H, 2 * H)
    assert cutoff == MON + timedelta(days=1) + 10 * H
    assert FRAPPE.elapsed(MON + 16 * H, cutoff) == 2 * H
    assert FRAPPE.elapsed(MON + 16 * H, cutoff + US) > 2 * H


def test_calendar_without_weekly_hours_has_no_cutoff() -> None:
    """A calendar with no weekly shift gives no cutoff: callers measure with elapsed()."""
    closed = BusinessCalendar(hours=WeeklyHours(), workdays=["2026-05-09"])
    assert closed._cutoff(MON, H) is None
