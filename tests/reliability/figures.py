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
            "Written by the reliability suite (`tests/reliability/`) at the end of a full run;",
            "do not edit by hand. Every figure comes from the outside of the worker: issues and",
            "comments counted in the Jira sandbox, bodies received by the alert webhook, the",
            "worker process's own CPU time in `/proc`, and the JSON lines it logged.",
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
