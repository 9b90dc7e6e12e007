"""Strategies for business calendars and priority matrices."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import strategies as st

from servicetriage.calendar import ALWAYS_OPEN, BusinessCalendar, Shift, Weekday, WeeklyHours
from servicetriage.matrix import PriorityMatrix

__all__ = ["calendars", "priority_matrices", "weekly_hours"]

#: Zones with and without daylight saving time, including a 30-minute shift (Lord Howe).
_ZONES = (
    "UTC",
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
)

_DAY_FIRST = 6 * 4  # 06:00 in quarter hours
_DAY_LAST = 22 * 4  # 22:00
_NIGHT = Shift.parse("22:00-06:00+1")


def _quarter(quarters: int) -> str:
    return f"{quarters // 4:02d}:{quarters % 4 * 15:02d}"


@st.composite
def _day_shifts(draw: st.DrawFn, *, night: bool) -> tuple[Shift, ...]:
    bounds = sorted(draw(st.lists(st.integers(_DAY_FIRST, _DAY_LAST), unique=True, max_size=6)))
    if len(bounds) % 2:
        bounds.pop()
    shifts = [Shift.parse(f"{_quarter(a)}-{_quarter(b)}") for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
    if night and draw(st.booleans()):
        shifts.append(_NIGHT)
    return tuple(shifts)


@st.composite
def weekly_hours(draw: st.DrawFn, *, night_shifts: bool = True, min_open_days: int = 1) -> WeeklyHours:
    """Weekly hours: closed days, single and split shifts between 06:00 and 22:00.

    With ``night_shifts`` some days also get a ``22:00-06:00+1`` shift. At
    least ``min_open_days`` days have a shift.
    """
    days = {day.value: draw(_day_shifts(night=night_shifts)) for day in Weekday}
    open_days = [name for name, shifts in days.items() if shifts]
    for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        if len(open_days) >= min_open_days:
            break
        if not days[name]:
            days[name] = (Shift.parse("09:00-17:00"),)
            open_days.append(name)
    return WeeklyHours(**days)


@st.composite
def _calendars(
    draw: st.DrawFn,
    *,
    zones: st.SearchStrategy[str],
    holidays: bool,
    night_shifts: bool,
    first: date,
    span_days: int,
) -> BusinessCalendar:
    dates = st.integers(0, span_days).map(lambda n: first + timedelta(days=n))
    holiday_set = draw(st.frozensets(dates, max_size=12)) if holidays else frozenset()
    workday_set = draw(st.frozensets(dates, max_size=3)) if holidays else frozenset()
    return BusinessCalendar(
        zone=draw(zones),
        hours=draw(weekly_hours(night_shifts=night_shifts)),
        holidays=holiday_set,
        workdays=workday_set - holiday_set,
        workdays_like=draw(st.sampled_from(Weekday)),
    )


def calendars(
    *,
    zones: st.SearchStrategy[str] | None = None,
    holidays: bool = True,
    night_shifts: bool = True,
    always_open: bool = True,
    first_holiday: date = date(2026, 1, 1),
    holiday_span_days: int = 400,
) -> st.SearchStrategy[BusinessCalendar]:
    """Draw valid business calendars that are open at least one day a week.

    Calendars have closed days, split shifts (a lunch break), optional night
    shifts, holidays and make-up working days drawn from ``holiday_span_days``
    days after ``first_holiday`` (the range of
    `aware_datetimes`), in zones with and
    without daylight saving time. With ``always_open`` the strategy also
    draws `ALWAYS_OPEN`.
    """
    drawn = _calendars(
        zones=zones if zones is not None else st.sampled_from(_ZONES),
        holidays=holidays,
        night_shifts=night_shifts,
        first=first_holiday,
        span_days=holiday_span_days,
    )
    return st.one_of(st.just(ALWAYS_OPEN), drawn) if always_open else drawn


@st.composite
def priority_matrices(
    draw: st.DrawFn,
    *,
    min_size: int = 2,
    max_size: int = 5,
    square: bool | None = None,
) -> PriorityMatrix:
    """Monotone impact x urgency matrices in which every priority 1..max is reached.

    Each side has ``min_size`` to ``max_size`` levels; ``square`` forces equal
    sides (``True``) or lets them differ (``None``, the default).
    """
    impacts = draw(st.integers(min_size, max_size))
    urgencies = impacts if square else draw(st.integers(min_size, max_size))
    cells: list[list[int]] = []
    for i in range(impacts):
        row: list[int] = []
        for u in range(urgencies):
            above = cells[i - 1][u] if i else 0
            left = row[u - 1] if u else 0
            base = max(above, left)
            row.append(1 if base == 0 else base + draw(st.integers(0, 1)))
        cells.append(row)
    return PriorityMatrix(cells=cells)
