"""Business hours: weekly shifts, holidays, make-up working days, time zones and pauses.

A `BusinessCalendar` says when the service desk is open, in one IANA
time zone. It moves a time forward by *business* time (`add`)
and measures the business time between two times
(`elapsed`), skipping closed hours, holidays and the
intervals during which a ticket's clock is paused.

**Weekly hours.** Each weekday has zero or more shifts written ``"09:00-12:00"``.
Several shifts make a split day (a lunch break between ``"09:00-12:00"`` and
``"13:00-18:00"``). A shift that ends the next day is written with ``+1``:
``"22:00-06:00+1"``; ``"00:00-24:00"`` is a whole day. Without ``+1`` a shift
that ends before it starts is rejected, so a typo such as ``"18:00-09:00"``
cannot silently become a fifteen-hour night shift. A night shift belongs to the
day it starts on: a holiday on that day cancels the whole shift.

**Holidays and make-up days.** ``holidays`` are dates (in the calendar's zone)
on which no shift starts. ``workdays`` are extra working dates, such as the
make-up weekend days common in China; they keep the hours of the weekday
named by ``workdays_like`` (Monday by default). A date in both sets is a
holiday (and `check_calendar` reports it).

**The boundary rule.** An open interval runs from its opening time up to, but
not including, its closing time (`is_open` is false at
the closing time). `add` returns the *earliest* time at
which the duration has been used up, so a deadline may land exactly on closing
time and does not roll over to the next opening; a ticket opened while closed
starts counting at the next opening. Adding a zero duration returns the start
unchanged.

**Time zones and daylight saving time.** Shifts are wall-clock times in
`zone`; business time is real elapsed time inside them.
On a day when the clocks change, a shift that spans the change is one hour
shorter or longer; a wall time that does not exist (in the spring gap) is read
as the same instant one hour later. Start and end times may be in any zone; a
result is given in the zone of the start time.

**Speed.** The calculation walks open intervals day by day and skips whole
regular weeks (no holiday, make-up day, pause or clock change) in one step, so
adding a thousand business hours costs a few dozen steps.
"""

from __future__ import annotations

import enum
import itertools
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from servicetriage._inputs import duration as check_duration
from servicetriage.errors import PolicyError
from servicetriage.model import Finding, Pause, Severity, require_aware

__all__ = [
    "ALWAYS_OPEN",
    "NEVER",
    "BusinessCalendar",
    "Shift",
    "ShiftsInput",
    "Weekday",
    "WeeklyHours",
    "check_calendar",
]

_DAY = 86_400
_WEEK = 7 * _DAY
_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_CACHE_SIZE = 4096
_SEARCH_DAYS = 800  # how far ahead _next_open looks for an opening

#: What `BusinessCalendar.add` returns when an open-ended pause stops the
#: clock before the duration is used up: the deadline is never reached. It is
#: the largest aware time (UTC), so it sorts after every real deadline.
NEVER: Final[datetime] = datetime.max.replace(tzinfo=UTC)


class Weekday(enum.Enum):
    """A day of the week, written as its three-letter English name."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def index(self) -> int:
        """0 for Monday up to 6 for Sunday, as `datetime.date.weekday`."""
        return _WEEKDAY_INDEX[self]

    @classmethod
    def of(cls, day: date) -> Weekday:
        """Return the weekday of *day*."""
        return _WEEKDAYS[day.weekday()]

    def __str__(self) -> str:
        return self.value


_WEEKDAYS: tuple[Weekday, ...] = tuple(Weekday)
_WEEKDAY_INDEX = {day: index for index, day in enumerate(_WEEKDAYS)}


# --------------------------------------------------------------------------
# Shifts

_SHIFT_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*-\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(\+1)?\s*$")


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _format_time(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _check_time(_: Shift, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, time) or value.tzinfo is not None or value.microsecond:
        msg = f"shift.{attribute.name}: expected a local time of day in whole seconds such as 09:00, got {value!r}"
        raise PolicyError(msg)


@attrs.frozen(repr=False)
class Shift:
    """One opening interval of a day, in wall-clock time.

    ``next_day`` marks a shift that ends on the next day (``"22:00-06:00+1"``);
    ``"00:00-24:00"`` is a whole day (``start=end=00:00``, ``next_day=True``).
    A shift lasts more than zero and at most 24 hours.
    """

    start: time = attrs.field(validator=_check_time)
    end: time = attrs.field(validator=_check_time)
    next_day: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.next_day and self.end <= self.start:
            msg = (
                f"shift.end: expected a time after the start {_format_time(_seconds(self.start))} "
                f"(or next_day=True for a shift past midnight), got {_format_time(_seconds(self.end))}"
            )
            raise PolicyError(msg)
        if self.next_day and self.end > self.start:
            msg = f"shift.end: a shift may last at most 24 hours, got {self}"
            raise PolicyError(msg)

    @classmethod
    def parse(cls, text: str | Shift) -> Shift:
        """Parse ``"09:00-12:00"``, ``"22:00-06:00+1"`` or ``"00:00-24:00"``.

        >>> Shift.parse("13:00-18:00").duration
        datetime.timedelta(seconds=18000)
        """
        if isinstance(text, Shift):
            return text
        match = _SHIFT_RE.match(text) if isinstance(text, str) else None
        if match is None:
            msg = f"expected a shift such as '09:00-18:00' or '22:00-06:00+1', got {text!r}"
            raise PolicyError(msg)
        h1, m1, s1, h2, m2, s2, plus = match.groups()
        start_s = int(h1) * 3600 + int(m1) * 60 + int(s1 or 0)
        end_s = int(h2) * 3600 + int(m2) * 60 + int(s2 or 0)
        if int(m1) > 59 or int(m2) > 59 or int(s1 or 0) > 59 or int(s2 or 0) > 59 or start_s >= _DAY:
            msg = f"expected a shift of valid times of day such as '09:00-18:00', got {text!r}"
            raise PolicyError(msg)
        next_day = plus is not None
        if end_s == _DAY and not next_day:  # "24:00" is midnight at the end of the day
            end_s, next_day = 0, True
        elif end_s >= _DAY:
            msg = f"expected a shift ending at 24:00 at the latest (use '+1' past midnight), got {text!r}"
            raise PolicyError(msg)
        if not next_day and end_s <= start_s:
            kind = "ends before it starts" if end_s < start_s else "is empty"
            hint = f"; write '{text.strip()}+1' for a shift that ends the next day" if end_s < start_s else ""
            msg = f"shift {text.strip()!r} {kind}{hint}"
            raise PolicyError(msg)
        if next_day and end_s > start_s:
            msg = f"shift {text.strip()!r} lasts more than 24 hours"
            raise PolicyError(msg)
        return cls(_time(start_s), _time(end_s), next_day)

    @property
    def seconds(self) -> tuple[int, int]:
        """The start and end as seconds after the midnight that starts the shift's day."""
        start = _seconds(self.start)
        end = _seconds(self.end) + (_DAY if self.next_day else 0)
        return start, end

    @property
    def duration(self) -> timedelta:
        """The shift's nominal length (on a day without a clock change)."""
        start, end = self.seconds
        return timedelta(seconds=end - start)

    def __repr__(self) -> str:
        return f"Shift.parse({str(self)!r})"

    def __str__(self) -> str:
        start, end = self.seconds
        if end == _DAY:
            return f"{_format_time(start)}-24:00"
        if self.next_day:
            return f"{_format_time(start)}-{_format_time(end - _DAY)}+1"
        return f"{_format_time(start)}-{_format_time(end)}"


def _time(seconds: int) -> time:
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


# --------------------------------------------------------------------------
# Weekly hours


#: What a weekday's shifts may be given as: shifts or their strings.
ShiftsInput = Iterable[Shift | str] | Shift | str


def _convert_shifts(day: str, value: Any) -> tuple[Shift, ...]:
    if isinstance(value, str | Shift):
        value = (value,)
    if not isinstance(value, Iterable):
        msg = f"hours.{day}: expected a list of shifts such as ['09:00-18:00'], got {value!r}"
        raise PolicyError(msg)
    shifts = []
    for index, item in enumerate(value):
        try:
            shifts.append(Shift.parse(item))
        except PolicyError as exc:
            msg = f"hours.{day}[{index}]: {exc}"
            raise PolicyError(msg) from None
    return tuple(shifts)


def _mon(value: ShiftsInput) -> tuple[Shift, ...]:
    return _convert_shifts("mon", value)


def _tue(value: ShiftsInput) -> tuple[Shift, ...]:
    return _convert_shifts("tue", value)


def _wed(value: ShiftsInput) -> tuple[Shift, ...]:
    return _convert_shifts("wed", value)


def _thu(value: ShiftsInput) -> tuple[Shift, ...]:
    return _convert_shifts("thu", value)


def _fri(value: ShiftsInput) -> tuple[Shift, ...]:
    return _convert_shifts("fri", value)


def _sat(value: ShiftsInput) -> tuple[Shift, ...]:
    return _convert_shifts("sat", value)


def _sun(value: ShiftsInput) -> tuple[Shift, ...]:
    return _convert_shifts("sun", value)


@attrs.frozen(kw_only=True)
class WeeklyHours:
    """The shifts of each weekday; a day without shifts is closed.

    Shifts may be given as strings (``mon=("09:00-12:00", "13:00-18:00")``).
    Shifts may touch but not overlap, also across midnight and across the
    end of the week (a Sunday night shift runs into Monday).
    """

    mon: tuple[Shift, ...] = attrs.field(default=(), converter=_mon)
    tue: tuple[Shift, ...] = attrs.field(default=(), converter=_tue)
    wed: tuple[Shift, ...] = attrs.field(default=(), converter=_wed)
    thu: tuple[Shift, ...] = attrs.field(default=(), converter=_thu)
    fri: tuple[Shift, ...] = attrs.field(default=(), converter=_fri)
    sat: tuple[Shift, ...] = attrs.field(default=(), converter=_sat)
    sun: tuple[Shift, ...] = attrs.field(default=(), converter=_sun)

    def __attrs_post_init__(self) -> None:
        spans: list[tuple[int, int, str]] = []
        for index, day in enumerate(_WEEKDAYS):
            for position, shift in enumerate(self.of(day)):
                start, end = shift.seconds
                where = f"{day.value}[{position}]"
                base = index * _DAY
                if base + end > _WEEK:  # a Sunday night shift runs into Monday
                    spans.append((base + start, _WEEK, where))
                    spans.append((0, base + end - _WEEK, where))
                else:
                    spans.append((base + start, base + end, where))
        spans.sort()
        for (_, end1, where1), (start2, _, where2) in itertools.pairwise(spans):
            if start2 < end1:
                first, second = sorted((where1, where2), key=_position_key)
                msg = (
                    f"hours.{second}: shift '{self._shift_at(second)}' overlaps "
                    f"{first} '{self._shift_at(first)}'"
                )
                raise PolicyError(msg)

    def _shift_at(self, where: str) -> Shift:
        day, _, rest = where.partition("[")
        return self.of(Weekday(day))[int(rest.rstrip("]"))]

    def of(self, day: Weekday) -> tuple[Shift, ...]:
        """Return the shifts of *day*."""
        result: tuple[Shift, ...] = getattr(self, day.value)
        return result

    @property
    def total(self) -> timedelta:
        """The nominal open time of one week."""
        return sum((shift.duration for day in _WEEKDAYS for shift in self.of(day)), _ZERO)

    @classmethod
    def weekdays(cls, *shifts: Shift | str) -> WeeklyHours:
        """Build hours with the same shifts Monday to Friday, weekends closed."""
        return cls(mon=shifts, tue=shifts, wed=shifts, thu=shifts, fri=shifts)

    @classmethod
    def every_day(cls, *shifts: Shift | str) -> WeeklyHours:
        """Build hours with the same shifts on every day of the week."""
        return cls(mon=shifts, tue=shifts, wed=shifts, thu=shifts, fri=shifts, sat=shifts, sun=shifts)


def _position_key(where: str) -> tuple[int, int]:
    day, _, rest = where.partition("[")
    return Weekday(day).index, int(rest.rstrip("]"))


# --------------------------------------------------------------------------
# The calendar


def _to_zone(value: ZoneInfo | str) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    try:
        return ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"calendar.zone: expected an IANA time zone such as 'Asia/Shanghai', got {value!r}"
        raise PolicyError(msg) from None


def _to_hours(value: WeeklyHours | Mapping[str, ShiftsInput]) -> WeeklyHours:
    return _hours_of(value)


def _hours_of(value: object) -> WeeklyHours:
    if isinstance(value, WeeklyHours):
        return value
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {d.value for d in _WEEKDAYS}, key=str)
        if unknown:
            msg = f"calendar.hours: expected weekday names mon..sun, got {unknown[0]!r}"
            raise PolicyError(msg)
        return WeeklyHours(**value)
    msg = f"calendar.hours: expected weekly hours such as {{'mon': ['09:00-18:00']}}, got {value!r}"
    raise PolicyError(msg)


def _convert_dates(field: str, value: Any) -> frozenset[date]:
    if isinstance(value, str | date):
        value = (value,)
    result = set()
    for item in value:
        day: Any = item
        if isinstance(day, str):
            try:
                day = date.fromisoformat(day)
            except ValueError:
                day = None
        if isinstance(day, datetime) or not isinstance(day, date):
            msg = f"calendar.{field}: expected dates such as '2026-10-01', got {item!r}"
            raise PolicyError(msg)
        result.add(day)
    return frozenset(result)


def _to_holidays(value: Iterable[date | str]) -> frozenset[date]:
    return _convert_dates("holidays", value)


def _to_workdays(value: Iterable[date | str]) -> frozenset[date]:
    return _convert_dates("workdays", value)


def _to_weekday(value: Weekday | str) -> Weekday:
    try:
        return value if isinstance(value, Weekday) else Weekday(value)
    except ValueError:
        msg = f"calendar.workdays_like: expected a weekday name mon..sun, got {value!r}"
        raise PolicyError(msg) from None


def _aware_arg(name: str, value: datetime) -> datetime:
    return require_aware(name, value, PolicyError).astimezone(UTC)


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """When the service desk is open: weekly shifts, holidays and make-up days in one zone.

    >>> cal = BusinessCalendar(zone="Asia/Shanghai", hours=WeeklyHours.weekdays("09:00-12:00", "13:00-18:00"))
    >>> start = datetime(2026, 5, 6, 11, 0, tzinfo=cal.zone)  # a Wednesday
    >>> cal.add(start, timedelta(hours=2)).isoformat()
    '2026-05-06T14:00:00+08:00'

    See the module documentation for the boundary rule and time-zone handling.
    The calendar is immutable, hashable and picklable; it precomputes what it
    needs when built.
    """

    zone: ZoneInfo = attrs.field(default=ZoneInfo("UTC"), converter=_to_zone)
    hours: WeeklyHours = attrs.field(converter=_to_hours)
    holidays: frozenset[date] = attrs.field(factory=frozenset, converter=_to_holidays)
    workdays: frozenset[date] = attrs.field(factory=frozenset, converter=_to_workdays)
    workdays_like: Weekday = attrs.field(default=Weekday.MON, converter=_to_weekday)

    _by_weekday: tuple[tuple[tuple[int, int], ...], ...] = attrs.field(init=False, eq=False, repr=False)
    _specials: tuple[date, ...] = attrs.field(init=False, eq=False, repr=False)
    _week: timedelta = attrs.field(init=False, eq=False, repr=False)
    _always: bool = attrs.field(init=False, eq=False, repr=False)
    # Per-date caches (local midnight and open spans in UTC; regular weeks). They
    # only memoise pure functions of the fields, so sharing them is safe.
    _days: dict[date, tuple[datetime, tuple[tuple[datetime, datetime], ...]]] = attrs.field(
        init=False, eq=False, repr=False
    )
    _weeks: dict[date, bool] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_weekday = tuple(tuple(sorted(shift.seconds for shift in self.hours.of(day))) for day in _WEEKDAYS)
        object.__setattr__(self, "_by_weekday", by_weekday)
        object.__setattr__(self, "_specials", tuple(sorted(self.holidays | self.workdays)))
        object.__setattr__(self, "_week", self.hours.total)
        object.__setattr__(self, "_always", self.hours.total == timedelta(days=7) and not self.holidays)
        object.__setattr__(self, "_days", {})
        object.__setattr__(self, "_weeks", {})

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle the fields only, not the caches.
        return (_rebuild, (self.zone, self.hours, self.holidays, self.workdays, self.workdays_like))

    # -- days and intervals ------------------------------------------------

    def shifts_on(self, day: date) -> tuple[Shift, ...]:
        """Return the shifts that start on *day* (a local date), holidays and make-up days applied."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.hours.of(self.workdays_like)
        return self.hours.of(Weekday.of(day))

    def _spans(self, day: date) -> tuple[tuple[int, int], ...]:
        if self._specials and day in self.holidays:
            return ()
        if self._specials and day in self.workdays:
            return self._by_weekday[self.workdays_like.index]
        return self._by_weekday[day.weekday()]

    def _at(self, day: date, seconds: int) -> datetime:
        """Return the instant (UTC) of wall time *seconds* after the local midnight of *day*."""
        local = datetime(day.year, day.month, day.day, tzinfo=self.zone) + timedelta(seconds=seconds)
        return local.astimezone(UTC)

    def _day(self, day: date) -> tuple[datetime, tuple[tuple[datetime, datetime], ...]]:
        """Return the local midnight of *day* and its non-empty open spans, in UTC."""
        cached = self._days.get(day)
        if cached is None:
            spans = []
            for start, end in self._spans(day):
                a, b = self._at(day, start), self._at(day, end)
                if a < b:  # a shift inside a spring-forward gap is empty
                    spans.append((a, b))
            cached = (self._at(day, 0), tuple(spans))
            if len(self._days) >= _CACHE_SIZE:
                self._days.clear()
            self._days[day] = cached
        return cached

    def _regular_week(self, day: date) -> bool:
        """Whether the week of shifts starting on *day* is a plain copy of the weekly hours."""
        cached = self._weeks.get(day)
        if cached is None:
            cached = self._regular(day, 7)
            if len(self._weeks) >= _CACHE_SIZE:
                self._weeks.clear()
            self._weeks[day] = cached
        return cached

    def _regular(self, day: date, days: int) -> bool:
        """Whether days ``[day - 1, day + days]`` have no special date and no clock change."""
        if self._specials:
            index = bisect_left(self._specials, day - _ONE_DAY)
            if index < len(self._specials) and self._specials[index] <= day + timedelta(days=days):
                return False
        offset = datetime(day.year, day.month, day.day, tzinfo=self.zone).utcoffset()
        for k in range(1, days + 2):
            other = day + timedelta(days=k)
            if datetime(other.year, other.month, other.day, tzinfo=self.zone).utcoffset() != offset:
                return False
        return True

    def is_open(self, when: datetime) -> bool:
        """Whether the desk is open at *when* (open from opening time, closed at closing time)."""
        instant = _aware_arg("when", when)
        today = instant.astimezone(self.zone).date()
        for day in (today - _ONE_DAY, today):
            for start, end in self._day(day)[1]:
                if start <= instant < end:
                    return True
        return False

    # -- the walk ----------------------------------------------------------

    def _walk(
        self,
        start: datetime,
        pauses: Sequence[tuple[datetime, datetime | None]],
        budget: timedelta | None,
        until: datetime | None,
    ) -> tuple[datetime, timedelta]:
        """Walk open, unpaused time from *start* (UTC).

        With a *budget*, return the instant at which it is used up (and the
        budget). With *until*, return *until* and the business time up to it.
        """
        remaining = budget if budget is not None else _ZERO
        used = _ZERO
        week_seconds = self._week
        last_end = start
        p = 0
        n_pauses = len(pauses)
        day = start.astimezone(self.zone).date() - _ONE_DAY
        while True:
            midnight, spans = self._day(day)
            if until is not None and midnight >= until:
                return until, used
            # Skip a whole regular week of shifts in one step.
            if week_seconds and midnight >= start and (budget is None or remaining > week_seconds):
                week_end = self._day(day + timedelta(days=8))[0]
                while p < n_pauses and (end := pauses[p][1]) is not None and end <= midnight:
                    p += 1
                if (
                    (until is None or week_end <= until)
                    and (p == n_pauses or pauses[p][0] >= week_end)
                    and self._regular_week(day)
                ):
                    if budget is not None:
                        remaining -= week_seconds
                    used += week_seconds
                    day += timedelta(days=7)
                    continue
            for span_start, b in spans:
                a = max(span_start, last_end)
                if b <= a:
                    continue
                last_end = b
                while a < b:
                    while p < n_pauses and (end := pauses[p][1]) is not None and end <= a:
                        p += 1
                    if p < n_pauses and pauses[p][0] < b:
                        seg_end = pauses[p][0]
                        resume = pauses[p][1]
                    else:
                        seg_end, resume = b, b
                    if seg_end > a:
                        length = seg_end - a
                        if until is not None:
                            if a >= until:
                                return until, used
                            if seg_end >= until:
                                return until, used + (until - a)
                        elif remaining <= length:
                            return a + remaining, used + remaining
                        remaining -= length
                        used += length
                    if resume is None:  # an open-ended pause: the clock never runs again
                        return (until, used) if until is not None else (NEVER, used)
                    a = max(a, resume)
            day += _ONE_DAY

    # -- public API --------------------------------------------------------

    def add(self, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()) -> datetime:
        """Move *start* forward by *duration* of business time.

        Closed hours, holidays and the *pauses* (intervals in which the
        ticket's clock stops; an open pause lasts forever) do not count. The
        result is the earliest time at which the duration is used up: it may
        be exactly a closing time. A start while closed counts from the next
        opening; a zero duration returns *start*. Returns `NEVER` when an
        open pause stops the clock first. The result is in *start*'s zone.

        :raises PolicyError: for a naive time, a negative duration, or a
            calendar that is never open again.
        """
        instant = _aware_arg("start", start)
        if not isinstance(duration, timedelta) or duration < _ZERO:
            check_duration(duration, "duration", PolicyError, positive=False)  # raises, in the shared words
        merged = _merge_pauses(pauses)
        if duration == _ZERO:
            return start
        if not self._week:
            msg = "calendar.hours: no shift on any weekday; no deadline can be reached"
            raise PolicyError(msg)
        if self._always:
            result = _add_always(instant, duration, merged)
        else:
            result, _ = self._walk(instant, merged, duration, None)
        return result if result is NEVER else result.astimezone(start.tzinfo)

    def elapsed(self, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
        """Measure the business time from *start* to *end*; negative when *end* is earlier.

        Closed hours, holidays and *pauses* do not count.

        :raises PolicyError: for a naive time.
        """
        a = _aware_arg("start", start)
        b = _aware_arg("end", end)
        merged = _merge_pauses(pauses)
        if b < a:
            return -self._elapsed(b, a, merged)
        return self._elapsed(a, b, merged)

    def _cutoff(self, start: datetime, duration: timedelta) -> datetime | None:
        """Return the latest instant *t* (in UTC) with ``elapsed(start, t) <= duration``, without pauses.

        It is `add` moved on to the next opening when it lands at a
        closing time or in closed time, since no business time passes until
        then; with a zero duration it is the next opening at or after *start*.
        So ``elapsed(start, t) <= duration`` exactly when ``t <= cutoff``,
        which lets a batch judge many due times against one *start* by
        comparing instants. ``None`` when there is no such instant in reach
        (no weekly hours, or no opening for years): measure with
        `elapsed` then.
        """
        instant = _aware_arg("start", start)
        if not self._week:
            return None
        if self._always:
            return instant + duration
        end = self._walk(instant, (), duration, None)[0] if duration > _ZERO else instant
        return self._next_open(end)

    def _next_open(self, instant: datetime) -> datetime | None:
        """Return the earliest instant at or after *instant* (UTC) at which the desk is open, if within reach."""
        day = instant.astimezone(self.zone).date() - _ONE_DAY
        best: datetime | None = None
        for _ in range(_SEARCH_DAYS):
            midnight, spans = self._day(day)
            if best is not None and midnight - best > _ONE_DAY:
                return best  # every later span starts after the best one found
            for span_start, span_end in spans:
                if span_end > instant:
                    candidate = max(instant, span_start)
                    if best is None or candidate < best:
                        best = candidate
            day += _ONE_DAY
        return best

    def _elapsed(self, a: datetime, b: datetime, merged: Sequence[tuple[datetime, datetime | None]]) -> timedelta:
        if a == b:
            return _ZERO
        if self._always:
            return (b - a) - _paused(a, b, merged)
        _, used = self._walk(a, merged, None, b)
        return used


def _rebuild(
    zone: ZoneInfo, hours: WeeklyHours, holidays: frozenset[date], workdays: frozenset[date], like: Weekday
) -> BusinessCalendar:
    return BusinessCalendar(zone=zone, hours=hours, holidays=holidays, workdays=workdays, workdays_like=like)


def _merge_pauses(pauses: Sequence[Pause]) -> list[tuple[datetime, datetime | None]]:
    """Return the pauses in UTC, sorted, overlapping ones merged."""
    spans: list[tuple[datetime, datetime | None]] = []
    for index, item in enumerate(pauses):
        pause: Any = item
        if not isinstance(pause, Pause):
            msg = f"pauses[{index}]: expected a Pause, got {pause!r}"
            raise PolicyError(msg)
        spans.append(
            (
                _aware_arg(f"pauses[{index}].start", pause.start),
                None if pause.end is None else _aware_arg(f"pauses[{index}].end", pause.end),
            )
        )
    spans.sort(key=lambda span: span[0])
    merged: list[tuple[datetime, datetime | None]] = []
    for start, end in spans:
        if merged:
            last_start, last_end = merged[-1]
            if last_end is None:
                break
            if start <= last_end:
                merged[-1] = (last_start, None if end is None else max(end, last_end))
                continue
        merged.append((start, end))
    return merged


def _add_always(start: datetime, duration: timedelta, merged: Sequence[tuple[datetime, datetime | None]]) -> datetime:
    remaining = duration
    cursor = start
    for pause_start, pause_end in merged:
        if pause_end is not None and pause_end <= cursor:
            continue
        if pause_start > cursor:
            if pause_start - cursor >= remaining:
                break
            remaining -= pause_start - cursor
        if pause_end is None:
            return NEVER
        cursor = max(cursor, pause_end)
    return cursor + remaining


def _paused(a: datetime, b: datetime, merged: Sequence[tuple[datetime, datetime | None]]) -> timedelta:
    total = _ZERO
    for pause_start, pause_end in merged:
        lo = max(pause_start, a)
        hi = b if pause_end is None else min(pause_end, b)
        if hi > lo:
            total += hi - lo
    return total


#: Open all the time, in UTC, with no holidays: business time is real time.
ALWAYS_OPEN: Final[BusinessCalendar] = BusinessCalendar(hours=WeeklyHours.every_day("00:00-24:00"))


# --------------------------------------------------------------------------
# Static checks


def check_calendar(calendar: BusinessCalendar, *, path: str = "calendar") -> tuple[Finding, ...]:
    """Report problems in a calendar that validation lets through.

    Errors: a week without business hours; a date that is both a holiday and
    a make-up working day (the holiday wins). Warnings: a make-up day that is
    a working weekday anyway; make-up days whose model weekday has no hours.
    Info: a holiday on a day that is closed anyway.
    """
    findings: list[Finding] = []
    if calendar.hours.total == _ZERO:
        findings.append(
            Finding(
                "calendar.empty_week",
                Severity.ERROR,
                f"{path}.hours",
                "no shift on any weekday: outside make-up days no deadline can be reached",
            )
        )
    findings.extend(
        Finding(
            "calendar.holiday_is_workday",
            Severity.ERROR,
            f"{path}.workdays",
            f"{day.isoformat()} is both a holiday and a make-up working day; the holiday wins",
        )
        for day in sorted(calendar.holidays & calendar.workdays)
    )
    findings.extend(
        Finding(
            "calendar.workday_already_open",
            Severity.WARNING,
            f"{path}.workdays",
            f"{day.isoformat()} is a {Weekday.of(day).value}, a working day anyway; "
            f"it gets the hours of {calendar.workdays_like.value} instead",
        )
        for day in sorted(calendar.workdays - calendar.holidays)
        if calendar.hours.of(Weekday.of(day))
    )
    if calendar.workdays and not calendar.hours.of(calendar.workdays_like):
        findings.append(
            Finding(
                "calendar.workdays_closed",
                Severity.WARNING,
                f"{path}.workdays_like",
                f"make-up days keep the hours of {calendar.workdays_like.value}, which has none: they stay closed",
            )
        )
    findings.extend(
        Finding(
            "calendar.holiday_on_closed_day",
            Severity.INFO,
            f"{path}.holidays",
            f"{day.isoformat()} is a {Weekday.of(day).value}, closed anyway",
        )
        for day in sorted(calendar.holidays - calendar.workdays)
        if not calendar.hours.of(Weekday.of(day))
    )
    return tuple(findings)
