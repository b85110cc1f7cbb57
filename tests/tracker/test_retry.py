"""The retry policy: what is retried, how long it waits, when it gives up."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from email.utils import format_datetime

import pytest
from structlog.testing import capture_logs

from tests.tracker.conftest import jira_tracker
from worker.clock import FrozenClock
from worker.domain.document import document, paragraph
from worker.domain.issue import NewIssue
from worker.errors import (
    ConnectionFailed,
    Interrupted,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServerUnavailable,
)
from worker.retry import RetryPolicy, backoff, parse_retry_after
from worker.sandbox import RunningSandbox


class Flaky:
    """Fails with the given errors in turn, then returns "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def policy(clock: FrozenClock, waits: list[float], **kwargs: float) -> RetryPolicy:
    return RetryPolicy(sleep=waits.append, clock=clock, rng=random.Random(1), **kwargs)  # type: ignore[arg-type]


def test_waits_follow_retry_after_seconds(clock: FrozenClock) -> None:
    """A 429 asking for 7 s and then 3 s is retried after exactly those waits."""
    waits: list[float] = []
    action = Flaky(RateLimited("slow", retry_after=7), RateLimited("slow", retry_after=3))
    assert policy(clock, waits).call(action) == "done"
    assert waits == [7.0, 3.0]
    assert action.calls == 3


def test_retry_after_as_http_date_is_read_against_the_clock(clock: FrozenClock) -> None:
    """An HTTP-date Retry-After 30 s after the clock's now means a 30 s wait."""
    header = format_datetime(clock.now() + timedelta(seconds=30), usegmt=True)
    waits: list[float] = []
    retry = policy(clock, waits)
    action = Flaky(RateLimited("slow", retry_after=retry.retry_after(header)))
    retry.call(action)
    assert waits == [30.0]


def test_parse_retry_after_forms(clock: FrozenClock) -> None:
    """Seconds, dates in the past, and garbage are read as 12, 0 and None."""
    now = clock.now()
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after(format_datetime(now - timedelta(minutes=1), usegmt=True), now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_a_retry_after_past_the_cap_is_raised_at_once(clock: FrozenClock) -> None:
    """Asked for an hour, the policy does not ask again after its cap: the error goes up as is."""
    waits: list[float] = []
    action = Flaky(RateLimited("x", retry_after=3600))
    with pytest.raises(RateLimited) as raised:
        policy(clock, waits, max_wait=20).call(action)
    assert raised.value.retry_after == 3600
    assert action.calls == 1
    assert waits == []


def test_a_retry_after_at_the_cap_is_waited(clock: FrozenClock) -> None:
    """A Retry-After no longer than the cap is waited in full, then the call is tried again."""
    waits: list[float] = []
    action = Flaky(RateLimited("x", retry_after=20))
    assert policy(clock, waits, max_wait=20).call(action) == "done"
    assert waits == [20.0]


@pytest.mark.integration
def test_jira_asking_for_five_minutes_gets_one_request_and_the_error(
    sandbox: RunningSandbox, clock: FrozenClock
) -> None:
    """A 429 with Retry-After: 300 on a create: no retry a minute later; the caller gets 300 s."""
    waits: list[float] = []
    tracker = jira_tracker(sandbox, clock, waits)
    endpoint = f"POST /rest/api/{'3' if sandbox.dialect == 'cloud' else '2'}/issue"
    sandbox.faults.rate_limit(300, endpoint, times=None)
    with pytest.raises(RateLimited) as raised:
        tracker.create_issue(NewIssue("SUP", "Task", "Export broken", document(paragraph("x"))))
    assert raised.value.retry_after == 300
    assert sandbox.calls[endpoint] == 1
    assert waits == []


def test_backoff_without_retry_after_grows_and_is_capped() -> None:
    """Without Retry-After the wait doubles per attempt, jittered, never past the cap."""
    rng = random.Random(3)
    assert 0.25 <= backoff(1, 0.5, 10, rng) <= 0.5
    assert 2.0 <= backoff(4, 0.5, 10, rng) <= 4.0
    assert 5.0 <= backoff(12, 0.5, 10, rng) <= 10.0


def test_gives_up_after_the_attempt_limit(clock: FrozenClock) -> None:
    """After the last attempt the last transient error is raised as it was."""
    waits: list[float] = []
    action = Flaky(*[ServerUnavailable(f"503 #{i}") for i in range(5)])
    with pytest.raises(ServerUnavailable, match="503 #2"):
        policy(clock, waits, attempts=3).call(action)
    assert action.calls == 3
    assert len(waits) == 2


@pytest.mark.parametrize(
    "error", [RequestRejected("bad"), OutcomeUnknown("maybe"), ValueError("bug")]
)
def test_permanent_and_unknown_outcomes_are_not_retried(
    clock: FrozenClock, error: Exception
) -> None:
    """Permanent errors, unknown outcomes and bugs go straight to the caller."""
    waits: list[float] = []
    action = Flaky(error)
    with pytest.raises(type(error)):
        policy(clock, waits).call(action)
    assert action.calls == 1
    assert waits == []


def test_each_retry_is_logged(clock: FrozenClock) -> None:
    """Every retry logs retry.scheduled with the attempt, the wait and the error's name."""
    waits: list[float] = []
    with capture_logs() as logs:
        policy(clock, waits).call(Flaky(ConnectionFailed("reset"), RateLimited("x", retry_after=2)))
    events = [e for e in logs if e["event"] == "retry.scheduled"]
    assert [(e["attempt"], e["error"]) for e in events] == [
        (1, "ConnectionFailed"),
        (2, "RateLimited"),
    ]
    assert events[1]["wait"] == 2.0


class Landing:
    """A write's state on the server: ``landed`` answers whether it went through."""

    def __init__(self) -> None:
        self.looks = 0
        self.done = False

    def landed(self) -> bool:
        self.looks += 1
        return self.done


def test_a_write_whose_answer_was_lost_is_looked_for_not_sent_again(clock: FrozenClock) -> None:
    """The first attempt went through but its answer was lost: one look, no second send."""
    waits: list[float] = []
    server = Landing()

    sent: list[str] = []

    def send() -> None:
        sent.append("transition")
        server.done = True
        raise OutcomeUnknown("connection dropped after sending")

    policy(clock, waits).call_unless_landed(send, server.landed)
    assert sent == ["transition"]
    assert server.looks == 1
    assert len(waits) == 1  # a slow first attempt gets time to land before the look


def test_a_write_that_did_not_land_is_sent_again_after_the_look(clock: FrozenClock) -> None:
    """No answer and nothing done: the look says so, and the write goes out again."""
    waits: list[float] = []
    server = Landing()
    action = Flaky(OutcomeUnknown("dropped before the server acted"))
    policy(clock, waits).call_unless_landed(action, server.landed)
    assert action.calls == 2
    assert server.looks == 1


def test_a_refusal_after_a_lost_answer_counts_when_the_write_landed(clock: FrozenClock) -> None:
    """The server refuses to repeat what already went through; the look turns that into done."""
    waits: list[float] = []
    server = Landing()
    action = Flaky(OutcomeUnknown("timeout"), RequestRejected("transition not available"))

    def landed() -> bool:
        # Still on its way at the first look; there by the time the repeat is refused.
        server.done = server.looks >= 1
        return server.landed()

    policy(clock, waits).call_unless_landed(action, landed)
    assert action.calls == 2
    assert server.looks == 2


def test_a_refusal_without_a_lost_answer_is_raised(clock: FrozenClock) -> None:
    """A first-time refusal is the caller's to handle: nothing is looked for."""
    waits: list[float] = []
    server = Landing()
    with pytest.raises(RequestRejected):
        policy(clock, waits).call_unless_landed(Flaky(RequestRejected("bad")), server.landed)
    assert server.looks == 0


def test_lost_answers_give_up_after_the_attempt_limit(clock: FrozenClock) -> None:
    """Every answer lost and nothing found: the last OutcomeUnknown is raised."""
    waits: list[float] = []
    server = Landing()
    action = Flaky(*[OutcomeUnknown(f"lost #{i}") for i in range(5)])
    with pytest.raises(OutcomeUnknown, match="lost #2"):
        policy(clock, waits, attempts=3).call_unless_landed(action, server.landed)
    assert action.calls == 3
    assert server.looks == 2


class StopDuring:
    """A shutdown event that is set by the first wait on it, as a SIGTERM during it would."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.waits: list[float] = []
        self.event.wait = self._wait  # type: ignore[method-assign]

    def _wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        self.event.set()
        return True


def test_a_stop_during_the_wait_ends_the_call_without_another_attempt(
    clock: FrozenClock,
) -> None:
    """Asked to stop while waiting out a 30 s Retry-After: Interrupted, chained to the 429."""
    stop = StopDuring()
    retry = RetryPolicy(clock=clock, stopping=stop.event)
    action = Flaky(RateLimited("slow", retry_after=30))
    with pytest.raises(Interrupted) as raised:
        retry.call(action)
    assert action.calls == 1
    assert stop.waits == [30.0]
    assert isinstance(raised.value.__cause__, RateLimited)


def test_without_a_stop_the_event_only_paces_the_retries(clock: FrozenClock) -> None:
    """The shutdown event unset: the waits run on it and the call is retried to success."""
    stop = threading.Event()
    retry = RetryPolicy(clock=clock, stopping=stop, base_wait=0.001, max_wait=0.002)
    action = Flaky(ServerUnavailable("503"), ConnectionFailed("reset"))
    assert retry.call(action) == "done"
    assert action.calls == 3


def test_a_stop_after_a_lost_answer_does_not_look_or_send_again(clock: FrozenClock) -> None:
    """OutcomeUnknown, then a stop during the wait: neither `landed` nor the write again."""
    stop = StopDuring()
    retry = RetryPolicy(clock=clock, stopping=stop.event)
    action = Flaky(OutcomeUnknown("read timed out"))
    looked: list[bool] = []

    def landed() -> bool:
        looked.append(True)
        return False

    with pytest.raises(Interrupted):
        retry.call_unless_landed(action, landed)
    assert action.calls == 1
    assert looked == []
