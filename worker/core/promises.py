"""Stated next updates: "next update by 15:00", "within 2 hours", "tomorrow morning".

A team update that names when the next one comes sets the next deadline. Only
sentences that speak of an update (or of getting back, following up) are read,
so "the fix ships within 2 hours" promises nothing. Times of day are read in
the calendar's zone; a named day without a time means the end of that day's
business (17:00), a morning means noon; a business or working day is a working
day's worth of the calendar's working time, so weekends, holidays and nights are
skipped. Anything else: no promise (None).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from worker.core.calendar import BusinessCalendar

_CUE = re.compile(
    r"\b(updates?|get back|follow[- ]?up|back to you|report back|hear from (?:us|me)|"
    r"keep you posted|let you know|touch base)\b",
    re.IGNORECASE,
)
# A full stop between digits is a decimal point ("within 1.5 days"), not a sentence's end.
_SENTENCE = re.compile(r"(?:[^.!?\n]|(?<=\d)\.(?=\d))+")
_WITHIN = re.compile(
    r"\b(?:within|in(?: the next)?)\s+(?:(an?|one|two|three|four|\d+(?:\.\d+)?)\s+)?"
    r"(minutes?|mins?|hours?|hrs?|(?:business|working) days?|days?)\b",
    re.IGNORECASE,
)
_WITHIN_THE_HOUR = re.compile(r"\bwithin the (?:next )?hour\b", re.IGNORECASE)
_CLOCK = re.compile(
    r"\b(?:by|at|before|around|until)\s+(?:(noon|midday)|(\d{1,2})(?:[:.h](\d{2}))?\s*"
    r"(a\.?m\.?|p\.?m\.?)?)(?![\d:])",
    re.IGNORECASE,
)
_END_OF_DAY = re.compile(
    r"\b(?:end of (?:the )?(?:business )?day|eod|cob|close of business)\b", re.IGNORECASE
)
_PART_OF_DAY = re.compile(
    r"\b(today|this|tomorrow)\s*(morning|afternoon|evening|noon|midday)?\b", re.IGNORECASE
)
_WEEKDAY = re.compile(
    r"\b(?:on|by|next|this)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"(?:\s+(morning|afternoon|evening))?\b",
    re.IGNORECASE,
)
_NUMBERS = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: When each part of a day is over.
_ENDS = {
    "morning": time(12, 0),
    "noon": time(12, 0),
    "midday": time(12, 0),
    "afternoon": time(17, 0),
    "evening": time(20, 0),
    None: time(17, 0),
}
MAX_TEXT = 20_000


def find_promise(text: str, sent_at: datetime, calendar: BusinessCalendar) -> datetime | None:
    """When the update sent at ``sent_at`` says the next one comes, in UTC; None if it does not.

    ``calendar`` is the recovery's policy calendar: its zone and its working days.
    """
    if sent_at.tzinfo is None:
        raise ValueError("sent_at must be aware")
    local = sent_at.astimezone(calendar.zone)
    for sentence in _SENTENCE.findall(text[:MAX_TEXT]):
        if not _CUE.search(sentence):
            continue
        found = _in_sentence(sentence, local, calendar)
        if found is not None and found > sent_at:
            return found.astimezone(UTC)
    return None


def _in_sentence(sentence: str, local: datetime, calendar: BusinessCalendar) -> datetime | None:
    if _WITHIN_THE_HOUR.search(sentence):
        return _later(local, timedelta(hours=1))
    if match := _WITHIN.search(sentence):
        return _within(match, local, calendar)
    day = local.date()
    named_day = False
    part: str | None = None
    if match := _WEEKDAY.search(sentence):
        ahead = (_WEEKDAYS.index(match.group(1).lower()) - local.weekday()) % 7 or 7
        day += timedelta(days=ahead)
        named_day = True
        part = match.group(2).lower() if match.group(2) else None
    elif match := _PART_OF_DAY.search(sentence):
        which = match.group(1).lower()
        part = match.group(2).lower() if match.group(2) else None
        if which == "tomorrow":
            day += timedelta(days=1)
            named_day = True
        elif which == "this" and part is None:
            return None
    if match := _CLOCK.search(sentence):
        at = _time_of(match)
        if at is not None:
            moment = datetime.combine(day, at, tzinfo=local.tzinfo)
            if not named_day and moment <= local:
                moment += timedelta(days=1)
            return moment
    if _END_OF_DAY.search(sentence):
        return datetime.combine(day, _ENDS[None], tzinfo=local.tzinfo)
    if named_day or part is not None:
        return datetime.combine(day, _ENDS[part], tzinfo=local.tzinfo)
    return None


def _within(match: re.Match[str], local: datetime, calendar: BusinessCalendar) -> datetime | None:
    count_text = (match.group(1) or "a").lower()
    count = _NUMBERS.get(count_text)
    if count is None:
        count = float(count_text)
    unit = match.group(2).lower()
    if unit.startswith("min"):
        return _later(local, timedelta(minutes=count))
    if unit.startswith(("hour", "hr")):
        return _later(local, timedelta(hours=count))
    if unit.startswith(("business", "working")):
        return calendar.add_working_days(local, count)
    # Days are calendar days: the same wall-clock time, whatever daylight saving does.
    return local + timedelta(days=count)


def _later(local: datetime, span: timedelta) -> datetime:
    """``span`` of real time after ``local``; aware arithmetic in one zone would add wall time."""
    return local.astimezone(UTC) + span


def _time_of(match: re.Match[str]) -> time | None:
    if match.group(1):
        return time(12, 0)
    hour = int(match.group(2))
    minute = int(match.group(3) or 0)
    meridiem = (match.group(4) or "").lower().replace(".", "")
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    elif not meridiem and match.group(3) is None:
        # A bare number ("by 3") is a time only with am/pm or minutes; "by 2 days" is not.
        return None
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
