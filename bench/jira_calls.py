"""Jira calls per recovery and per thread reply, and the time to open a complete recovery.

Against the sandbox at zero latency, in both dialects, through the real `jira` client: each
run records a complaint (a pending recovery) and runs the step that opens it, counting the
calls the sandbox saw. Targets: at most 3 calls to open a recovery with its three subtasks,
1 per thread reply.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.report import write_section
from worker.clock import SystemClock
from worker.domain.document import Document
from worker.domain.issue import NewIssue
from worker.metrics import Metrics
from worker.sandbox import Dialect, start_sandbox
from worker.settings import JiraSettings, Settings
from worker.steps import Services
from worker.steps.recoveries import open_recoveries_once
from worker.steps.replies import post_replies_once
from worker.store import Store, recoveries, replies
from worker.tracker.jira import JiraTracker

DIALECTS: tuple[Dialect, ...] = ("cloud", "datacenter")


def _record(services: Services, n: int, *, jira_source: str = "") -> int:
    now = datetime.now(UTC)
    with services.store.transaction() as conn:
        return recoveries.create_pending(
            conn,
            source_key=f"jira:{jira_source}" if jira_source else f"mail:<bench-{n}@acme.example>",
            source_kind="jira" if jira_source else "mail",
            client="jane@acme.example",
            owner="",
            severity="sev2",
            summary=f"Invoices export broken ({n})",
            now=now,
            source_ref=jira_source or f"<bench-{n}@acme.example>",
            source_at=now,
            excerpt="The export failed again this morning.\nThird time this month.",
            reasons=["repeat complaint"],
        ).id


def measure(dialect: Dialect, runs: int, workdir: Path) -> dict[str, float]:
    """Calls per mail recovery, per Jira-sourced recovery, per reply; median ms to open one."""
    with start_sandbox(dialect) as sandbox:
        store = Store(f"sqlite:///{workdir / f'{dialect}.db'}")
        store.migrate()
        settings = Settings(jira=JiraSettings(url=sandbox.url, **sandbox.credentials))
        tracker = JiraTracker.from_settings(settings.jira)
        services = Services(settings, SystemClock(), store, Metrics(), tracker)
        sandbox.reset_calls()
        tracker.subtask_issue_type("SUP")  # once per process, cached
        discovery = sum(sandbox.calls.values())

        mail_calls, seconds, opened = [], [], []
        for n in range(runs):
            sandbox.reset_calls()
            start = time.perf_counter()
            opened.append(_record(services, n))
            assert open_recoveries_once(services) == 1
            seconds.append(time.perf_counter() - start)
            mail_calls.append(sum(sandbox.calls.values()))

        jira_calls = []
        for n in range(runs):
            source = tracker.create_issue(NewIssue("OPS", "Task", f"broken {n}", Document()))
            sandbox.reset_calls()
            _record(services, n, jira_source=source.key)
            assert open_recoveries_once(services) == 1
            jira_calls.append(sum(sandbox.calls.values()))

        reply_calls = []
        for n in range(runs):
            with store.transaction() as conn:
                # One reply per recovery: a thread's replies beyond jira.max_reply_comments an
                # hour are collapsed into a digest, which is not what this counts.
                replies.add(conn, message_key=f"bench:{n}", recovery_id=opened[n],
                            author="jane@acme.example", author_name="Jane",
                            sent_at=datetime.now(UTC), text="Still broken.", attachments=[],
                            now=datetime.now(UTC))  # fmt: skip
            sandbox.reset_calls()
            assert post_replies_once(services) == 1
            reply_calls.append(sum(sandbox.calls.values()))
        store.close()
    return {
        "discovery": discovery,
        "mail_calls": max(mail_calls),
        "jira_calls": max(jira_calls),
        "reply_calls": max(reply_calls),
        "open_ms": statistics.median(seconds) * 1000,
        "open_p90_ms": sorted(seconds)[int(len(seconds) * 0.9) - 1] * 1000,
    }


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.jira_calls", description=__doc__)
    parser.add_argument("--runs", type=int, default=25, help="recoveries and replies per dialect")
    args = parser.parse_args(list(argv))
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for dialect in DIALECTS:
            f = measure(dialect, args.runs, Path(tmp))
            print(dialect, {name: round(value, 2) for name, value in f.items()})
            ok = ok and f["mail_calls"] <= 3 and f["jira_calls"] <= 3 and f["reply_calls"] <= 1
            rows.append(
                f"| {dialect} | {f['mail_calls']:.0f} | {f['jira_calls']:.0f} "
                f"| {f['reply_calls']:.0f} | {f['discovery']:.0f} "
                f"| {f['open_ms']:.1f} | {f['open_p90_ms']:.1f} |"
            )
    write_section(
        "jira_calls",
        "## Jira calls per recovery\n\n"
        f"{args.runs} recoveries from mail, {args.runs} from Jira issues and {args.runs} thread "
        "replies per dialect, against the sandbox at zero latency through the real `jira` "
        "client; calls are the most any one needed. Targets: at most 3 calls to open a "
        "recovery with its KNOW, HAVE and DO subtasks, 1 per reply. The subtask issue type is "
        "discovered once per process (not counted per recovery); time to open is from the "
        "recorded complaint to the recovery marked open with its subtasks.\n\n"
        "| dialect | calls, mail recovery | calls, Jira recovery (with link) | calls per reply "
        "| subtask type discovery (once) | open, median (ms) | open, p90 (ms) |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Reproduce: `python -m bench.jira_calls`.",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
