"""``recovery-worker retry-given-up``: put recoveries Jira refused on every try back in line."""

from __future__ import annotations

import argparse
import sys

from worker.clock import SystemClock
from worker.commands import add_config_option
from worker.settings import load_settings
from worker.steps.recoveries import requeue_given_up
from worker.store import Store, recoveries


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "retry-given-up",
        help="put recoveries Jira refused on every try back in line (after fixing the cause)",
        description=(
            "List the recoveries given up after Jira refused their ticket on every try "
            "(recovery.given_up), and put them back in line to open: the running worker "
            "tries each again at its next pass, with its refusals counted from zero. Fix "
            "the cause first (recovery.open_failed says what Jira refused)."
        ),
    )
    add_config_option(parser)
    parser.add_argument(
        "--id",
        dest="ids",
        type=int,
        action="append",
        metavar="N",
        help="only this recovery (repeatable); default: every given-up recovery",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list the given-up recoveries, change nothing"
    )
    parser.set_defaults(handler=handle)


def _inert(text: str) -> str:
    """Client text for a terminal: control characters shown escaped, not acted on."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def handle(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url)
    try:
        store.migrate()
        with store.transaction() as conn:
            waiting = {r.id: r for r in recoveries.given_up(conn)}
        chosen = args.ids if args.ids else sorted(waiting)
        unknown = [n for n in chosen if n not in waiting]
        for n in unknown:
            print(f"recovery {n}: not given up; left as it is", file=sys.stderr)
        for n in (n for n in chosen if n in waiting):
            recovery = waiting[n]
            source, summary = _inert(recovery.source_key), _inert(recovery.summary[:80])
            line = f"recovery {n}: {source} ({recovery.severity}) '{summary}'"
            if args.dry_run:
                print(f"{line}: given up")
                continue
            with store.transaction() as conn:
                requeued = requeue_given_up(conn, n, SystemClock().now())
            print(f"{line}: {'back in line' if requeued else 'not given up any more'}")
        if not chosen:
            print("no recovery is given up")
    finally:
        store.close()
    return 1 if unknown else 0
