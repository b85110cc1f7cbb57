"""The figures the reliability suite collects, and the page it writes from them."""

from __future__ import annotations

import platform
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

TOTALS = (
    ("runs", "worker runs started"),
    ("kills", "SIGKILLs"),
    ("terminations", "SIGTERMs"),
    ("faults", "faults injected (Jira answers, IMAP outages)"),
    ("messages", "mails delivered"),
    ("duplicates", "duplicates found"),
    ("lost", "lost"),
)

ATTACKS = (
    (
        "crashes",
        "the worker is SIGKILLed at seeded random moments while several hundred complaints "
        "and thread replies arrive, and restarted; every complaint must have exactly one "
        "recovery ticket with three subtasks, every reply exactly one comment, every alert "
        "at most one webhook message per deadline (`test_crashes.py`)",
    ),
    (
        "Jira faults",
        "the sandbox answers about 30% of calls with 429 (Retry-After), 503 or a dropped "
        "connection, answers some creates after the read timeout, and Cloud search lags "
        "behind creates; the same exactly-once result, and every wait after a 429 at least "
        "its Retry-After (`test_crashes.py`, `test_jira_faults.py`)",
    ),
    (
        "IMAP faults",
        "Dovecot is killed mid-IDLE and mid-fetch ten times and the folder renumbered "
        "(UIDVALIDITY); every mail decided exactly once (`test_imap_faults.py`); the worker's "
        "CPU time while the server is away is a benchmark (`bench/idle_cpu.py`, in "
        "performance.md)",
    ),
    (
        "hostile input",
        "JQL and Jira-markup injection, CR/LF header injection, 10,000 recipients, 1,000 "
        "nested multiparts, a 50 MB attachment, invalid charsets, a 5 MB line: time, peak "
        "memory and bytes pulled from the server, and the stored Jira text checked inert "
        "(`test_hostile_input.py`)",
    ),
    (
        "floods",
        "1,000 automatic replies and 1,000 mails from one sender within a minute: at most one "
        "recovery, every mail decided once, no IMAP write but our keywords (`test_floods.py`)",
    ),
    (
        "strangers and floods in a thread",
        "a stranger naming a recovery's Jira key, a mail forging the team's address without the "
        "receiving server's authentication, the client's colleague, and 60 replies in one "
        "thread: a decision of their own, no update to the client, one join, and at most "
        "`jira.max_reply_comments` comments (`test_attacks.py`)",
    ),
    (
        "secrets",
        "wrong IMAP password, wrong Jira credentials, 401s, 500s, a failing OAuth token "
        "endpoint, invalid settings and a store broken under the running worker: no secret, "
        "nor its Basic or SASL encoding, in the worker's output, /metrics, webhook bodies or "
        "Jira (`test_secrets.py`)",
    ),
    (
        "shutdown",
        "SIGTERM in the middle of a burst of mail, three times: exit 0 within 10 seconds, "
        "and after restart every mail decided exactly once; SIGTERM while a create waits out "
        "a 30 s Retry-After: exit 0 at once; SIGTERM while Jira holds a create past the "
        "shutdown grace: exit 1 at the grace, and one ticket after restart (`test_shutdown.py`)",
    ),
)


@dataclass
class Figures:
    """Totals over the run, plus one table of named figures per test."""

    totals: Counter[str] = field(default_factory=Counter)
    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, **amounts: int) -> None:
        with self._lock:
            self.totals.update({k: v for k, v in amounts.items() if v})
            for key in amounts:
                self.totals.setdefault(key, 0)

    def note(self, test: str, **values: object) -> None:
        """Keep figures of one test, e.g. ``note("crashes", kills=20, cpu_while_down=0.01)``."""
        with self._lock:
            table = self.tables.setdefault(test, {})
            for key, value in values.items():
                table[key.replace("_", " ")] = _format(value)

    def render(self, command: str) -> str:
        """The Markdown page."""
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            "# Reliability",
            "",
            "Written by the reliability suite (`tests/reliability/`) after a full run with",
            "`make reliability-report`; do not edit by hand (other test runs write the page to",
            "pytest's temporary directory). Every figure comes from the outside of the worker:",
            "issues and comments counted in the Jira sandbox, bodies received by the alert",
            "webhook, the worker process's own memory in `/proc`, and the JSON lines it logged.",
            "",
            f"- Run: {when}, Python {platform.python_version()}, {platform.machine()}",
            f"- Reproduce: `{command}`",
            "",
            "## Totals",
            "",
            "| | |",
            "|---|---:|",
        ]
        for key, label in TOTALS:
            lines.append(f"| {label} | {self.totals.get(key, 0)} |")
        lines += ["", "## What is attacked", ""]
        lines += [f"- **{name}**: {what}" for name, what in ATTACKS]
        lines += ["", "## Per test", ""]
        for test in sorted(self.tables):
            outcome = self.outcomes.get(test, "")
            lines += [f"### {test}" + (f" ({outcome})" if outcome else ""), ""]
            lines += ["| figure | value |", "|---|---:|"]
            lines += [f"| {k} | {v} |" for k, v in self.tables[test].items()]
            lines.append("")
        return "\n".join(lines)

    def write(self, path: Path, command: str) -> None:
        path.write_text(self.render(command), encoding="utf-8")


def _format(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)
