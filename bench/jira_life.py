"""Jira calls over a recovery's whole life, counted by the Jira sandbox while `recovery-worker run`
does the work: opening (ticket and subtasks), the deadline shown and its breach alerted, and the
follow-up after the ticket is resolved in Jira.

Complaint mails are dropped into a Maildir; the service runs as users run it, with SLA policies
of seconds instead of hours so that a first contact is missed while the bench watches. The
sandbox counts every call per endpoint; the calls the bench itself makes (resolving tickets)
are taken out. Measured at two sizes, so a cost that grows with the number of recoveries shows.

Exits 1 when a target is missed: at most 21 calls per recovery over its whole life, and per
recovery no more at the larger size than 1.2x the smaller.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from email.utils import formatdate
from pathlib import Path

from bench.classify import WORKER
from bench.report import say_missed, verdict, write_section
from bench.service import count, make_maildir, wait
from worker.domain.issue import StatusCategory
from worker.sandbox import RunningSandbox, start_sandbox
from worker.sandbox.state import USERS
from worker.settings import JiraSettings
from worker.tracker.jira import JiraTracker

SIZES = (10, 40)
#: The most calls a recovery may cost over its whole life: a ticket and one bulk call for its
#: subtasks, its due date, warning and breach comments and the label, the readings its own
#: writes set off, and after resolution the reads of the ticket and its HAVE subtask, the
#: follow-up task, its link and notes. The phases are reported, not held to a target: which
#: phase a call falls in depends on when the bench looks.
MAX_PER_RECOVERY = 21.0
MAX_GROWTH = 1.2
COMPLAINT = (
    "This is unacceptable. The portal has been down again since this morning and nobody "
    "answered my two tickets. I want a call today or we cancel the contract."
)


def config(folder: Path, sandbox: RunningSandbox) -> Path:
    credentials = "".join(f'{name} = "{value}"\n' for name, value in sandbox.credentials.items())
    policies = "".join(
        f'[sla.policies.{sev}]\nfirst_contact = "20s"\nupdate_every = "1h"\n'
        f'resolution = "1d"\ncalendar = "24x7"\n\n'
        for sev in ("sev1", "sev2", "sev3")
    )
    path = folder / "recovery-worker.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{folder / "state.db"}"\n\n'
        f'[maildir]\npath = "{folder / "inbox"}"\npoll_interval = "1s"\n\n'
        f'[jira]\nurl = "{sandbox.url}"\ndialect = "{sandbox.dialect}"\n{credentials}'
        f'default_owner = "{USERS[1].account_id}"\npoll_interval = "2s"\n\n'
        f"{policies}"
        '[loop]\nsweep_interval = "2s"\n\n[health]\nport = 0\n',
        encoding="utf-8",
    )
    return path


def life(size: int) -> dict[str, float]:
    """Calls per recovery in each phase of its life, for ``size`` recoveries at once."""
    sandbox = start_sandbox("cloud")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-jira-life-") as tmp:
            folder = Path(tmp)
            make_maildir(folder)
            db = folder / "state.db"
            worker = subprocess.Popen(
                [str(WORKER), "run", "--config", str(config(folder, sandbox))],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                return _phases(sandbox, folder, db, size)
            finally:
                worker.terminate()
                worker.wait(timeout=60)
    finally:
        sandbox.stop()


def _phases(sandbox: RunningSandbox, folder: Path, db: Path, size: int) -> dict[str, float]:
    wait(lambda: count(db, "SELECT count(*) FROM schema_version") > 0, 30, "the service starts")
    time.sleep(3)  # its start-up reads (the subtask type, fields) are not a recovery's
    start = sandbox.calls
    for n in range(size):
        (folder / "inbox" / "new" / f"{n}.eml").write_text(
            f"From: Client {n} <client{n}@customer{n}.test>\nTo: support@acme.example\n"
            f"Subject: Portal down again ({n})\nMessage-ID: <life-{n}@customer.test>\n"
            f"Date: {formatdate(usegmt=True)}\n\n{COMPLAINT}\n",
            encoding="utf-8",
        )
    opened = "SELECT count(*) FROM recoveries WHERE state = 'open'"
    wait(lambda: count(db, opened) >= size, 120, f"{size} recoveries open")
    after_open = sandbox.calls
    breached = (
        "SELECT count(DISTINCT recovery_id) FROM alerts_sent "
        "WHERE channel = 'jira' AND state = 'sent' AND alert_key = 'breach'"
    )
    owed = "SELECT count(*) FROM clock_state WHERE jira_pending = 1 OR jira_due IS NULL"
    wait(lambda: count(db, breached) >= size, 120, "every first contact alerted as missed")
    wait(lambda: count(db, owed) == 0, 120, "every deadline shown in Jira")
    after_deadline = sandbox.calls
    own = _resolve_all(sandbox, db)
    created = "SELECT count(*) FROM followups WHERE state = 'created'"
    wait(lambda: count(db, created) >= size, 180, "every follow-up created")
    time.sleep(3)  # the follow-up's notes and links that follow its creation
    after_followup = sandbox.calls - own
    for phase, calls in (
        ("opening", after_open - start),
        ("deadline", after_deadline - after_open),
        ("follow-up", after_followup - after_deadline),
    ):
        print(f"  {phase}: " + ", ".join(f"{name} {n}" for name, n in calls.most_common()))
    return {
        "opening": _total(after_open - start) / size,
        "deadline": _total(after_deadline - after_open) / size,
        "follow-up": _total(after_followup - after_deadline) / size,
    }


def _resolve_all(sandbox: RunningSandbox, db: Path) -> Counter[str]:
    """Resolve every recovery's ticket in Jira, as its owner would; the calls this made."""
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        keys = [row[0] for row in conn.execute("SELECT jira_key FROM recoveries")]
    settings = JiraSettings.model_validate(
        {"url": sandbox.url, "dialect": sandbox.dialect, **sandbox.credentials}
    )
    tracker = JiraTracker.from_settings(settings)
    before = sandbox.calls
    for key in keys:
        tracker.transition(key, StatusCategory.DONE)
    transitions = sandbox.calls - before
    # Only the bench moves tickets between statuses here: its calls are the transition ones.
    return Counter({name: n for name, n in transitions.items() if "transitions" in name})


def _total(calls: Counter[str]) -> int:
    return sum(calls.values())


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.jira_life", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(list(argv))
    rows = []
    for size in args.sizes:
        phases = life(size)
        rows.append((size, phases))
        print(size, {name: round(value, 2) for name, value in phases.items()}, flush=True)
    missed = [
        f"{sum(phases.values()):.1f} calls per recovery > {MAX_PER_RECOVERY:.0f} at {size}"
        for size, phases in rows
        if sum(phases.values()) > MAX_PER_RECOVERY
    ]
    (small, first), (large, last) = rows[0], rows[-1]
    growth = sum(last.values()) / sum(first.values())
    if growth > MAX_GROWTH:
        missed.append(f"calls per recovery grew {growth:.2f}x from {small} to {large}")
    say_missed(missed)
    if not args.no_write:
        table = "\n".join(
            f"| {size} | {p['opening']:.1f} | {p['deadline']:.1f} | {p['follow-up']:.1f} "
            f"| {sum(p.values()):.1f} |"
            for size, p in rows
        )
        write_section(
            "jira_life",
            "## Jira calls over a recovery's life\n\n"
            "Complaint mails dropped into the inbox of `recovery-worker run` (the Jira sandbox, "
            "Cloud dialect, through the real `jira` client; SLA policies of seconds so that a "
            "first contact is missed while the bench watches); each ticket is then resolved in "
            "Jira. The sandbox counts the calls; the bench's own are taken out. Per recovery, "
            "the mean over all of them.\n\n"
            "| recoveries | opening (ticket, subtasks) | deadline shown, breach alerted "
            "| follow-up after resolution | whole life |\n|---|---|---|---|---|\n"
            f"{table}\n\nCalls per recovery at {large} vs {small}: {growth:.2f}x. Targets: "
            f"at most {MAX_PER_RECOVERY:.0f} calls per recovery over its life, growth <= "
            f"{MAX_GROWTH}x; "
            + verdict(missed)
            + "\n\nReproduce: `python -m bench.jira_life` (`--sizes N ...`).",
        )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
