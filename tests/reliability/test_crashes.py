"""SIGKILL at random moments while mail arrives: every complaint and reply in Jira exactly once.

With Jira also failing 30% of calls (429 with Retry-After, 5xx, dropped connections) and
Cloud search lagging behind creates, the same holds.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

import pytest

from tests.reliability.exactly_once import (
    Mailbag,
    Tally,
    alert_duplicates,
    in_hand,
    settled,
    tally,
)
from tests.reliability.figures import Figures
from tests.reliability.harness import Deadline, Rig, Timeout, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 20261123
RETRY_AFTER = 2


def run_scenario(
    rig: Rig,
    figures: Figures,
    name: str,
    *,
    complaints: int,
    replies: int,
    kills: int,
    budget: float,
    faults: Callable[[], None] | None = None,
) -> Tally:
    deadline = Deadline(budget)
    rng = random.Random(SEED)
    bag = Mailbag(complaints, replies, SEED)
    pause = threading.Event()
    if faults is not None:
        faults()
    feeder = bag.deliver(rig, batches=kills or 5, pause=pause)
    for _ in range(kills):
        rig.worker.start()
        # A random moment: during start-up, a poll, a create, a bulk create or a comment.
        time.sleep(rng.uniform(0.5, 3.0))
        rig.worker.kill()
        deadline.check(f"kill {rig.worker.kills}")
    # Started for good: the SIGTERM at the end must find it running, not still starting up
    # (the killed runs may have left nothing to do, so the end can come at once).
    rig.worker.start_and_wait()
    wait_until(bag.done.is_set, deadline.left(), "every mail is delivered")
    feeder.join(timeout=10)
    try:
        wait_until(
            # The first deadlines are long past by now: wait for their alerts too.
            lambda: tally(rig).complete(bag) and settled(rig) and rig.webhook.received(),
            deadline.left() - 5,
            "every complaint has its recovery, every reply its comment, and alerts went out",
            interval=0.5,
        )
    except Timeout as exc:
        problems = [e for e in rig.worker.events() if e.get("level") in ("warning", "error")]
        raise Timeout(
            f"{exc}\n{tally(rig).describe(bag)}\n{in_hand(rig)}\nlast problems: {problems[-15:]}"
        ) from None
    result = tally(rig)
    deliveries, repeated = alert_duplicates(rig)
    code, stop_seconds = rig.worker.terminate()
    injected = len(rig.sandbox.faults.injected)
    figures.count(
        runs=rig.worker.runs,
        kills=rig.worker.kills,
        terminations=1,
        faults=injected,
        messages=len(bag.raws),
        duplicates=result.duplicates() + repeated,
        lost=result.lost(bag),
    )
    figures.note(
        name,
        complaints=complaints,
        thread_replies=replies,
        worker_runs=rig.worker.runs,
        sigkills=rig.worker.kills,
        jira_faults_injected=injected,
        recovery_tickets=sum(result.recoveries.values()),
        subtasks=sum(n * count for n, count in result.subtasks.items()),
        reply_comments=sum(result.comments.values()),
        alerts_delivered=deliveries,
        duplicates=result.duplicates() + repeated,
        lost=result.lost(bag),
        exit_seconds_after_sigterm=stop_seconds,
        seconds=deadline.seconds - deadline.left(),
    )
    assert result.unexpected == []
    assert result.duplicates() == 0
    assert result.lost(bag) == 0
    assert result.subtasks == {3: complaints}
    assert deliveries > 0, "no alert was sent: the deadlines were not exercised"
    assert repeated == 0
    assert code == 0
    assert stop_seconds < 10
    assert rig.sandbox.violations == []
    return result


def test_sigkill_at_random_moments_loses_nothing_and_repeats_nothing(
    make_rig: Callable[..., Rig], figures: Figures
) -> None:
    """Twenty SIGKILLs while 300 complaints and 60 replies arrive: each in Jira exactly once."""
    rig = make_rig("cloud")
    run_scenario(rig, figures, "crashes", complaints=300, replies=60, kills=20, budget=240)


def test_jira_faults_and_search_lag_lose_nothing_and_repeat_nothing(
    make_rig: Callable[..., Rig], figures: Figures
) -> None:
    """30% of Jira calls fail and search lags, with a few SIGKILLs too: still exactly once."""
    rig = make_rig("cloud")
    faults = rig.sandbox.faults

    def inject() -> None:
        faults.reseed(SEED)
        faults.rate_limit(RETRY_AFTER, times=None, probability=0.1)
        faults.server_error(503, times=None, probability=0.1)
        faults.drop_connection(times=None, probability=0.1)
        faults.search_lag(seconds=3, calls=2)

    run_scenario(
        rig,
        figures,
        "Jira faults",
        complaints=40,
        replies=12,
        kills=3,
        budget=240,
        faults=inject,
    )
    # Every wait after a 429 follows its Retry-After: in the retry policy and in the loop.
    waits = [
        float(e["wait"])
        for e in rig.worker.events()
        if e.get("event") == "retry.scheduled" and e.get("error") == "RateLimited"
    ] + [
        float(e["retry_in_s"])
        for e in rig.worker.events()
        if e.get("event") == "worker.step.transient_failure" and e.get("error") == "RateLimited"
    ]
    figures.note("Jira faults", waits_after_429=len(waits), shortest_wait_after_429_s=min(waits))
    assert waits, "no 429 reached the worker"
    assert min(waits) >= RETRY_AFTER
