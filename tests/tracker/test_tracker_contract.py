"""What every Tracker does, run against the fake and the Jira adapter on both sandbox dialects."""

from __future__ import annotations

from datetime import date

import pytest

from tests.tracker.conftest import user_id
from worker.domain.document import Quote, document, paragraph
from worker.domain.issue import CreateFailed, IssueRef, NewIssue, StatusCategory
from worker.errors import NotFound, RequestRejected
from worker.tracker import jql
from worker.tracker.base import Tracker


def new(summary: str = "Export failed again", **fields: object) -> NewIssue:
    values: dict[str, object] = {
        "project": "SUP",
        "issue_type": "Task",
        "summary": summary,
        "description": document(paragraph("The nightly export failed."), Quote("angry\nmail")),
    }
    values.update(fields)
    return NewIssue(**values)  # type: ignore[arg-type]


def test_create_then_read_back(tracker: Tracker) -> None:
    """A created issue reads back with its summary, labels, priority, assignee and text."""
    alice = user_id(tracker, "alice")
    ref = tracker.create_issue(new(labels=("recovery", "rw-1"), priority="High", assignee=alice))
    issue = tracker.get_issue(ref.key)
    assert (issue.key, issue.id) == (ref.key, ref.id)
    assert issue.summary == "Export failed again"
    assert issue.labels == ("recovery", "rw-1")
    assert issue.priority == "High"
    assert issue.assignee == alice
    assert issue.status_category == StatusCategory.TODO
    assert "The nightly export failed." in issue.description
    assert "angry" in issue.description


def test_subtasks_in_one_bulk_call_report_each_item(tracker: Tracker) -> None:
    """A bulk create gives results in order; a refused item names its index and reasons."""
    parent = tracker.create_issue(new())
    subtask = tracker.subtask_issue_type("SUP")
    results = tracker.create_issues(
        [
            new("KNOW", issue_type=subtask, parent=parent.key),
            new("HAVE", issue_type=subtask, parent=parent.key),
            new("broken", project="NOPE", issue_type=subtask, parent=parent.key),
            new("DO", issue_type=subtask, parent=parent.key),
        ]
    )
    assert [type(r) for r in results] == [IssueRef, IssueRef, CreateFailed, IssueRef]
    failed = results[2]
    assert isinstance(failed, CreateFailed)
    assert failed.index == 2
    assert "project" in failed.errors
    created = [r.key for r in results if isinstance(r, IssueRef)]
    assert tracker.get_issue(parent.key).subtasks == tuple(created)
    assert tracker.get_issue(created[0]).parent == parent.key


def test_find_by_label_finds_only_that_label(tracker: Tracker) -> None:
    """find_by_label returns the issues of the project carrying the label, none other."""
    wanted = tracker.create_issue(new(labels=("rw-abc",)))
    tracker.create_issue(new(labels=("rw-abd",)))
    tracker.create_issue(new(project="OPS", labels=("rw-abc",)))
    assert [i.key for i in tracker.find_by_label("SUP", "rw-abc")] == [wanted.key]
    assert tracker.find_by_label("SUP", "rw-none") == []


def test_search_with_a_hostile_label_value(tracker: Tracker) -> None:
    """A label value with quotes and keywords is matched literally, not as JQL."""
    hostile = 'x"OR"project'
    tracker.create_issue(new(labels=(hostile,)))
    tracker.create_issue(new(labels=("other",)))
    query = jql.all_of(jql.eq("project", "SUP"), jql.eq("labels", hostile))
    assert [i.labels for i in tracker.search(query)] == [(hostile,)]


def test_comments(tracker: Tracker) -> None:
    """A comment added reads back with its text, in order."""
    ref = tracker.create_issue(new())
    first = tracker.add_comment(ref.key, document(paragraph("first {code}")))
    tracker.add_comment(ref.key, document(paragraph("second")))
    comments = tracker.comments(ref.key)
    assert next(c.id for c in comments) == first.id
    assert [c.body for c in comments] == ["first {code}", "second"]
    assert all(c.issue_key == ref.key for c in comments)


def test_edits(tracker: Tracker) -> None:
    """Labels are added and removed, priority and due date set."""
    ref = tracker.create_issue(new(labels=("a",)))
    tracker.add_labels(ref.key, ["b", "c"])
    tracker.remove_labels(ref.key, ["a"])
    tracker.set_priority(ref.key, "Highest")
    tracker.set_due(ref.key, date(2026, 3, 4))
    issue = tracker.get_issue(ref.key)
    assert issue.labels == ("b", "c")
    assert issue.priority == "Highest"
    assert issue.due == date(2026, 3, 4)


def test_transitions(tracker: Tracker) -> None:
    """Moving into Done resolves the issue; a status no transition leads to answers False."""
    ref = tracker.create_issue(new())
    assert tracker.transition(ref.key, StatusCategory.DONE)
    issue = tracker.get_issue(ref.key)
    assert issue.status_category == StatusCategory.DONE
    assert issue.resolution == "Done"
    assert tracker.transition(ref.key, "Waiting for customer")
    assert tracker.get_issue(ref.key).resolution is None
    assert not tracker.transition(ref.key, "Nowhere")


def test_link_and_missing_issues(tracker: Tracker) -> None:
    """Linking existing issues works; a missing issue is NotFound."""
    a = tracker.create_issue(new())
    b = tracker.create_issue(new())
    tracker.link(a.key, b.key)
    with pytest.raises(NotFound):
        tracker.link(a.key, "SUP-999")
    with pytest.raises(NotFound):
        tracker.get_issue("SUP-999")


def test_invalid_create_is_rejected(tracker: Tracker) -> None:
    """A create Jira refuses is a RequestRejected naming the problem."""
    with pytest.raises(RequestRejected, match="project"):
        tracker.create_issue(new(project="NOPE"))


def test_check_lists_login_project_and_types(tracker: Tracker) -> None:
    """check passes for the sandbox project and flags an unknown project."""
    items = tracker.check("SUP", ["Task"])
    assert [i.name for i in items] == ["login", "project SUP", "issue type Task", "subtask type"]
    assert all(i.ok for i in items)
    bad = tracker.check("NOPE", ["Task"])
    assert not bad[-1].ok


def test_check_refuses_types_used_in_the_wrong_place(tracker: Tracker) -> None:
    """A subtask type as the ticket's type, or a standard type as the subtask type, fails."""
    items = {i.name: i.ok for i in tracker.check("SUP", ["Sub-task"], "Task")}
    assert items == {
        "login": True,
        "project SUP": True,
        "issue type Sub-task": False,
        "subtask type": False,
    }
    configured = tracker.check("SUP", ["Task"], "Sub-task")
    assert all(i.ok for i in configured)


def test_search_with_history_shows_priority_and_status_changes(tracker: Tracker) -> None:
    """Asked for history, a search returns each change with its old and new value."""
    ref = tracker.create_issue(new())
    tracker.set_priority(ref.key, "Highest")
    tracker.transition(ref.key, StatusCategory.DONE)
    tracker.transition(ref.key, "To Do")
    (issue,) = tracker.search(jql.eq("key", ref.key), history=True)
    changes = [(c.field, c.from_string, c.to_string) for c in issue.history]
    assert ("priority", "Medium", "Highest") in changes
    assert ("status", "Done", "To Do") in changes
    (plain,) = tracker.search(jql.eq("key", ref.key))
    assert plain.history == ()
