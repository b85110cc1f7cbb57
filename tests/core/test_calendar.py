"""Business calendars: working hours, holidays and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.core.calendar import BusinessCalendar, holiday_dates, office_hours, parse_hours

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def nyc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def office(zone: ZoneInfo = BERLIN, **kwargs: object) -> BusinessCalendar:
    return BusinessCalendar("office", zone, office_hours("09:00-17:00"), **kwargs)  # type: ignore[arg-type]


def test_parse_hours_reads_split_days_and_rejects_nonsense() -> None:
    """Spans are read in order; reversed or overlapping spans are refused."""
    assert parse_hours("08:00-12:00, 13:00-17:00") == ((480, 720), (780, 1020))
    assert parse_hours("00:00-24:00") == ((0, 1440),)
    assert parse_hours("") == ()
    with pytest.raises(ValueError):
        parse_hours("17:00-09:00")
    with pytest.raises(ValueError):
        parse_hours("09:00-12:00,11:00-13:00")
    with pytest.raises(ValueError):
        parse_hours("nine-five")


def test_add_within_a_day_and_over_a_weekend() -> None:
    """Time outside working hours does not count."""
    cal = office()
    assert cal.add(berlin(2026, 3, 2, 10, 0), timedelta(hours=4)) == berlin(2026, 3, 2, 14, 0)
    # Friday 15:00 + 4h: 2h on Friday, 2h on Monday.
    assert cal.add(berlin(2026, 3, 6, 15, 0), timedelta(hours=4)) == berlin(2026, 3, 9, 11, 0)
    # Saturday start: counting begins on Monday morning.
    assert cal.add(berlin(2026, 3, 7, 12, 0), timedelta(hours=1)) == berlin(2026, 3, 9, 10, 0)


def test_add_one_business_day_from_evening() -> None:
    """One business day asked at 20:00 ends at the next day's close."""
    cal = office()
    assert cal.add(berlin(2026, 3, 3, 20, 0), timedelta(hours=8)) == berlin(2026, 3, 4, 17, 0)


def test_holidays_from_the_library_and_explicit_dates_are_skipped() -> None:
    """Good Friday, Easter Monday (DE) and an explicit company day are not working days."""
    cal = office(holidays=holiday_dates("DE", "BE"), extra_dates=[date(2026, 4, 7)])
    # Thursday 2 April 2026 16:00 + 2h: Good Friday, weekend, Easter Monday, extra day all off.
    assert cal.add(berlin(2026, 4, 2, 16, 0), timedelta(hours=2)) == berlin(2026, 4, 8, 10, 0)
    assert not cal.is_working_day(date(2026, 4, 3))
    assert not cal.is_working_day(date(2026, 4, 7))
    assert cal.elapsed(berlin(2026, 4, 2, 16, 0), berlin(2026, 4, 8, 10, 0)) == timedelta(hours=2)


def test_working_days_are_a_working_days_worth_of_working_time() -> None:
    """Weekends, holidays and nights pass without counting; a part of a day is part of its hours."""
    cal = office(holidays=holiday_dates("DE", "BE"))
    # Friday 10:00 + 1: seven hours on Friday, one on Monday.
    assert cal.add_working_days(berlin(2026, 3, 6, 10, 0), 1) == berlin(2026, 3, 9, 10, 0)
    # Saturday: the clock starts at Monday's opening and runs the whole of Monday.
    assert cal.add_working_days(berlin(2026, 3, 7, 11, 0), 1) == berlin(2026, 3, 9, 17, 0)
    # Friday 20:00, after closing: Monday and Tuesday, ending at Tuesday's close.
    assert cal.add_working_days(berlin(2026, 3, 6, 20, 0), 2) == berlin(2026, 3, 10, 17, 0)
    # Thursday 2 April 14:00: Good Friday, the weekend and Easter Monday are off.
    assert cal.add_working_days(berlin(2026, 4, 2, 14, 0), 1) == berlin(2026, 4, 7, 14, 0)
    # Monday 09:00 + 1.5: all of Monday and half of Tuesday (four hours).
    assert cal.add_working_days(berlin(2026, 3, 9, 9, 0), 1.5) == berlin(2026, 3, 10, 13, 0)
    assert cal.add_working_days(berlin(2026, 3, 9, 9, 0), 0) == berlin(2026, 3, 9, 9, 0)


def test_a_working_day_is_as_long_as_the_day_the_clock_starts_in() -> None:
    """A split day (08:00-12:00, 13:00-16:00) is seven hours; the lunch break does not count."""
    split = BusinessCalendar("split", BERLIN, office_hours("08:00-12:00,13:00-16:00"))
    # Monday 11:00: one hour before lunch, three after, three on Tuesday morning.
    assert split.add_working_days(berlin(2026, 3, 9, 11, 0), 1) == berlin(2026, 3, 10, 11, 0)
    # Half a day is three and a half hours: one before lunch, two and a half after.
    assert split.add_working_days(berlin(2026, 3, 9, 11, 0), 0.5) == berlin(2026, 3, 9, 15, 30)


def test_working_days_around_the_clock_are_calendar_days() -> None:
    """Around the clock every day works, at the same wall-clock time across daylight saving."""
    always = BusinessCalendar.around_the_clock(zone=BERLIN)
    assert always.add_working_days(berlin(2026, 3, 6, 10, 0), 2) == berlin(2026, 3, 8, 10, 0)
    assert always.add_working_days(berlin(2026, 3, 28, 10, 0), 1) == berlin(2026, 3, 29, 10, 0)


def test_berlin_spring_forward_night_shift_is_one_hour_shorter() -> None:
    """A 00:00-06:00 shift on 29 March 2026 lasts five real hours."""
    cal = BusinessCalendar("night", BERLIN, {6: parse_hours("00:00-06:00")})
    sunday = date(2026, 3, 29)
    assert cal.elapsed(berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 29, 6, 0)) == timedelta(hours=5)
    ((opens, closes),) = cal.working_spans(sunday)
    assert closes - opens == timedelta(hours=5)
    assert cal.add(berlin(2026, 3, 29, 0, 0), timedelta(hours=5)) == berlin(2026, 3, 29, 6, 0)


def test_berlin_fall_back_full_day_lasts_25_hours() -> None:
    """A 24-hour working day on 25 October 2026 holds 25 real hours."""
    cal = BusinessCalendar("all-week", BERLIN, {d: parse_hours("00:00-24:00") for d in range(7)})
    day_start, next_day = berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0)
    assert cal.elapsed(day_start, next_day) == timedelta(hours=25)
    assert cal.add(day_start, timedelta(hours=25)) == next_day


def test_office_hours_keep_wall_clock_across_new_york_dst() -> None:
    """Friday 16:00 EST + 2 business hours is Monday 10:00 EDT (after spring forward)."""
    cal = office(NEW_YORK)
    end = cal.add(nyc(2026, 3, 6, 16, 0), timedelta(hours=2))
    assert end == nyc(2026, 3, 9, 10, 0)
    assert end.astimezone(UTC) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    # Fall back on Sunday 1 November 2026: Friday 16:00 EDT + 2h = Monday 10:00 EST.
    end = cal.add(nyc(2026, 10, 30, 16, 0), timedelta(hours=2))
    assert end.astimezone(UTC) == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_new_york_around_the_clock_is_real_time_across_dst() -> None:
    """The 24x7 calendar adds real hours, whatever the wall clock does."""
    cal = BusinessCalendar.around_the_clock(zone=NEW_YORK)
    start = nyc(2026, 3, 8, 1, 0)
    assert cal.add(start, timedelta(hours=2)) == start.astimezone(UTC) + timedelta(hours=2)
    assert cal.add(start, timedelta(hours=2)).astimezone(NEW_YORK).hour == 4


def test_calendar_without_hours_is_refused_and_naive_times_too() -> None:
    """Misconfiguration fails loudly instead of looping forever."""
    with pytest.raises(ValueError):
        BusinessCalendar("closed", BERLIN, {})
    with pytest.raises(ValueError):
        office().add(datetime(2026, 3, 2, 9, 0), timedelta(hours=1))


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))
zones = st.sampled_from([BERLIN, NEW_YORK])


@given(moments, durations, zones)
def test_elapsed_undoes_add(start: datetime, duration: timedelta, zone: ZoneInfo) -> None:
    """The working time between a start and start + d is d."""
    cal = office(zone, holidays=holiday_dates("US" if zone is NEW_YORK else "DE"))
    end = cal.add(start, duration)
    assert end >= start
    assert cal.elapsed(start, end) == duration


@given(moments, durations, durations, zones)
def test_add_is_monotone_and_additive(
    start: datetime, first: timedelta, second: timedelta, zone: ZoneInfo
) -> None:
    """Adding more never ends earlier, and adding in two steps equals adding once."""
    cal = office(zone)
    assert cal.add(start, first + second) >= cal.add(start, first)
    assert cal.add(cal.add(start, first), second) == cal.add(start, first + second)
