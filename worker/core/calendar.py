"""Business calendars: working hours, holidays and a time zone; business time added and measured.

Working hours are wall-clock times in the calendar's zone; durations inside
them are real time, so a 09:00-17:00 day is eight hours even on the day the
clocks change, and a 00:00-24:00 day is 23 or 25 hours then.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib

#: Minutes from local midnight: (opens, closes), closes up to 1440 (24:00).
Span = tuple[int, int]

_MAX_DAYS = 366 * 3


def parse_hours(text: str) -> tuple[Span, ...]:
    """``"09:00-17:00"`` or ``"08:00-12:00,13:00-17:00"`` or ``""`` (closed) into spans."""
    spans: list[Span] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        opens, _, closes = part.partition("-")
        start, end = _minutes(opens), _minutes(closes)
        if not 0 <= start < end <= 1440:
            raise ValueError(f"working hours must open before they close: {part!r}")
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise ValueError(f"working hours overlap: {text!r}")
    return tuple(spans)


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not hours.isdigit() or not minutes.isdigit():
        raise ValueError(f"not a time of day (HH:MM): {text!r}")
    return int(hours) * 60 + int(minutes)


def holiday_dates(country: str, subdiv: str | None = None) -> Callable[[date], bool]:
    """Public holidays of a country (and subdivision) from the ``holidays`` library."""
    table = holidays_lib.country_holidays(country, subdiv=subdiv or None)
    return lambda day: day in table


class BusinessCalendar:
    """Working time in one zone: hours per weekday (0 = Monday), minus holidays."""

    def __init__(
        self,
        name: str,
        zone: ZoneInfo,
        hours: Mapping[int, Iterable[Span]],
        *,
        holidays: Callable[[date], bool] | None = None,
        extra_dates: Iterable[date] = (),
        always: bool = False,
    ) -> None:
        self.name = name
        self.zone = zone
        self.always = always
        self._hours = {day: tuple(spans) for day, spans in hours.items()}
        if not always and not any(self._hours.values()):
            raise ValueError(f"calendar {name!r} has no working hours")
        self._is_holiday = holidays or (lambda _day: False)
        self._extra = frozenset(extra_dates)
        # Memoised per local date: the day's working spans as UTC instants.
        self._days: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    @classmethod
    def around_the_clock(cls, name: str = "24x7", zone: ZoneInfo | None = None) -> BusinessCalendar:
        """Every hour counts: business time is real time."""
        return cls(name, zone or ZoneInfo("UTC"), {}, always=True)

    def is_working_day(self, day: date) -> bool:
        return bool(self._spans_of(day))

    def working_spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The local date's working time as (start, end) aware UTC instants."""
        cached = self._days.get(day)
        if cached is None:
            cached = self._spans_of(day)
            self._days[day] = cached
        return cached

    def _spans_of(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        if self.always:
            return ((self._at(day, 0), self._at(day, 1440)),)
        spans = self._hours.get(day.weekday(), ())
        if not spans or day in self._extra or self._is_holiday(day):
            return ()
        return tuple((self._at(day, start), self._at(day, end)) for start, end in spans)

    def _at(self, day: date, minutes: int) -> datetime:
        # Wall-clock arithmetic on the local date, then the real instant in UTC.
        local = datetime.combine(day, time(0), tzinfo=self.zone) + timedelta(minutes=minutes)
        return local.astimezone(UTC)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """When ``days`` working days have passed since ``start`` ("within 1.5 business days").

        A working day is as much working time as the working day the clock starts in (a
        09:00-17:00 day is eight hours), so a promise made after hours or at the weekend
        runs from the next opening and ends within working hours. Around the clock, a day
        is a calendar day at the same wall-clock time.
        """
        _require_aware(start)
        if days <= 0:
            return start.astimezone(UTC)
        if self.always:
            return (start.astimezone(self.zone) + timedelta(days=days)).astimezone(UTC)
        start = start.astimezone(UTC)
        day = start.astimezone(self.zone).date()
        for _ in range(_MAX_DAYS):
            spans = self.working_spans(day)
            if spans and spans[-1][1] > start:
                length = sum((closes - opens for opens, closes in spans), timedelta(0))
                return self.add(start, length * days)
            day += timedelta(days=1)
        raise ValueError(f"calendar {self.name!r}: no working day within {_MAX_DAYS} days")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant by which ``duration`` of working time has passed since ``start``."""
        _require_aware(start)
        start = start.astimezone(UTC)
        if duration <= timedelta(0):
            return start
        if self.always:
            return start + duration
        remaining = duration
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS):
            for opens, closes in self.working_spans(day):
                if closes <= start:
                    continue
                begin = max(opens, start)
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += timedelta(days=1)
        raise ValueError(f"calendar {self.name!r}: no working time within {_MAX_DAYS} days")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two instants (zero when ``end`` is not after ``start``)."""
        _require_aware(start)
        _require_aware(end)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return timedelta(0)
        if self.always:
            return end - start
        total = timedelta(0)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            for opens, closes in self.working_spans(day):
                begin, finish = max(opens, start), min(closes, end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("business time needs aware datetimes")


WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def office_hours(weekdays: str = "09:00-17:00") -> dict[int, tuple[Span, ...]]:
    """The same hours Monday to Friday, closed at the weekend."""
    spans = parse_hours(weekdays)
    return dict.fromkeys(range(5), spans)
