"""Reconnecting with jittered exponential backoff: never a busy loop while the server is away."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.dovecot import Dovecot, make_message
from worker.clock import FrozenClock
from worker.errors import ConnectionFailed
from worker.mail.imap import Backoff, ImapInbox

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class VirtualSleep:
    """A sleep that moves a frozen clock instead of waiting."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))


def test_backoff_waits_grow_with_jitter_and_stop_at_the_cap() -> None:
    """Each failure doubles the ceiling of a random wait, up to the cap."""
    clock = FrozenClock(START)
    backoff = Backoff(clock, cap=timedelta(seconds=60), rand=random.Random(7).random)

    delays = [backoff.failed().total_seconds() for _ in range(12)]

    for failures, delay in enumerate(delays, 1):
        ceiling = min(60.0, 2.0 ** (failures - 1))
        assert 0.1 * ceiling <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jittered, so replicas do not stampede together
    assert backoff.remaining() == delays[-1]


def test_backoff_counts_down_with_the_clock() -> None:
    """The wait left shrinks as time passes and is gone after a success."""
    clock = FrozenClock(START)
    backoff = Backoff(clock, rand=lambda: 1.0)
    for _ in range(4):
        backoff.failed()  # next attempt 8 s from now

    clock.advance(timedelta(seconds=5))
    assert backoff.remaining() == 3.0
    clock.advance(timedelta(seconds=5))
    assert backoff.remaining() == 0.0
    backoff.failed()
    backoff.succeeded()
    assert backoff.remaining() == 0.0


def test_steps_are_refused_until_the_backoff_ends(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A loop that honours retry_after makes a dozen attempts in ten minutes, not thousands."""
    clock = FrozenClock(START)
    inbox = make_inbox({"clock": clock, "rand": random.Random(3).random})
    inbox.select("INBOX")
    dovecot.kill()

    waits: list[float] = []
    while clock.now() - START < timedelta(minutes=10):
        with pytest.raises(ConnectionFailed) as raised:
            inbox.fetch_since("INBOX", 0, limit=10)
        # What the supervisor does with a transient failure: wait at least retry_after.
        wait = raised.value.retry_after or 0.0
        waits.append(wait)
        clock.advance(timedelta(seconds=wait))

    attempts = inbox.backoff.failures
    assert attempts <= 15
    assert waits.count(0.0) == 1  # the dead connection; every later refusal names its wait
    assert max(waits) <= 300.0
    assert waits[-1] > 20 * max(w for w in waits[:4] if w > 0)

    dovecot.start()
    clock.advance(timedelta(seconds=inbox.backoff.remaining()))
    uid = dovecot.append(make_message("Back again"))
    assert [m.uid for m in inbox.fetch_since("INBOX", 0, limit=10)] == [uid]
    assert inbox.backoff.failures == 0


def test_waiting_while_the_server_is_away_sleeps_instead_of_spinning(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """wait_for_activity sleeps out the backoff, never longer than its timeout."""
    clock = FrozenClock(START)
    sleep = VirtualSleep(clock)
    inbox = make_inbox({"clock": clock, "sleep": sleep, "rand": random.Random(5).random})
    inbox.select("INBOX")
    dovecot.kill()

    calls = failures = 0
    while clock.now() - START < timedelta(minutes=10):
        calls += 1
        try:
            assert inbox.wait_for_activity("INBOX", 5.0) is False
        except ConnectionFailed:
            failures += 1

    assert failures == inbox.backoff.failures + 1 <= 16
    assert max(sleep.calls) <= 5.0
    assert sum(sleep.calls) >= 590  # ten virtual minutes were slept, not spun through
    assert calls <= 600 / 5 + failures + 1


def test_refused_connection_is_a_connection_failure(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """Nothing listening on the port raises ConnectionFailed naming the host."""
    dovecot.kill()
    inbox = make_inbox()

    with pytest.raises(ConnectionFailed, match=r"127\.0\.0\.1"):
        inbox.connect()
    assert inbox.backoff.failures == 1
