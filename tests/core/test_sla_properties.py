"""Invariants of the SLA clocks, over random event histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from worker.core.calendar import BusinessCalendar, holiday_dates, office_hours
from worker.core.sla import DEFAULT_POLICIES, ClockState, evaluate
from worker.domain.events import EventKind, RecoveryEvent

T0 = datetime(2026, 3, 20, 8, 0, tzinfo=UTC)
CALENDARS = [
    BusinessCalendar.around_the_clock(),
    BusinessCalendar(
        "berlin", ZoneInfo("Europe/Berlin"), office_hours(), holidays=holiday_dates("DE")
    ),
    BusinessCalendar(
        "new-york", ZoneInfo("America/New_York"), office_hours(), holidays=holiday_dates("US")
    ),
]
KINDS = [
    EventKind.CLIENT_UPDATE,
    EventKind.CLIENT_MESSAGE,
    EventKind.WAITING,
    EventKind.RESUMED,
    EventKind.RESOLVED,
    EventKind.REOPENED,
]
ORDER = {ClockState.OK: 0, ClockState.WARNING: 1, ClockState.BREACHED: 2}

offsets = st.integers(min_value=0, max_value=14 * 24 * 60)


@st.composite
def histories(draw: st.DrawFn, kinds: list[EventKind] = KINDS) -> list[RecoveryEvent]:
    """An opening followed by random events within two weeks."""
    events = [RecoveryEvent(1, EventKind.OPENED, T0, "open", id=1)]
    for n, (kind, minutes) in enumerate(
        draw(st.lists(st.tuples(st.sampled_from(kinds), offsets), max_size=12)), start=2
    ):
        at = T0 + timedelta(minutes=minutes)
        events.append(RecoveryEvent(1, kind, at, f"e{n}", id=n))
    return sorted(events, key=lambda e: (e.at, e.id or 0))


common = settings(max_examples=60, deadline=None)
policies = st.sampled_from(sorted(DEFAULT_POLICIES))
calendars = st.sampled_from(CALENDARS)
later = st.integers(min_value=0, max_value=30 * 24 * 60)


@common
@given(histories(), policies, calendars, later)
def test_deadlines_never_before_their_start(
    events: list[RecoveryEvent], severity: str, cal: BusinessCalendar, minutes: int
) -> None:
    """Every clock's warning and deadline come after it started, warning first."""
    now = T0 + timedelta(minutes=minutes)
    for clock in evaluate(events, DEFAULT_POLICIES[severity], cal, now):
        assert clock.started_at <= clock.warn_at <= clock.deadline


@common
@given(histories(), policies, calendars, later, later)
def test_state_is_monotone_in_now(
    events: list[RecoveryEvent], severity: str, cal: BusinessCalendar, a: int, b: int
) -> None:
    """Once every event is in the past, a clock only goes ok -> warning -> breached."""
    last = max(e.at for e in events)
    early, late = last + timedelta(minutes=min(a, b)), last + timedelta(minutes=max(a, b))
    policy = DEFAULT_POLICIES[severity]
    before = {c.deadline_id: c for c in evaluate(events, policy, cal, early)}
    after = {c.deadline_id: c for c in evaluate(events, policy, cal, late)}
    assert before.keys() == after.keys()
    for key, clock in before.items():
        if clock.state in ORDER:
            assert ORDER[after[key].state] >= ORDER[clock.state]
        else:
            assert after[key].state is clock.state
        assert after[key].deadline == clock.deadline


@common
@given(histories(), policies, calendars, offsets, st.integers(min_value=1, max_value=3 * 24 * 60))
def test_pausing_never_shortens_a_deadline(
    events: list[RecoveryEvent], severity: str, cal: BusinessCalendar, start: int, length: int
) -> None:
    """Adding a wait (and its end) moves no deadline earlier."""
    plain = [e for e in events if e.kind not in (EventKind.WAITING, EventKind.RESUMED)]
    waiting = [
        *plain,
        RecoveryEvent(1, EventKind.WAITING, T0 + timedelta(minutes=start), "w", id=900),
        RecoveryEvent(1, EventKind.RESUMED, T0 + timedelta(minutes=start + length), "r", id=901),
    ]
    now = T0 + timedelta(days=40)
    policy = DEFAULT_POLICIES[severity]
    without = {c.deadline_id: c.deadline for c in evaluate(plain, policy, cal, now)}
    with_wait = {c.deadline_id: c.deadline for c in evaluate(waiting, policy, cal, now)}
    for key, deadline in without.items():
        assert with_wait[key] >= deadline


@common
@given(histories([EventKind.CLIENT_UPDATE, EventKind.CLIENT_MESSAGE]), policies, calendars, offsets)
def test_an_update_never_brings_the_next_deadline_before_the_policys(
    events: list[RecoveryEvent], severity: str, cal: BusinessCalendar, minutes: int
) -> None:
    """Without promises or waits, the next update is owed exactly one cadence after the last one."""
    at = T0 + timedelta(minutes=minutes)
    events = [*events, RecoveryEvent(1, EventKind.CLIENT_UPDATE, at, "new", id=999)]
    policy = DEFAULT_POLICIES[severity]
    now = T0 + timedelta(days=20)
    clock = evaluate(events, policy, cal, now).next_update
    last = max(e.at for e in events if e.kind is EventKind.CLIENT_UPDATE)
    assert clock is not None
    assert clock.deadline == cal.add(last, policy.update_every)
    assert clock.deadline >= cal.add(at, policy.update_every)


@common
@given(histories(), policies, calendars, later)
def test_deadline_ids_are_unique_and_stable(
    events: list[RecoveryEvent], severity: str, cal: BusinessCalendar, minutes: int
) -> None:
    """Clock ids differ from each other and do not depend on when the clocks are looked at."""
    policy = DEFAULT_POLICIES[severity]
    last = max(e.at for e in events)
    ids = [c.deadline_id for c in evaluate(events, policy, cal, last)]
    assert len(ids) == len(set(ids))
    later_ids = [
        c.deadline_id for c in evaluate(events, policy, cal, last + timedelta(minutes=minutes))
    ]
    assert ids == later_ids
