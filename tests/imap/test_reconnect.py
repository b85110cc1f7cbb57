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
    sleep = VirtualSleep(clock)
    backoff = Backoff(clock, sleep, cap=timedelta(seconds=60), rand=random.Random(7).random)

    delays = [backoff.failed().total_seconds() for _ in range(12)]

    for failures, delay in enumerate(delays, 1):
        ceiling = min(60.0, 2.0 ** (failures - 1))
        assert 0.1 * ceiling <= delay <= ceiling
    assert len(set(delays)) == len(delays)  # jittered, so replicas do not stampede together
    assert max(delays) <= 60.0


def test_backoff_only_sleeps_what_is_left() -> None:
    """When the caller already waited part of the delay, only the rest is slept."""
    clock = FrozenClock(START)
    sleep = VirtualSleep(clock)
    backoff = Backoff(clock, sleep, rand=lambda: 1.0)
    for _ in range(4):
        backoff.failed()  # next attempt 8 s from now

    clock.advance(timedelta(seconds=5))
    backoff.wait()
    backoff.succeeded()
    backoff.wait()

    assert sleep.calls == [3.0]


def test_reconnects_are_spaced_out_while_the_server_is_away(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A caller retrying flat out for ten minutes makes a dozen attempts, not thousands."""
    clock = FrozenClock(START)
    sleep = VirtualSleep(clock)
    inbox = make_inbox({"clock": clock, "sleep": sleep, "rand": random.Random(3).random})
    inbox.select("INBOX")
    dovecot.kill()

    calls = 0
    while clock.now() - START < timedelta(minutes=10):
        with pytest.raises(ConnectionFailed):
            inbox.fetch_since("INBOX", 0, limit=10)
        calls += 1

    assert calls <= 15
    assert inbox.backoff.failures == calls - 1  # the first call found the old connection dead
    assert max(sleep.calls) <= 300.0
    assert sleep.calls[-1] > sleep.calls[0] * 20

    dovecot.start()
    uid = dovecot.append(make_message("Back again"))
    assert [m.uid for m in inbox.fetch_since("INBOX", 0, limit=10)] == [uid]
    assert inbox.backoff.failures == 0


def test_refused_connection_is_a_connection_failure(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """Nothing listening on the port raises ConnectionFailed naming the host."""
    dovecot.kill()
    inbox = make_inbox()

    with pytest.raises(ConnectionFailed, match=r"127\.0\.0\.1"):
        inbox.connect()
    assert inbox.backoff.failures == 1
