"""SLA clocks from events: first contact, update cadence, resolution, pauses and promises."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from worker.core.calendar import BusinessCalendar, holiday_dates, office_hours
from worker.core.sla import DEFAULT_POLICIES, ClockKind, ClockState, Policy, evaluate
from worker.domain.events import EventKind, RecoveryEvent

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ALWAYS = BusinessCalendar.around_the_clock()
SEV1 = DEFAULT_POLICIES["sev1"]
SEV2 = DEFAULT_POLICIES["sev2"]
SEV3 = DEFAULT_POLICIES["sev3"]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def office(zone: ZoneInfo = BERLIN, country: str = "DE") -> BusinessCalendar:
    return BusinessCalendar("business", zone, office_hours(), holidays=holiday_dates(country))


def ev(kind: EventKind, at: datetime, n: int = 0, **detail: Any) -> RecoveryEvent:
    return RecoveryEvent(7, kind, at, f"{kind}:{at.isoformat()}:{n}", detail, id=n or None)


def test_no_events_no_clocks() -> None:
    """A recovery with no events has nothing to keep."""
    clocks = evaluate([], SEV1, ALWAYS, T0)
    assert list(clocks) == []
    assert clocks.state is ClockState.MET
    assert clocks.next_deadline is None


def test_sev1_first_contact_goes_ok_warning_breached() -> None:
    """One hour around the clock, warning at 75%, breached at 100% with how late it is."""
    events = [ev(EventKind.OPENED, T0)]
    at = {m: evaluate(events, SEV1, ALWAYS, T0 + timedelta(minutes=m)) for m in (10, 45, 61)}
    assert at[10].first_contact is not None
    assert at[10].first_contact.state is ClockState.OK
    assert at[45].state is ClockState.WARNING
    late = at[61].first_contact
    assert late is not None
    assert late.state is ClockState.BREACHED
    assert late.late_by == timedelta(minutes=1)
    assert late.deadline == T0 + timedelta(hours=1)
    assert late.deadline_id == "7:first_contact:20260302T090000Z"
    assert at[61].resolution is not None
    assert at[61].resolution.deadline == T0 + timedelta(hours=24)


def test_client_update_meets_first_contact_and_starts_the_cadence() -> None:
    """Each update meets the running clocks and opens a new update deadline with its own id."""
    events = [
        ev(EventKind.OPENED, T0),
        ev(EventKind.CLIENT_UPDATE, T0 + timedelta(minutes=30), 1),
        ev(EventKind.CLIENT_UPDATE, T0 + timedelta(hours=3), 2),
    ]
    clocks = evaluate(events, SEV1, ALWAYS, T0 + timedelta(hours=4))
    assert clocks.first_contact is not None
    assert clocks.first_contact.state is ClockState.MET
    assert clocks.first_contact.met_at == T0 + timedelta(minutes=30)
    assert clocks.next_update is not None
    assert clocks.next_update.deadline == T0 + timedelta(hours=7)
    assert clocks.next_update.deadline_id == "7:next_update:20260302T120000Z"
    assert clocks.next_deadline == T0 + timedelta(hours=7)


def test_an_update_recorded_late_renames_no_deadline() -> None:
    """A deadline keeps its name when an earlier update is recorded after it."""
    opened = ev(EventKind.OPENED, T0, 1)
    mail = ev(EventKind.CLIENT_UPDATE, T0 + timedelta(minutes=30), 2)
    now = T0 + timedelta(hours=5)
    before = evaluate([opened, mail], SEV1, ALWAYS, now).next_update
    comment = ev(EventKind.CLIENT_UPDATE, T0 + timedelta(minutes=20), 3)
    after = evaluate([opened, mail, comment], SEV1, ALWAYS, now).next_update
    assert before is not None
    assert after is not None
    assert after.deadline_id == before.deadline_id == "7:next_update:20260302T093000Z"
    assert after.deadline == before.deadline


def test_late_first_contact_is_met_with_its_lateness() -> None:
    """A first contact after the deadline is met, and remembers how late it was."""
    events = [ev(EventKind.OPENED, T0), ev(EventKind.CLIENT_UPDATE, T0 + timedelta(hours=2), 1)]
    clock = evaluate(events, SEV1, ALWAYS, T0 + timedelta(hours=3)).first_contact
    assert clock is not None
    assert clock.state is ClockState.MET
    assert clock.late_by == timedelta(hours=1)


def test_waiting_pauses_and_shifts_deadlines_by_the_paused_time() -> None:
    """Two hours of waiting on the client move every running deadline two hours on."""
    events = [
        ev(EventKind.OPENED, T0),
        ev(EventKind.CLIENT_UPDATE, T0 + timedelta(minutes=20), 1),
        ev(EventKind.WAITING, T0 + timedelta(hours=1), 2),
        ev(EventKind.RESUMED, T0 + timedelta(hours=3), 3),
    ]
    during = evaluate(events, SEV1, ALWAYS, T0 + timedelta(hours=2))
    assert during.next_update is not None
    assert during.next_update.state is ClockState.PAUSED
    assert during.state is ClockState.PAUSED
    after = evaluate(events, SEV1, ALWAYS, T0 + timedelta(hours=3))
    assert after.next_update is not None
    assert after.next_update.deadline == T0 + timedelta(hours=6, minutes=20)
    assert after.resolution is not None
    assert after.resolution.deadline == T0 + timedelta(hours=26)


def test_client_mail_ends_the_wait() -> None:
    """A new mail from the client restarts the expectation of an answer."""
    events = [
        ev(EventKind.OPENED, T0),
        ev(EventKind.CLIENT_UPDATE, T0 + timedelta(minutes=20), 1),
        ev(EventKind.WAITING, T0 + timedelta(hours=1), 2),
        ev(EventKind.CLIENT_MESSAGE, T0 + timedelta(hours=2), 3),
    ]
    clocks = evaluate(events, SEV1, ALWAYS, T0 + timedelta(hours=5, minutes=30))
    assert clocks.next_update is not None
    assert clocks.next_update.state is ClockState.BREACHED
    assert clocks.next_update.deadline == T0 + timedelta(hours=5, minutes=20)


def test_already_breached_clock_stays_breached_through_a_wait() -> None:
    """Waiting does not excuse a deadline that was missed before the wait."""
    events = [ev(EventKind.OPENED, T0), ev(EventKind.WAITING, T0 + timedelta(hours=2), 1)]
    clock = evaluate(events, SEV1, ALWAYS, T0 + timedelta(hours=3)).first_contact
    assert clock is not None
    assert clock.state is ClockState.BREACHED


def test_update_sent_while_waiting_starts_its_cadence_after_the_wait() -> None:
    """An update during the wait is counted; the next is owed a full interval after resuming."""
    events = [
        ev(EventKind.OPENED, T0),
        ev(EventKind.WAITING, T0 + timedelta(minutes=10), 1),
        ev(EventKind.CLIENT_UPDATE, T0 + timedelta(hours=2), 2),
        ev(EventKind.RESUMED, T0 + timedelta(hours=5), 3),
    ]
    assert evaluate(events, SEV1, ALWAYS, T0 + timedelta(hours=4)).state is ClockState.PAUSED
    clocks = evaluate(events, SEV1, ALWAYS, T0 + timedelta(hours=5))
    assert clocks.next_update is not None
    assert clocks.next_update.deadline == T0 + timedelta(hours=9)


def test_promise_brings_the_deadline_forward_but_not_beyond_policy() -> None:
    """ "Next update by 11:00" sets the deadline; a promise beyond the cadence is capped."""
    update_at = T0 + timedelta(minutes=30)
    base = [ev(EventKind.OPENED, T0), ev(EventKind.CLIENT_UPDATE, update_at, 1)]
    soon = (T0 + timedelta(hours=2)).isoformat()
    clocks = evaluate([*base, ev(EventKind.PROMISE, update_at, 2, due=soon)], SEV1, ALWAYS, T0)
    assert clocks.next_update is None  # events after now are ignored
    clocks = evaluate(
        [*base, ev(EventKind.PROMISE, update_at, 2, due=soon)], SEV1, ALWAYS, update_at
    )
    assert clocks.next_update is not None
    assert clocks.next_update.deadline == T0 + timedelta(hours=2)
    far = (T0 + timedelta(hours=10)).isoformat()
    capped = evaluate(
        [*base, ev(EventKind.PROMISE, update_at, 2, due=far)], SEV1, ALWAYS, update_at
    )
    assert capped.next_update is not None
    assert capped.next_update.deadline == update_at + SEV1.update_every
    extending = Policy(SEV1.first_contact, SEV1.update_every, SEV1.resolution, promises_extend=True)
    allowed = evaluate(
        [*base, ev(EventKind.PROMISE, update_at, 2, due=far)], extending, ALWAYS, update_at
    )
    assert allowed.next_update is not None
    assert allowed.next_update.deadline == T0 + timedelta(hours=10)


def test_resolution_meets_clocks_and_reopen_restarts_them() -> None:
    """Resolved: nothing is owed; reopened: a fresh update and resolution clock, new ids."""
    events = [
        ev(EventKind.OPENED, T0),
        ev(EventKind.CLIENT_UPDATE, T0 + timedelta(minutes=30), 1),
        ev(EventKind.RESOLVED, T0 + timedelta(hours=2), 2),
    ]
    resolved = evaluate(events, SEV1, ALWAYS, T0 + timedelta(days=3))
    assert {c.state for c in resolved} == {ClockState.MET}
    assert resolved.next_deadline is None
    reopened_at = T0 + timedelta(days=3)
    events.append(ev(EventKind.REOPENED, reopened_at, 3))
    clocks = evaluate(events, SEV1, ALWAYS, reopened_at + timedelta(hours=5))
    assert clocks.next_update is not None
    assert clocks.next_update.state is ClockState.BREACHED
    assert clocks.next_update.deadline_id == "7:next_update:20260305T090000Z"
    assert clocks.resolution is not None
    assert clocks.resolution.deadline_id == "7:resolution:20260305T090000Z"
    assert clocks.resolution.deadline == reopened_at + timedelta(hours=24)


def test_sev2_first_contact_waits_for_business_hours_in_berlin() -> None:
    """Opened Friday 16:00 Berlin: four business hours end Monday 12:00."""
    opened = datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN)
    clock = evaluate([ev(EventKind.OPENED, opened)], SEV2, office(), opened).first_contact
    assert clock is not None
    assert clock.deadline == datetime(2026, 3, 9, 12, 0, tzinfo=BERLIN)
    assert clock.warn_at == datetime(2026, 3, 9, 11, 0, tzinfo=BERLIN)


def test_sev2_across_berlin_spring_forward_and_easter() -> None:
    """Opened Thursday before Easter 2026 after the DST change: deadline after Easter Monday."""
    opened = datetime(2026, 4, 2, 15, 0, tzinfo=BERLIN)
    clock = evaluate([ev(EventKind.OPENED, opened)], SEV2, office(), opened).first_contact
    assert clock is not None
    assert clock.deadline == datetime(2026, 4, 7, 11, 0, tzinfo=BERLIN)
    assert clock.deadline.astimezone(UTC).hour == 9  # CEST


def test_sev3_across_new_york_fall_back_and_thanksgiving() -> None:
    """One business day from Wednesday before Thanksgiving 2026 ends Friday at the same time."""
    opened = datetime(2026, 11, 25, 13, 0, tzinfo=NEW_YORK)
    cal = office(NEW_YORK, "US")
    clock = evaluate([ev(EventKind.OPENED, opened)], SEV3, cal, opened).first_contact
    assert clock is not None
    assert clock.deadline == datetime(2026, 11, 27, 13, 0, tzinfo=NEW_YORK)
    # Opened Friday 30 October (EDT), one business day later is Monday 2 November (EST).
    opened = datetime(2026, 10, 30, 15, 0, tzinfo=NEW_YORK)
    clock = evaluate([ev(EventKind.OPENED, opened)], SEV3, cal, opened).first_contact
    assert clock is not None
    assert clock.deadline.astimezone(UTC) == datetime(2026, 11, 2, 20, 0, tzinfo=UTC)
    assert date(2026, 11, 26) not in {clock.deadline.date()}


def test_clock_kinds_are_named() -> None:
    """Deadline ids carry the clock's kind so each alert is once per deadline."""
    clocks = evaluate([ev(EventKind.OPENED, T0)], SEV1, ALWAYS, T0)
    assert [c.kind for c in clocks] == [ClockKind.FIRST_CONTACT, ClockKind.RESOLUTION]
