"""The worker's CPU use while the mail server is away: it must wait, not spin.

Runs the real `recovery-worker run` process against a real Dovecot and the Jira sandbox (the
reliability suite's rig), kills Dovecot several times, half the time while the worker waits
in IDLE and half while it is fetching a batch, and reads the worker's CPU time over each
outage from /proc once it has noticed the outage and finished what it had in hand.

Target: under 5% of one core, as the median of each kind of outage. Exits 1 when missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.report import write_section
from tests.reliability.exactly_once import settled
from tests.reliability.harness import (
    CallLog,
    Rig,
    complaint,
    decided,
    inbox_failures,
    more_than,
    noticed,
    rig,
    wait_until,
)
from tests.support.dovecot import Dovecot, start_dovecot
from worker.sandbox import start_sandbox

#: CPU seconds per wall-clock second the worker may use while the server is away.
TARGET = 0.05
KINDS = ("waiting in IDLE", "fetching a batch")
#: Mails delivered before each kind of outage: a few, all decided; or a batch in progress.
MAILS = {KINDS[0]: 5, KINDS[1]: 150}
# Deadlines of a working day and Jira read every ten minutes: neither alerts nor the Jira
# polls (which reread the recoveries just opened) run during the outages.
CALM = {"first_contact": "4h", "update_every": "1d", "resolution": "5d", "calendar": "24x7"}


def _outage(worker_rig: Rig, server: Dovecot, kind: str, first: int, down: float) -> float:
    """Deliver mail numbered from `first`, kill Dovecot, and return the worker's CPU share."""
    count = MAILS[kind]
    before = decided(worker_rig)
    server.append_many([complaint(f"C{n:04d}")[0] for n in range(first, first + count)])
    if kind == KINDS[0]:
        wait_until(more_than(worker_rig, first + count - 1), 60, "the mails are decided")
    else:
        wait_until(more_than(worker_rig, before), 60, "a batch is being read")
    failures = inbox_failures(worker_rig)
    server.kill()
    # The figure starts once the worker has noticed the outage and finished what it had in
    # hand (recoveries for the mails already decided still go to Jira).
    wait_until(noticed(worker_rig, failures), 30, "the outage is noticed")
    wait_until(lambda: settled(worker_rig), 60, "the worker finishes its work", interval=0.2)
    cpu, wall = worker_rig.worker.cpu_seconds(), time.monotonic()
    time.sleep(down)  # the outage itself: the server stays away this long
    share = (worker_rig.worker.cpu_seconds() - cpu) / (time.monotonic() - wall)
    server.start()
    return share


def measure(server: Dovecot, work: Path, outages: int, down: float) -> dict[str, list[float]]:
    """CPU share of the worker over each outage, by kind of outage."""
    sandbox = start_sandbox("datacenter")
    shares: dict[str, list[float]] = {kind: [] for kind in KINDS}
    try:
        with rig(
            work,
            server,
            sandbox,
            CallLog(),
            sla={"policies": dict.fromkeys(("sev1", "sev2", "sev3"), CALM)},
            jira={"poll_interval": "10m"},
        ) as worker_rig:
            worker_rig.worker.start_and_wait()
            sent = 0
            for outage in range(outages):
                kind = KINDS[outage % 2]
                share = _outage(worker_rig, server, kind, sent, down)
                sent += MAILS[kind]
                shares[kind].append(share)
                print(f"outage {outage + 1} ({kind}): {share:.2%} of a core", flush=True)
            wait_until(more_than(worker_rig, sent - 1), 120, "every mail is decided")
    finally:
        sandbox.stop()
    return shares


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.idle_cpu", description=__doc__)
    parser.add_argument("--outages", type=int, default=6, help="outages, alternating kinds")
    parser.add_argument("--down", type=float, default=5.0, help="seconds each outage lasts")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(list(argv))
    if args.outages < 2:
        parser.error("--outages must be at least 2, one of each kind")
    try:
        server = start_dovecot()
    except BaseException as exc:  # the fixture helper skips or fails through pytest outcomes
        print(f"Dovecot did not start: {exc}", file=sys.stderr)
        return 1
    try:
        with tempfile.TemporaryDirectory(prefix="bench-idle-cpu-") as tmp:
            shares = measure(server, Path(tmp), args.outages, args.down)
    finally:
        server.cleanup()
    medians = {kind: statistics.median(values) for kind, values in shares.items()}
    missed = [kind for kind, median in medians.items() if median >= TARGET]
    rows = "\n".join(
        f"| {kind} | {len(shares[kind])} | {medians[kind]:.1%} | {max(shares[kind]):.1%} "
        f"| < {TARGET:.0%} |"
        for kind in KINDS
    )
    print(rows)
    verdict = f"missed while {' and while '.join(missed)}" if missed else "met"
    if not args.no_write:
        write_section(
            "idle_cpu",
            "## CPU while the mail server is away\n\n"
            "The real `recovery-worker run` process against a real Dovecot and the Jira "
            f"sandbox; Dovecot is killed {args.outages} times for {args.down:g} s, half the "
            "time while the worker waits in IDLE and half while it fetches a batch of "
            f"{MAILS[KINDS[1]]} mails. The worker's user and system CPU time over each "
            "outage, read from `/proc/PID/stat` once it has noticed the outage and finished "
            "what it had in hand, as a share of one core. Target: under "
            f"{TARGET:.0%} of a core, the median of each kind; {verdict}.\n\n"
            "| worker was | outages | median | worst | target (median) |\n"
            "|---|---|---|---|---|\n"
            f"{rows}\n\n"
            "Reproduce: `python -m bench.idle_cpu` (`--outages N`, `--down SECONDS`).",
        )
    if missed:
        print(f"target {verdict}: at or above {TARGET:.0%} of a core", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
