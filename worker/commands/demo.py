"""``recovery-worker demo``: the whole lifecycle on embedded defaults, no accounts needed."""

from __future__ import annotations

import argparse
import shlex
import shutil
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
            "desk's morning. Prints each decision and action: why the mail is a complaint, the "
            "recovery opened with its subtasks, the reply threaded, the warning and breach "
            "alerts, the update logged with the promise read in it, the resolution, the "
            "follow-up task, and the reopen when the client complains again. Takes a few "
            "seconds; its temporary folder is removed at the end unless --keep is given."
        ),
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep the demo's files here (default: a temporary folder, removed at the end)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder, to browse the demo's Jira and report on it afterwards",
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


def command() -> str:
    """This program as a shell can run it from anywhere: the full path of the script running,
    else the one beside this Python (a virtual environment's bin/), else ``python -m worker``."""
    script = Path(sys.argv[0])
    if script.name == "recovery-worker" and script.is_file():
        return shlex.quote(str(script.absolute()))
    beside = Path(sys.executable).parent / "recovery-worker"
    if beside.is_file():
        return shlex.quote(str(beside))
    return f"{shlex.quote(sys.executable)} -m worker"


def handle(args: argparse.Namespace) -> int:
    keep = args.keep or args.workdir is not None
    workdir: Path = (args.workdir or Path(tempfile.mkdtemp(prefix="recovery-demo-"))).resolve()
    try:
        return _run(args, workdir, keep=keep)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace, workdir: Path, *, keep: bool) -> int:
    workdir.mkdir(parents=True, exist_ok=True)
    out = sys.stdout
    # The demo's morning ends just before the real now, so `report` afterwards agrees with it.
    start = SystemClock().now() - timedelta(hours=2)
    clock = FrozenClock(
        start.replace(minute=start.minute - start.minute % 5, second=0, microsecond=0)
    )
    narrator = narrate(clock, out)
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
        narrator.store = worker.store
        team = TeamDesk(sandbox)
        try:
            result = Scenario(
                worker, clock, team, deliver, say=lambda line: print(line, file=out), reopen=True
            ).run()
            report = load_report(worker.store, clock.now(), None, settings)
        finally:
            team.close()
            worker.close()
    took = time.monotonic() - began
    print("\n" + FORMATS["table"](report), end="", file=out)
    me = command()
    lines = [
        f"\nDone in {took:.1f} s ({result.rounds} rounds of the worker's steps). Where to look:",
        f"  the recovery:      {result.recovery_key}, subtasks {', '.join(result.subtask_keys)}",
        f"  the follow-up:     {result.followup_key}",
    ]
    if keep:
        lines += [
            f"  browse the Jira:   {me} sandbox --dialect {args.dialect} "
            f"--data {shlex.quote(str(jira_data))}",
            "                     then open the URL it prints: a read-only page of the issues",
            f"  the report:        {me} report --config {shlex.quote(str(workdir / 'demo.toml'))}",
        ]
    else:
        lines.append(
            f"  the demo's files:  removed; {me} demo --keep keeps them to browse and report on"
        )
    lines.append(f"  your own mail:     {me} run --local   (the real service on embedded defaults)")
    print("\n".join(lines), file=out)
    return 0
