"""SIGTERM during a burst of mail: exit 0 within ten seconds, and nothing lost after restart."""

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
    bag.deliver(rig, batches=15, pause=threading.Event())
    for count in STOP_AT:
        wait_until(at_least(rig, count), 60, f"{count} mails decided")
        code, seconds = rig.worker.terminate(timeout=10)
        assert code == 0, rig.worker.output()[-2000:]
        assert seconds < 10
        assert not bag.done.is_set(), "the burst was over before the stop: make it longer"
        rig.worker.start_and_wait()
        deadline.check(f"stop at {count}")
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
