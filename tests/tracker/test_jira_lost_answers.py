"""Writes whose answer is lost, against the sandbox in both dialects: nothing is done twice.

The sandbox's latency fault answers after the client's read timeout, having done
the work; its dropped connection gives no answer and does nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.sandbox.conftest import checked_sandbox
from tests.tracker.conftest import DIALECTS, jira_tracker
from worker.clock import FrozenClock
from worker.domain.document import document, paragraph
from worker.domain.issue import NewIssue, StatusCategory
from worker.retry import RetryPolicy
from worker.sandbox import RunningSandbox
from worker.tracker.jira import JiraTracker

#: Shorter than the injected latency, so the answer comes after the client gave up.
READ_TIMEOUT = 0.5
LATENCY = 1.5


@pytest.fixture(params=DIALECTS)
def sandbox(request: pytest.FixtureRequest, clock: FrozenClock) -> Iterator[RunningSandbox]:
    with checked_sandbox(request.param, clock=clock) as running:
        yield running


def until(condition: Callable[[], bool], within: float = 10.0) -> Callable[[float], None]:
    """A retry wait that returns once ``condition`` holds: the lost call has landed."""

    def wait(_seconds: float) -> None:
        deadline = time.monotonic() + within
        while not condition():
            assert time.monotonic() < deadline, "the delayed call never landed"
            time.sleep(0.02)

    return wait


def impatient_tracker(
    sandbox: RunningSandbox, clock: FrozenClock, wait: Callable[[float], None]
) -> JiraTracker:
    return JiraTracker.connect(
        sandbox.url,
        timeouts=(2.0, READ_TIMEOUT),
        retry=RetryPolicy(sleep=wait, clock=clock),
        clock=clock,
        **sandbox.credentials,
    )


def transitions_endpoint(sandbox: RunningSandbox) -> str:
    version = "3" if sandbox.dialect == "cloud" else "2"
    return f"POST /rest/api/{version}/issue/{{issueIdOrKey}}/transitions"


def test_a_transition_whose_answer_came_too_late_is_not_sent_again(
    sandbox: RunningSandbox, clock: FrozenClock
) -> None:
    """Jira moved the issue but answered after the timeout: the status is read, not re-sent."""
    reader = jira_tracker(sandbox, clock)
    key = reader.create_issue(NewIssue("SUP", "Task", "Follow-up", document(paragraph("x")))).key
    done = until(lambda: reader.get_issue(key).status_category is StatusCategory.DONE)
    tracker = impatient_tracker(sandbox, clock, done)
    sandbox.faults.latency(LATENCY, transitions_endpoint(sandbox))
    sandbox.reset_calls()
    assert tracker.transition(key, StatusCategory.DONE)
    assert reader.get_issue(key).status_category is StatusCategory.DONE
    assert sandbox.calls[transitions_endpoint(sandbox)] == 1


def test_a_transition_dropped_before_jira_acted_is_sent_again(
    sandbox: RunningSandbox, clock: FrozenClock
) -> None:
    """No answer and nothing done: the status read shows it, and the transition is sent again."""
    waits: list[float] = []
    tracker = impatient_tracker(sandbox, clock, waits.append)
    key = tracker.create_issue(NewIssue("SUP", "Task", "Follow-up", document(paragraph("x")))).key
    sandbox.faults.drop_connection(transitions_endpoint(sandbox))
    sandbox.reset_calls()
    assert tracker.transition(key, "Waiting for customer")
    assert tracker.get_issue(key).status == "Waiting for customer"
    assert sandbox.calls[transitions_endpoint(sandbox)] == 2
    assert len(waits) == 1
