"""Jira changes on recovery issues become clock events: the sandbox in both dialects."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from tests.support.builders import open_recovery, sandbox_services
from worker.alerts.jira import JiraChannel
from worker.alerts.log import LogChannel
from worker.clock import FrozenClock
from worker.domain.document import document, paragraph
from worker.domain.events import EventKind
from worker.domain.issue import StatusCategory
from worker.retry import RetryPolicy
from worker.sandbox import RunningSandbox
from worker.settings import CalendarSettings, SlaSettings
from worker.steps import Services
from worker.steps.clocks import sweep_clocks_once
from worker.steps.jira_sync import sync_recoveries_once
from worker.store import Store, events
from worker.store.schema import alerts_sent
from worker.tracker.base import Tracker
from worker.tracker.jira import JiraTracker
from worker.wiring import channels_from


@pytest.fixture
def services(sandbox: RunningSandbox, store: Store, clock: FrozenClock) -> Services:
    """Services on the sandbox, through the real Jira adapter."""
    return sandbox_services(sandbox, store, clock)


def tracker_of(services: Services) -> Tracker:
    assert services.tracker is not None
    return services.tracker


def kinds(services: Services, recovery_id: int) -> list[tuple[EventKind, datetime]]:
    with services.store.transaction() as conn:
        return [(e.kind, e.at) for e in events.for_recovery(conn, recovery_id)]


def test_comments_statuses_and_resolution_become_events_once(
    services: Services, clock: FrozenClock
) -> None:
    """A client comment with a promise, a wait, Done and a reopen; a second poll adds nothing."""
    tracker = tracker_of(services)
    rid, key = open_recovery(services)
    t0 = clock.now()
    clock.advance(timedelta(minutes=10))
    tracker.add_comment(key, document(paragraph("Internal: looking at the logs")))
    tracker.add_comment(
        key, document(paragraph("[client] We found the cause. Next update within 2 hours."))
    )
    clock.advance(timedelta(minutes=10))
    assert tracker.transition(key, "Waiting for customer")
    clock.advance(timedelta(minutes=20))
    assert tracker.transition(key, "In Progress")
    assert sync_recoveries_once(services) == 4
    found = kinds(services, rid)
    update_at = t0 + timedelta(minutes=10)
    assert found == [
        (EventKind.OPENED, t0),
        (EventKind.CLIENT_UPDATE, update_at),
        (EventKind.PROMISE, update_at),
        (EventKind.WAITING, t0 + timedelta(minutes=20)),
        (EventKind.RESUMED, t0 + timedelta(minutes=40)),
    ]
    with services.store.transaction() as conn:
        promise = events.for_recovery(conn, rid)[2]
    assert promise.detail == {"due": (update_at + timedelta(hours=2)).isoformat()}
    clock.advance(timedelta(minutes=5))
    assert sync_recoveries_once(services) == 0
    clock.advance(timedelta(minutes=5))
    assert tracker.transition(key, StatusCategory.DONE)
    done_at = clock.now()
    assert sync_recoveries_once(services) == 1
    clock.advance(timedelta(minutes=30))
    assert tracker.transition(key, "To Do")
    assert sync_recoveries_once(services) == 1
    assert kinds(services, rid)[-2:] == [
        (EventKind.RESOLVED, done_at),
        (EventKind.REOPENED, clock.now()),
    ]


def test_business_days_promised_in_a_comment_follow_the_policys_calendar(
    services: Services, clock: FrozenClock
) -> None:
    """A sev2 update on a Friday promising 2 business days skips the weekend and the calendar's
    day off on Monday: due on Wednesday, not on Sunday."""
    day_off = CalendarSettings(extra_dates=[date(2026, 3, 9)])
    sla = SlaSettings(calendars={"business": day_off})
    services.settings = services.settings.model_copy(update={"sla": sla})
    tracker = tracker_of(services)
    rid, key = open_recovery(services, severity="sev2")
    clock.set(datetime(2026, 3, 6, 10, 0, tzinfo=UTC))
    tracker.add_comment(
        key, document(paragraph("[client] We will update you within 2 business days."))
    )
    sync_recoveries_once(services)
    with services.store.transaction() as conn:
        (promise,) = [e for e in events.for_recovery(conn, rid) if e.kind is EventKind.PROMISE]
    assert promise.detail == {"due": datetime(2026, 3, 11, 10, 0, tzinfo=UTC).isoformat()}


def test_sweep_after_sync_keeps_the_cadence_in_jira(services: Services, clock: FrozenClock) -> None:
    """The promised update sets the next deadline, shown as the issue's due date."""
    tracker = tracker_of(services)
    _, key = open_recovery(services)
    clock.set(datetime(2026, 3, 2, 22, 30, tzinfo=UTC))
    tracker.add_comment(key, document(paragraph("[client] Next update tomorrow at 01:00.")))
    sync_recoveries_once(services)
    sweep_clocks_once(services, channels_from(services))
    issue = tracker.get_issue(key)
    assert issue.due is not None
    assert issue.due.isoformat() == "2026-03-03"
    channels = [c.name for c in channels_from(services)]
    assert channels == [LogChannel.name, "jira"]


def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll until ``condition`` holds, failing after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.02)


def test_an_alert_comment_answered_too_late_is_looked_for_before_the_retry(
    services: Services, sandbox: RunningSandbox, clock: FrozenClock
) -> None:
    """Jira writes the comment after the read timeout, so the look right after finds nothing;
    the retry looks again first and records it instead of writing a second comment."""
    _, key = open_recovery(services)
    impatient = JiraTracker.connect(
        sandbox.url,
        timeouts=(2.0, 0.5),
        retry=RetryPolicy(sleep=lambda _s: None, clock=clock),
        clock=clock,
        **sandbox.credentials,
    )
    channel = JiraChannel(impatient, breach_label="sla-breached")
    version = "3" if sandbox.dialect == "cloud" else "2"
    post_comment = f"POST /rest/api/{version}/issue/{{issueIdOrKey}}/comment"
    sandbox.faults.latency(1.5, post_comment)
    clock.advance(timedelta(minutes=50))  # sev1: the first-contact warning at 45 minutes
    assert sweep_clocks_once(services, [channel]) == 0
    until(lambda: len(sandbox.state.comments(key)) == 1)
    clock.advance(timedelta(minutes=5))
    with capture_logs() as logs:
        assert sweep_clocks_once(services, [channel]) == 1
    assert len(sandbox.state.comments(key)) == 1
    assert sandbox.calls[post_comment] == 1
    assert [e["event"] for e in logs if e["event"].startswith("alert.")] == ["alert.adopted"]
    with services.store.transaction() as conn:
        (state, result) = conn.execute(select(alerts_sent.c.state, alerts_sent.c.result)).one()
    assert state == "sent"
    assert result == str(sandbox.state.comments(key)[0]["id"])


def test_an_unchanged_ticket_is_read_once_however_often_the_windows_overlap(
    sandbox: RunningSandbox, services: Services, clock: FrozenClock
) -> None:
    """Each poll looks back past the last one; a ticket not updated since is not read again."""
    _, key = open_recovery(services)
    tracker = tracker_of(services)
    version = "3" if sandbox.dialect == "cloud" else "2"
    comments = f"GET /rest/api/{version}/issue/{{issueIdOrKey}}/comment"
    sync_recoveries_once(services)
    sandbox.reset_calls()
    for _ in range(3):
        clock.advance(timedelta(seconds=30))  # within the window's overlap
        sync_recoveries_once(services)
    assert sandbox.calls[comments] == 0
    tracker.add_comment(key, document(paragraph("We are on it, next update tomorrow.")))
    clock.advance(timedelta(seconds=30))
    sync_recoveries_once(services)
    assert sandbox.calls[comments] == 1
