"""Jira's complaint signals, polled from the sandbox in both dialects through the real client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.core.test_followup import make_recovery
from tests.support.builders import sandbox_services
from tests.tracker.conftest import user_id
from worker.clock import FrozenClock
from worker.core.followup import followup_label
from worker.core.playbook import stage_label
from worker.domain.document import document, paragraph
from worker.domain.events import EventKind
from worker.domain.issue import Comment, Issue, NewIssue, StatusCategory
from worker.domain.recovery import Recovery, idempotency_key
from worker.errors import RateLimited, ServerUnavailable
from worker.sandbox import RunningSandbox
from worker.settings import Settings
from worker.steps import Services
from worker.steps.jira_watch import CommentVerdict, watch_jira_once
from worker.store import Store, events, followups, recoveries
from worker.tracker.base import Tracker


@pytest.fixture
def services(sandbox: RunningSandbox, store: Store, clock: FrozenClock) -> Services:
    """Services on the sandbox, watching the OPS project."""
    return sandbox_services(sandbox, store, clock, watch_projects=["OPS"])


def tracker_of(services: Services) -> Tracker:
    assert services.tracker is not None
    return services.tracker


def ops_issue(services: Services, **fields: object) -> str:
    values: dict[str, object] = {"description": document(paragraph("Client: the export broke"))}
    values.update(fields)
    issue = NewIssue("OPS", "Task", "Export broken for ACME", **values)  # type: ignore[arg-type]
    return tracker_of(services).create_issue(issue).key


def pending(services: Services) -> list[Recovery]:
    with services.store.transaction() as conn:
        return recoveries.pending(conn)


def later(clock: FrozenClock, minutes: int = 2) -> None:
    clock.advance(timedelta(minutes=minutes))


def test_labelled_issue_opens_one_recovery(services: Services, clock: FrozenClock) -> None:
    """An issue labelled as a complaint records one recovery, however often it is polled."""
    alice = user_id(tracker_of(services), "alice")
    key = ops_issue(services, labels=("complaint",), assignee=alice)
    ops_issue(services, labels=("question",))
    later(clock)
    assert watch_jira_once(services) == 1
    (rec,) = pending(services)
    assert (rec.source_key, rec.source_kind, rec.severity) == (f"jira:{key}", "jira", "sev2")
    assert rec.owner == alice
    assert "the export broke" in rec.excerpt
    tracker_of(services).add_labels(key, ["urgent"])
    later(clock)
    assert watch_jira_once(services) == 0
    assert len(pending(services)) == 1


def test_priority_raised_to_the_top(services: Services, clock: FrozenClock) -> None:
    """Raising a priority to the sev1 one opens a sev1 recovery; an issue born there does not."""
    key = ops_issue(services, priority="Medium")
    ops_issue(services, priority="Highest")
    later(clock)
    tracker_of(services).set_priority(key, "Highest")
    later(clock)
    assert watch_jira_once(services) == 1
    (rec,) = pending(services)
    assert rec.source_ref == key
    assert rec.severity == "sev1"
    assert rec.reasons == ("priority raised from Medium to Highest",)


def test_reopened_after_done(services: Services, clock: FrozenClock) -> None:
    """An issue taken out of Done again (the fix did not stick) opens a recovery."""
    key = ops_issue(services)
    tracker = tracker_of(services)
    tracker.transition(key, StatusCategory.DONE)
    later(clock)
    assert watch_jira_once(services) == 0
    tracker.transition(key, "To Do")
    later(clock)
    assert watch_jira_once(services) == 1
    assert [r.source_ref for r in pending(services)] == [key]
    assert "reopened after it was resolved" in pending(services)[0].reasons[0]


def test_reporter_comment_flagged_by_the_detector(services: Services, clock: FrozenClock) -> None:
    """A reporter comment the detector flags opens a recovery quoting it; others do not."""
    key = ops_issue(services)
    tracker = tracker_of(services)
    tracker.add_comment(key, document(paragraph("Thanks, all good")))
    tracker.add_comment(key, document(paragraph("This is unacceptable, third time!")))
    judged: list[str] = []

    def judge(comment: Comment, issue: Issue) -> CommentVerdict | None:
        judged.append(comment.body)
        if "unacceptable" in comment.body:
            return CommentVerdict("sev2", ("anger: unacceptable",))
        return None

    later(clock)
    assert watch_jira_once(services, judge=judge) == 1
    (rec,) = pending(services)
    assert rec.excerpt == "This is unacceptable, third time!"
    assert rec.reasons == ("the reporter complained in a comment", "anger: unacceptable")
    later(clock)
    assert watch_jira_once(services, judge=judge) == 0


def test_a_second_signal_raises_severity_never_a_second_recovery(
    services: Services, clock: FrozenClock
) -> None:
    """A labelled issue whose priority is then raised keeps one recovery, raised to sev1."""
    key = ops_issue(services, labels=("complaint",))
    later(clock)
    assert watch_jira_once(services) == 1
    tracker_of(services).set_priority(key, "Highest")
    later(clock)
    assert watch_jira_once(services) == 1
    (rec,) = pending(services)
    assert rec.severity == "sev1"
    with services.store.transaction() as conn:
        kinds = [e.kind for e in events.for_recovery(conn, rec.id)]
    assert kinds == [EventKind.SEVERITY_RAISED]


def test_a_signal_after_the_resolution_asks_for_the_recovery_to_reopen(
    services: Services, clock: FrozenClock
) -> None:
    """A reporter complaint on the source of a resolved recovery asks once for a reopen."""
    key = ops_issue(services, labels=("complaint",))
    later(clock)
    assert watch_jira_once(services) == 1
    (rec,) = pending(services)
    with services.store.transaction() as conn:
        followups.resolve_recovery(conn, rec.id, clock.now())
    later(clock)
    tracker_of(services).add_comment(key, document(paragraph("Broken again. Unacceptable.")))

    def judge(comment: Comment, issue: Issue) -> CommentVerdict | None:
        return CommentVerdict("sev2", ("anger: unacceptable",))

    later(clock)
    with capture_logs() as logs:
        assert watch_jira_once(services, judge=judge) == 1
    assert "jira.signal_reopens" in [e["event"] for e in logs]
    later(clock)
    assert watch_jira_once(services, judge=judge) == 0
    with services.store.transaction() as conn:
        asked = [e for e in events.for_recovery(conn, rec.id) if e.kind == EventKind.REOPEN_ASKED]
    assert len(asked) == 1
    assert asked[0].at > clock.now() - timedelta(minutes=10)


def test_own_tickets_and_unwatched_projects_are_ignored(
    services: Services, clock: FrozenClock
) -> None:
    """Recovery tickets (their labels) and issues outside the watched projects are not signals."""
    ops_issue(services, labels=("complaint", "recovery"))
    tracker_of(services).create_issue(
        NewIssue("SUP", "Task", "elsewhere", document(), labels=("complaint",))
    )
    later(clock)
    assert watch_jira_once(services) == 0


def test_only_the_workers_own_label_shapes_hide_an_issue(
    services: Services, clock: FrozenClock
) -> None:
    """A customer's `rw-billing` label is theirs; the worker's marker labels hide its tickets."""
    recovery = idempotency_key("mail:imap:INBOX:7")
    followup = followup_label(make_recovery(idempotency_key=recovery))
    for label in (recovery, stage_label(recovery, "have"), followup):
        ops_issue(services, labels=("complaint", label))
    customers = ops_issue(services, labels=("complaint", "rw-billing"))
    ops_issue(services, labels=("complaint", "rw-" + "0" * 19))  # not a shape the worker writes
    later(clock)
    assert watch_jira_once(services) == 2
    assert f"jira:{customers}" in {r.source_key for r in pending(services)}


def record_queries(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The JQL of every search the tracker runs from now on."""
    tracker = tracker_of(services)
    inner = tracker.search
    queries: list[str] = []

    def recording(jql: str, **kwargs: Any) -> Iterator[Issue]:
        queries.append(jql)
        return inner(jql, **kwargs)

    monkeypatch.setattr(tracker, "search", recording)
    return queries


def test_the_window_starts_at_the_watermark_minus_the_overlap(
    services: Services, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first poll looks back a day; later ones from the newest update seen, minus 5 minutes."""
    start = clock.now()
    ops_issue(services, labels=("complaint",))
    queries = record_queries(services, monkeypatch)
    later(clock, 30)
    watch_jira_once(services)
    assert 'updated >= "2026/03/01 09:25"' in queries[0]  # now - 1 day - 5 minutes
    queries.clear()
    later(clock, 30)
    assert watch_jira_once(services) == 0
    watermark = start - timedelta(minutes=5)
    assert f'updated >= "{watermark:%Y/%m/%d %H:%M}"' in queries[0]
    assert queries[0].startswith('(project IN ("OPS")) AND (labels = "complaint")')


def test_a_hostile_complaint_label_stays_one_value(services: Services, clock: FrozenClock) -> None:
    """A configured label with quotes and JQL words is matched as one literal label."""
    hostile = 'complaint"OR"labels="complaint'
    services.settings = Settings(jira=services.settings.jira.model_copy(
        update={"complaint_label": hostile, "watch_signals": ["labelled"]}))  # fmt: skip
    ops_issue(services, labels=("complaint",))
    later(clock)
    assert watch_jira_once(services) == 0
    ops_issue(services, labels=(hostile,))
    later(clock)
    assert watch_jira_once(services) == 1


def test_jira_unavailable_defers_without_moving_the_watermark(
    services: Services, clock: FrozenClock, sandbox: RunningSandbox
) -> None:
    """A search that keeps failing ends the poll; the next one covers the same window."""
    key = ops_issue(services, labels=("complaint",))
    search = (
        "POST /rest/api/3/search/jql" if sandbox.dialect == "cloud" else "POST /rest/api/2/search"
    )
    sandbox.faults.server_error(503, search, times=None)
    later(clock)
    with capture_logs() as logs, pytest.raises(ServerUnavailable):
        watch_jira_once(services)
    assert any(e["event"] == "jira.watch_deferred" for e in logs)
    assert pending(services) == []
    sandbox.faults.clear()
    assert watch_jira_once(services) == 1
    assert [r.source_ref for r in pending(services)] == [key]


def test_a_rate_limit_keeps_what_was_recorded_and_reaches_the_supervisor(
    services: Services, clock: FrozenClock, sandbox: RunningSandbox
) -> None:
    """A 429 asking for 300 s while comments are read: one request, the labelled issue kept."""
    labelled = ops_issue(services, labels=("complaint",))
    ops_issue(services)
    version = "3" if sandbox.dialect == "cloud" else "2"
    comments = f"GET /rest/api/{version}/issue/{{issueIdOrKey}}/comment"
    sandbox.faults.rate_limit(300, comments, times=None)
    later(clock)
    with pytest.raises(RateLimited) as raised:
        watch_jira_once(services)
    assert raised.value.retry_after == 300
    assert sandbox.calls[comments] == 1
    assert [r.source_ref for r in pending(services)] == [labelled]
    sandbox.faults.clear()
    assert watch_jira_once(services) == 0
    assert [r.source_ref for r in pending(services)] == [labelled]


def test_reporter_comments_are_read_by_the_configured_detector(
    services: Services, clock: FrozenClock
) -> None:
    """Without a judge given, the shipped complaint detector reads the reporter's comments."""
    key = ops_issue(services)
    tracker = tracker_of(services)
    tracker.add_comment(key, document(paragraph("Thanks, that works now.")))
    later(clock)
    assert watch_jira_once(services) == 0
    tracker.add_comment(key, document(paragraph(
        "This is unacceptable! Third time this week. I want a refund, escalating to your manager."
    )))  # fmt: skip
    later(clock)
    assert watch_jira_once(services) == 1
    (rec,) = pending(services)
    assert rec.severity == "sev1"
    assert any("unacceptable" in reason for reason in rec.reasons)
