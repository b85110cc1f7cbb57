"""Stated next updates: "next update by 15:00", "within 2 hours", "tomorrow morning".

A team update that names when the next one comes sets the next deadline. Only
sentences that speak of an update (or of getting back, following up) are read,
so "the fix ships within 2 hours" promises nothing. Times of day are read in
the calendar's zone; a named day without a time means the end of that day's
business (17:00), a morning means noon; a business or working day is a working
day's worth of the calendar's working time, so weekends, holidays and nights are
skipped. Anything else, or a promise more than a year ahead: no promise (None).
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
# "3 p.m." is "3pm"; its last dot ends the sentence only when a new one starts after it,
# and a capitalised weekday ("by 3 p.m. Friday") starts none.
_MERIDIEM = re.compile(
    r"(?<![A-Za-z])([aApP])\.\s?[mM]\b\.?"
    r"(?=(\s+(?!(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b)[A-Z])?)"
)
# A full stop between digits is a decimal point ("within 1.5 days"), not a sentence's end.
_SENTENCE = re.compile(r"(?:[^.!?\n]|(?<=\d)\.(?=\d))+")
_COUNT = r"an?|one|two|three|four|\d+(?:\.\d+)?"
_UNIT = r"minutes?|mins?|hours?|hrs?|(?:business|working) days?|days?"
# A span needs its count ("in minutes" is no promise), except a single "next" one.
_WITHIN = re.compile(
    rf"\b(?:within|in)\s+(?:the\s+next\s+(?=(?:minute|hour|(?:business |working )?day)\b)|"
    rf"(?:the\s+next\s+)?({_COUNT})\s+)({_UNIT})\b",
    re.IGNORECASE,
)
_WITHIN_THE_HOUR = re.compile(r"\bwithin the hour\b", re.IGNORECASE)
# Group names are shared by every pattern holding a time of day, for _time_of.
_TIME = (
    r"(?:(?P<noon>noon|midday)|(?P<hour>\d{1,2})(?:[:.h](?P<minute>\d{2}))?\s*"
    r"(?P<meridiem>[ap]m\b)?)(?![\d:])"
)
_DAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_CLOCK = re.compile(rf"\b(?:by|at|before|around|until)\s+{_TIME}", re.IGNORECASE)
# A time right next to a named day needs no "by" or "at": "Friday 3pm", "3pm on Friday".
_TIME_AFTER_DAY = re.compile(
    rf"\b(?:{_DAYS}|tomorrow)(?:\s+(?:morning|afternoon|evening))?,?\s+(?:at\s+)?{_TIME}",
    re.IGNORECASE,
)
_TIME_BEFORE_DAY = re.compile(rf"\b{_TIME},?\s+(?:on\s+)?(?:{_DAYS}|tomorrow)\b", re.IGNORECASE)
_END_OF_DAY = re.compile(
    r"\b(?:end of (?:the )?(?:business )?day|eod|cob|close of business)\b", re.IGNORECASE
)
# "This" names a part of the day only as "this morning" and the like, not "this ticket".
_PART_OF_DAY = re.compile(
    r"\b(today|tomorrow|this(?=\s+(?:morning|afternoon|evening)\b))"
    r"\s*(morning|afternoon|evening|noon|midday)?\b",
    re.IGNORECASE,
)
# A weekday is the day of a promise after "on", "by"... or "you" ("get back to you Friday"),
# not where it tells what happened ("the outage started Monday", "your mail of Friday").
_WEEKDAY = re.compile(
    rf"\b(?:on|by|next|this|until|till|before|you)\s+({_DAYS})"
    r"(?:\s+(morning|afternoon|evening))?\b",
    re.IGNORECASE,
)
# ... or right next to a time of day ("Friday at 3pm", "by 3pm Friday"), unless it says when
# something was ("since Monday 8:00", "the Tuesday 3pm meeting").
_WEEKDAY_TIMED = re.compile(
    r"(?<!since )(?<!from )(?<!of )(?<!last )(?<!the )(?<!about )(?<!after )(?<!every )"
    rf"\b({_DAYS})(?=,?\s+(?:at\s+)?\d{{1,2}}(?:[:.h]\d{{2}}|\s*[ap]m\b))"
    rf"|(?:(?<=[ap]m )|(?<=[ap]m, )|(?<=\d\d )|(?<=\d\d, ))({_DAYS})\b",
    re.IGNORECASE,
)
_NUMBERS = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0}
_WEEKDAYS = _DAYS.split("|")
#: When each part of a day is over.
_ENDS = {
    "morning": time(12, 0),
    "noon": time(12, 0),
    "midday": time(12, 0),
    "afternoon": time(17, 0),
    "evening": time(20, 0),
    None: time(17, 0),
}
#: The farthest promise taken at its word; "within 99999999 days" is none.
FARTHEST = timedelta(days=366)
MAX_TEXT = 20_000


def find_promise(text: str, sent_at: datetime, calendar: BusinessCalendar) -> datetime | None:
    """When the update sent at ``sent_at`` says the next one comes, in UTC; None if it does not.

    ``calendar`` is the recovery's policy calendar: its zone and its working days.
    """
    if sent_at.tzinfo is None:
        raise ValueError("sent_at must be aware")
    local = sent_at.astimezone(calendar.zone)
    text = _MERIDIEM.sub(_meridiem, text[:MAX_TEXT])
    for sentence in _SENTENCE.findall(text):
        if not _CUE.search(sentence):
            continue
        found = _in_sentence(sentence, local, calendar)
        if found is not None and sent_at < found <= sent_at + FARTHEST:
            return found.astimezone(UTC)
    return None


def _meridiem(match: re.Match[str]) -> str:
    """``a.m.``/``p.m.`` as ``am``/``pm``, keeping a full stop that ends the sentence."""
    return match.group(1).lower() + "m" + ("." if match.group(2) else "")


def _in_sentence(sentence: str, local: datetime, calendar: BusinessCalendar) -> datetime | None:
    if _WITHIN_THE_HOUR.search(sentence):
        return _later(local, timedelta(hours=1))
    if match := _WITHIN.search(sentence):
        return _within(match, local, calendar)
    day = local.date()
    named_day = False
    part: str | None = None
    if weekday := _weekday_in(sentence):
        name, part = weekday
        ahead = (_WEEKDAYS.index(name) - local.weekday()) % 7 or 7
        day += timedelta(days=ahead)
        named_day = True
    elif match := _PART_OF_DAY.search(sentence):
        part = match.group(2).lower() if match.group(2) else None
        if match.group(1).lower() == "tomorrow":
            day += timedelta(days=1)
            named_day = True
    if (at := _time_in(sentence, named_day)) is not None:
        moment = datetime.combine(day, at, tzinfo=local.tzinfo)
        if not named_day and moment <= local:
            moment += timedelta(days=1)
        return moment
    if _END_OF_DAY.search(sentence):
        return datetime.combine(day, _ENDS[None], tzinfo=local.tzinfo)
    if named_day or part is not None:
        return datetime.combine(day, _ENDS[part], tzinfo=local.tzinfo)
    return None


def _weekday_in(sentence: str) -> tuple[str, str | None] | None:
    """The weekday a promise names, and the part of that day; None when it names none."""
    if match := _WEEKDAY.search(sentence):
        return match.group(1).lower(), match.group(2).lower() if match.group(2) else None
    if match := _WEEKDAY_TIMED.search(sentence):
        return (match.group(1) or match.group(2)).lower(), None
    return None


def _within(match: re.Match[str], local: datetime, calendar: BusinessCalendar) -> datetime | None:
    count_text = (match.group(1) or "one").lower()
    count = _NUMBERS.get(count_text)
    if count is None:
        count = float(count_text)
    unit = match.group(2).lower()
    if unit.startswith("min"):
        span = timedelta(minutes=1)
    elif unit.startswith(("hour", "hr")):
        span = timedelta(hours=1)
    else:
        # A working day lasts at least a calendar day, so this bounds business days too.
        span = timedelta(days=1)
    if count * span.total_seconds() > FARTHEST.total_seconds():
        return None
    if unit.startswith(("business", "working")):
        return calendar.add_working_days(local, count)
    if unit.startswith(("min", "hour", "hr")):
        return _later(local, span * count)
    # Days are calendar days: the same wall-clock time, whatever daylight saving does.
    return local + span * count


def _later(local: datetime, span: timedelta) -> datetime:
    """``span`` of real time after ``local``; aware arithmetic in one zone would add wall time."""
    return local.astimezone(UTC) + span


def _time_in(sentence: str, named_day: bool) -> time | None:
    """The first time of day the sentence states: after "by" or "at", or next to a named day."""
    patterns = (_CLOCK, _TIME_AFTER_DAY, _TIME_BEFORE_DAY) if named_day else (_CLOCK,)
    for pattern in patterns:
        for match in pattern.finditer(sentence):
            if (at := _time_of(match)) is not None:
                return at
    return None


def _time_of(match: re.Match[str]) -> time | None:
    if match.group("noon"):
        return time(12, 0)
    hour = int(match.group("hour"))
    minute = int(match.group("minute") or 0)
    meridiem = (match.group("meridiem") or "").lower()
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    elif not meridiem and match.group("minute") is None:
        # A bare number ("by 3") is a time only with am/pm or minutes; "by 2 days" is not.
        return None
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
