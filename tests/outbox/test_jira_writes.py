"""The outbox's Jira writes: an issue found again by its label, a comment by its marker, a
link that is harmless to repeat; each made once, whatever became of an earlier answer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from worker.clock import FrozenClock
from worker.domain.document import document, paragraph
from worker.domain.issue import NewIssue
from worker.errors import ConnectionFailed, OutcomeUnknown
from worker.outbox import Outbox, Unconfirmed, comment_marker, marker
from worker.store import Store
from worker.tracker.fake import FakeTracker

WINDOW = timedelta(seconds=90)


@pytest.fixture
def outbox(store: Store, clock: FrozenClock) -> Outbox:
    return Outbox(store, clock, window=WINDOW)


@pytest.fixture
def tracker(tracker: FakeTracker) -> FakeTracker:
    """The shared fake tracker, holding the recovery's issue SUP-1."""
    tracker.create_issue(NewIssue("SUP", "Task", "Invoices sent twice", document(paragraph("x"))))
    return tracker


def followup_task() -> NewIssue:
    return NewIssue(
        "SUP",
        "Task",
        "Follow-up call",
        document(paragraph("Call the client.")),
        labels=("recovery-followup", "rw-1-followup"),
    )


def test_a_lost_create_is_adopted_by_its_label(outbox: Outbox, tracker: FakeTracker) -> None:
    tracker.fail("create_issue", OutcomeUnknown("read timed out"), after=True)
    with pytest.raises(OutcomeUnknown):
        outbox.create_once("followup:1", tracker, followup_task(), label="rw-1-followup")
    adopted: list[str] = []
    key = outbox.create_once(
        "followup:1", tracker, followup_task(), label="rw-1-followup", found=adopted.append
    )
    assert adopted == [key]
    assert tracker.calls["create_issue"] == 2  # the recovery's, and the task's once
    assert outbox.done("followup:1") == key
    assert outbox.create_once("followup:1", tracker, followup_task(), label="rw-1-followup") == key


def test_a_lost_create_not_yet_found_waits_for_the_window(
    outbox: Outbox, tracker: FakeTracker, clock: FrozenClock
) -> None:
    tracker.fail("create_issue", OutcomeUnknown("read timed out"))
    with pytest.raises(OutcomeUnknown):
        outbox.create_once("followup:1", tracker, followup_task(), label="rw-1-followup")
    clock.advance(timedelta(seconds=10))
    with pytest.raises(Unconfirmed):
        outbox.create_once("followup:1", tracker, followup_task(), label="rw-1-followup")
    clock.advance(WINDOW)
    key = outbox.create_once("followup:1", tracker, followup_task(), label="rw-1-followup")
    assert [i.key for i in tracker.issues.values() if "rw-1-followup" in i.labels] == [key]


def test_a_comment_carries_its_marker_and_a_lost_answer_is_found_by_it(
    outbox: Outbox, tracker: FakeTracker
) -> None:
    body = document(paragraph("This follow-up is on hold."))
    tracker.fail("add_comment", OutcomeUnknown("connection dropped"), after=True)
    with pytest.raises(OutcomeUnknown):
        outbox.comment_once("followup-hold:1:7", tracker, "SUP-1", body)
    made = outbox.comment_once("followup-hold:1:7", tracker, "SUP-1", body)
    (comment,) = tracker.comments("SUP-1")
    assert comment.id == made
    assert comment.body.endswith(f"ref: {comment_marker('followup-hold:1:7')}")
    assert comment_marker("followup-hold:1:7") == marker("note", "followup-hold:1:7")


def test_a_comment_may_carry_a_token_of_its_own(outbox: Outbox, tracker: FakeTracker) -> None:
    token = marker("alert", "1:first_contact:0#breach")
    outbox.comment_once("alert:x", tracker, "SUP-1", document(paragraph("Late.")), token=token)
    outbox.comment_once("alert:x", tracker, "SUP-1", document(paragraph("Late.")), token=token)
    (comment,) = tracker.comments("SUP-1")
    assert comment.body.endswith(f"ref: {token}")


def test_a_link_is_made_once_and_linked_again_at_once_after_a_lost_answer(
    outbox: Outbox, tracker: FakeTracker
) -> None:
    task = tracker.create_issue(followup_task()).key
    tracker.fail("link", OutcomeUnknown("read timed out"), after=True)
    with pytest.raises(OutcomeUnknown):
        outbox.link_once("followup-link:1", tracker, "SUP-1", task, "Relates")
    # No search and no wait: Jira keeps one link per type between two issues.
    assert outbox.link_once("followup-link:1", tracker, "SUP-1", task, "Relates") == task
    assert outbox.link_once("followup-link:1", tracker, "SUP-1", task, "Relates") == task
    assert tracker.calls["link"] == 2


def test_a_refused_comment_is_made_at_once_on_the_next_attempt(
    outbox: Outbox, tracker: FakeTracker
) -> None:
    tracker.fail("add_comment", ConnectionFailed("refused"))
    with pytest.raises(ConnectionFailed):
        outbox.comment_once("root-cause:1:3", tracker, "SUP-1", document(paragraph("Missing.")))
    outbox.comment_once("root-cause:1:3", tracker, "SUP-1", document(paragraph("Missing.")))
    assert len(tracker.comments("SUP-1")) == 1
