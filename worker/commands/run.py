"""``recovery-worker run``: the long-running service, a dry run of it, or a local trial."""

from __future__ import annotations

import argparse
from pathlib import Path

from worker.app import build_worker
from worker.clock import SystemClock
from worker.commands import add_config_option, load_and_log
from worker.dryrun import run_dry
from worker.errors import ConfigurationError
from worker.local import run_local
from worker.logs import get_logger

log = get_logger()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the worker (until SIGTERM, once with --once, or as a --dry-run or --local trial)",
        description=(
            "Run the worker: poll the inbox, sync Jira, sweep the SLA clocks. On SIGTERM or "
            "SIGINT it finishes the item in hand, saves its state and exits 0; a call still "
            "in flight after loop.shutdown_grace is cut short with exit code 1."
        ),
    )
    add_config_option(parser)
    parser.add_argument(
        "--once", action="store_true", help="run every step once, then exit (for cron and tests)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run",
        action="store_true",
        help=(
            "one pass (as --once) over the real inbox and Jira that writes nothing anywhere: "
            "prints each mail's decision and what the worker would do (open, comment, alert, "
            "follow up); the inbox is read-only, Jira only read, alerts not sent, and the "
            "store read into a temporary copy"
        ),
    )
    mode.add_argument(
        "--local",
        action="store_true",
        help=(
            "run the real service on embedded defaults until Ctrl-C: a local Maildir inbox to "
            "drop .eml files into, an in-process Jira sandbox with a read-only web page of its "
            "issues, the SQLite store and the health server; settings files and variables are "
            "not read"
        ),
    )
    parser.add_argument(
        "--local-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=(
            "the folder --local keeps its inbox, store and Jira data in "
            "(default: $XDG_STATE_HOME/recovery-worker/local, else ~/.local/state/...)"
        ),
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.local:
        if args.config is not None:
            raise ConfigurationError("run --local runs on embedded defaults and reads no --config")
        return run_local(args.local_dir, once=args.once)
    if args.local_dir is not None:
        raise ConfigurationError("--local-dir is for run --local")
    settings = load_and_log(args.config)
    if args.dry_run:
        return run_dry(settings)
    worker = build_worker(settings, SystemClock())
    try:
        if args.once:
            ok = worker.supervisor.run_once()
            log.info("worker.once.finished", ok=ok, steps=[s.name for s in worker.supervisor.steps])
            return 0 if ok else 1
        worker.supervisor.install_signal_handlers(grace=settings.loop.shutdown_grace)
        worker.start_health()
        worker.supervisor.run_forever()
        return 0
    finally:
        worker.close()
