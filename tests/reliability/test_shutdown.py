"""SIGTERM during a burst of mail, in a Retry-After wait, and in a call past the grace."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from tests.reliability.exactly_once import Mailbag, settled, tally
from tests.reliability.figures import Figures
from tests.reliability.harness import Deadline, Rig, wait_until

pytestmark = pytest.mark.integration

BURST = 300
#: SIGTERM when this many mails are decided: the burst is still arriving.
STOP_AT = (60, 140, 220)


def decided(rig: Rig) -> int:
    rows = rig.store_rows("SELECT COUNT(DISTINCT key) FROM messages")
    return int(rows[0][0]) if rows else 0


def at_least(rig: Rig, count: int) -> Callable[[], bool]:
    """A condition: at least `count` mails are decided."""
    return lambda: decided(rig) >= count


def test_sigterm_during_a_burst_exits_cleanly_and_loses_nothing(
    make_rig: Callable[..., Rig], figures: Figures
) -> None:
    """Three SIGTERMs while a 300-mail burst arrives: each exits 0 in under 10 s."""
    deadline = Deadline(150)
    rig = make_rig("cloud")
    bag = Mailbag(BURST, 0, seed=8)
    rig.worker.start_and_wait()
    # The last stops must land while mail still arrives, however fast the worker drains:
    # the rest of the burst waits until they are done.
    last_stop = threading.Event()
    bag.deliver(rig, batches=15, pause=threading.Event(), hold_at=STOP_AT[-1] + 40, gate=last_stop)
    for count in STOP_AT:
        wait_until(at_least(rig, count), 60, f"{count} mails decided")
        code, seconds = rig.worker.terminate(timeout=10)
        assert code == 0, rig.worker.output()[-2000:]
        assert seconds < 10
        assert not bag.done.is_set(), "the burst was over before the stop: make it longer"
        rig.worker.start_and_wait()
        deadline.check(f"stop at {count}")
    last_stop.set()
    wait_until(bag.done.is_set, 60, "the whole burst is delivered")
    wait_until(at_least(rig, BURST), deadline.left() - 20, "every mail decided")
    wait_until(lambda: settled(rig), deadline.left() - 10, "the worker settles", interval=0.5)
    result = tally(rig)
    per_key = rig.decisions()
    code, seconds = rig.worker.terminate(timeout=10)
    longest = max(s for _, s in rig.worker.terminations)
    figures.count(
        runs=rig.worker.runs,
        terminations=len(rig.worker.terminations),
        messages=BURST,
        duplicates=result.duplicates() + sum(1 for n in per_key.values() if n > 1),
        lost=BURST - len(per_key),
    )
    figures.note(
        "shutdown",
        mails=BURST,
        sigterms=len(rig.worker.terminations),
        longest_exit_seconds=longest,
        exit_codes=sorted({c for c, _ in rig.worker.terminations}),
        recovery_tickets=sum(result.recoveries.values()),
    )
    assert code == 0
    assert longest < 10
    assert len(per_key) == BURST
    assert all(n == 1 for n in per_key.values())
    assert result.duplicates() == 0
    assert result.lost(bag) == 0


def create_endpoint(rig: Rig) -> str:
    return f"POST /rest/api/{'3' if rig.sandbox.dialect == 'cloud' else '2'}/issue"


def sigterm_during_a_create(rig: Rig, bag: Mailbag) -> tuple[int, float]:
    """Deliver the complaint, SIGTERM once its create met the sandbox's fault: (code, seconds)."""
    create = create_endpoint(rig)
    rig.worker.start_and_wait()
    rig.dovecot.append_many(bag.raws)

    def faulted() -> bool:
        # Faults are picked when a call arrives, so this holds while the fault still acts.
        return any(name == create for name, _ in rig.sandbox.faults.injected)

    wait_until(faulted, 30, "the create met its fault")
    return rig.worker.terminate(timeout=10)


def opens_once_after_restart(rig: Rig, bag: Mailbag, seconds: float) -> None:
    """With Jira healthy again, the interrupted complaint gets one recovery, three subtasks."""
    rig.sandbox.faults.clear()
    rig.worker.start_and_wait()
    wait_until(lambda: tally(rig).complete(bag), seconds, "the recovery opens after restart")
    wait_until(lambda: settled(rig), seconds, "the worker settles", interval=0.5)
    result = tally(rig)
    assert result.duplicates() == 0, result.describe(bag)
    assert result.lost(bag) == 0, result.describe(bag)
    assert result.subtasks == {3: 1}


def test_sigterm_during_a_retry_after_wait_exits_at_once(
    make_rig: Callable[..., Rig], figures: Figures
) -> None:
    """A 429 asking for 30 s is waited inside the call; SIGTERM ends that wait, exit 0."""
    rig = make_rig("cloud")
    rig.sandbox.faults.rate_limit(30, create_endpoint(rig), times=None)
    bag = Mailbag(1, 0, seed=3)
    code, seconds = sigterm_during_a_create(rig, bag)
    figures.note("shutdown in a Retry-After wait", exit_code=code, exit_seconds=seconds)
    assert code == 0, rig.worker.output()[-2000:]
    # Under the 5 s shutdown grace: the wait was cut, not outlasted by the grace watcher.
    assert seconds < 4
    assert any(e["event"] == "worker.step.interrupted" for e in rig.worker.events())
    opens_once_after_restart(rig, bag, 60)


def test_a_call_in_flight_past_the_grace_is_cut_short_and_nothing_repeats(
    make_rig: Callable[..., Rig], figures: Figures
) -> None:
    """A create Jira answers after 8 s, a 2 s grace: exit 1 at the grace, one ticket after."""
    rig = make_rig(
        "cloud",
        jira={"read_timeout": "30s"},
        loop={"shutdown_grace": "2s"},
    )
    rig.sandbox.faults.latency(8, create_endpoint(rig), times=1)
    bag = Mailbag(1, 0, seed=4)
    code, seconds = sigterm_during_a_create(rig, bag)
    figures.note("shutdown past the grace", exit_code=code, exit_seconds=seconds)
    assert code == 1, rig.worker.output()[-2000:]
    assert 2 <= seconds < 6
    forced = [e for e in rig.worker.events() if e["event"] == "worker.shutdown.forced"]
    assert [e["step"] for e in forced] == ["jira.open_recoveries"]
    # The create lands in Jira after the worker is gone; the restart must adopt it.
    opens_once_after_restart(rig, bag, 90)
