"""``recovery-worker sandbox``: serve a local Jira sandbox for the demo, trials and benchmarks."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType

from worker.sandbox import start_sandbox


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="serve a local Jira sandbox (Cloud or Data Center dialect)",
        description=(
            "Serve a stateful Jira sandbox on 127.0.0.1 that speaks the part of the Jira REST API "
            "the worker uses, so the worker can be tried without a Jira site. Prints the URL and "
            "the credentials it accepts, then serves until interrupted."
        ),
    )
    parser.add_argument(
        "--dialect",
        choices=("cloud", "datacenter"),
        default="cloud",
        help="cloud: /rest/api/3, email and API token; datacenter: /rest/api/2, a PAT",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="FILE",
        help="keep issues in this JSON file across restarts (default: in memory)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for random fault injection")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with start_sandbox(
        args.dialect, data_file=args.data, port=args.port, seed=args.seed
    ) as sandbox:
        print(f"Jira sandbox ({sandbox.dialect}) at {sandbox.url}", flush=True)
        for name, value in sandbox.credentials.items():
            print(f"  {name}: {value}", flush=True)
        print(f"  issues, read-only in a browser: {sandbox.url}/", flush=True)
        print("  faults and call counts: /_sandbox/faults, /_sandbox/calls", flush=True)
        stop.wait()
    return 0
