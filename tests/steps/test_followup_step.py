"""The follow-up steps against the in-memory tracker: exactly once, reopens, done and overdue."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.builders import RecordingChannel, make_services, open_with_subtasks
from worker.clock import FrozenClock
from worker.core.alerting import AlertKind
from worker.core.followup import followup_label
from worker.core.sla import ClockKind
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.followup import CANCELLED, CREATED, DONE, ON_HOLD, PLANNED, Followup
from worker.domain.issue import Issue, StatusCategory
from worker.domain.recovery import CLOSED, OPEN, RESOLVED, Recovery
from worker.errors import ConnectionFailed, OutcomeUnknown, TransientError
from worker.outbox.followup_alerts import (
    FOLLOWUP_OVERDUE,
    ROOT_CAUSE_MISSING,
    ChannelAlerts,
    FollowupAlert,
)
from worker.settings import AlertSettings, FollowupSettings
from worker.steps import Services
from worker.steps.clocks import sweep_clocks_once
from worker.steps.followup import check_followups_once, plan_followups_once
from worker.steps.priorities import raise_priorities_once
from worker.store import Store, cursors, events, ledger, recoveries
from worker.store import followups as fstore
from worker.tracker.fake import FakeTracker
from worker.wiring import default_alerts

TEMPLATE_HAVE = """\
Work out what actually went wrong and what can be offered.
- \u2610 Root-cause analysis, naming the direct cause and the systemic cause
- \u2610 The fix, which removes the direct cause
- \u2610 The remediation, which removes the systemic cause so it cannot recur
"""


@dataclass
class RecordingAlerts:
    sent: list[FollowupAlert] = field(default_factory=list)

    def send(self, alert: FollowupAlert) -> None:
        self.sent.append(alert)


@pytest.fixture
def alerts() -> RecordingAlerts:
    return RecordingAlerts()


def record(services: Services, recovery: Recovery, kind: EventKind, at: datetime) -> None:
    with services.store.transaction() as conn:
        events.record(
            conn,
            RecoveryEvent(recovery.id, kind, at, f"jira:{recovery.jira_key}#{kind}@{at}"),
            services.clock.now(),
        )


def resolve(
    services: Services, tracker: FakeTracker, recovery: Recovery, at: datetime | None = None
) -> None:
    assert recovery.jira_key is not None
    tracker.transition(recovery.jira_key, StatusCategory.DONE)
    record(services, recovery, EventKind.RESOLVED, at or services.clock.now())


def reopen(services: Services, tracker: FakeTracker, recovery: Recovery) -> None:
    assert recovery.jira_key is not None
    tracker.transition(recovery.jira_key, StatusCategory.IN_PROGRESS)
    record(services, recovery, EventKind.REOPENED, services.clock.now())


def followups_in(tracker: FakeTracker) -> list[Issue]:
    return [i for i in tracker.issues.values() if "recovery-followup" in i.labels]


def resolved_with_followup(services: Services, tracker: FakeTracker) -> tuple[Recovery, Issue]:
    """A recovery opened and resolved, and the one follow-up task planned for it."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)
    plan_followups_once(services)
    (task,) = followups_in(tracker)
    return recovery, task


def current(services: Services, recovery: Recovery) -> tuple[Recovery, Followup | None]:
    with services.store.transaction() as conn:
        now = recoveries.get(conn, recovery.id)
        followup = fstore.get(conn, recovery.id)
    assert now is not None
    return now, followup


def test_resolution_creates_one_linked_followup(
    services: Services, tracker: FakeTracker, clock: FrozenClock, alerts: RecordingAlerts
) -> None:
    """One follow-up task, due 30 days after resolution, owned by the same person, linked."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)

    assert plan_followups_once(services, alerts) == 1
    assert plan_followups_once(services, alerts) == 0

    (task,) = followups_in(tracker)
    assert task.due == date(2026, 4, 1)
    assert task.assignee == "alice"
    assert followup_label(recovery) in task.labels
    assert "- a lock around the export job" in task.description
    assert tracker.links == [("Relates", recovery.jira_key, task.key)]
    assert tracker.calls["create_issue"] == 5  # parent, three subtasks, one follow-up
    assert alerts.sent == []
    assert tracker.comment_log.get(recovery.jira_key or "", []) == []
    now, followup = current(services, recovery)
    assert now.state == RESOLVED
    assert now.resolved_at == clock.now()
    assert followup is not None
    assert (followup.state, followup.jira_key) == (CREATED, task.key)


def test_resolution_while_the_worker_was_down_counts_from_jira(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """A resolution found late is due from its own date, not from when it was seen."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery, at=clock.now() - timedelta(days=10))
    plan_followups_once(services)
    (task,) = followups_in(tracker)
    assert task.due == date(2026, 3, 22)


def test_lost_create_answer_is_found_by_label(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """The create happened but its answer was lost: the next run finds it, never creates twice."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)
    tracker.fail("create_issue", OutcomeUnknown("read timed out"), after=True)

    with pytest.raises(OutcomeUnknown):
        plan_followups_once(services)
    _, followup = current(services, recovery)
    assert followup is not None
    assert followup.state == PLANNED

    clock.advance(timedelta(minutes=1))
    assert plan_followups_once(services) == 1
    (task,) = followups_in(tracker)
    assert tracker.calls["create_issue"] == 5
    assert tracker.calls["find_by_label"] == 1
    _, followup = current(services, recovery)
    assert followup is not None
    assert (followup.state, followup.jira_key) == (CREATED, task.key)
    assert tracker.links == [("Relates", recovery.jira_key, task.key)]


def test_a_create_that_never_reached_jira_is_made_again_at_once(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """A refused connection made nothing that search could show later: no wait."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)
    tracker.fail("create_issue", ConnectionFailed("refused"))
    with pytest.raises(ConnectionFailed):
        plan_followups_once(services)
    clock.advance(timedelta(seconds=10))
    plan_followups_once(services)
    assert len(followups_in(tracker)) == 1
    assert tracker.calls["find_by_label"] == 1


def test_a_lost_create_is_made_again_only_once_jira_could_show_it(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """Not found by label right after a lost answer: Jira's search may lag, so it waits."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)
    window = services.settings.jira.visibility_window
    tracker.fail("create_issue", OutcomeUnknown("read timed out"))
    with pytest.raises(OutcomeUnknown):
        plan_followups_once(services)
    creates = tracker.calls["create_issue"]

    clock.advance(timedelta(seconds=10))
    with pytest.raises(TransientError) as waiting:
        plan_followups_once(services)
    assert waiting.value.retry_after == (window - timedelta(seconds=10)).total_seconds()
    assert tracker.calls["create_issue"] == creates
    assert followups_in(tracker) == []

    clock.advance(window)
    plan_followups_once(services)
    assert len(followups_in(tracker)) == 1
    assert tracker.calls["find_by_label"] == 2


def test_crash_after_the_create_does_not_create_again(
    services: Services, tracker: FakeTracker
) -> None:
    """The create is in the ledger: a failure later in the event's handling never repeats it."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)
    tracker.fail("link", ConnectionFailed("reset"))
    with pytest.raises(ConnectionFailed):
        plan_followups_once(services)
    plan_followups_once(services)
    assert len(followups_in(tracker)) == 1
    assert tracker.calls["create_issue"] == 5
    assert tracker.calls["find_by_label"] == 0
    assert len(tracker.links) == 1


def test_missing_root_cause_is_flagged_once_and_followup_still_created(
    services: Services, tracker: FakeTracker, alerts: RecordingAlerts
) -> None:
    """An untouched HAVE template: a comment naming the gaps, one alert, and the follow-up."""
    recovery = open_with_subtasks(services, have=TEMPLATE_HAVE)
    resolve(services, tracker, recovery)
    plan_followups_once(services, alerts)
    plan_followups_once(services, alerts)

    assert len(followups_in(tracker)) == 1
    (comment,) = tracker.comment_log[recovery.jira_key or ""]
    assert "without its root cause written down" in comment.body
    for part in ("but-for cause", "systemic cause", "fix", "remediation"):
        assert f"- {part}" in comment.body
    assert "@alice" in comment.body
    (alert,) = alerts.sent
    assert alert.kind == ROOT_CAUSE_MISSING
    assert alert.recovery_key == recovery.jira_key
    assert alert.detail["missing"] == ["but-for cause", "systemic cause", "fix", "remediation"]
    _, followup = current(services, recovery)
    assert followup is not None
    assert followup.root_cause_gaps == ("but-for cause", "systemic cause", "fix", "remediation")


def test_a_repeated_resolution_changes_nothing(
    services: Services, tracker: FakeTracker, clock: FrozenClock, alerts: RecordingAlerts
) -> None:
    """A second resolution without a reopen between: no new task, comment or alert."""
    recovery = open_with_subtasks(services, have=TEMPLATE_HAVE)
    resolve(services, tracker, recovery)
    plan_followups_once(services, alerts)
    clock.advance(timedelta(hours=1))
    record(services, recovery, EventKind.RESOLVED, clock.now())
    assert plan_followups_once(services, alerts) == 1
    assert len(followups_in(tracker)) == 1
    assert len(tracker.comment_log[recovery.jira_key or ""]) == 1
    assert len(alerts.sent) == 1


def test_root_cause_from_configured_fields(
    store: Store, clock: FrozenClock, tracker: FakeTracker, alerts: RecordingAlerts
) -> None:
    """Parts kept in custom fields of the recovery count as written."""
    fields = {
        "but_for_cause": "customfield_1",
        "systemic_cause": "customfield_2",
        "fix": "customfield_3",
        "remediation": "customfield_4",
    }
    services = make_services(
        store, clock, tracker, followup=FollowupSettings(root_cause_fields=fields)
    )
    recovery = open_with_subtasks(services, have=TEMPLATE_HAVE)
    key = recovery.jira_key or ""
    values = {"customfield_1": "restart", "customfield_2": "no lock", "customfield_3": "refund"}
    tracker.issues[key] = replace(tracker.issues[key], extra=values)
    resolve(services, tracker, recovery)
    plan_followups_once(services, alerts)
    (alert,) = alerts.sent
    assert alert.detail["missing"] == ["remediation"]


def test_reopen_holds_the_followup_and_resolution_resumes_it(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """Reopened: on hold (label, comment), recovery open again; resolved again: due anew."""
    recovery, task = resolved_with_followup(services, tracker)

    clock.advance(timedelta(days=2))
    reopen(services, tracker, recovery)
    assert plan_followups_once(services) == 1
    held = tracker.issues[task.key]
    assert "followup-on-hold" in held.labels
    assert "is on hold" in tracker.comment_log[task.key][0].body
    now, followup = current(services, recovery)
    assert (now.state, now.reopen_count, now.severity) == (OPEN, 1, "sev2")
    assert now.resolved_at is None
    assert followup is not None
    assert followup.state == ON_HOLD

    clock.advance(timedelta(days=3))
    resolve(services, tracker, recovery)
    plan_followups_once(services)
    resumed = tracker.issues[task.key]
    assert "followup-on-hold" not in resumed.labels
    assert resumed.due == date(2026, 4, 6)
    assert len(followups_in(tracker)) == 1
    _, followup = current(services, recovery)
    assert followup is not None
    assert (followup.state, followup.due) == (CREATED, date(2026, 4, 6))


def test_second_reopen_raises_severity(services: Services, tracker: FakeTracker) -> None:
    """The second reopen raises the severity one step, in the store, as an event and in Jira."""
    recovery = open_with_subtasks(services)
    for _ in range(2):
        resolve(services, tracker, recovery)
        plan_followups_once(services)
        services.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
        reopen(services, tracker, recovery)
        plan_followups_once(services)
        services.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]

    now, _ = current(services, recovery)
    assert (now.reopen_count, now.severity) == (2, "sev1")
    assert raise_priorities_once(services) == 1  # the raise reaches the ticket's priority
    assert tracker.issues[recovery.jira_key or ""].priority == "Highest"
    with services.store.transaction() as conn:
        raised = [e for e in events.for_recovery(conn, recovery.id) if e.kind == "severity_raised"]
    assert [dict(e.detail) for e in raised] == [
        {"from": "sev2", "to": "sev1", "reason": "reopened"}
    ]


def test_first_reopen_keeps_severity(services: Services, tracker: FakeTracker) -> None:
    """One reopen alone does not raise the severity."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)
    reopen(services, tracker, recovery)
    plan_followups_once(services)
    now, _ = current(services, recovery)
    assert (now.reopen_count, now.severity) == (1, "sev2")
    assert tracker.calls["set_priority"] == 0


def test_reopen_can_cancel_and_a_new_resolution_plans_anew(
    store: Store, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """With on_reopen = cancel the task is closed; the next resolution creates a new one."""
    services = make_services(store, clock, tracker, followup=FollowupSettings(on_reopen="cancel"))
    recovery, first = resolved_with_followup(services, tracker)
    reopen(services, tracker, recovery)
    plan_followups_once(services)
    assert tracker.issues[first.key].status_category == StatusCategory.DONE
    assert "cancelled" in tracker.comment_log[first.key][0].body
    _, followup = current(services, recovery)
    assert followup is not None
    assert followup.state == CANCELLED

    assert check_followups_once(services) == 0  # a cancelled task does not close the recovery
    clock.advance(timedelta(days=1))
    resolve(services, tracker, recovery)
    plan_followups_once(services)
    second = [i for i in followups_in(tracker) if i.key != first.key]
    assert len(second) == 1
    assert followup_label(recovery, 1) in second[0].labels
    assert ("Relates", recovery.jira_key, second[0].key) in tracker.links


def test_done_followup_closes_the_recovery(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """A follow-up task found done completes the recovery."""
    recovery, task = resolved_with_followup(services, tracker)
    assert check_followups_once(services) == 0

    clock.advance(timedelta(days=20))
    tracker.transition(task.key, StatusCategory.DONE)
    assert check_followups_once(services) == 1
    now, followup = current(services, recovery)
    assert now.state == CLOSED
    assert followup is not None
    assert followup.state == DONE
    assert followup.done_at == clock.now()
    assert check_followups_once(services) == 0


def test_a_recovery_reopened_after_its_followup_is_done_gets_a_new_one(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """The client came back after the touchpoint: the next resolution plans a second one."""
    recovery, first = resolved_with_followup(services, tracker)
    clock.advance(timedelta(days=20))
    tracker.transition(first.key, StatusCategory.DONE)
    assert check_followups_once(services) == 1

    clock.advance(timedelta(days=5))
    reopen(services, tracker, recovery)
    plan_followups_once(services)
    assert tracker.issues[first.key].status_category == StatusCategory.DONE  # left as it was
    now, _ = current(services, recovery)
    assert now.state == OPEN

    clock.advance(timedelta(days=2))
    resolve(services, tracker, recovery)
    plan_followups_once(services)
    second = [i for i in followups_in(tracker) if i.key != first.key]
    assert len(second) == 1
    assert followup_label(recovery, 1) in second[0].labels
    _, followup = current(services, recovery)
    assert followup is not None
    assert (followup.state, followup.jira_key) == (CREATED, second[0].key)
    plan_followups_once(services)
    assert len(followups_in(tracker)) == 2


def test_open_followups_are_read_once_per_interval(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """An open task is read from Jira once per check_every, and once more before it is overdue."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)
    plan_followups_once(services)
    before = tracker.calls["get_issue"]
    check_followups_once(services)
    clock.advance(timedelta(minutes=59))
    check_followups_once(services)
    assert tracker.calls["get_issue"] == before + 1
    clock.advance(timedelta(minutes=1))
    check_followups_once(services)
    assert tracker.calls["get_issue"] == before + 2
    clock.set(datetime(2026, 4, 2, 0, 10, tzinfo=UTC))  # overdue since ten minutes
    assert check_followups_once(services) == 1
    assert tracker.calls["get_issue"] == before + 3


def test_overdue_followup_alerts_once(
    services: Services, tracker: FakeTracker, clock: FrozenClock, alerts: RecordingAlerts
) -> None:
    """Past its due date and not done: one alert, a comment to the owner, the breach label."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)
    plan_followups_once(services, alerts)
    (task,) = followups_in(tracker)

    clock.advance(timedelta(days=30))  # the due day itself is not late
    assert check_followups_once(services, alerts) == 0
    clock.advance(timedelta(days=2))
    assert check_followups_once(services, alerts) == 1
    assert check_followups_once(services, alerts) == 0

    (alert,) = alerts.sent
    assert alert.kind == FOLLOWUP_OVERDUE
    assert alert.detail == {"followup_key": task.key, "due": "2026-04-01"}
    (comment,) = tracker.comment_log[task.key]
    assert comment.body.startswith("@alice ")
    assert "2 day(s) late" in comment.body
    assert "sla-breached" in tracker.issues[recovery.jira_key or ""].labels


def test_events_of_recoveries_not_in_jira_are_passed(
    services: Services, tracker: FakeTracker
) -> None:
    """A recovery still pending has nothing to follow up; the cursor moves on."""
    with services.store.transaction() as conn:
        pending = recoveries.create_pending(
            conn,
            source_key="mail:<x@y>",
            source_kind="mail",
            client="",
            owner="",
            severity="sev3",
            summary="s",
            now=services.clock.now(),
        )
    record(services, pending, EventKind.RESOLVED, services.clock.now())
    assert plan_followups_once(services) == 1
    assert plan_followups_once(services) == 0
    assert followups_in(tracker) == []


def test_a_permanent_failure_does_not_block_later_events(
    services: Services, tracker: FakeTracker
) -> None:
    """A recovery whose ticket is gone is logged and passed; the next one is still handled."""
    gone = open_with_subtasks(services, source="gone")
    kept = open_with_subtasks(services, source="kept")
    resolve(services, tracker, gone)
    resolve(services, tracker, kept)
    del tracker.issues[gone.jira_key or ""]
    assert plan_followups_once(services) == 2
    (task,) = followups_in(tracker)
    assert ("Relates", kept.jira_key, task.key) in tracker.links
    with services.store.transaction() as conn:
        assert cursors.consumed(conn, "followups") > 0


def test_without_a_tracker_nothing_is_consumed(store: Store, clock: FrozenClock) -> None:
    """With Jira off, events wait for it."""
    services = make_services(store, clock)
    assert plan_followups_once(services) == 0
    assert check_followups_once(services) == 0


def test_ledger_holds_one_create_per_recovery(services: Services, tracker: FakeTracker) -> None:
    """The create is recorded under followup:<recovery id>."""
    recovery = open_with_subtasks(services)
    resolve(services, tracker, recovery)
    plan_followups_once(services)
    with services.store.transaction() as conn:
        action = ledger.get(conn, f"followup:{recovery.id}")
    assert action is not None
    assert action.state == ledger.DONE
    assert action.result == followups_in(tracker)[0].key


def test_alerts_reach_every_channel_even_when_one_fails(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """Through the alert channels: overdue as a missed update, a failing channel skipped."""
    broken = RecordingChannel("webhook", error=ConnectionFailed("down"))
    working = RecordingChannel("log")
    alerts = ChannelAlerts([broken, working], services)
    recovery = open_with_subtasks(services, have=TEMPLATE_HAVE)
    resolve(services, tracker, recovery)
    plan_followups_once(services, alerts)
    clock.advance(timedelta(days=33))
    check_followups_once(services, alerts)

    missing, overdue = working.got
    assert (missing.kind, missing.clock) == (AlertKind.WARNING, ClockKind.RESOLUTION)
    assert "root cause" in missing.text
    assert (overdue.kind, overdue.clock) == (AlertKind.BREACH, ClockKind.NEXT_UPDATE)
    assert overdue.deadline == datetime(2026, 4, 2, tzinfo=UTC)
    assert overdue.late_by == clock.now() - overdue.deadline
    assert overdue.subject.jira_key == recovery.jira_key
    assert overdue.subject.owner == "alice"
    assert overdue.deadline_id == f"{recovery.id}:followup:0"
    errors = services.metrics.registry.get_sample_value(
        "recovery_worker_errors_total", {"step": "followups", "kind": "ConnectionFailed"}
    )
    assert errors == 2


def test_an_alert_a_channel_missed_is_sent_once_it_is_back(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """During a webhook outage a follow-up alert is not lost: the SLA sweep retries it."""
    webhook = RecordingChannel("webhook", error=ConnectionFailed("down"))
    alerts = ChannelAlerts([webhook], services)
    recovery = open_with_subtasks(services, have=TEMPLATE_HAVE)
    resolve(services, tracker, recovery)
    plan_followups_once(services, alerts)
    assert webhook.got == []
    webhook.error = None
    clock.advance(timedelta(minutes=10))
    sweep_clocks_once(services, [webhook])
    assert [a.kind for a in webhook.got] == [AlertKind.WARNING]
    sweep_clocks_once(services, [webhook])
    assert len(webhook.got) == 1


def test_default_alerts_use_the_outside_channels_only(
    store: Store, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """Slack, Teams and webhooks get follow-up alerts; Jira comments and logs are the step's own."""
    outside = AlertSettings(webhook_url="https://hooks.example/alerts")
    services = make_services(store, clock, tracker, alerts=outside)
    assert [c.name for c in default_alerts(services).channels] == ["webhook"]
    assert default_alerts(make_services(store, clock, tracker)).channels == ()


def test_done_after_overdue_clears_the_breach_label(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """The overdue alert labels the recovery breached; the done call clears the label."""
    recovery, task = resolved_with_followup(services, tracker)
    clock.advance(timedelta(days=35))
    check_followups_once(services)
    key = recovery.jira_key or ""
    assert "sla-breached" in tracker.issues[key].labels
    tracker.transition(task.key, StatusCategory.DONE)
    clock.advance(services.settings.followup.check_every)
    check_followups_once(services)
    assert "sla-breached" not in tracker.issues[key].labels
    _, followup = current(services, recovery)
    assert followup is not None
    assert followup.done_at is not None
    assert followup.done_at.date() > followup.due  # done, but late
