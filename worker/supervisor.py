"""The supervisor: runs the step functions in a ``while not shutdown`` loop.

Each step does one small unit of work and returns. The supervisor decides when a
step runs next: at its interval after success, after a growing, jittered backoff
after a transient failure, and never before a server's Retry-After has passed. A
failing step never stops the others, and a signal lets the step in hand finish
before the loop exits: steps stop between items and retries stop waiting. A call
still in flight when the shutdown grace ends is cut short by exiting the process,
which the store survives as it survives a kill.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType

from worker.clock import Clock
from worker.errors import Deferred, Interrupted, PermanentError, TransientError
from worker.logs import get_logger
from worker.retry import backoff_delay

log = get_logger()


def _ignore_in_handler(_signum: int, _frame: FrameType | None) -> None:
    """Keep Python from acting on the signal; the wakeup pipe carries it on."""


@dataclass
class Step:
    """One unit of work the loop runs again and again."""

    name: str
    run: Callable[[], object]
    interval: timedelta
    next_run: datetime | None = None
    failures: int = 0
    #: A result of at least this many items is a full batch: more may be waiting, so the step
    #: is due again at once (a backlog drains at full speed, other steps taking their turns).
    drain_at: int | None = None
    #: The end of a server's Retry-After: the loop does not run the step before it, even
    #: when another step makes it due early.
    not_before: datetime | None = None


@dataclass
class LoopStatus:
    """What the health endpoints read: when the loop last moved, how each step last went."""

    last_progress: datetime | None = None
    last_success: dict[str, datetime] = field(default_factory=dict)
    last_failure: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def progressed(self, now: datetime) -> None:
        with self.lock:
            self.last_progress = now

    def step_ok(self, name: str, now: datetime) -> None:
        with self.lock:
            self.last_success[name] = now
            self.last_failure.pop(name, None)

    def step_failed(self, name: str, reason: str) -> None:
        with self.lock:
            self.last_failure[name] = reason


Waiter = Callable[[float], object]

#: The exit code when the shutdown grace ran out with a step still in a call.
EXIT_FORCED = 1


class Supervisor:
    """Runs steps until told to stop."""

    def __init__(
        self,
        steps: list[Step],
        clock: Clock,
        *,
        status: LoopStatus | None = None,
        max_backoff: timedelta = timedelta(minutes=5),
        max_wait: timedelta = timedelta(seconds=5),
        waiter: Waiter | None = None,
        exit_process: Callable[[int], object] = os._exit,
    ) -> None:
        self.steps = steps
        self.clock = clock
        self.status = status or LoopStatus()
        self.max_backoff = max_backoff
        self.max_wait = max_wait
        self.shutdown = threading.Event()
        #: Set once the worker has closed its connections; the grace watcher stands down.
        self.finished = threading.Event()
        self._in_step: str | None = None
        self._exit = exit_process
        # The waiter blocks until there may be work (an IMAP IDLE, say) or the timeout ends.
        self._waiter: Waiter = waiter or self.shutdown.wait

    def set_waiter(self, waiter: Waiter) -> None:
        """Wait between rounds with ``waiter`` (an IMAP IDLE, say) instead of a plain sleep."""
        self._waiter = waiter

    def request_shutdown(self, reason: str = "requested") -> None:
        if not self.shutdown.is_set():
            log.info("worker.shutdown.requested", reason=reason)
        self.shutdown.set()

    def install_signal_handlers(self, grace: timedelta | None = None) -> None:
        """Turn SIGTERM and SIGINT into a shutdown request, and the process's end ``grace`` later.

        A second signal ends the process at once, for whoever pressed Ctrl-C twice.

        The handler itself does nothing: logging or setting an event inside a
        signal handler can deadlock on a lock the interrupted main thread holds
        (the event's own, or stdout's). Python writes the signal number to a
        wakeup pipe instead, and a small thread reading it makes the request.
        """
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        signal.set_wakeup_fd(write_fd)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _ignore_in_handler)
        threading.Thread(
            target=self._watch_signals, args=(read_fd, grace), name="signals", daemon=True
        ).start()

    def _watch_signals(self, read_fd: int, grace: timedelta | None) -> None:
        while data := os.read(read_fd, 64):
            for signum in data:
                if signum not in (signal.SIGTERM, signal.SIGINT):
                    continue
                if self.shutdown.is_set():
                    self.force_exit_after(timedelta(0))
                    continue
                self.request_shutdown(signal.Signals(signum).name)
                if grace is not None:
                    self.force_exit_after(grace)

    def force_exit_after(self, grace: timedelta) -> threading.Thread:
        """Exit the process ``grace`` from now unless the loop has stopped by then.

        Steps stop at the next item and retries stop waiting, but one call in flight can
        hold the loop for its whole read timeout. Ending there is what a SIGKILL from the
        service manager would do a few seconds later, and the store survives both.
        """

        def watch() -> None:
            if self.finished.wait(grace.total_seconds()):
                return
            log.warning(
                "worker.shutdown.forced",
                grace_s=grace.total_seconds(),
                step=self._in_step or "closing",
            )
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            self._exit(EXIT_FORCED)

        watcher = threading.Thread(target=watch, name="shutdown-grace", daemon=True)
        watcher.start()
        return watcher

    def run_step(self, step: Step) -> bool:
        """Run one step now; True when it succeeded. Never raises for the step's failures."""
        self._in_step = step.name
        try:
            return self._run(step)
        finally:
            self._in_step = None

    def _run(self, step: Step) -> bool:
        started = self.clock.now()
        try:
            result = step.run()
        except Deferred as exc:
            # Healthy, only waiting: neither a failure for /readyz nor a growing backoff.
            wait = timedelta(seconds=exc.retry_after or 0)
            finished = self.clock.now()
            step.failures = 0
            step.next_run = step.not_before = finished + wait
            self.status.step_ok(step.name, finished)
            self.status.progressed(finished)
            log.info(
                "worker.step.deferred",
                step=step.name,
                detail=str(exc),
                retry_in_s=round(wait.total_seconds(), 3),
            )
            return True
        except Interrupted as exc:
            # Asked to stop: not a failure; what the step left is taken up at the next start.
            log.info("worker.step.interrupted", step=step.name, detail=str(exc))
            return False
        except TransientError as exc:
            # Counted from the failure: a step that ran for a while must still wait it all.
            failed = self.clock.now()
            step.failures += 1
            delay = backoff_delay(step.failures, cap=self.max_backoff)
            step.not_before = None
            if exc.retry_after is not None:
                delay = max(delay, timedelta(seconds=exc.retry_after))
                step.not_before = failed + timedelta(seconds=exc.retry_after)
            step.next_run = failed + delay
            self.status.step_failed(step.name, type(exc).__name__)
            log.warning(
                "worker.step.transient_failure",
                step=step.name,
                error=type(exc).__name__,
                detail=str(exc),
                failures=step.failures,
                retry_in_s=round(delay.total_seconds(), 3),
            )
            return False
        except PermanentError as exc:
            step.failures = 0
            step.next_run = started + step.interval
            self.status.step_failed(step.name, type(exc).__name__)
            log.error(
                "worker.step.permanent_failure",
                step=step.name,
                error=type(exc).__name__,
                detail=str(exc),
            )
            return False
        except Exception as exc:
            # A bug must not take the worker down; back off as for a transient failure.
            step.failures += 1
            step.next_run = started + backoff_delay(step.failures, cap=self.max_backoff)
            self.status.step_failed(step.name, type(exc).__name__)
            log.exception("worker.step.crashed", step=step.name, error=type(exc).__name__)
            return False
        step.failures = 0
        finished = self.clock.now()
        full = step.drain_at is not None and isinstance(result, int) and result >= step.drain_at
        step.next_run = finished if full else finished + step.interval
        self.status.step_ok(step.name, finished)
        self.status.progressed(finished)
        return True

    def run_once(self) -> bool:
        """Run every step once, in order; True when all succeeded."""
        results = [self.run_step(step) for step in self.steps if not self.shutdown.is_set()]
        self.status.progressed(self.clock.now())
        return all(results)

    def run_forever(self) -> None:
        log.info("worker.started", steps=[s.name for s in self.steps])
        while not self.shutdown.is_set():
            now = self.clock.now()
            for step in self.steps:
                if self.shutdown.is_set():
                    break
                due = _due(step)
                if due is None or due <= now:
                    self.run_step(step)
            self.status.progressed(self.clock.now())
            if self.shutdown.is_set():
                break
            self._waiter(self._seconds_until_next())
        log.info("worker.stopped")

    def _seconds_until_next(self) -> float:
        now = self.clock.now()
        upcoming = [due for s in self.steps if (due := _due(s)) is not None]
        wait = min(upcoming) - now if upcoming else self.max_wait
        return max(0.0, min(wait, self.max_wait).total_seconds())


def _due(step: Step) -> datetime | None:
    """When the loop runs the step next (None: now), never before its ``not_before``."""
    if step.not_before is None:
        return step.next_run
    if step.next_run is None:
        return step.not_before
    return max(step.next_run, step.not_before)
