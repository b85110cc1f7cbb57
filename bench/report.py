"""Shared by the benchmarks: timing statistics and their sections of docs/performance.md."""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

PERFORMANCE_MD = Path(__file__).resolve().parent.parent / "docs" / "performance.md"

_HEADER = """\
# Performance

Figures measured by the scripts in `bench/`; every section below is rewritten by its script.
Reproduce all of them with `make bench` (or one with `python -m bench.NAME`). The machine is
small and shared, so figures are medians of several runs and targets are checked against them
with room to spare.
"""


def machine() -> str:
    """One line naming the machine the figures were taken on."""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


def timed(action: Callable[[], object], runs: int) -> list[float]:
    """Seconds each of ``runs`` calls of ``action`` took."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return samples


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def verdict(missed: list[str]) -> str:
    """The end of a section's text: ``met.``, or ``missed: <each target>.``"""
    return "met." if not missed else "missed: " + "; ".join(missed) + "."


def say_missed(missed: list[str]) -> None:
    """Name each missed target on stderr, where `make bench` shows it."""
    for target in missed:
        print(f"target missed: {target}", file=sys.stderr)


def write_section(name: str, body: str, path: Path = PERFORMANCE_MD) -> None:
    """Replace the section ``name`` of docs/performance.md (or append it), keeping the others."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{body.strip()}\n\n_Measured on {machine()}._\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else _HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
