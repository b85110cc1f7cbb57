"""``recovery-worker run``: the long-running service."""

from __future__ import annotations

import argparse

from worker.app import build_worker
from worker.clock import SystemClock
from worker.commands import add_config_option, load_and_log
from worker.logs import get_logger

log = get_logger()


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the worker (until SIGTERM, or once with --once)",
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
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    settings = load_and_log(args.config)
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
