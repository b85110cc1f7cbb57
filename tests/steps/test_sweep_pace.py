"""The sweep finds its work by index, keeps its counts, and shows deadlines in Jira at a pace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from tests.support.builders import Opened, make_services, open_recovery
from worker.alerts.log import LogChannel
from worker.clock import FrozenClock
from worker.domain.events import EventKind, RecoveryEvent
from worker.errors import RateLimited
from worker.retry import CallBudget
from worker.settings import JiraSettings
from worker.steps import Services
from worker.steps.clocks import sweep_clocks_once
from worker.store import Store, events, followups, recoveries
from worker.store import alerts as ledger
from worker.store.schema import alerts_sent, clock_state
from worker.tracker.fake import FakeTracker

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, in business hours (UTC)


def make(store: Store, per_minute: int = 300) -> tuple[Services, FrozenClock, FakeTracker]:
    """Services at T0 on the fake tracker, their Jira updates paced at ``per_minute``."""
    clock = FrozenClock(T0)
    tracker = FakeTracker(clock)
    jira = JiraSettings(update_calls_per_minute=per_minute)
    return make_services(store, clock, tracker, jira=jira), clock, tracker


def open_many(services: Services, count: int, severity: str = "sev2") -> list[Opened]:
    """``count`` recoveries, each with its Jira issue; older ones have nearer deadlines."""
    return [
        open_recovery(services, n=n, severity=severity, ago=timedelta(minutes=n))
        for n in range(count)
    ]


def recounted(store: Store) -> list[tuple[str, str, int]]:
    """The counts as a full scan gives them, to hold the kept ones against."""
    with store.transaction() as conn:
        rows = conn.execute(
            select(clock_state.c.severity, clock_state.c.state, func.count())
            .where(clock_state.c.is_open == 1)
            .group_by(clock_state.c.severity, clock_state.c.state)
            .order_by(clock_state.c.severity, clock_state.c.state)
        ).all()
    return [(s, st, int(n)) for s, st, n in rows]


def test_an_event_or_an_opening_makes_a_recovery_due_and_nothing_else_is(store: Store) -> None:
    services, _, _ = make(store)
    (first, _), (second, _) = open_many(services, 2)
    with store.transaction() as conn:
        assert [d.recovery_id for d in ledger.due_for_evaluation(conn, T0, ["open"])] == [
            first,
            second,
        ]
    sweep_clocks_once(services, [LogChannel()])
    with store.transaction() as conn:
        assert ledger.due_for_evaluation(conn, T0, ["open"]) == []
        events.record(conn, RecoveryEvent(second, EventKind.CLIENT_UPDATE, T0, "u"), T0)
        assert [d.recovery_id for d in ledger.due_for_evaluation(conn, T0, ["open"])] == [second]


def test_a_recovery_no_longer_swept_leaves_the_index(store: Store) -> None:
    """A closed recovery found due is taken out, so closed ones never slow the sweep down."""
    services, _, _ = make(store)
    ((rid, _),) = open_many(services, 1)
    with store.transaction() as conn:
        followups.close_recovery(conn, rid)
        assert ledger.due_for_evaluation(conn, T0, ["open", "resolved"]) == []
        next_check = conn.execute(
            select(clock_state.c.next_check).where(clock_state.c.recovery_id == rid)
        ).scalar_one()
    assert next_check is None


def test_kept_counts_follow_every_evaluation(store: Store) -> None:
    services, clock, _ = make(store)
    opened = open_many(services, 6)
    assert ledger_counts(store) == []  # opened, not evaluated yet: not counted
    sweep_clocks_once(services, [LogChannel()])
    assert ledger_counts(store) == recounted(store) != []
    clock.advance(timedelta(hours=30))  # sev2 deadlines pass: the states change
    with store.transaction() as conn:
        recoveries.raise_severity(conn, opened[0][0], "sev1")
        events.record(conn, RecoveryEvent(opened[0][0], EventKind.SEVERITY_RAISED, clock.now(),
                                          "raised"), clock.now())  # fmt: skip
        followups.resolve_recovery(conn, opened[1][0], clock.now())
        events.record(conn, RecoveryEvent(opened[1][0], EventKind.RESOLVED, clock.now(), "r"),
                      clock.now())  # fmt: skip
    sweep_clocks_once(services, [LogChannel()])
    assert ledger_counts(store) == recounted(store)
    assert sum(n for _, _, n in ledger_counts(store)) == 5  # the resolved one left


def ledger_counts(store: Store) -> list[tuple[str, str, int]]:
    with store.transaction() as conn:
        return ledger.state_counts(conn)


def test_the_first_sweep_shows_deadlines_at_the_budget_nearest_first(store: Store) -> None:
    services, clock, tracker = make(store, per_minute=10)
    opened = open_many(services, 25)
    sweep_clocks_once(services, [LogChannel()])
    assert tracker.calls["set_due"] == 10
    # The oldest recoveries have the nearest deadlines: they are shown first.
    shown = {key for key, issue in tracker.issues.items() if issue.due is not None}
    assert shown == {key for _, key in opened[-10:]}
    sweep_clocks_once(services, [LogChannel()])
    assert tracker.calls["set_due"] == 10  # no budget left in the same minute
    clock.advance(timedelta(seconds=30))
    sweep_clocks_once(services, [LogChannel()])
    assert tracker.calls["set_due"] == 15
    clock.advance(timedelta(minutes=2))
    sweep_clocks_once(services, [LogChannel()])
    assert tracker.calls["set_due"] == 25
    clock.advance(timedelta(minutes=2))
    sweep_clocks_once(services, [LogChannel()])
    assert tracker.calls["set_due"] == 25  # each shown once


def test_retry_after_pauses_the_updates_and_keeps_them_owed(store: Store) -> None:
    services, clock, tracker = make(store)
    open_many(services, 3)
    tracker.fail("set_due", RateLimited("slow down", retry_after=120))
    sweep_clocks_once(services, [LogChannel()])
    assert tracker.calls["set_due"] == 1
    clock.advance(timedelta(seconds=90))
    sweep_clocks_once(services, [LogChannel()])
    assert tracker.calls["set_due"] == 1  # Retry-After is not over
    clock.advance(timedelta(seconds=31))
    sweep_clocks_once(services, [LogChannel()])
    assert tracker.calls["set_due"] == 4
    assert all(issue.due is not None for issue in tracker.issues.values())


def test_a_breach_is_alerted_while_deadlines_wait_for_their_turn(store: Store) -> None:
    """Thousands of owed due dates never hold an alert back."""
    services, clock, tracker = make(store, per_minute=1)
    open_many(services, 40, severity="sev1")
    clock.advance(timedelta(hours=2))  # every sev1 first contact (1 h) is missed
    sweep_clocks_once(services, [LogChannel()])
    with store.transaction() as conn:
        breaches = conn.execute(select(func.count()).select_from(alerts_sent)).scalar()
        owed = len(ledger.jira_updates_owed(conn, 1000))
    assert breaches is not None
    assert breaches >= 40
    assert tracker.calls["set_due"] == 1
    assert owed == 39


def test_call_budget_refills_with_time_and_holds_for_retry_after() -> None:
    budget = CallBudget(60)
    assert budget.available(T0) == 60
    budget.spend(T0, 60)
    assert budget.available(T0) == 0
    assert budget.available(T0 + timedelta(seconds=10)) == 10
    assert budget.available(T0 + timedelta(hours=1)) == 60  # never more than a minute's worth
    budget.hold(T0 + timedelta(hours=1), 30)
    assert budget.available(T0 + timedelta(hours=1, seconds=29)) == 0
    assert budget.available(T0 + timedelta(hours=1, seconds=30)) == 60


def test_an_older_store_is_migrated_and_swept_again(store: Store) -> None:
    """A store of the version before: every open recovery is evaluated at the next sweep."""
    services, _, tracker = make(store)
    opened = open_many(services, 3)
    sweep_clocks_once(services, [LogChannel()])
    with store.transaction() as conn:
        conn.execute(update(clock_state).values(next_check=T0 + timedelta(days=9)))
    downgrade_to_1(store)
    with store.transaction() as conn:
        conn.exec_driver_sql("DELETE FROM clock_state WHERE recovery_id = ?", (opened[0][0],))
    assert store.migrate() == 2
    with store.transaction() as conn:
        due = ledger.due_for_evaluation(conn, T0, ["open"])
    assert [d.recovery_id for d in due] == [rid for rid, _ in opened]
    before = tracker.calls["set_due"]
    sweep_clocks_once(services, [LogChannel()])
    assert tracker.calls["set_due"] == before + 1  # the one whose state was lost
    assert ledger_counts(store) == recounted(store)


def downgrade_to_1(store: Store) -> None:
    with store.transaction() as conn:
        conn.exec_driver_sql("DROP TABLE clock_counts")
        conn.exec_driver_sql("DROP INDEX ix_clock_state_open_deadline")
        conn.exec_driver_sql("DROP INDEX ix_clock_state_jira_pending")
        for column in ("jira_pending", "jira_want_due", "jira_unlabel"):
            conn.exec_driver_sql(f"ALTER TABLE clock_state DROP COLUMN {column}")
        conn.exec_driver_sql("UPDATE schema_version SET version = 1")
