"""A client's complaint after resolution reopens the recovery in Jira, against the sandbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.support.builders import add_recovery, sandbox_services
from worker.clock import FrozenClock
from worker.domain.document import document, paragraph
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import Comment, Issue, NewIssue, StatusCategory
from worker.errors import RateLimited
from worker.sandbox import RunningSandbox
from worker.sandbox.state import status_by_id
from worker.steps import Services
from worker.steps.followup import plan_followups_once
from worker.steps.jira_sync import sync_recoveries_once
from worker.steps.jira_watch import CommentVerdict, watch_jira_once
from worker.steps.recoveries import open_recoveries_once
from worker.steps.reopen import reopen_recoveries_once
from worker.store import Store, events, recoveries


def resolved_recovery(services: Services, clock: FrozenClock) -> tuple[int, str]:
    """A recovery opened in Jira, then resolved there and seen resolved by the watcher."""
    recovery_id = add_recovery(services)
    assert open_recoveries_once(services) == 1
    with services.store.transaction() as conn:
        recovery = recoveries.get(conn, recovery_id)
    assert recovery is not None
    assert recovery.jira_key is not None
    clock.advance(timedelta(hours=2))
    assert services.tracker is not None
    services.tracker.transition(recovery.jira_key, StatusCategory.DONE)
    sync_recoveries_once(services)
    return recovery_id, recovery.jira_key


def ask_reopen(services: Services, recovery_id: int, at: datetime, name: str = "b") -> None:
    """What the intake records for a complaint in the thread of a resolved recovery."""
    with services.store.transaction() as conn:
        events.record(
            conn,
            RecoveryEvent(recovery_id, EventKind.REOPEN_ASKED, at, f"mail:{name}#reopen"),
            services.clock.now(),
        )


def complained_after_resolution(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock, **jira: Any
) -> tuple[Services, int, str]:
    """A resolved recovery whose client complained again a day later, not yet reopened."""
    services = sandbox_services(sandbox, store, clock, **jira)
    recovery_id, key = resolved_recovery(services, clock)
    clock.advance(timedelta(days=1))
    ask_reopen(services, recovery_id, clock.now())
    return services, recovery_id, key


def kinds(services: Services, recovery_id: int) -> list[EventKind]:
    with services.store.transaction() as conn:
        return [e.kind for e in events.for_recovery(conn, recovery_id)]


def transitions_sent(sandbox: RunningSandbox) -> int:
    version = "3" if sandbox.dialect == "cloud" else "2"
    return sandbox.calls[f"POST /rest/api/{version}/issue/{{issueIdOrKey}}/transitions"]


def status_of(sandbox: RunningSandbox, key: str) -> str:
    return status_by_id(sandbox.state.issues[key]["status"]).name


def test_a_complaint_after_resolution_reopens_the_ticket_once(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock
) -> None:
    """The ticket goes back to To Do; the watcher reads the reopen; a second run does nothing."""
    services, recovery_id, key = complained_after_resolution(sandbox, store, clock)
    before = transitions_sent(sandbox)

    with capture_logs() as logs:
        assert reopen_recoveries_once(services) == 1
    assert status_of(sandbox, key) == "To Do"
    assert [e["event"] for e in logs if e["event"].startswith("recovery.")] == [
        "recovery.reopen_sent"
    ]
    clock.advance(timedelta(minutes=1))
    sync_recoveries_once(services)
    assert kinds(services, recovery_id).count(EventKind.REOPENED) == 1

    assert reopen_recoveries_once(services) == 0
    ask_reopen(services, recovery_id, clock.now(), name="c")  # a second angry mail
    assert reopen_recoveries_once(services) == 0  # open already: nothing to move
    assert transitions_sent(sandbox) == before + 1


def test_a_ticket_resolved_again_after_the_mail_stays_resolved(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock
) -> None:
    """The team reopened and resolved again after reading the complaint: that resolution stands."""
    services = sandbox_services(sandbox, store, clock)
    recovery_id, key = resolved_recovery(services, clock)
    clock.advance(timedelta(days=1))
    sent_at = clock.now()
    clock.advance(timedelta(hours=1))
    assert services.tracker is not None
    services.tracker.transition(key, StatusCategory.IN_PROGRESS)
    clock.advance(timedelta(hours=1))
    services.tracker.transition(key, StatusCategory.DONE)
    ask_reopen(services, recovery_id, sent_at)

    assert reopen_recoveries_once(services) == 0
    assert status_of(sandbox, key) == "Done"


def test_a_workflow_without_the_reopen_status_is_logged_once(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock
) -> None:
    """No transition to the configured status: a warning naming the way out, then it passes."""
    services, _, key = complained_after_resolution(sandbox, store, clock, reopen_status="Reopened")

    with capture_logs() as logs:
        assert reopen_recoveries_once(services) == 0
        assert reopen_recoveries_once(services) == 0
    refused = [e for e in logs if e["event"] == "recovery.reopen_refused"]
    assert len(refused) == 1
    assert refused[0]["key"] == key
    assert "'Reopened'" in refused[0]["hint"]
    assert status_of(sandbox, key) == "Done"


def test_a_named_reopen_status_is_used(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock
) -> None:
    services, _, key = complained_after_resolution(
        sandbox, store, clock, reopen_status="In Progress"
    )
    assert reopen_recoveries_once(services) == 1
    assert status_of(sandbox, key) == "In Progress"


def test_a_rate_limit_reaches_the_supervisor_and_the_reopen_waits(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock
) -> None:
    """A 429 asking for 300 s: one request, the error raised with its wait, the reopen kept."""
    services, _, key = complained_after_resolution(sandbox, store, clock)
    before = transitions_sent(sandbox)
    version = "3" if sandbox.dialect == "cloud" else "2"
    sandbox.faults.rate_limit(
        300, f"POST /rest/api/{version}/issue/{{issueIdOrKey}}/transitions", times=None
    )

    with capture_logs() as logs, pytest.raises(RateLimited) as raised:
        reopen_recoveries_once(services)
    assert raised.value.retry_after == 300
    assert transitions_sent(sandbox) == before + 1
    assert [e["event"] for e in logs if e["event"].startswith("recovery.")] == [
        "recovery.reopen_deferred"
    ]
    assert status_of(sandbox, key) == "Done"

    sandbox.faults.clear()
    clock.advance(timedelta(seconds=300))
    assert reopen_recoveries_once(services) == 1
    assert status_of(sandbox, key) == "To Do"


def test_a_new_complaint_on_the_source_issue_reopens_a_jira_born_recovery(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock
) -> None:
    """Opened from a labelled OPS issue, resolved, then the reporter complains there again."""
    services = sandbox_services(sandbox, store, clock, watch_projects=["OPS"])
    tracker = services.tracker
    assert tracker is not None
    source = tracker.create_issue(
        NewIssue("OPS", "Task", "Export broken", document(paragraph("x")), labels=("complaint",))
    ).key
    clock.advance(timedelta(minutes=2))
    assert watch_jira_once(services) == 1
    assert open_recoveries_once(services) == 1
    with services.store.transaction() as conn:
        recovery = recoveries.by_source(conn, f"jira:{source}")
    assert recovery is not None
    assert recovery.jira_key is not None
    clock.advance(timedelta(hours=2))
    tracker.transition(recovery.jira_key, StatusCategory.DONE)
    sync_recoveries_once(services)
    plan_followups_once(services)
    clock.advance(timedelta(hours=1))
    tracker.add_comment(source, document(paragraph("Broken again, this is unacceptable")))
    clock.advance(timedelta(minutes=2))

    def judge(comment: Comment, issue: Issue) -> CommentVerdict | None:
        return CommentVerdict("sev2", ("anger: unacceptable",)) if "again" in comment.body else None

    assert watch_jira_once(services, judge=judge) == 1
    assert reopen_recoveries_once(services) == 1
    assert status_of(sandbox, recovery.jira_key) == "To Do"
    clock.advance(timedelta(minutes=2))
    assert watch_jira_once(services, judge=judge) == 0
    assert reopen_recoveries_once(services) == 0
