"""``recovery-worker demo``: the whole lifecycle on embedded defaults, no accounts needed."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from worker.app import build_worker
from worker.clock import FrozenClock, SystemClock
from worker.commands.report import FORMATS, load_report
from worker.demo.narrator import narrate
from worker.demo.scenario import Scenario
from worker.demo.team import TeamDesk
from worker.mail.maildir import MaildirInbox
from worker.sandbox import start_sandbox
from worker.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="watch one complaint's whole recovery on embedded defaults (no accounts needed)",
        description=(
            "Run the worker end to end with nothing to set up: a local Jira sandbox, an SQLite "
            "store and a local inbox with sample mails, on a clock that jumps through a support "
            "desk's morning. Prints each decision and action: the recovery opened with its "
            "subtasks, the reply threaded, the warning and breach alerts, the update logged, the "
            "resolution and the follow-up task. Takes a few seconds."
        ),
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep the demo's files here (default: a new temporary directory)",
    )
    parser.add_argument(
        "--dialect",
        choices=("cloud", "datacenter"),
        default="cloud",
        help="which Jira the sandbox plays (default: cloud)",
    )
    parser.set_defaults(handler=handle)


def demo_settings(workdir: Path, jira: dict[str, Any], inbox: dict[str, Any]) -> Settings:
    """The settings the demo runs on; also written out, so `report` can read the same store."""
    return Settings.model_validate(
        {
            "store": {"url": f"sqlite:///{workdir / 'state.db'}"},
            "jira": jira,
            "detection": {"own_addresses": ["support@acme-services.example"]},
            "health": {"enabled": False},
            **inbox,
        }
    )


def handle(args: argparse.Namespace) -> int:
    workdir: Path = (args.workdir or Path(tempfile.mkdtemp(prefix="recovery-demo-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    out = sys.stdout
    # The demo's morning ends just before the real now, so `report` afterwards agrees with it.
    start = SystemClock().now() - timedelta(hours=2)
    clock = FrozenClock(
        start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0)
    )
    narrate(clock, out)
    began = time.monotonic()
    jira_data = workdir / "jira.json"
    jira_data.unlink(missing_ok=True)
    (workdir / "state.db").unlink(missing_ok=True)
    maildir = MaildirInbox(workdir / "inbox")
    maildir.ensure()

    def deliver(name: str, raw: bytes) -> None:
        (maildir.path / "new" / name).write_bytes(raw)

    with start_sandbox(args.dialect, data_file=jira_data, clock=clock) as sandbox:
        settings = demo_settings(
            workdir,
            {"url": sandbox.url, "dialect": args.dialect, **sandbox.credentials},
            {"maildir": {"path": str(maildir.path)}},
        )
        (workdir / "demo.toml").write_text(
            f'[store]\nurl = "sqlite:///{workdir / "state.db"}"\n', encoding="utf-8"
        )
        print(f"recovery-worker demo: Jira sandbox ({args.dialect}) at {sandbox.url}", file=out)
        print(f"inbox: {maildir.path}   state store: {workdir / 'state.db'}", file=out)
        worker = build_worker(settings, clock)
        team = TeamDesk(sandbox)
        try:
            result = Scenario(
                worker, clock, team, deliver, say=lambda line: print(line, file=out)
            ).run()
            report = load_report(worker.store, clock.now(), None, settings)
        finally:
            team.close()
            worker.close()
    took = time.monotonic() - began
    print("\n" + FORMATS["table"](report), end="", file=out)
    print(
        f"\nDone in {took:.1f} s ({result.rounds} rounds of the worker's steps). Where to look:\n"
        f"  the recovery:      {result.recovery_key}, subtasks {', '.join(result.subtask_keys)}\n"
        f"  the follow-up:     {result.followup_key}\n"
        f"  browse the Jira:   recovery-worker sandbox --dialect {args.dialect} "
        f"--data {jira_data}\n"
        f"  the report:        recovery-worker report --config {workdir / 'demo.toml'}",
        file=out,
    )
    return 0
