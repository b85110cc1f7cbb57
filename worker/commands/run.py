"""``recovery-worker run``: the long-running service."""

from __future__ import annotations

import argparse

from worker.commands import add_config_option


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the worker (until SIGTERM, or once with --once)",
        description="Run the worker: poll the inbox, sync Jira, sweep the SLA clocks.",
    )
    add_config_option(parser)
    parser.add_argument("--once", action="store_true", help="run every step once, then exit")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    raise NotImplementedError
