"""``recovery-worker classify PATH...``: the decision each mail would get, as JSON lines.

Reads .eml files, directories, Maildir folders and mbox files; touches neither
IMAP nor Jira nor the state store. A team runs it on its own mail to tune the
rules in signals.toml. A file that cannot be read or parsed is a ``quarantined``
line; the command goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from worker.clock import Clock, SystemClock
from worker.core.decision import QUARANTINED, DecisionPolicy, MemoryContext, decide
from worker.core.detection import Detector, load_signals
from worker.errors import MessageUnparseable
from worker.mail.files import iter_mail
from worker.mail.parse import parse_message
from worker.settings import DetectionSettings, load_settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="print the decision each mail would get (no IMAP, no Jira)",
        description="Classify mail files as the worker would, one JSON object per message: "
        "source, message_id, decision, reason, is_complaint, score, severity, reasons.",
    )
    parser.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help=".eml, directory, Maildir or mbox"
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="settings file whose [detection] section is used (own addresses, ignore lists...)",
    )
    parser.add_argument(
        "--signals", type=Path, default=None, metavar="FILE", help="rules file to try"
    )
    parser.add_argument(
        "--complaint-address",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="an address where every mail is a complaint (repeatable)",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    detection = (
        load_settings(args.config).detection if args.config is not None else DetectionSettings()
    )
    signals = load_signals(args.signals or detection.signals_file)
    detector = Detector(
        signals, complaint_addresses=[*detection.complaint_addresses, *args.complaint_address]
    )
    policy = detection.decision_policy()
    try:
        write_lines(classify(args.paths, detector, policy, SystemClock()), sys.stdout)
    except BrokenPipeError:
        # The reader (head, less) went away: stop quietly.
        sys.stderr.close()
    return 0


def write_lines(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.flush()


def classify(
    paths: Sequence[Path], detector: Detector, policy: DecisionPolicy, clock: Clock
) -> Iterator[dict[str, Any]]:
    """One result per message found under the paths, in order."""
    context = MemoryContext()
    for item in iter_mail(paths):
        if item.raw is None:
            yield _quarantined(item.source, f"unreadable: {item.error}")
            continue
        try:
            mail = parse_message(item.raw)
        except MessageUnparseable as exc:
            yield _quarantined(item.source, f"unparseable: {exc}")
            continue
        # decide() counts floods on the mail's Date header, so a folder reads as it arrived.
        now = clock.now()
        try:
            decision = decide(mail, detector, context, now, policy)
        except Exception as exc:
            # As in the intake: a mail the rules cannot decide is a line, not the end of the run.
            yield _quarantined(item.source, f"undecidable: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        context.remember(mail, decision, now)
        yield {
            "source": item.source,
            "message_id": mail.message_id,
            "decision": decision.decision,
            "reason": decision.reason,
            "is_complaint": decision.is_complaint,
            "score": decision.score,
            "severity": decision.severity,
            "reasons": list(decision.reasons),
        }


def _quarantined(source: str, reason: str) -> dict[str, Any]:
    return {
        "source": source,
        "message_id": None,
        "decision": QUARANTINED,
        "reason": reason,
        "is_complaint": False,
        "score": None,
        "severity": None,
        "reasons": [reason],
    }
