"""Alert channels: Slack, Teams and the signed JSON webhook over HTTP; Jira; the log."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses
from structlog.testing import capture_logs

from worker.alerts.base import alert_from_payload, alert_payload
from worker.alerts.jira import JiraChannel, alert_marker
from worker.alerts.log import LogChannel
from worker.alerts.slack import SlackChannel, escape
from worker.alerts.teams import TeamsChannel
from worker.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookChannel, verify
from worker.clock import FrozenClock
from worker.core.alerting import Alert, AlertKind, Subject, describe
from worker.core.sla import Clock, ClockKind, ClockState
from worker.domain.document import document, paragraph
from worker.domain.issue import NewIssue
from worker.errors import (
    ConnectionFailed,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServerUnavailable,
)
from worker.tracker.fake import FakeTracker

NOW = datetime(2026, 3, 2, 10, 5, tzinfo=UTC)
DEADLINE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SLACK = "https://hooks.slack.example/services/T1/B2/abc"
TEAMS = "https://teams.example/workflows/xyz"
HOOK = "https://ops.example/hooks/recovery"
TIMEOUT = timedelta(seconds=3)


def make_alert(kind: AlertKind = AlertKind.BREACH, jira_key: str = "SUP-12") -> Alert:
    subject = Subject(7, "sev1", jira_key, "alice", "Export <broken> & late")
    clock = Clock(
        ClockKind.FIRST_CONTACT, "7:first_contact:0", DEADLINE, DEADLINE, DEADLINE,
        ClockState.BREACHED,
    )  # fmt: skip
    late = NOW - DEADLINE
    return Alert(
        kind=kind,
        key=str(kind),
        deadline_id=clock.deadline_id,
        clock=clock.kind,
        subject=subject,
        deadline=DEADLINE,
        late_by=late,
        breaches=3,
        text=describe(kind, clock, subject, late, 3),
    )


def sent_json(index: int = 0) -> dict[str, object]:
    body = responses.calls[index].request.body
    assert isinstance(body, bytes)
    data: dict[str, object] = json.loads(body)
    return data


def test_payload_round_trip_keeps_the_alert() -> None:
    """What the ledger stores for a retry is the same alert."""
    alert = make_alert()
    assert alert_from_payload(json.loads(json.dumps(alert_payload(alert)))) == alert


@responses.activate
def test_slack_message_escapes_outside_text() -> None:
    """Text goes out with Slack's control characters escaped, in text and blocks."""
    responses.post(SLACK, body="ok")
    SlackChannel(SLACK, FrozenClock(NOW), TIMEOUT).send(make_alert())
    data = sent_json()
    assert data["text"] == escape(make_alert().text)
    blocks = data["blocks"]
    assert isinstance(blocks, list)
    assert blocks[0]["text"]["type"] == "mrkdwn"
    assert "SUP-12" in blocks[0]["text"]["text"]
    assert blocks[1]["elements"][0]["text"] == "Export <broken> & late"  # plain_text: literal
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


@responses.activate
def test_teams_message_is_an_adaptive_card() -> None:
    """Teams gets a message with one Adaptive Card carrying the text and the facts."""
    responses.post(TEAMS, status=202)
    TeamsChannel(TEAMS, FrozenClock(NOW), TIMEOUT).send(make_alert(AlertKind.WARNING))
    data = sent_json()
    assert data["type"] == "message"
    attachments = data["attachments"]
    assert isinstance(attachments, list)
    card = attachments[0]["content"]
    assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard"
    assert card["body"][0]["text"] == "SLA warning"
    assert {"title": "Recovery", "value": "SUP-12"} in card["body"][2]["facts"]


@responses.activate
def test_generic_webhook_body_and_signature() -> None:
    """The documented body, signed over timestamp and body; a tampered body fails to verify."""
    responses.post(HOOK, status=204)
    WebhookChannel(HOOK, b"key", FrozenClock(NOW), TIMEOUT).send(make_alert())
    request = responses.calls[0].request
    body = request.body
    assert isinstance(body, bytes)
    data = json.loads(body)
    assert data["schema"] == "recovery-worker.alert/1"
    assert data["id"] == "7:first_contact:0/breach"
    assert data["kind"] == "breach"
    assert data["recovery"] == {
        "id": 7,
        "severity": "sev1",
        "jira_key": "SUP-12",
        "owner": "alice",
        "summary": "Export <broken> & late",
    }
    assert data["late_by_seconds"] == 300
    assert data["deadline"] == "2026-03-02T10:00:00+00:00"
    timestamp = request.headers[TIMESTAMP_HEADER]
    signature = request.headers[SIGNATURE_HEADER]
    assert timestamp == str(int(NOW.timestamp()))
    assert verify(b"key", timestamp, body, signature, now=NOW)
    assert not verify(b"key", timestamp, body + b" ", signature, now=NOW)
    assert not verify(b"other", timestamp, body, signature, now=NOW)
    assert not verify(b"key", timestamp, body, signature, now=NOW + timedelta(minutes=10))


@responses.activate
def test_webhook_without_secret_is_unsigned() -> None:
    """No key configured: no signature header (and nothing pretending to be one)."""
    responses.post(HOOK, status=200)
    WebhookChannel(HOOK, None, FrozenClock(NOW), TIMEOUT).send(make_alert())
    assert SIGNATURE_HEADER not in responses.calls[0].request.headers


@responses.activate
@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status": 429, "headers": {"Retry-After": "30"}}, RateLimited),
        ({"status": 503}, ServerUnavailable),
        ({"status": 400, "body": "invalid_payload"}, RequestRejected),
        ({"status": 404, "body": "no_service"}, RequestRejected),
        ({"body": requests.ConnectionError("refused")}, ConnectionFailed),
        ({"body": requests.ReadTimeout("slow")}, ConnectionFailed),
    ],
)
def test_http_failures_become_worker_errors_without_the_url(
    reply: dict[str, object], error: type[Exception]
) -> None:
    """Transient and permanent failures are told apart; the secret URL is never in the error."""
    responses.post(SLACK, **reply)
    with pytest.raises(error) as caught:
        SlackChannel(SLACK, FrozenClock(NOW), TIMEOUT).send(make_alert())
    assert "hooks.slack" not in str(caught.value)
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 30


def jira_with_issue(clock: FrozenClock) -> FakeTracker:
    tracker = FakeTracker(clock)
    tracker.create_issue(NewIssue("SUP", "Task", "Export broken", document(paragraph("x"))))
    return tracker


def test_jira_breach_comments_mentions_and_labels() -> None:
    """A breach: a comment to the assignee and the breach label."""
    clock = FrozenClock(NOW)
    tracker = jira_with_issue(clock)
    channel = JiraChannel(tracker, breach_label="sla-breached", manager="boss")
    comment_id = channel.send(make_alert(jira_key="SUP-1"))
    (comment,) = tracker.comments("SUP-1")
    assert comment.id == comment_id
    assert comment.body.startswith("@alice SLA breached: first contact for SUP-1 (sev1)")
    assert "sla-breached" in tracker.issues["SUP-1"].labels
    assert "boss" not in comment.body


def test_jira_escalation_raises_priority_and_mentions_the_manager() -> None:
    """An escalation reaches the manager and raises the priority."""
    clock = FrozenClock(NOW)
    tracker = jira_with_issue(clock)
    JiraChannel(
        tracker, breach_label="sla-breached", manager="boss", escalation_priority="Highest"
    ).send(make_alert(AlertKind.ESCALATION, jira_key="SUP-1"))
    (comment,) = tracker.comments("SUP-1")
    assert "@boss" in comment.body
    assert tracker.issues["SUP-1"].priority == "Highest"


def test_jira_comment_with_a_lost_answer_is_found_not_written_twice() -> None:
    """Jira made the comment but the answer was lost: the channel finds it by its marker."""
    clock = FrozenClock(NOW)
    tracker = jira_with_issue(clock)
    channel = JiraChannel(tracker, breach_label="sla-breached")
    tracker.fail("add_comment", OutcomeUnknown("connection dropped"), after=True)
    comment_id = channel.send(make_alert(jira_key="SUP-1"))
    (comment,) = tracker.comments("SUP-1")
    assert comment.id == comment_id
    assert alert_marker(make_alert(jira_key="SUP-1")) in comment.body
    # Lost before Jira acted: still unknown to the sweep, which tries again later.
    tracker.fail("add_comment", OutcomeUnknown("connection dropped"))
    with pytest.raises(OutcomeUnknown):
        channel.send(make_alert(AlertKind.WARNING, jira_key="SUP-1"))
    assert len(tracker.comments("SUP-1")) == 1


def test_jira_reminders_stay_out_of_the_ticket_and_missing_keys_fail() -> None:
    """Reminders are not commented; an alert without a Jira issue is a permanent failure."""
    clock = FrozenClock(NOW)
    tracker = jira_with_issue(clock)
    channel = JiraChannel(tracker, breach_label="sla-breached")
    assert channel.send(make_alert(AlertKind.REMINDER, jira_key="SUP-1")) == ""
    assert tracker.comments("SUP-1") == []
    with pytest.raises(NotFound):
        channel.send(replace(make_alert(), subject=Subject(7, "sev1")))


def test_log_channel_names_events_by_kind() -> None:
    """sla.warning, sla.breached, sla.reminded, sla.escalated, with ids bound."""
    with capture_logs() as logs:
        for kind in AlertKind:
            LogChannel().send(make_alert(kind))
    assert [e["event"] for e in logs] == [
        "sla.warning",
        "sla.breached",
        "sla.reminded",
        "sla.escalated",
    ]
    assert all(e["jira_key"] == "SUP-12" and e["recovery_id"] == 7 for e in logs)
    assert logs[1]["late_by_seconds"] == 300
