"""``recovery-worker check``: validate settings and connectivity, print a checklist."""

from __future__ import annotations

import argparse

from worker.commands import add_config_option


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate settings and connectivity",
        description="Check settings, the state store, IMAP and Jira; exit non-zero on failure.",
    )
    add_config_option(parser)
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    raise NotImplementedError
