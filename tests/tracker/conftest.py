"""Trackers for the shared contract tests: the fake and the Jira adapter on both dialects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.conftest import checked_sandbox
from worker.clock import FrozenClock
from worker.retry import RetryPolicy
from worker.sandbox import Dialect, RunningSandbox
from worker.sandbox.state import USERS
from worker.tracker.base import Tracker
from worker.tracker.fake import FakeTracker
from worker.tracker.jira import JiraTracker

DIALECTS: tuple[Dialect, ...] = ("cloud", "datacenter")


def no_sleep_retry(clock: FrozenClock, waits: list[float] | None = None) -> RetryPolicy:
    """A retry policy that records its waits instead of sleeping."""
    record = waits if waits is not None else []
    return RetryPolicy(sleep=record.append, clock=clock)


def jira_tracker(
    sandbox: RunningSandbox, clock: FrozenClock, waits: list[float] | None = None
) -> JiraTracker:
    """The adapter on a sandbox, dialect detected from serverInfo, waits recorded not slept."""
    return JiraTracker.connect(
        sandbox.url,
        timeouts=(2.0, 5.0),
        retry=no_sleep_retry(clock, waits),
        clock=clock,
        **sandbox.credentials,
    )


def user_id(tracker: Tracker | RunningSandbox, name: str) -> str:
    """A sandbox user as the dialect names it: accountId on Cloud, the name elsewhere."""
    if str(tracker.dialect) == "cloud":
        return next(u.account_id for u in USERS if u.name == name)
    return name


@pytest.fixture(params=DIALECTS)
def sandbox(request: pytest.FixtureRequest, clock: FrozenClock) -> Iterator[RunningSandbox]:
    """A sandbox of each dialect on the test's clock, held to Atlassian's specs."""
    with checked_sandbox(request.param, clock=clock) as running:
        yield running


@pytest.fixture(
    params=["fake", *(pytest.param(d, marks=pytest.mark.integration) for d in DIALECTS)]
)
def tracker(request: pytest.FixtureRequest, clock: FrozenClock) -> Iterator[Tracker]:
    """Every Tracker implementation in turn: the same tests hold for all of them."""
    if request.param == "fake":
        yield FakeTracker(clock)
        return
    with checked_sandbox(request.param, clock=clock) as running:
        yield jira_tracker(running, clock)
