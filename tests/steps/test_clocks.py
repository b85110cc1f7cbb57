"""The clock sweep: alerts once per deadline, on every channel, Jira touched only on change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from tests.support.builders import make_services, open_recovery
from worker.alerts.base import Channel
from worker.alerts.jira import JiraChannel
from worker.alerts.log import LogChannel
from worker.clock import FrozenClock
from worker.core.alerting import Alert
from worker.core.promises import find_promise
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import Comment, Issue, StatusCategory
from worker.errors import (
    Interrupted,
    RateLimited,
    RequestRejected,
    ServerUnavailable,
    WorkerError,
)
from worker.settings import AlertSettings, SlaSettings
from worker.steps import Services
from worker.steps.clocks import sweep_clocks_once
from worker.steps.jira_sync import is_client_facing, status_events
from worker.store import Store, events
from worker.store import alerts as ledger
from worker.store.schema import alerts_sent
from worker.tracker.fake import FakeTracker
from worker.wiring import calendars_from

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@dataclass
class FlakyChannel:
    """A webhook stand-in that fails as told, then works."""

    name: str = "webhook"
    failures: list[WorkerError] = field(default_factory=list)
    sent: list[Alert] = field(default_factory=list)

    def send(self, alert: Alert) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(alert)
        return ""


@pytest.fixture
def services(store: Store, clock: FrozenClock, tracker: FakeTracker) -> Services:
    """Alerts escalate to the manager after two breaches."""
    return make_services(
        store, clock, tracker, alerts=AlertSettings(manager="boss", escalate_after=2)
    )


def record(services: Services, recovery_id: int, kind: EventKind, at: datetime) -> None:
    with services.store.transaction() as conn:
        events.record(conn, RecoveryEvent(recovery_id, kind, at, f"{kind}:{at}"), at)


def channels(services: Services, *extra: Channel) -> list[Channel]:
    assert services.tracker is not None
    jira = JiraChannel(
        services.tracker, breach_label="sla-breached", manager="boss", escalation_priority="Highest"
    )
    return [LogChannel(), jira, *extra]


def deliveries(services: Services) -> list[tuple[str, str, str]]:
    with services.store.transaction() as conn:
        rows = conn.execute(alerts_sent.select().order_by(alerts_sent.c.id)).mappings()
        return [(r["alert_key"], r["channel"], r["state"]) for r in rows]


def at(clock: FrozenClock, minutes: int) -> None:
    clock.set(T0 + timedelta(minutes=minutes))


def test_unchanged_recoveries_cost_no_jira_call(
    services: Services, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """The first sweep shows the deadline in Jira; later sweeps with nothing new call nothing."""
    _, key = open_recovery(services)
    assert sweep_clocks_once(services, channels(services)) == 0
    assert tracker.issues[key].due == date(2026, 3, 2)
    assert tracker.calls["set_due"] == 1
    before = sum(tracker.calls.values())
    at(clock, 10)
    sweep_clocks_once(services, channels(services))
    assert sum(tracker.calls.values()) == before
    with services.store.transaction() as conn:
        assert ledger.due_for_evaluation(conn, clock.now(), ["open"]) == []


def test_warning_then_breach_once_each_on_every_channel(
    services: Services, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """Warning at 45 min, breach at 60 min with the label; repeated sweeps repeat nothing."""
    _, key = open_recovery(services)
    webhook = FlakyChannel()
    chosen = channels(services, webhook)
    sweep_clocks_once(services, chosen)
    at(clock, 46)
    assert sweep_clocks_once(services, chosen) == 3
    at(clock, 47)
    assert sweep_clocks_once(services, chosen) == 0
    at(clock, 61)
    assert sweep_clocks_once(services, chosen) == 3
    assert sweep_clocks_once(services, chosen) == 0
    assert [a.key for a in webhook.sent] == ["warning", "breach"]
    assert "sla-breached" in tracker.issues[key].labels
    comments = tracker.comments(key)
    assert [c.body.split(":")[0] for c in comments] == ["@alice SLA warning", "@alice SLA breached"]
    assert all(state == "sent" for _, _, state in deliveries(services))


def test_breach_during_downtime_is_alerted_at_start_with_lateness(
    services: Services, clock: FrozenClock
) -> None:
    """No sweep for five hours: one breach, four hours late, then reminders resume."""
    open_recovery(services)
    at(clock, 300)
    with capture_logs() as logs:
        sweep_clocks_once(services, channels(services))
    breached = [e for e in logs if e["event"] == "sla.breached"]
    assert len(breached) == 1
    assert breached[0]["late_by_seconds"] == 4 * 3600
    assert not [e for e in logs if e["event"] in ("sla.warning", "sla.reminded")]
    at(clock, 361)
    with capture_logs() as logs:
        sweep_clocks_once(services, channels(services))
    assert [e["reminder"] for e in logs if e["event"] == "sla.reminded"] == ["reminder:5"]


def test_breach_is_alerted_within_a_minute_of_the_deadline(
    services: Services, clock: FrozenClock
) -> None:
    """Sweeping every 15 seconds, the breach goes out less than 60 seconds after the deadline."""
    open_recovery(services)
    interval = services.settings.loop.sweep_interval
    deadline = T0 + timedelta(hours=1)
    clock.set(deadline - timedelta(minutes=2))
    while not any(k == "breach" for k, _, _ in deliveries(services)):
        sweep_clocks_once(services, channels(services))
        clock.advance(interval)
        assert clock.now() < deadline + timedelta(minutes=5)
    with services.store.transaction() as conn:
        sent_at = (
            conn.execute(alerts_sent.select().where(alerts_sent.c.alert_key == "breach"))
            .mappings()
            .first()
        )
    assert sent_at is not None
    assert timedelta(0) <= sent_at["sent_at"] - deadline < timedelta(seconds=60)


def test_label_removed_when_the_clock_is_met_again(
    services: Services, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """A late first contact takes the breach label off; the next deadline moves in Jira."""
    rid, key = open_recovery(services)
    at(clock, 70)
    sweep_clocks_once(services, channels(services))
    assert "sla-breached" in tracker.issues[key].labels
    at(clock, 80)
    record(services, rid, EventKind.CLIENT_UPDATE, clock.now())
    sweep_clocks_once(services, channels(services))
    assert "sla-breached" not in tracker.issues[key].labels
    with services.store.transaction() as conn:
        assert ledger.state_counts(conn) == [("sev1", "ok", 1)]


def test_a_breach_comment_retried_after_the_clock_was_met_leaves_no_label(
    services: Services, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """The label goes on with the comment; a retry landing after the update must not keep it."""
    rid, key = open_recovery(services)
    at(clock, 61)
    tracker.fail("add_comment", ServerUnavailable("HTTP 503", retry_after=120))
    sweep_clocks_once(services, channels(services))
    assert "sla-breached" in tracker.issues[key].labels
    at(clock, 62)
    record(services, rid, EventKind.CLIENT_UPDATE, clock.now())
    sweep_clocks_once(services, channels(services))
    assert "sla-breached" not in tracker.issues[key].labels
    at(clock, 64)
    sweep_clocks_once(services, channels(services))  # the retried breach: label and comment
    at(clock, 65)
    sweep_clocks_once(services, channels(services))
    assert "sla-breached" not in tracker.issues[key].labels
    assert ("breach", "jira", "sent") in deliveries(services)


def test_jira_asking_to_wait_holds_back_every_jira_update_of_the_sweep(
    services: Services, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """A 429 on the first due date: no more Jira calls in that sweep, and none before it ends."""
    keys = [open_recovery(services, n=n).key for n in range(1, 4)]
    tracker.fail("set_due", RateLimited("HTTP 429", retry_after=300))
    sweep_clocks_once(services, channels(services))
    assert tracker.calls["set_due"] == 1
    at(clock, 2)
    sweep_clocks_once(services, channels(services))
    assert tracker.calls["set_due"] == 1
    at(clock, 6)
    sweep_clocks_once(services, channels(services))
    assert all(tracker.issues[key].due is not None for key in keys)


def test_failing_webhook_never_blocks_the_others_and_is_retried(
    services: Services, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """A 503 from one channel: the others deliver; the failed one is retried after a wait."""
    _, key = open_recovery(services)
    flaky = FlakyChannel(failures=[ServerUnavailable("HTTP 503", retry_after=30)])
    chosen = channels(services, flaky)
    at(clock, 61)
    with capture_logs() as logs:
        assert sweep_clocks_once(services, chosen) == 2
    assert [e["event"] for e in logs if e["event"].startswith("alert.")] == [
        "alert.delivery_failed"
    ]
    assert len(tracker.comments(key)) == 1
    assert sweep_clocks_once(services, chosen) == 0  # not before Retry-After
    clock.advance(timedelta(seconds=31))
    assert sweep_clocks_once(services, chosen) == 1
    assert [a.key for a in flaky.sent] == ["breach"]
    assert len(tracker.comments(key)) == 1


def test_permanent_failure_is_given_up_and_recorded(services: Services, clock: FrozenClock) -> None:
    """A rejected request is not retried; the ledger keeps the error."""
    open_recovery(services)
    flaky = FlakyChannel(failures=[RequestRejected("HTTP 400 invalid_payload")])
    at(clock, 61)
    with capture_logs() as logs:
        sweep_clocks_once(services, channels(services, flaky))
    assert "alert.given_up" in [e["event"] for e in logs]
    clock.advance(timedelta(hours=1, minutes=1))
    sweep_clocks_once(services, channels(services, flaky))
    assert [a.key for a in flaky.sent] == ["reminder:1"]
    assert ("breach", "webhook", "gave_up") in deliveries(services)


def test_a_stop_while_an_alert_waits_to_retry_leaves_it_due_for_the_next_start(
    services: Services, clock: FrozenClock
) -> None:
    """An interrupted attempt is not counted: the alert keeps all its tries after the restart."""
    open_recovery(services)
    last = services.settings.alerts.max_attempts
    flaky = FlakyChannel(failures=[ServerUnavailable("HTTP 503")] * (last - 2))
    chosen = channels(services, flaky)
    at(clock, 61)
    for _ in range(last - 2):
        sweep_clocks_once(services, chosen)
        clock.advance(timedelta(minutes=10))
    flaky.failures.append(Interrupted("the worker is stopping"))
    with pytest.raises(Interrupted):
        sweep_clocks_once(services, chosen)
    assert ("breach", "webhook", "failed") in deliveries(services)
    flaky.failures.append(ServerUnavailable("HTTP 503"))
    sweep_clocks_once(services, chosen)  # attempt last - 1 after the restart: not the last
    assert ("breach", "webhook", "failed") in deliveries(services)
    clock.advance(timedelta(minutes=10))
    sweep_clocks_once(services, chosen)
    assert "breach" in [a.key for a in flaky.sent]


def test_a_crash_while_sending_does_not_repeat_the_alert(
    services: Services, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """A delivery left 'sending' by a crash is marked unknown, never sent twice."""
    _, key = open_recovery(services)
    at(clock, 61)
    tracker.fail("add_comment", SystemExit(1), after=True)  # the comment is made, then we die
    with pytest.raises(SystemExit):
        sweep_clocks_once(services, channels(services))
    assert len(tracker.comments(key)) == 1
    with capture_logs() as logs:
        sweep_clocks_once(services, channels(services))
    assert "alert.outcome_unknown" in [e["event"] for e in logs]
    assert len(tracker.comments(key)) == 1
    assert ("breach", "jira", "unknown") in deliveries(services)


def test_escalation_after_two_breaches_raises_priority(
    services: Services, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """A late first contact, then a missed update: the manager is told, priority goes up."""
    rid, key = open_recovery(services)
    at(clock, 61)
    sweep_clocks_once(services, channels(services))
    at(clock, 70)
    record(services, rid, EventKind.CLIENT_UPDATE, clock.now())
    sweep_clocks_once(services, channels(services))
    at(clock, 70 + 4 * 60 + 1)
    sweep_clocks_once(services, channels(services))
    assert tracker.issues[key].priority == "Highest"
    assert "@boss" in tracker.comments(key)[-1].body
    escalations = [d for d in deliveries(services) if d[0] == "escalation"]
    assert len(escalations) == 2  # log and jira


def test_metrics_show_states_alerts_and_next_deadline(
    services: Services, clock: FrozenClock
) -> None:
    """Open recoveries by severity and state, alerts by kind, seconds to the nearest deadline."""
    rid, _ = open_recovery(services, severity="sev1", n=1)
    open_recovery(services, severity="sev1", n=2)
    at(clock, 20)
    record(services, rid, EventKind.CLIENT_UPDATE, clock.now())
    at(clock, 50)
    sweep_clocks_once(services, channels(services))
    registry = services.metrics.registry

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("recovery_worker_open_recoveries", severity="sev1", clock_state="warning") == 1
    assert value("recovery_worker_open_recoveries", severity="sev1", clock_state="ok") == 1
    assert value("recovery_worker_alerts_total", kind="warning", severity="sev1") == 1
    assert value("recovery_worker_seconds_to_next_deadline") == 600
    assert value("recovery_worker_time_to_first_contact_seconds_count") == 1
    assert value("recovery_worker_time_to_first_contact_seconds_sum") == 1200


def comment(body: str, public: bool | None = None, visibility: str | None = None) -> Comment:
    return Comment("1", "SUP-1", "bob", body, T0, T0, public=public, visibility=visibility)


def test_client_facing_comments_by_public_flag_marker_or_visibility() -> None:
    """Each configured mark makes a comment a client update; an internal note is not one."""
    sla = SlaSettings(client_comment_public=True, client_comment_visibilities=["Clients"])
    assert is_client_facing(comment("Restarted the export", public=True), sla)
    assert is_client_facing(comment("[Client] Fixed", public=False), sla)
    assert is_client_facing(comment("Fixed", visibility="Clients"), sla)
    assert not is_client_facing(comment("Internal note", public=False, visibility="Staff"), sla)
    assert not is_client_facing(comment("Fixed", public=True), SlaSettings())


def issue(status: str, category: StatusCategory, **extra: object) -> Issue:
    values: dict[str, object] = {"resolved_at": None, "history": ()}
    values.update(extra)
    return Issue(
        "SUP-1", "1", "SUP", "Task", "s", status, category, T0, T0 + timedelta(minutes=5),
        **values,  # type: ignore[arg-type]
    )  # fmt: skip


def test_status_events_without_history_compare_with_the_last_seen_status() -> None:
    """Data without a changelog still pauses, resumes, resolves and reopens, at the update time."""
    waiting = ["Waiting for customer"]
    later = T0 + timedelta(minutes=5)
    found = status_events(1, issue("Waiting for customer", StatusCategory.IN_PROGRESS), waiting,
                          "In Progress", False)  # fmt: skip
    assert [(e.kind, e.at) for e in found] == [(EventKind.WAITING, later)]
    found = status_events(1, issue("In Progress", StatusCategory.IN_PROGRESS), waiting,
                          "waiting for CUSTOMER", False)  # fmt: skip
    assert [e.kind for e in found] == [EventKind.RESUMED]
    done = issue("Done", StatusCategory.DONE, resolved_at=T0 + timedelta(minutes=3))
    found = status_events(1, done, waiting, "In Progress", False)
    assert [(e.kind, e.at) for e in found] == [(EventKind.RESOLVED, T0 + timedelta(minutes=3))]
    found = status_events(1, issue("To Do", StatusCategory.TODO), waiting, "Done", True)
    assert [e.kind for e in found] == [EventKind.REOPENED]
    assert status_events(1, issue("To Do", StatusCategory.TODO), waiting, "To Do", False) == []


@pytest.mark.parametrize(
    ("zone", "due"),
    [("UTC", datetime(2026, 3, 2, 15, 0, tzinfo=UTC)), ("Europe/Berlin", T0.replace(hour=14))],
)
def test_a_time_promised_on_the_24x7_calendar_is_read_in_its_zone(zone: str, due: datetime) -> None:
    """'By 15:00' on a sev1 recovery is 15:00 where the team is, once its zone is set."""
    calendar = calendars_from(SlaSettings(around_the_clock_zone=zone))["24x7"]
    assert find_promise("Next update by 15:00.", T0, calendar) == due


def test_an_unknown_24x7_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        SlaSettings(around_the_clock_zone="Mars/Olympus")
