"""Which alerts are due: warnings, breaches, reminders and escalation, each once per deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from worker.core.alerting import (
    Alert,
    AlertKind,
    Rules,
    Subject,
    due_alerts,
    format_duration,
    next_check,
)
from worker.core.calendar import BusinessCalendar
from worker.core.sla import DEFAULT_POLICIES, Clock, ClockKind, evaluate
from worker.domain.events import EventKind, RecoveryEvent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALWAYS = BusinessCalendar.around_the_clock()
SUBJECT = Subject(7, "sev1", "SUP-12", "alice")
RULES = Rules(remind_every=timedelta(hours=1), escalate_after=2)
FIRST_CONTACT = "7:first_contact:20260302T090000Z"


def clocks_at(now: datetime, *events: RecoveryEvent) -> list[Clock]:
    opened = RecoveryEvent(7, EventKind.OPENED, T0, "open", id=1)
    return list(evaluate([opened, *events], DEFAULT_POLICIES["sev1"], ALWAYS, now))


def keys(alerts: list[Alert]) -> list[tuple[str, str]]:
    return [(a.deadline_id, a.key) for a in alerts]


def test_warning_at_75_percent_then_breach_then_reminders() -> None:
    """Warn at 45 min, breach at 60 min, remind every hour while still late."""
    assert due_alerts(SUBJECT, clocks_at(T0), (), RULES, T0) == []
    at45 = T0 + timedelta(minutes=45)
    warning = due_alerts(SUBJECT, clocks_at(at45), (), RULES, at45)
    assert keys(warning) == [(FIRST_CONTACT, "warning")]
    assert warning[0].text.startswith("SLA warning: first contact for SUP-12 (sev1)")
    sent = set(keys(warning))
    at61 = T0 + timedelta(minutes=61)
    breach = due_alerts(SUBJECT, clocks_at(at61), sent, RULES, at61)
    assert keys(breach) == [(FIRST_CONTACT, "breach")]
    assert breach[0].late_by == timedelta(minutes=1)
    sent |= set(keys(breach))
    assert due_alerts(SUBJECT, clocks_at(at61), sent, RULES, at61) == []
    at2h = T0 + timedelta(hours=2, minutes=1)
    reminder = due_alerts(SUBJECT, clocks_at(at2h), sent, RULES, at2h)
    assert keys(reminder) == [(FIRST_CONTACT, "reminder:1")]
    assert reminder[0].kind is AlertKind.REMINDER


def test_reminders_stop_after_the_cap() -> None:
    """A deadline breached for days pages ops max_reminders times, then stays quiet."""
    rules = Rules(remind_every=timedelta(hours=1), escalate_after=2, max_reminders=3)
    sent = {(FIRST_CONTACT, "warning"), (FIRST_CONTACT, "breach")}
    got = []
    for hour in range(2, 30):
        now = T0 + timedelta(hours=hour, minutes=1)
        due = due_alerts(SUBJECT, clocks_at(now), sent, rules, now)
        sent |= set(keys(due))
        got += [a.key for a in due if a.deadline_id == FIRST_CONTACT]
    assert got == ["reminder:1", "reminder:2", "reminder:3"]
    later = T0 + timedelta(days=2)
    first_contact = [c for c in clocks_at(later) if c.deadline_id == FIRST_CONTACT]
    assert next_check(first_contact, rules, later) is None


def test_breach_while_down_is_alerted_once_with_its_lateness_and_no_backlog() -> None:
    """After five hours down: one breach saying 4 h late, no warning, no pile of reminders."""
    now = T0 + timedelta(hours=5)
    alerts = due_alerts(SUBJECT, clocks_at(now), (), RULES, now)
    assert keys(alerts) == [(FIRST_CONTACT, "breach")]
    assert alerts[0].late_by == timedelta(hours=4)
    assert "4 h 0 min late" in alerts[0].text
    later = due_alerts(SUBJECT, clocks_at(now), set(keys(alerts)), RULES, now)
    assert keys(later) == [(FIRST_CONTACT, "reminder:4")]


def test_escalation_after_k_breaches_on_one_recovery_once() -> None:
    """The second missed deadline escalates, once; the third does not again."""
    update = RecoveryEvent(7, EventKind.CLIENT_UPDATE, T0 + timedelta(hours=2), "u1", id=2)
    now = T0 + timedelta(hours=7)
    sent = {(FIRST_CONTACT, "breach")}
    alerts = due_alerts(SUBJECT, clocks_at(now, update), sent, RULES, now)
    assert keys(alerts) == [
        ("7:next_update:20260302T110000Z", "breach"),
        ("7:next_update:20260302T110000Z", "escalation"),
    ]
    assert alerts[1].breaches == 2
    assert "missed 2 deadlines" in alerts[1].text
    sent |= set(keys(alerts))
    update2 = RecoveryEvent(7, EventKind.CLIENT_UPDATE, T0 + timedelta(hours=8), "u2", id=3)
    now = T0 + timedelta(hours=13)
    again = due_alerts(SUBJECT, clocks_at(now, update, update2), sent, RULES, now)
    assert keys(again) == [("7:next_update:20260302T170000Z", "breach")]


def test_an_update_recorded_late_brings_no_second_breach_or_escalation() -> None:
    """A Jira comment found late, dated before the mail update seen at once, renames nothing."""
    mail = RecoveryEvent(7, EventKind.CLIENT_UPDATE, T0 + timedelta(minutes=30), "mail", id=2)
    now = T0 + timedelta(hours=4, minutes=31)
    first = due_alerts(SUBJECT, clocks_at(now, mail), (), RULES, now)
    assert [(a.clock, a.kind) for a in first] == [(ClockKind.NEXT_UPDATE, AlertKind.BREACH)]
    comment = RecoveryEvent(7, EventKind.CLIENT_UPDATE, T0 + timedelta(minutes=20), "jira", id=3)
    later = now + timedelta(minutes=1)
    again = due_alerts(SUBJECT, clocks_at(later, mail, comment), set(keys(first)), RULES, later)
    assert again == []


def test_met_and_paused_clocks_raise_nothing() -> None:
    """A met or paused clock is not alerted, however late the hour."""
    update = RecoveryEvent(7, EventKind.CLIENT_UPDATE, T0 + timedelta(minutes=10), "u", id=2)
    wait = RecoveryEvent(7, EventKind.WAITING, T0 + timedelta(minutes=20), "w", id=3)
    now = T0 + timedelta(hours=20)
    assert due_alerts(SUBJECT, clocks_at(now, update, wait), (), RULES, now) == []


def test_next_check_is_the_next_threshold() -> None:
    """Warning time, then the deadline, then the next reminder; nothing for met clocks."""
    assert next_check(clocks_at(T0), RULES, T0) == T0 + timedelta(minutes=45)
    at50 = T0 + timedelta(minutes=50)
    assert next_check(clocks_at(at50), RULES, at50) == T0 + timedelta(hours=1)
    at90 = T0 + timedelta(minutes=90)
    assert next_check(clocks_at(at90), RULES, at90) == T0 + timedelta(hours=2)
    resolved = RecoveryEvent(7, EventKind.RESOLVED, T0 + timedelta(minutes=5), "r", id=2)
    assert next_check(clocks_at(at90, resolved), RULES, at90) is None


def test_durations_read_like_people_write_them() -> None:
    """Minutes, hours and days."""
    assert format_duration(timedelta(minutes=40)) == "40 min"
    assert format_duration(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert format_duration(timedelta(days=3, hours=1, minutes=9)) == "3 d 1 h"


@given(st.lists(st.integers(min_value=0, max_value=48 * 60), min_size=1, max_size=20))
def test_sweeping_at_any_times_sends_each_alert_once(minutes: list[int]) -> None:
    """Whatever the sweep times, no (deadline, key) is ever due twice, and a breach is sent."""
    sent: set[tuple[str, str]] = set()
    for minute in sorted(minutes):
        now = T0 + timedelta(minutes=minute)
        for alert in due_alerts(SUBJECT, clocks_at(now), sent, RULES, now):
            pair = (alert.deadline_id, alert.key)
            assert pair not in sent
            assert alert.clock in (ClockKind.FIRST_CONTACT, ClockKind.RESOLUTION)
            sent.add(pair)
    if max(minutes) >= 60:
        assert (FIRST_CONTACT, "breach") in sent
