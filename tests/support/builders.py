"""Builders the tests share: services, recoveries in the store and in Jira, replies.

Each builder fills in what a test does not care about; a test passes what it checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from tests.tracker.conftest import jira_tracker
from worker.clock import Clock, FrozenClock
from worker.core.alerting import Alert
from worker.domain.document import Document, document, paragraph
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import NewIssue
from worker.domain.mail import AttachmentInfo
from worker.domain.recovery import Recovery
from worker.metrics import Metrics
from worker.sandbox import RunningSandbox
from worker.settings import JiraSettings, Settings
from worker.steps import Services
from worker.store import Store, events, recoveries, replies
from worker.tracker.base import Tracker

#: A HAVE subtask whose root-cause analysis is written down in full.
WRITTEN_ANALYSIS = """\
Work out what actually went wrong and what can be offered.
But-for cause: the nightly export ran twice after a scheduler restart
Systemic cause: nothing stops two runs of the same job
Fix: duplicate invoices cancelled, the client refunded
Remediation: a lock around the export job
"""

#: The attachment a client's reply carries unless a test says otherwise.
SCREENSHOT = AttachmentInfo("error.png", "image/png", 204_800)


def make_services(
    store: Store, clock: Clock, tracker: Tracker | None = None, **settings: Any
) -> Services:
    """Services on ``store`` and ``clock``; ``settings`` are sections of :class:`Settings`."""
    return Services(Settings(**settings), clock, store, Metrics(), tracker)


def sandbox_services(
    sandbox: RunningSandbox,
    store: Store,
    clock: FrozenClock,
    *,
    tracker: Tracker | None = None,
    waits: list[float] | None = None,
    **jira: Any,
) -> Services:
    """Services pointed at the Jira sandbox; ``jira`` adds to its Jira settings.

    The tracker is the real adapter, recording its waits instead of sleeping, unless one is
    given.
    """
    settings = JiraSettings(url=sandbox.url, **sandbox.credentials, **jira)
    return make_services(
        store, clock, tracker or jira_tracker(sandbox, clock, waits), jira=settings
    )


def add_recovery(
    services: Services, source_key: str = "mail:<m1@acme.example>", **fields: Any
) -> int:
    """A pending recovery as the intake records a complaint mail; ``fields`` replace its own."""
    now = services.clock.now()
    values: dict[str, Any] = {
        "source_kind": "mail",
        "client": "jane@acme.example",
        "owner": "",
        "severity": "sev2",
        "summary": "Invoices export broken again",
        "now": now,
        "source_ref": "<m1@acme.example>",
        "source_at": now - timedelta(minutes=5),
        "excerpt": "Third time this month.",
        "reasons": ["repeat complaint"],
    }
    values.update(fields)
    with services.store.transaction() as conn:
        return recoveries.create_pending(conn, source_key=source_key, **values).id


class Opened(NamedTuple):
    """An open recovery and the key of its Jira issue."""

    id: int
    key: str


def open_recovery(
    target: Services | Store,
    *,
    n: int = 1,
    severity: str = "sev1",
    now: datetime | None = None,
    ago: timedelta = timedelta(0),
) -> Opened:
    """Recovery ``n`` open in Jira with its OPENED event, so its clocks run.

    With services, its issue is made in their tracker at their clock's time; with a bare
    store, it is SUP-``n`` and ``now`` is required. It opened ``ago`` before now, and is
    recorded now.
    """
    summary = f"Complaint {n}"
    if isinstance(target, Store):
        assert now is not None, "a bare store has no clock: pass now"
        store, key = target, f"SUP-{n}"
    else:
        assert target.tracker is not None
        store, now = target.store, now or target.clock.now()
        issue = NewIssue("SUP", "Task", summary, document(paragraph("x")), labels=("recovery",))
        key = target.tracker.create_issue(issue).key
    opened_at = now - ago
    with store.transaction() as conn:
        rec = recoveries.create_pending(
            conn,
            source_key=f"mail:{n}",
            source_kind="mail",
            client="client@example.com",
            owner="alice",
            severity=severity,
            summary=summary,
            now=opened_at,
        )
        recoveries.mark_open(conn, rec.id, key)
        event = RecoveryEvent(rec.id, EventKind.OPENED, opened_at, f"open:{n}")
        events.record(conn, event, now)
    return Opened(rec.id, key)


def open_with_subtasks(
    services: Services,
    *,
    have: str | Document = WRITTEN_ANALYSIS,
    owner: str = "alice",
    source: str = "a",
    summary: str = "Invoices sent twice this month",
    excerpt: str = "We were billed twice.",
) -> Recovery:
    """A recovery opened as the worker opens it: its ticket with KNOW, HAVE and DO subtasks.

    ``have`` is the HAVE subtask's description (text: a paragraph per line). No event is
    recorded: the test records the ones it needs.
    """
    tracker = services.tracker
    assert tracker is not None
    with services.store.transaction() as conn:
        pending = recoveries.create_pending(
            conn,
            source_key=f"mail:<{source}@client.example>",
            source_kind="mail",
            client="ana@client.example",
            owner=owner,
            severity="sev2",
            summary=summary,
            now=services.clock.now(),
            excerpt=excerpt,
        )
    parent = tracker.create_issue(
        NewIssue(
            "SUP",
            "Task",
            f"Recovery: {summary}",
            document(paragraph("The client was billed twice.")),
            labels=("recovery", pending.idempotency_key),
            assignee=owner,
        )
    )
    if isinstance(have, str):
        have = document(*(paragraph(line) for line in have.splitlines()))
    subtask_type = tracker.subtask_issue_type("SUP")
    for stage, body in (("know", document()), ("have", have), ("do", document())):
        tracker.create_issue(
            NewIssue(
                "SUP",
                subtask_type,
                f"{stage.upper()}: the playbook step",
                body,
                labels=("recovery", f"{pending.idempotency_key}-{stage}"),
                assignee=owner,
                parent=parent.key,
            )
        )
    with services.store.transaction() as conn:
        recoveries.mark_open(conn, pending.id, parent.key)
        opened = recoveries.get(conn, pending.id)
    assert opened is not None
    return opened


def add_reply(
    services: Services,
    recovery_id: int,
    key: str = "imap:INBOX:7",
    *,
    text: str = "Still broken {code}!",
    attachments: tuple[AttachmentInfo, ...] = (SCREENSHOT,),
) -> None:
    """A client's reply in a recovery's thread, waiting to be posted as a comment."""
    with services.store.transaction() as conn:
        replies.add(
            conn,
            message_key=key,
            recovery_id=recovery_id,
            author="jane@acme.example",
            author_name="Jane Roe",
            sent_at=datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
            text=text,
            attachments=attachments,
            now=services.clock.now(),
        )


@dataclass
class RecordingChannel:
    """An alert channel that keeps what it is sent, or fails with ``error``."""

    name: str
    error: Exception | None = None
    got: list[Alert] = field(default_factory=list)

    def send(self, alert: Alert) -> str:
        if self.error is not None:
            raise self.error
        self.got.append(alert)
        return ""
