"""Subcommands. Each module has ``register(subparsers)`` that adds its parser and handler."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Protocol

from worker.logs import configure_logging, register_secrets
from worker.settings import Settings, load_settings


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


def load_and_log(config: Path | None) -> Settings:
    """Load settings, set up logging, and make sure no configured secret is ever logged."""
    settings = load_settings(config)
    configure_logging(settings.log.level, settings.log.format)
    register_secrets(settings.secret_values())
    return settings


from worker.commands import check, classify, config, demo, report, retry, run, sandbox  # noqa: E402  (the registry needs the helpers above)

COMMANDS: tuple[Command, ...] = (run, check, config, demo, sandbox, report, retry, classify)
