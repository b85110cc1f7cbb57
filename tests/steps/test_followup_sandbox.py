"""The follow-up lifecycle with the real Jira adapter against the sandbox, in both dialects."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from tests.support.builders import make_services, open_with_subtasks
from tests.tracker.conftest import jira_tracker, user_id
from worker.clock import FrozenClock
from worker.domain.document import Heading, document, paragraph
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.followup import DONE
from worker.domain.issue import Issue, StatusCategory
from worker.domain.recovery import CLOSED, Recovery
from worker.errors import Deferred, OutcomeUnknown, RateLimited
from worker.sandbox import RunningSandbox
from worker.settings import FollowupSettings
from worker.steps import Services
from worker.steps.followup import check_followups_once, plan_followups_once
from worker.steps.priorities import raise_priorities_once
from worker.store import Store, events, recoveries
from worker.store import followups as fstore
from worker.tracker.jira import JiraTracker
from worker.tracker.jql import all_of, eq

pytestmark = pytest.mark.integration


#: The HAVE subtask's analysis as the team writes it in Jira: under headings.
ANALYSIS = document(
    Heading("Root-cause analysis"),
    paragraph("But-for cause: the export ran twice after a restart"),
    paragraph("Systemic cause: nothing stops two runs of one job"),
    paragraph("Fix: duplicates cancelled and refunded"),
    Heading("Remediation"),
    paragraph("A lock around the export job"),
)


@pytest.fixture
def tracker(sandbox: RunningSandbox, clock: FrozenClock) -> JiraTracker:
    """The real Jira adapter on the sandbox; the shared ``services`` fixture uses it."""
    return jira_tracker(sandbox, clock)


def open_in_jira(services: Services, owner: str) -> Recovery:
    """A recovery opened in Jira, its client text full of markup, its analysis under headings."""
    return open_with_subtasks(
        services,
        have=ANALYSIS,
        owner=owner,
        source="invoice",
        summary='Invoices sent twice {code} [~admin] || "quoted"',
        excerpt="We were billed twice.\nThird time this year!",
    )


def move(services: Services, tracker: JiraTracker, recovery: Recovery, done: bool) -> datetime:
    """Resolve or reopen the ticket in Jira and record the event as the Jira sync does."""
    key = recovery.jira_key or ""
    target = StatusCategory.DONE if done else StatusCategory.IN_PROGRESS
    assert tracker.transition(key, target)
    issue = tracker.get_issue(key)
    at = issue.resolved_at if done else issue.updated_at
    assert at is not None
    kind = EventKind.RESOLVED if done else EventKind.REOPENED
    with services.store.transaction() as conn:
        events.record(conn, RecoveryEvent(recovery.id, kind, at, f"jira:{key}#{kind}@{at}"), at)
    return at


def lose_answer_once(
    monkeypatch: pytest.MonkeyPatch,
    tracker: JiraTracker,
    method: str,
    *,
    landed: bool = True,
    on: str | None = None,
) -> None:
    """The next call of ``method`` (on issue ``on`` when given) gets no answer; with ``landed``
    Jira did the work first."""
    real = getattr(tracker, method)

    def lost(first: object, *rest: object) -> object:
        if on is not None and first != on:
            return real(first, *rest)
        if landed:
            real(first, *rest)
        monkeypatch.setattr(tracker, method, real)
        raise OutcomeUnknown("read timed out")

    monkeypatch.setattr(tracker, method, lost)


def test_followup_lifecycle_in_jira(
    services: Services,
    tracker: JiraTracker,
    sandbox: RunningSandbox,
    clock: FrozenClock,
    store: Store,
) -> None:
    """Resolve: one follow-up due in 30 days, linked; reopen: on hold; twice: severity up; done."""
    owner = user_id(tracker, "alice")
    recovery = open_in_jira(services, owner)
    key = recovery.jira_key or ""

    resolved_at = move(services, tracker, recovery, done=True)
    assert plan_followups_once(services) == 1
    assert plan_followups_once(services) == 0
    found = list(tracker.search(all_of(eq("project", "SUP"), eq("labels", "recovery-followup"))))
    assert len(found) == 1
    followup = tracker.get_issue(found[0].key)
    assert followup.due == (resolved_at + timedelta(days=30)).date()
    assert followup.assignee == owner
    assert "A lock around the export job" in followup.description
    assert 'Invoices sent twice {code} [~admin] || "quoted"' in followup.description
    assert [(link["inward"], link["outward"]) for link in sandbox.state.links] == [
        (key, followup.key)
    ]
    assert tracker.comments(key) == []  # the root cause is written down: nothing to flag

    clock.advance(timedelta(days=1))
    move(services, tracker, recovery, done=False)
    plan_followups_once(services)
    assert "followup-on-hold" in tracker.get_issue(followup.key).labels
    assert "on hold" in tracker.comments(followup.key)[0].body

    clock.advance(timedelta(days=1))
    second = move(services, tracker, recovery, done=True)
    plan_followups_once(services)
    resumed = tracker.get_issue(followup.key)
    assert "followup-on-hold" not in resumed.labels
    assert resumed.due == (second + timedelta(days=30)).date()

    clock.advance(timedelta(days=1))
    move(services, tracker, recovery, done=False)
    plan_followups_once(services)
    with store.transaction() as conn:
        now = recoveries.get(conn, recovery.id)
    assert now is not None
    assert (now.reopen_count, now.severity) == (2, "sev1")
    assert raise_priorities_once(services) == 1
    assert tracker.get_issue(key).priority == "Highest"

    clock.advance(timedelta(days=1))
    move(services, tracker, recovery, done=True)
    plan_followups_once(services)
    assert check_followups_once(services) == 0
    assert tracker.transition(followup.key, StatusCategory.DONE)
    clock.advance(services.settings.followup.check_every)
    assert check_followups_once(services) == 1
    with store.transaction() as conn:
        closed = recoveries.get(conn, recovery.id)
        row = fstore.get(conn, recovery.id)
    assert closed is not None
    assert closed.state == CLOSED
    assert row is not None
    assert row.state == DONE
    assert row.done_at is not None
    assert row.done_at.date() <= row.due
    # the ticket, its three subtasks and one follow-up: nothing created twice
    assert sandbox.calls[f"POST /rest/api/{_version(sandbox)}/issue"] == 5


def test_missing_root_cause_comment_renders_in_jira(
    services: Services, tracker: JiraTracker, sandbox: RunningSandbox
) -> None:
    """The root-cause comment mentions the owner and lists the gaps, in the dialect's rich text."""
    owner = user_id(tracker, "alice")
    recovery = open_in_jira(services, owner)
    key = recovery.jira_key or ""
    have_key = tracker.get_issue(key).subtasks[1]
    # An empty analysis: the HAVE subtask lost its text.
    sandbox.state.issues[have_key]["description"] = None
    move(services, tracker, recovery, done=True)
    plan_followups_once(services)
    (comment,) = tracker.comments(key)
    assert "without its root cause written down" in comment.body
    assert "systemic cause" in comment.body


def _version(sandbox: RunningSandbox) -> str:
    return "3" if str(sandbox.dialect) == "cloud" else "2"


def test_cancel_on_reopen_and_overdue_in_jira(
    tracker: JiraTracker, sandbox: RunningSandbox, clock: FrozenClock, store: Store
) -> None:
    """Cancel mode closes the task and plans a new one; an overdue one: a reminder, breach label."""
    services = make_services(store, clock, tracker, followup=FollowupSettings(on_reopen="cancel"))
    recovery = open_in_jira(services, user_id(tracker, "alice"))
    key = recovery.jira_key or ""

    move(services, tracker, recovery, done=True)
    plan_followups_once(services)
    clock.advance(timedelta(hours=2))
    move(services, tracker, recovery, done=False)
    plan_followups_once(services)
    (first,) = tracker.search(all_of(eq("project", "SUP"), eq("labels", "recovery-followup")))
    assert first.status_category == StatusCategory.DONE
    assert "cancelled" in tracker.comments(first.key)[0].body

    clock.advance(timedelta(hours=2))
    move(services, tracker, recovery, done=True)
    plan_followups_once(services)
    tasks = list(tracker.search(all_of(eq("project", "SUP"), eq("labels", "recovery-followup"))))
    (second,) = [t for t in tasks if t.key != first.key]
    assert second.status_category == StatusCategory.TODO
    assert sorted(link["outward"] for link in sandbox.state.links) == sorted(
        [first.key, second.key]
    )
    assert {link["inward"] for link in sandbox.state.links} == {key}

    clock.advance(timedelta(days=32))
    assert check_followups_once(services) == 1
    assert check_followups_once(services) == 0
    (reminder,) = tracker.comments(second.key)
    assert "day(s) late" in reminder.body
    assert "sla-breached" in tracker.get_issue(key).labels


def test_lost_create_is_not_repeated_while_search_lags(
    services: Services,
    tracker: JiraTracker,
    sandbox: RunningSandbox,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The task was made but its answer lost; search misses it for 20 s: still one task."""
    recovery = open_in_jira(services, user_id(tracker, "alice"))
    move(services, tracker, recovery, done=True)
    (task,) = tasks_after_a_create_lost_while_search_lags(services, sandbox, monkeypatch, clock)
    assert [link["outward"] for link in sandbox.state.links] == [task.key]


def tasks_after_a_create_lost_while_search_lags(
    services: Services, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch, clock: FrozenClock
) -> list[Issue]:
    """A follow-up made with its answer lost, search missing it for 20 s; the tasks in Jira."""
    assert isinstance(services.tracker, JiraTracker)
    sandbox.faults.search_lag(seconds=20)
    lose_answer_once(monkeypatch, services.tracker, "create_issue")
    with pytest.raises(OutcomeUnknown):
        plan_followups_once(services)
    clock.advance(timedelta(seconds=5))
    with pytest.raises(Deferred):
        plan_followups_once(services)  # not in search yet: waits instead of creating again
    clock.advance(services.settings.jira.visibility_window)
    assert plan_followups_once(services) == 1
    query = all_of(eq("project", "SUP"), eq("labels", "recovery-followup"))
    return list(services.tracker.search(query))


def test_a_create_lost_an_hour_after_a_refused_one_waits_for_search(
    services: Services,
    tracker: JiraTracker,
    sandbox: RunningSandbox,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Refused by a 429, then made an hour later with its answer lost: the search lag runs from
    that create, so a look 5 s after it does not create a second task."""
    recovery = open_in_jira(services, user_id(tracker, "alice"))
    move(services, tracker, recovery, done=True)
    sandbox.faults.rate_limit(1, f"POST /rest/api/{_version(sandbox)}/issue", times=5)
    with pytest.raises(RateLimited):
        plan_followups_once(services)  # every try refused: nothing made

    clock.advance(timedelta(hours=1))
    assert (
        len(tasks_after_a_create_lost_while_search_lags(services, sandbox, monkeypatch, clock)) == 1
    )


def test_an_overdue_comment_whose_answer_was_lost_before_midnight_is_not_repeated(
    services: Services,
    tracker: JiraTracker,
    clock: FrozenClock,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The comment says how many days late; the retry after midnight says one more, and still
    finds the first one by its marker."""
    recovery = open_in_jira(services, user_id(tracker, "alice"))
    move(services, tracker, recovery, done=True)
    plan_followups_once(services)
    with store.transaction() as conn:
        row = fstore.get(conn, recovery.id)
    assert row is not None
    assert row.jira_key is not None
    late = datetime.combine(row.due + timedelta(days=3), time(23, 59, 50), tzinfo=UTC)
    clock.advance(late - clock.now())

    lose_answer_once(monkeypatch, tracker, "add_comment")
    with pytest.raises(OutcomeUnknown):
        check_followups_once(services)
    clock.advance(timedelta(seconds=30))  # the next check is on the next day
    assert check_followups_once(services) == 1
    (comment,) = tracker.comments(row.jira_key)
    assert "3 day(s) late" in comment.body


def test_a_second_root_cause_comment_on_the_same_day_is_not_taken_for_the_first(
    services: Services,
    tracker: JiraTracker,
    sandbox: RunningSandbox,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Resolved twice in a day without a root cause: the second comment, whose first try never
    reached Jira, is written on the retry although the first one reads the same."""
    recovery = open_in_jira(services, user_id(tracker, "alice"))
    key = recovery.jira_key or ""
    sandbox.state.issues[tracker.get_issue(key).subtasks[1]]["description"] = None
    move(services, tracker, recovery, done=True)
    plan_followups_once(services)
    clock.advance(timedelta(hours=1))
    move(services, tracker, recovery, done=False)
    plan_followups_once(services)
    clock.advance(timedelta(hours=1))
    move(services, tracker, recovery, done=True)

    lose_answer_once(monkeypatch, tracker, "add_comment", landed=False, on=key)
    with pytest.raises(OutcomeUnknown):
        plan_followups_once(services)
    clock.advance(services.settings.jira.visibility_window)
    plan_followups_once(services)
    flagged = [c for c in tracker.comments(key) if "without its root cause" in c.body]
    assert len(flagged) == 2
