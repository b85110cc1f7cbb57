"""Backlog drain through the running service: `recovery-worker run` on a Maildir full of mail.

The labelled mail set is written into a Maildir's ``new/`` at two sizes, as after a weekend's
downtime; then the service is started as users start it (a config file, the SQLite store, the
health server, no Jira) and timed until every mail is filed into ``cur/`` with its decision
recorded. Beside it, `recovery-worker classify` decides the same files without recording them.

Exits 1 when a target is missed: the drain takes at most 2x what classify needs for the same
mails, and the cost per mail at the large size is at most 1.3x the small one's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.classify import WORKER, run_seconds, write_mails
from bench.report import say_missed, verdict, write_section
from bench.service import count, make_maildir

SIZES = (1_000, 10_000)
MAX_RATIO = 2.0
MAX_GROWTH = 1.3
#: The longest a drain may take before the bench gives up on it.
DEADLINE_S = 600.0


def config(folder: Path) -> Path:
    path = folder / "recovery-worker.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{folder / "state.db"}"\n\n'
        f'[maildir]\npath = "{folder / "inbox"}"\n\n'
        "[health]\nport = 0\n",
        encoding="utf-8",
    )
    return path


def drain_seconds(folder: Path, mails: int) -> float:
    """Start the service on a full inbox; seconds until every mail is filed and recorded."""
    inbox = folder / "inbox"
    new, cur = inbox / "new", inbox / "cur"
    start = time.perf_counter()
    worker = subprocess.Popen(
        [str(WORKER), "run", "--config", str(config(folder))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            decided = count(folder / "state.db", "SELECT count(*) FROM messages")
            if not any(os.scandir(new)) and decided >= mails:
                elapsed = time.perf_counter() - start
                break
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited with {worker.returncode} while draining")
            if time.perf_counter() - start > DEADLINE_S:
                raise SystemExit(f"not drained after {DEADLINE_S:.0f} s")
            time.sleep(0.05)  # polling the folder from outside, as an operator would
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert sum(1 for _ in os.scandir(cur)) == mails
    return elapsed


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drain", description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(list(argv))
    rows = []
    for size in SIZES:
        drains, classifies = [], []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
                folder = Path(tmp)
                write_mails(make_maildir(folder) / "new", size)
                classifies.append(
                    run_seconds([str(WORKER), "classify", str(folder / "inbox" / "new")], 1)
                )
                drains.append(drain_seconds(folder, size))
        drain, classify = statistics.median(drains), statistics.median(classifies)
        rows.append((size, drain, classify))
        print(
            f"{size} mails: drained in {drain:.2f} s ({size / drain:.0f} mails/s) through run; "
            f"classify {classify:.2f} s; ratio {drain / classify:.2f}",
            flush=True,
        )
    (small, small_s, _), (large, large_s, _) = rows[0], rows[-1]
    growth = (large_s / large) / (small_s / small)
    ratio = max(d / c for _, d, c in rows)
    print(f"cost per mail, {large} vs {small}: {growth:.2f}x")
    missed = []
    if ratio > MAX_RATIO:
        missed.append(f"drain {ratio:.2f}x classify's time > {MAX_RATIO}x")
    if growth > MAX_GROWTH:
        missed.append(f"cost per mail grew {growth:.2f}x > {MAX_GROWTH}x")
    say_missed(missed)
    if not args.no_write:
        table = "\n".join(
            f"| {size:,} | {d:.2f} s | {size / d:.0f} | {c:.2f} s | {d / c:.2f} |"
            for size, d, c in rows
        )
        write_section(
            "drain",
            "## Backlog drain through the service\n\n"
            "A Maildir holding a backlog of real mails (the labelled mail set, cycled), drained "
            "by `recovery-worker run` started as users start it (config file, SQLite store, "
            "health server, no Jira): from the start of the process until every mail is filed "
            "into `cur/` with its decision recorded. Beside it, `recovery-worker classify` "
            f"on the same files (decides, records nothing). Medians of {args.runs} runs. "
            f"Targets: drain <= {MAX_RATIO}x classify's time; cost per mail at {large:,} <= "
            f"{MAX_GROWTH}x that at {small:,}.\n\n"
            "| mails | drain | mails/s | classify | drain / classify |\n"
            "|---|---|---|---|---|\n"
            f"{table}\n\nCost per mail, {large:,} vs {small:,}: {growth:.2f}x. Targets "
            + verdict(missed)
            + "\n\nReproduce: `python -m bench.drain`.",
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
