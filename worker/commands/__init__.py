"""Subcommands. Each module has ``register(subparsers)`` that adds its parser and handler."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Protocol


class Command(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """The ``--config`` option every command that reads settings takes."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="TOML settings file (environment variables RECOVERY_WORKER_* override it)",
    )


from worker.commands import check, run  # noqa: E402  (the registry needs the helpers above)

COMMANDS: tuple[Command, ...] = (run, check)
