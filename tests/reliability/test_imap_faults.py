"""Dovecot stopped mid-IDLE and mid-fetch ten times, and a UIDVALIDITY reset: every mail once.

The worker runs as its own process. While the server is away it must wait, not spin: its
CPU time over the outage is read from /proc.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.reliability.exactly_once import settled
from tests.reliability.figures import Figures
from tests.reliability.harness import Deadline, Rig, complaint, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGES = 10
#: How long the server stays away in each outage: long enough to see the worker's backoff.
DOWN_SECONDS = 2.5
#: CPU seconds per wall-clock second the worker may use while the server is away.
MAX_CPU_WHILE_DOWN = 0.05


def decided(rig: Rig) -> int:
    rows = rig.store_rows("SELECT COUNT(DISTINCT key) FROM messages")
    return int(rows[0][0]) if rows else 0


def more_than(rig: Rig, count: int) -> Callable[[], bool]:
    """A condition: more than `count` mails are decided."""
    return lambda: decided(rig) > count


def inbox_failures(rig: Rig) -> int:
    """How often the worker has noticed the mail server gone (a failed poll or IDLE)."""
    return sum(
        1
        for e in rig.worker.events()
        if e.get("event") == "inbox.idle.interrupted"
        or (e.get("event") == "worker.step.transient_failure" and e.get("step") == "inbox.imap")
    )


def noticed(rig: Rig, failures: int) -> Callable[[], bool]:
    """A condition: the worker has noticed the server gone since `failures` were counted."""
    return lambda: inbox_failures(rig) > failures


def test_dovecot_outages_and_uidvalidity_reset_lose_nothing_and_repeat_nothing(
    make_rig: Callable[..., Rig], figures: Figures
) -> None:
    """Ten outages, mid-IDLE and mid-fetch, then a renumbered folder: each mail decided once."""
    deadline = Deadline(240)
    # Deadlines of a working day and Jira read every ten minutes: neither alerts nor the Jira
    # polls (which reread the hundreds of recoveries just opened) muddy the CPU figure.
    calm = {"first_contact": "4h", "update_every": "1d", "resolution": "5d", "calendar": "24x7"}
    rig = make_rig(
        "datacenter",
        sla={"policies": dict.fromkeys(("sev1", "sev2", "sev3"), calm)},
        jira={"poll_interval": "10m"},
    )
    rig.worker.start_and_wait()
    sent = 0
    cpu_rates: list[float] = []

    def deliver(count: int) -> None:
        nonlocal sent
        rig.dovecot.append_many([complaint(f"C{n:04d}")[0] for n in range(sent, sent + count)])
        sent += count

    for outage in range(OUTAGES):
        if outage % 2 == 0:
            # Mid-IDLE: everything so far is handled, the worker sits waiting for news.
            deliver(5)
            wait_until(lambda: decided(rig) == sent, 30, f"{sent} mails decided before outage")
        else:
            # Mid-fetch: a batch is being read and decided when the server goes.
            before = decided(rig)
            deliver(150)
            wait_until(more_than(rig, before), 30, "the batch is being read")
        failures = inbox_failures(rig)
        rig.dovecot.kill()
        # The CPU figure starts once the worker has noticed and finished what it had in hand
        # (recoveries for the mails already decided still go to Jira).
        wait_until(noticed(rig, failures), 20, "the worker notices the outage")
        wait_until(lambda: settled(rig), 30, "the worker finishes what it had", interval=0.2)
        cpu_before, wall_before = rig.worker.cpu_seconds(), time.monotonic()
        # The outage itself: the server stays away this long, whatever the worker does.
        time.sleep(DOWN_SECONDS)
        cpu_rates.append((rig.worker.cpu_seconds() - cpu_before) / (time.monotonic() - wall_before))
        rig.dovecot.start()
        deadline.check(f"outage {outage + 1}")

    deliver(5)
    wait_until(lambda: decided(rig) == sent, 60, f"all {sent} mails decided after the outages")
    rig.dovecot.change_uidvalidity()
    deliver(5)
    wait_until(lambda: decided(rig) == sent, 60, "the renumbered folder is read again")
    wait_until(lambda: settled(rig), deadline.left() - 10, "the worker settles", interval=0.5)

    per_key = rig.decisions()
    repeated = sum(1 for n in per_key.values() if n > 1)
    code, _ = rig.worker.terminate()
    figures.count(
        runs=rig.worker.runs,
        terminations=1,
        faults=OUTAGES + 1,
        messages=sent,
        duplicates=repeated,
        lost=sent - len(per_key),
    )
    figures.note(
        "IMAP faults",
        outages=OUTAGES,
        uidvalidity_resets=1,
        mails=sent,
        decided=len(per_key),
        decided_twice=repeated,
        worst_cpu_while_down=max(cpu_rates),
        mean_cpu_while_down=sum(cpu_rates) / len(cpu_rates),
        seconds=deadline.seconds - deadline.left(),
    )
    assert len(per_key) == sent
    assert repeated == 0
    assert max(cpu_rates) < MAX_CPU_WHILE_DOWN, cpu_rates
    assert code == 0
