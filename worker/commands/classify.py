"""``recovery-worker classify PATH...``: the decision each mail would get, and why.

Reads .eml files, directories, Maildir folders and mbox files; touches neither
IMAP nor Jira nor the state store. A team runs it on its own mail to tune the
rules in signals.toml. Prints JSON lines by default, or a table for people. A
path that does not exist is a usage error; a file that cannot be read or parsed
is a ``quarantined`` line, and the command goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import textwrap
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from worker.clock import Clock, SystemClock
from worker.core.decision import DecisionPolicy, MemoryContext, decide
from worker.core.detection import UNREAD_LANGUAGE, Detector, load_signals, text_read
from worker.domain.decision import QUARANTINED
from worker.errors import MessageUnparseable
from worker.mail.files import iter_mail
from worker.mail.parse import parse_message
from worker.settings import DetectionSettings, load_settings

FORMATS = ("json", "table")
#: Characters of a mail's text that --with-text writes: a complaint says so early.
LABEL_TEXT_CHARS = 4_000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="print the decision each mail would get (no IMAP, no Jira)",
        description="Classify mail files as the worker would. By default one JSON object per "
        "message: source, message_id, decision, reason, is_complaint, score, severity, reasons; "
        "--format table prints a table for people instead. Exits 2 when a path does not exist "
        "or the rules cannot be read.",
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
        "--format",
        choices=FORMATS,
        default="json",
        help="'json': one object per line (default); 'table': source, decision, score, "
        "severity and reasons, wrapped to the terminal width",
    )
    parser.add_argument(
        "--with-text",
        action="store_true",
        help="add 'text', what the detector read of each mail (at most "
        f"{LABEL_TEXT_CHARS:,} characters), so the lines can be labelled to train a model "
        "of your own (training/README.md)",
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
    # A mistyped path is the user's slip, not a mail to quarantine: say so before anything else.
    missing = [str(path) for path in args.paths if not os.path.lexists(path)]
    if missing:
        print(
            f"recovery-worker classify: no such file or directory: {', '.join(missing)}",
            file=sys.stderr,
        )
        return 2
    detection = (
        load_settings(args.config).detection if args.config is not None else DetectionSettings()
    )
    signals = load_signals(args.signals or detection.signals_file)
    detector = Detector(
        signals, complaint_addresses=[*detection.complaint_addresses, *args.complaint_address]
    )
    policy = detection.decision_policy()
    rows = classify(args.paths, detector, policy, SystemClock(), with_text=args.with_text)
    try:
        if args.format == "table":
            write_table(rows, sys.stdout, shutil.get_terminal_size().columns)
        else:
            write_lines(rows, sys.stdout)
    except BrokenPipeError:
        # The reader (head, less) went away: stop quietly.
        sys.stderr.close()
    return 0


def write_lines(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    out.flush()


TABLE_HEADINGS = ("SOURCE", "DECISION", "SCORE", "SEVERITY", "REASONS")
#: Spaces between two columns of the table.
GAP = "  "


def write_table(rows: Iterable[dict[str, Any]], out: TextIO, width: int) -> None:
    """The results as a table for people: one mail per row, each reason on a line of its own,
    long sources and reasons wrapped to ``width``; then a count per decision."""
    cells = [
        (
            str(row["source"]),
            str(row["decision"]),
            "-" if row["score"] is None else f"{row['score']:.1f}",
            str(row["severity"] or "-"),
            _reasons(row),
        )
        for row in rows
    ]
    decision_width = max(len(cell[1]) for cell in [TABLE_HEADINGS, *cells])
    score_width = max(len(cell[2]) for cell in [TABLE_HEADINGS, *cells])
    severity_width = len(TABLE_HEADINGS[3])
    fixed = decision_width + score_width + severity_width + 4 * len(GAP)
    # The source gets a third of what the other columns leave, or room for its file name,
    # and the reasons the rest.
    longest = max(len(cell[0]) for cell in [TABLE_HEADINGS, *cells])
    name = max(len(cell[0].rsplit("/", 1)[-1]) for cell in [TABLE_HEADINGS, *cells])
    source_width = min(longest, max((width - fixed) // 3, name), max(12, width - fixed - 30))
    reasons_width = max(24, width - fixed - source_width)

    def line(source: str, decision: str, score: str, severity: str, reason: str) -> str:
        return GAP.join(
            (
                source.ljust(source_width),
                decision.ljust(decision_width),
                score.rjust(score_width),
                severity.ljust(severity_width),
                reason,
            )
        ).rstrip()

    blocks = []
    for source, decision, score, severity, reasons in cells:
        sources = _wrap_path(source, source_width)
        wrapped = [
            part
            for reason in reasons
            # Rule names hold hyphens: a line breaks between words, never inside a name.
            for part in textwrap.wrap(
                reason, reasons_width, subsequent_indent="  ", break_on_hyphens=False
            )
        ] or ["-"]
        blocks.append(
            [
                line(
                    sources[n] if n < len(sources) else "",
                    decision if n == 0 else "",
                    score if n == 0 else "",
                    severity if n == 0 else "",
                    wrapped[n] if n < len(wrapped) else "",
                )
                for n in range(max(len(sources), len(wrapped)))
            ]
        )
    # Rows of several lines read as one mail each only with some air between them.
    between = "\n" if any(len(block) > 1 for block in blocks) else ""
    out.write(line(*TABLE_HEADINGS) + "\n")
    out.write(between.join("".join(f"{text}\n" for text in block) for block in blocks))
    counts = Counter(cell[1] for cell in cells)
    summary = ", ".join(f"{count} {decision}" for decision, count in counts.items())
    # Mail the rules could not read is easy to miss in a long table: the summary counts it.
    unread = sum(1 for cell in cells if any(r.startswith(UNREAD_LANGUAGE) for r in cell[4]))
    if unread:
        summary += f"; {unread} in another language, not read"
    out.write(f"\n{len(cells)} mail(s): {summary}\n" if cells else "no mail found\n")
    out.flush()


def _wrap_path(path: str, width: int) -> list[str]:
    """A path over lines of ``width``, broken after a slash where it can be."""
    lines = [""]
    for part in re.findall(r"[^/]*/|[^/]+", path):
        if len(lines[-1]) + len(part) > width and lines[-1]:
            lines.append("")
        rest = part
        while len(rest) > width:
            lines[-1], rest = rest[:width], rest[width:]
            lines.append("")
        lines[-1] += rest
    return lines


def _reasons(row: dict[str, Any]) -> list[str]:
    """The decision's reason, then each rule or signal behind it."""
    reasons = [str(reason) for reason in row["reasons"]]
    return reasons if row["reason"] in reasons else [str(row["reason"]), *reasons]


def classify(
    paths: Sequence[Path],
    detector: Detector,
    policy: DecisionPolicy,
    clock: Clock,
    *,
    with_text: bool = False,
) -> Iterator[dict[str, Any]]:
    """One result per message found under the paths, in order; ``with_text`` adds what the
    detector read of each mail."""
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
        row = {
            "source": item.source,
            "message_id": mail.message_id,
            "decision": decision.decision,
            "reason": decision.reason,
            "is_complaint": decision.is_complaint,
            "score": decision.score,
            "severity": decision.severity,
            "reasons": list(decision.reasons),
        }
        if with_text:
            row["text"] = text_read(mail)[:LABEL_TEXT_CHARS]
        yield row


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
