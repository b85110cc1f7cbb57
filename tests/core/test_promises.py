"""Stated next updates found in a team update's text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.core.calendar import BusinessCalendar, holiday_dates, office_hours
from worker.core.promises import find_promise

BERLIN = ZoneInfo("Europe/Berlin")
#: Monday to Friday in Berlin, no holidays.
OFFICE = BusinessCalendar("office", BERLIN, office_hours())
# Tuesday 3 March 2026, 10:20 in Berlin.
SENT = datetime(2026, 3, 3, 10, 20, tzinfo=BERLIN)


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We are on it. Next update by 15:00.", local(3, 3, 15)),
        ("I'll send you an update by 3pm today", local(3, 3, 15)),
        ("Next update by 15.30. Thanks for your patience.", local(3, 3, 15, 30)),
        ("Next update at 9:30 a.m.", local(3, 4, 9, 30)),  # 9:30 has passed today
        ("Expect an update within 2 hours.", local(3, 3, 12, 20)),
        ("We'll get back to you within 30 minutes", local(3, 3, 10, 50)),
        ("We will update you within the hour.", local(3, 3, 11, 20)),
        ("We'll update you tomorrow morning.", local(3, 4, 12)),
        ("Next update tomorrow at 10:00", local(3, 4, 10)),
        ("We will update you by end of day", local(3, 3, 17)),
        ("Update by EOD.", local(3, 3, 17)),
        ("I'll follow up this afternoon", local(3, 3, 17)),
        ("Next update on Monday.", local(3, 9, 17)),
        ("We will get back to you on Friday morning", local(3, 6, 12)),
        ("Next update by noon", local(3, 3, 12)),
        ("Next update in the next hour.", local(3, 3, 11, 20)),
        ("We will get back to you Friday morning.", local(3, 6, 12)),
        ("I'll update you Friday at 3pm.", local(3, 6, 15)),
        ("I'll update you by Friday 3pm.", local(3, 6, 15)),
        ("Next update by 3pm Friday.", local(3, 6, 15)),
        ("Next update 10:30 on Thursday.", local(3, 5, 10, 30)),
        ("I'll update you tomorrow by 3 p.m. at the latest.", local(3, 4, 15)),
        ("Next update by 3 p.m.", local(3, 3, 15)),
        ("Next update by 3 p.m. Friday.", local(3, 6, 15)),
        # The dot after "a.m." ends the first sentence: its time is not the promise's.
        ("The fix went out at 9 a.m. We will update you by Friday.", local(3, 6, 17)),
        ("We'll update you on this ticket by 3pm.", local(3, 3, 15)),
    ],
)
def test_stated_next_updates(text: str, expected: datetime) -> None:
    """Each common phrasing becomes the moment the next update is due."""
    assert find_promise(text, SENT, OFFICE) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The fix ships within 2 hours.",  # no word of an update
        "Thanks for your patience, we are looking into it.",
        "Update: the root cause is a full disk.",  # no time stated
        "We will update you by 2 days",  # not a time of day
        "We'll get back to you in minutes.",  # no number of them
        "We will update you within hours.",
        "We'll update you on this ticket.",
        "We will update you within 99999999 days.",  # more than a year: not meant
        "Next update within 400 business days.",
        "We will update you within " + "9" * 400 + " hours.",
        # A weekday that tells when something was, not when the update is due.
        "The outage started Monday; I'll update you as soon as we have news.",
        "Sorry about Friday's downtime, we'll let you know when the fix is deployed.",
        "We received your mail of Friday, 10:30 and will get back to you shortly.",
        "Since Monday 8:00 we have been monitoring; we'll update you.",
        "I'll update you about the Tuesday 3pm meeting soon.",
        "The fix was applied Tuesday morning; we'll keep you posted.",
        "",
    ],
)
def test_unknown_phrasing_is_no_promise(text: str) -> None:
    """Text that names no next update promises nothing."""
    assert find_promise(text, SENT, OFFICE) is None


def test_time_of_day_is_read_in_the_calendars_zone() -> None:
    """ "By 15:00" from New York is 15:00 New York time."""
    new_york = BusinessCalendar("office", ZoneInfo("America/New_York"), office_hours())
    sent = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 09:00 in New York
    assert find_promise("Next update by 15:00", sent, new_york) == datetime(
        2026, 3, 3, 20, 0, tzinfo=UTC
    )


def test_naive_time_is_refused() -> None:
    """Times without a zone would be guesses."""
    with pytest.raises(ValueError):
        find_promise("next update by 15:00", datetime(2026, 3, 3, 10, 0), OFFICE)


@given(st.text(max_size=300))
def test_any_promise_found_is_after_the_update(text: str) -> None:
    """Whatever the text, a found promise lies after the update that made it."""
    found = find_promise(text, SENT, OFFICE)
    assert found is None or found > SENT


@pytest.mark.parametrize(
    ("sent", "text", "later"),
    [
        # 01:30 in Berlin on the night the clocks go forward at 02:00.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "We will update you within 2 hours.", 2),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Next update within the hour.", 1),
        # 02:30 summer time in Berlin on the night the clocks go back at 03:00.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "We will update you within 2 hours.", 2),
    ],
)
def test_hours_promised_are_real_hours_across_daylight_saving(
    sent: datetime, text: str, later: int
) -> None:
    """ "Within 2 hours" is two hours of real time on the nights the clocks change."""
    assert find_promise(text, sent, OFFICE) == sent + timedelta(hours=later)


def test_days_promised_keep_the_wall_clock_across_daylight_saving() -> None:
    """ "Within 1 day" from 10:00 the day before the clocks go forward is 10:00 the next day."""
    sent = datetime(2026, 3, 28, 10, 0, tzinfo=BERLIN)
    assert find_promise("We will get back to you within 1 day.", sent, OFFICE) == local(3, 29, 10)


def berlin_office() -> BusinessCalendar:
    return BusinessCalendar("office", BERLIN, office_hours(), holidays=holiday_dates("DE", "BE"))


@pytest.mark.parametrize(
    ("sent", "text", "expected"),
    [
        # Friday 6 March 10:00: Saturday and Sunday are not business days.
        (local(3, 6, 10), "We will update you within 2 business days.", local(3, 10, 10)),
        (local(3, 6, 10), "Next update within 1 working day.", local(3, 9, 10)),
        # Thursday 2 April 14:00: Good Friday, the weekend and Easter Monday are skipped.
        (local(4, 2, 14), "We'll get back to you within 1 business day", local(4, 7, 14)),
        # Sent on a Saturday: the clock runs through Monday's working hours.
        (local(3, 7, 11), "Update within one business day.", local(3, 9, 17)),
        # Sent after closing on Friday: Monday and Tuesday, so Tuesday's close.
        (local(3, 6, 20), "We will update you within 2 business days.", local(3, 10, 17)),
        # Half a day is half of the day's working hours.
        (local(3, 9, 9), "Next update within 1.5 working days.", local(3, 10, 13)),
        # Calendar days stay calendar days.
        (local(3, 6, 10), "We will update you within 2 days.", local(3, 8, 10)),
    ],
)
def test_business_days_promised_follow_the_policys_calendar(
    sent: datetime, text: str, expected: datetime
) -> None:
    """ "Within N business days" is N working days' worth of the calendar's working time."""
    assert find_promise(text, sent, berlin_office()) == expected


def test_business_days_around_the_clock_are_every_day() -> None:
    """A 24x7 policy works every day, so its business days are calendar days."""
    always = BusinessCalendar.around_the_clock(zone=BERLIN)
    text = "We will update you within 2 business days."
    assert find_promise(text, local(3, 6, 10), always) == local(3, 8, 10)
