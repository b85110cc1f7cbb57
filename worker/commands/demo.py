"""``recovery-worker demo``: the whole product on embedded defaults, no accounts needed."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from worker.app import build_worker
from worker.clock import SystemClock
from worker.logs import configure_logging
from worker.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the worker on embedded defaults (no Jira account or mail server needed)",
        description=(
            "Run the worker end to end on embedded defaults: a local state store in a "
            "temporary directory, and print what it did."
        ),
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep the demo's files here (default: a temp dir)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="recovery-worker-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    configure_logging("info", "console")
    settings = Settings.model_validate(
        {"store": {"url": f"sqlite:///{workdir / 'state.db'}"}, "health": {"enabled": False}}
    )
    worker = build_worker(settings, SystemClock())
    try:
        ok = worker.supervisor.run_once()
    finally:
        worker.close()
    print(f"\ndemo finished: state store at {workdir / 'state.db'}")
    return 0 if ok else 1
