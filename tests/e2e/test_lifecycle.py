"""The whole lifecycle against a real Dovecot and the Jira sandbox, in both dialects.

The same scenario as the demo, with mail delivered over IMAP, alerts sent to a
signed webhook, and an injected clock. At the end every issue, comment, label,
link, alert, IMAP keyword and metric is what the lifecycle should have left.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from tests.support.dovecot import Dovecot
from tests.support.webhooks import WebhookReceiver
from worker.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from worker.app import Worker, build_worker
from worker.clock import FrozenClock
from worker.commands.demo import demo_settings
from worker.demo.scenario import Lifecycle, Scenario
from worker.demo.team import TeamDesk
from worker.sandbox import RunningSandbox
from worker.tracker import StatusCategory, Tracker
from worker.tracker.jql import eq

pytestmark = pytest.mark.integration

SECRET = "e2e-webhook-secret-5d1e"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def lived(
    dovecot: Dovecot,
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    clock: FrozenClock,
    tmp_path: Path,
) -> Iterator[tuple[Worker, Lifecycle]]:
    settings = demo_settings(
        tmp_path,
        {"url": sandbox.url, "dialect": "auto", **sandbox.credentials},
        {
            "imap": {
                "host": dovecot.host,
                "port": dovecot.imap_port,
                "security": "plain",
                "username": dovecot.user,
                "password": dovecot.password,
                "timeout": "5s",
            },
            "alerts": {"webhook_url": receiver.url, "webhook_secret": SECRET},
        },
    )
    worker = build_worker(settings, clock)
    team = TeamDesk(sandbox)
    try:
        result = Scenario(worker, clock, team, lambda _name, raw: dovecot.append(raw)).run()
        yield worker, result
    finally:
        team.close()
        worker.close()


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_the_lifecycle_leaves_everything_in_its_place(
    lived: tuple[Worker, Lifecycle],
    sandbox: RunningSandbox,
    receiver: WebhookReceiver,
    dovecot: Dovecot,
) -> None:
    """Issues, comments, alerts, mail keywords and metrics: each as the lifecycle left it."""
    worker, result = lived
    check_issues(worker, result, sandbox)
    check_comments(worker, result)
    check_alerts(receiver)
    check_mail(worker, dovecot)
    check_metrics(worker)


def check_issues(worker: Worker, result: Lifecycle, sandbox: RunningSandbox) -> None:
    """One resolved recovery, its three subtasks, one follow-up due 30 days after, linked."""
    tracker = worker.services.tracker
    assert tracker is not None
    everything = {issue.key: issue for issue in tracker.search(eq("project", "SUP"))}
    assert len(everything) == 5

    recovery = tracker.get_issue(result.recovery_key)
    assert recovery.status_category is StatusCategory.DONE
    assert "recovery" in recovery.labels
    assert any(label.startswith("rw-") for label in recovery.labels)
    assert "sla-breached" not in recovery.labels  # the update met the clock again
    assert recovery.priority == worker.settings.jira.priorities["sev1"]
    assert sorted(recovery.subtasks) == sorted(result.subtask_keys)

    stages = sorted(tracker.get_issue(key).summary.split(":")[0] for key in recovery.subtasks)
    assert stages == ["DO", "HAVE", "KNOW"]
    for key in recovery.subtasks:
        assert everything[key].parent == recovery.key

    followup = tracker.get_issue(result.followup_key)
    assert "recovery-followup" in followup.labels
    assert followup.parent is None
    assert recovery.resolved_at is not None
    assert followup.due == (recovery.resolved_at + timedelta(days=30)).date()
    assert followup.assignee == recovery.assignee
    linked = {frozenset((link["inward"], link["outward"])) for link in sandbox.state.links}
    assert frozenset((recovery.key, followup.key)) in linked
    # The preventive measure the team wrote in HAVE is what the call reports to the client.
    assert "automatic renewal with an alert 30 days before expiry" in followup.description
    assert "Third outage this month" in followup.description
    for key in (*recovery.subtasks, followup.key):
        assert tracker.comments(key) == [], key


def check_comments(worker: Worker, result: Lifecycle) -> None:
    """The client's reply, the warning, the breach and the team's update: each exactly once."""
    tracker: Tracker | None = worker.services.tracker
    assert tracker is not None
    bodies = [c.body for c in tracker.comments(result.recovery_key)]

    assert sum("Half an hour later and still no word" in b for b in bodies) == 1
    assert sum("[client] Called Dana" in b for b in bodies) == 1
    alert_comments = [b for b in bodies if "first contact" in b.lower()]
    assert len(alert_comments) == 2, bodies


def check_alerts(receiver: WebhookReceiver) -> None:
    """The webhook got one warning and one breach for the first-contact deadline, both signed."""
    deliveries = receiver.received()
    kinds = sorted(d.json()["kind"] for d in deliveries)
    assert kinds == ["breach", "warning"]
    assert len({d.json()["id"] for d in deliveries}) == 2
    for delivery in deliveries:
        headers = {k.lower(): v for k, v in delivery.headers.items()}
        assert verify(
            SECRET.encode(),
            headers[TIMESTAMP_HEADER.lower()],
            delivery.body,
            headers[SIGNATURE_HEADER.lower()],
            now=datetime.fromisoformat(delivery.json()["sent_at"]),
        )


def check_mail(worker: Worker, dovecot: Dovecot) -> None:
    """Five mails, five decisions, each handled mail carrying the keyword."""
    registry = worker.metrics.registry
    decisions = {
        decision: sample(registry, "recovery_worker_messages_total", decision=decision)
        for decision in ("recovery", "thread", "not_complaint", "skipped", "quarantined")
    }
    assert decisions == {
        "recovery": 1,
        "thread": 1,
        "not_complaint": 1,
        "skipped": 2,
        "quarantined": 0,
    }
    keyword = worker.settings.imap.handled_keyword
    uids = dovecot.uids("INBOX")
    assert len(uids) == 5
    assert all(keyword in dovecot.flags("INBOX", uid) for uid in uids)


def check_metrics(worker: Worker) -> None:
    """Opened, warned, breached and followed up: each counted once, by severity."""
    registry = worker.metrics.registry
    opened = "recovery_worker_recoveries_opened_total"
    assert sample(registry, opened, source="mail", severity="sev1") == 1
    alerts = "recovery_worker_alerts_total"
    assert sample(registry, alerts, kind="warning", severity="sev1") == 1
    assert sample(registry, alerts, kind="breach", severity="sev1") == 1
    assert sample(registry, "recovery_worker_followups_total", event="created") == 1
    assert sample(registry, "recovery_worker_time_to_first_contact_seconds_count") == 1
    # Nothing else: no other alert kind, no error, no recovery left open on a clock.
    counted = sorted(
        (s.name, s.labels.get("kind", ""), s.value)
        for family in registry.collect()
        for s in family.samples
        if s.name in (alerts, "recovery_worker_errors_total") and s.value
    )
    assert counted == [(alerts, "breach", 1), (alerts, "warning", 1)]
    open_now = "recovery_worker_open_recoveries"
    assert sum(s.value for f in registry.collect() for s in f.samples if s.name == open_now) == 0
