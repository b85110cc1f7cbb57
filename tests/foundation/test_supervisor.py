"""The supervisor loop: backoff, failure isolation, shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from worker.clock import FrozenClock
from worker.errors import ConnectionFailed, Interrupted, RateLimited, RequestRejected
from worker.retry import backoff_delay
from worker.supervisor import EXIT_FORCED, Step, Supervisor


def test_backoff_grows_then_caps() -> None:
    """The ceiling doubles per failure and stops at the cap; draws stay inside it."""
    cap = timedelta(seconds=60)
    assert backoff_delay(0) == timedelta(0)
    assert backoff_delay(1, rand=lambda: 1.0) == timedelta(seconds=1)
    assert backoff_delay(4, rand=lambda: 1.0) == timedelta(seconds=8)
    assert backoff_delay(40, cap=cap, rand=lambda: 1.0) == cap
    assert backoff_delay(3, rand=lambda: 0.0) == timedelta(seconds=0.4)


def test_transient_failure_backs_off_and_honours_retry_after(clock: FrozenClock) -> None:
    """A rate-limited step is not run again before the server's Retry-After."""
    step = Step(
        "jira",
        lambda: (_ for _ in ()).throw(RateLimited("429", retry_after=120)),
        timedelta(seconds=5),
    )
    sup = Supervisor([step], clock)
    assert sup.run_step(step) is False
    assert step.next_run is not None
    assert step.next_run - clock.now() >= timedelta(seconds=120)
    assert sup.status.last_failure == {"jira": "RateLimited"}


def test_retry_after_counts_from_the_failure_not_the_start(clock: FrozenClock) -> None:
    """A step that worked 40 s before the 429 still waits the whole Retry-After after it."""

    def slow_then_limited() -> None:
        clock.advance(timedelta(seconds=40))
        raise RateLimited("429", retry_after=300)

    step = Step("jira", slow_then_limited, timedelta(seconds=5))
    Supervisor([step], clock).run_step(step)
    assert step.next_run is not None
    assert step.next_run - clock.now() >= timedelta(seconds=300)


def test_a_step_woken_early_still_waits_out_retry_after(clock: FrozenClock) -> None:
    """Another step making it due (as the intake wakes the Jira steps) does not cut the wait."""
    ran: list[datetime] = []
    failed_at: list[datetime] = []

    def limited_once() -> None:
        ran.append(clock.now())
        if len(ran) == 1:
            clock.advance(timedelta(seconds=10))
            failed_at.append(clock.now())
            raise RateLimited("429", retry_after=300)
        sup.request_shutdown("test")

    jira = Step("jira", limited_once, timedelta(seconds=5))

    def wake_jira() -> None:
        jira.next_run = None
        if clock.now() - ran[0] > timedelta(hours=1):
            sup.request_shutdown("never ran again")

    waker = Step("inbox", wake_jira, timedelta(seconds=7))
    sup = Supervisor(
        [jira, waker], clock, waiter=lambda s: clock.advance(timedelta(seconds=max(s, 0.5)))
    )
    sup.run_forever()
    assert len(ran) == 2
    assert ran[1] - failed_at[0] >= timedelta(seconds=300)


def test_one_failing_step_does_not_stop_the_others(clock: FrozenClock) -> None:
    """Transient, permanent and unexpected failures are contained to their step."""
    ran: list[str] = []

    def boom(exc: Exception) -> None:
        raise exc

    steps = [
        Step("a", lambda: boom(ConnectionFailed("down")), timedelta(seconds=1)),
        Step("b", lambda: boom(RequestRejected("bad")), timedelta(seconds=1)),
        Step("c", lambda: boom(KeyError("bug")), timedelta(seconds=1)),
        Step("d", lambda: ran.append("d"), timedelta(seconds=1)),
    ]
    sup = Supervisor(steps, clock)
    assert sup.run_once() is False
    assert ran == ["d"]
    assert set(sup.status.last_failure) == {"a", "b", "c"}
    assert sup.status.last_progress == clock.now()


def test_success_clears_the_failure_count(clock: FrozenClock) -> None:
    """After a success the step runs again at its normal interval."""
    outcomes = iter([ConnectionFailed("x"), None])

    def flaky() -> None:
        outcome = next(outcomes)
        if outcome:
            raise outcome

    step = Step("s", flaky, timedelta(seconds=30))
    sup = Supervisor([step], clock)
    sup.run_step(step)
    assert step.failures == 1
    sup.run_step(step)
    assert step.failures == 0
    assert step.next_run == clock.now() + timedelta(seconds=30)


def test_shutdown_lets_the_item_in_hand_finish() -> None:
    """A shutdown requested mid-step waits for the step, then the loop exits."""
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(5)
        finished.set()

    sup = Supervisor(
        [Step("slow", slow, timedelta(seconds=1))], FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    )
    loop = threading.Thread(target=sup.run_forever)
    loop.start()
    assert started.wait(5)
    sup.request_shutdown("test")
    release.set()
    loop.join(5)
    assert not loop.is_alive()
    assert finished.is_set()


def test_an_interrupted_step_is_not_a_failure(clock: FrozenClock) -> None:
    """A step cut short by the stop request: no failure for /readyz, no backoff counted."""

    def interrupted() -> None:
        raise Interrupted("the worker is stopping")

    step = Step("jira", interrupted, timedelta(seconds=5))
    sup = Supervisor([step], clock)
    with capture_logs() as logs:
        assert sup.run_step(step) is False
    assert step.failures == 0
    assert sup.status.last_failure == {}
    assert [e["event"] for e in logs] == ["worker.step.interrupted"]


def test_the_grace_ends_a_loop_held_by_a_call_in_flight() -> None:
    """A step still busy when the grace is over: the process ends with EXIT_FORCED."""
    release = threading.Event()
    started = threading.Event()

    def stuck() -> None:
        started.set()
        release.wait(10)  # a call in flight that outlasts the grace

    exits: list[int] = []
    sup = Supervisor(
        [Step("jira.stuck", stuck, timedelta(seconds=1))],
        FrozenClock(datetime(2026, 1, 1, tzinfo=UTC)),
        exit_process=exits.append,
    )
    loop = threading.Thread(target=sup.run_forever)
    loop.start()
    assert started.wait(5)
    sup.request_shutdown("test")
    with capture_logs() as logs:
        sup.force_exit_after(timedelta(seconds=0.05)).join(5)
    release.set()
    loop.join(5)
    assert exits == [EXIT_FORCED]
    forced = [e for e in logs if e["event"] == "worker.shutdown.forced"]
    assert [e["step"] for e in forced] == ["jira.stuck"]


def test_the_grace_stands_down_once_the_worker_has_finished() -> None:
    """Finished within the grace: the process is left to exit by itself."""
    exits: list[int] = []
    sup = Supervisor([], FrozenClock(datetime(2026, 1, 1, tzinfo=UTC)), exit_process=exits.append)
    watcher = sup.force_exit_after(timedelta(seconds=5))
    sup.finished.set()
    watcher.join(5)
    assert not watcher.is_alive()
    assert exits == []


def test_a_second_signal_ends_the_process_at_once() -> None:
    """SIGTERM asks for a stop with a 30 s grace; a second one does not wait for it."""
    exits: list[int] = []
    sup = Supervisor([], FrozenClock(datetime(2026, 1, 1, tzinfo=UTC)), exit_process=exits.append)
    read_fd, write_fd = os.pipe()
    os.write(write_fd, bytes([signal.SIGTERM]))
    watching = threading.Thread(
        target=sup._watch_signals, args=(read_fd, timedelta(seconds=30)), daemon=True
    )
    watching.start()
    try:
        deadline = time.monotonic() + 5
        while not sup.shutdown.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)  # polling with a deadline for the first request
        assert sup.shutdown.is_set()
        assert exits == []
        os.write(write_fd, bytes([signal.SIGINT]))
        os.close(write_fd)
        watching.join(5)
        while not exits and time.monotonic() < deadline:
            time.sleep(0.01)
        assert exits == [EXIT_FORCED]
    finally:
        # The first signal's 30 s watcher must not outlive the test and log into another.
        sup.finished.set()
        os.close(read_fd)


def test_sigterm_stops_the_service_with_exit_0(tmp_path: Path) -> None:
    """`recovery-worker run` exits 0 within 10 seconds of SIGTERM."""
    env = {**os.environ, "RECOVERY_WORKER_HEALTH__PORT": "0", "RECOVERY_WORKER_LOG__FORMAT": "json"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker", "run"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    events = []
    for line in proc.stdout:
        events.append(json.loads(line)["event"])
        if events[-1] == "worker.started":
            break
    assert "worker.started" in events
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        # communicate() keeps draining stdout, so a chatty worker cannot block on a full pipe.
        output, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"the worker did not stop within 10 s of SIGTERM; it said:\n{output[-4000:]}")
    assert proc.returncode == 0
    assert time.monotonic() - sent < 10
    rest = [json.loads(line)["event"] for line in output.splitlines()]
    assert "worker.shutdown.requested" in rest
    assert "worker.stopped" in rest


def test_a_full_batch_makes_the_step_due_again_at_once(clock: FrozenClock) -> None:
    """A backlog drains at full speed: a full batch is no reason to wait out the interval."""
    batches = [200, 200, 37]
    step = Step("inbox", lambda: batches.pop(0), timedelta(seconds=60), drain_at=200)
    supervisor = Supervisor([step], clock)
    assert supervisor.run_step(step)
    assert step.next_run == clock.now()
    assert supervisor.run_step(step)
    assert step.next_run == clock.now()
    assert supervisor.run_step(step)
    assert step.next_run == clock.now() + timedelta(seconds=60)
