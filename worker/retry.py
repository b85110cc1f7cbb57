"""The one retry policy: transient failures are tried again, honouring Retry-After.

Only :class:`~worker.errors.TransientError` is retried, except
:class:`~worker.errors.OutcomeUnknown`: a write whose result is unknown must be
looked for before it is tried again (:meth:`RetryPolicy.call_unless_landed`, or the
caller's ledger for creates). Waits follow the
server's Retry-After when it gave one, else an exponential backoff with jitter
capped at ``max_wait``; the number of attempts is limited. A server that asks for a
longer wait than ``max_wait`` is not asked again early: its error is raised at once,
still carrying ``retry_after``, for the supervisor to wait out. A worker asked to stop
does not wait out a retry: the wait ends at once with :class:`~worker.errors.Interrupted`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity

from worker.clock import Clock, SystemClock
from worker.errors import Interrupted, OutcomeUnknown, RequestRejected, TransientError
from worker.logs import get_logger

T = TypeVar("T")

log = get_logger()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); None if unusable."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())


def backoff(
    attempt: int,
    base: float,
    cap: float,
    rng: random.Random | Callable[[], float],
    *,
    floor: float = 0.5,
) -> float:
    """Seconds to wait after ``attempt`` failures: exponential backoff with jitter, capped.

    The ceiling is ``base * 2**(attempt-1)``, at most ``cap``; the wait is drawn evenly
    between ``floor * ceiling`` and the ceiling. Before any failure there is no wait.

    ``floor`` exists because the callers have always drawn differently, and each keeps its
    waits: RetryPolicy from half the ceiling, the step loop and the IMAP reconnect from a
    tenth (see :func:`backoff_delay`). ``rng`` is a seeded Random (RetryPolicy) or a bare
    draw function (the loop and the inbox, whose tests pass ``lambda: 1.0``).
    """
    if attempt <= 0:
        return 0.0
    # Failures are counted for as long as an outage lasts; a bounded exponent cannot overflow,
    # and 2**30 times any base is far past any sensible cap.
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 30))
    draw = rng.random if isinstance(rng, random.Random) else rng
    low = ceiling * floor
    # random.uniform's arithmetic, so a seeded RetryPolicy waits to the bit what it always has.
    return low + (ceiling - low) * draw()


def backoff_delay(
    failures: int,
    *,
    base: timedelta = timedelta(seconds=1),
    cap: timedelta = timedelta(minutes=5),
    rand: Callable[[], float] = random.random,
) -> timedelta:
    """:func:`backoff` for the step loop and the IMAP reconnect, which count in timedeltas.

    The wait is never less than a tenth of the ceiling, so a dead server is not hammered by
    a zero draw.
    """
    seconds = backoff(failures, base.total_seconds(), cap.total_seconds(), rand, floor=0.1)
    return timedelta(seconds=seconds)


def pause(
    seconds: float,
    stopping: threading.Event | None,
    *,
    sleep: Callable[[float], object] = time.sleep,
    after: BaseException | None = None,
    why: str = "",
) -> None:
    """Wait ``seconds``; Interrupted at once when the worker is asked to stop meanwhile.

    Without a stop event (tests, one-shot commands) the wait is the injected ``sleep``.
    """
    if stopping is None:
        sleep(seconds)
        return
    if stopping.wait(seconds):  # at once when it is set already
        reason = f" after {type(after).__name__}" if after is not None else ""
        raise Interrupted(f"the worker is stopping{why}{reason}") from after


class CallBudget:
    """A pace for calls that can wait: ``per_minute`` on average, up to a minute's worth at
    once, and none while a server's Retry-After lasts. Time is passed in."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._tokens = float(per_minute)
        self._at: datetime | None = None
        self._held_until: datetime | None = None

    def available(self, now: datetime) -> int:
        """How many calls may be made now."""
        self._refill(now)
        if self._held_until is not None and now < self._held_until:
            return 0
        return int(self._tokens)

    def spend(self, now: datetime, calls: int) -> None:
        self._refill(now)
        self._tokens -= calls

    def hold(self, now: datetime, seconds: float) -> None:
        """No calls for ``seconds``: the server asked for a pause."""
        self._held_until = now + timedelta(seconds=seconds)

    def _refill(self, now: datetime) -> None:
        if self._at is not None:
            elapsed = max(0.0, (now - self._at).total_seconds())
            self._tokens = min(
                float(self.per_minute), self._tokens + elapsed * self.per_minute / 60
            )
        self._at = now


@dataclass
class RetryPolicy:
    """How transient failures are retried; ``sleep`` and ``rng`` are injectable for tests.

    With ``stopping`` (the worker's shutdown event) a wait ends when it is set, and the
    call is not tried again: a stop request is not held up by a server's backoff.
    """

    attempts: int = 5
    base_wait: float = 0.5
    max_wait: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Clock = field(default_factory=SystemClock)
    rng: random.Random = field(default_factory=random.Random)
    stopping: threading.Event | None = None

    def retry_after(self, header: str | None) -> float | None:
        """A Retry-After header read against this policy's clock."""
        return parse_retry_after(header, self.clock.now())

    def wait_for(self, exc: BaseException | None, attempt: int) -> float:
        """The wait before the next attempt after ``exc`` failed attempt number ``attempt``."""
        asked = exc.retry_after if isinstance(exc, TransientError) else None
        if asked is not None:
            return min(self.max_wait, max(0.0, asked))
        return backoff(attempt, self.base_wait, self.max_wait, self.rng)

    def pause(self, seconds: float, after: BaseException | None = None) -> None:
        """Wait before another attempt; Interrupted when the worker is asked to stop."""
        pause(seconds, self.stopping, sleep=self.sleep, after=after, why=": not tried again")

    def _retryable(self, exc: BaseException) -> bool:
        """Transient, with a known outcome, and not asking for a wait past ``max_wait``."""
        if not isinstance(exc, TransientError) or isinstance(exc, OutcomeUnknown):
            return False
        return exc.retry_after is None or exc.retry_after <= self.max_wait

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self.wait_for(exc, state.attempt_number)

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "retry.scheduled",
            attempt=state.attempt_number,
            wait=round(state.upcoming_sleep, 3),
            error=type(exc).__name__,
            detail=str(exc)[:200],
        )

    def call(self, action: Callable[[], T]) -> T:
        """Run ``action``, retrying transient failures; the last failure is raised as it was.

        A failure asking to wait longer than ``max_wait`` is raised at once.
        """
        failed: list[BaseException | None] = [None]

        def note(state: tenacity.RetryCallState) -> None:
            failed[0] = state.outcome.exception() if state.outcome else None
            self._before_sleep(state)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(self._retryable),
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=self._wait,
            sleep=lambda seconds: self.pause(seconds, failed[0]),
            before_sleep=note,
            reraise=True,
        )
        return retrying(action)

    def call_unless_landed(self, action: Callable[[], object], landed: Callable[[], bool]) -> None:
        """Run a write that must not land twice, such as a Jira transition.

        After an answer that was lost (OutcomeUnknown), wait as for any retry, then ask
        ``landed`` before sending again: a slow first attempt may have gone through. A
        refusal after a lost answer is also checked, since the server refuses to repeat
        what it already did.
        """
        unanswered = False
        for attempt in range(1, self.attempts + 1):
            try:
                self.call(action)
                return
            except OutcomeUnknown as exc:
                if attempt == self.attempts:
                    raise
                unanswered = True
                self.pause(self.wait_for(exc, attempt), exc)
                if landed():
                    return
            except RequestRejected:
                if unanswered and landed():
                    return
                raise
