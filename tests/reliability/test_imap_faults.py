"""Dovecot stopped mid-IDLE and mid-fetch ten times, and a UIDVALIDITY reset: every mail once.

The worker runs as its own process. How little CPU it uses while the server is away is a
figure of bench/idle_cpu.py, not an assertion here: a loaded machine must not fail this test.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.reliability.exactly_once import settled
from tests.reliability.figures import Figures
from tests.reliability.harness import (
    Deadline,
    Rig,
    complaint,
    decided,
    inbox_failures,
    more_than,
    noticed,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGES = 10
#: How long the server stays away in each outage: long enough to see the worker's backoff.
DOWN_SECONDS = 2.5


def test_dovecot_outages_and_uidvalidity_reset_lose_nothing_and_repeat_nothing(
    make_rig: Callable[..., Rig], figures: Figures
) -> None:
    """Ten outages, mid-IDLE and mid-fetch, then a renumbered folder: each mail decided once."""
    deadline = Deadline(240)
    # Deadlines of a working day and Jira read every ten minutes: neither alerts nor the Jira
    # polls (which reread the hundreds of recoveries just opened) run during the outages.
    calm = {"first_contact": "4h", "update_every": "1d", "resolution": "5d", "calendar": "24x7"}
    rig = make_rig(
        "datacenter",
        sla={"policies": dict.fromkeys(("sev1", "sev2", "sev3"), calm)},
        jira={"poll_interval": "10m"},
    )
    rig.worker.start_and_wait()
    sent = 0

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
        # The worker notices and finishes what it had in hand (recoveries for the mails
        # already decided still go to Jira) while the server is away.
        wait_until(noticed(rig, failures), 20, "the worker notices the outage")
        wait_until(lambda: settled(rig), 30, "the worker finishes what it had", interval=0.2)
        # The outage itself: the server stays away this long, whatever the worker does.
        time.sleep(DOWN_SECONDS)
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
        seconds=deadline.seconds - deadline.left(),
    )
    assert len(per_key) == sent
    assert repeated == 0
    assert code == 0
