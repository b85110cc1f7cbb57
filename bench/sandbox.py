"""The Jira sandbox: how fast it starts and answers the real `jira` client, in both dialects."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import jira

from bench.report import median_ms, say_missed, timed, write_section
from worker.sandbox import start_sandbox

DIALECTS = ("cloud", "datacenter")


def _description(dialect: str, text: str) -> object:
    if dialect == "datacenter":
        return text
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


def measure(dialect: str, runs: int, issues: int) -> dict[str, float]:
    """Median milliseconds to start, to create one issue, and to search a page of 50."""
    started = []
    starts = timed(lambda: started.append(start_sandbox(dialect)), runs)  # type: ignore[arg-type]
    for running in started:  # stopping waits for the serving thread's poll: not part of a start
        running.stop()
    with start_sandbox(dialect) as sandbox:  # type: ignore[arg-type]
        options: dict[str, Any] = dict(sandbox.options)
        client = jira.JIRA(sandbox.url, options=options, max_retries=0, timeout=10, **sandbox.auth)
        fields = {
            "project": {"key": "SUP"},
            "issuetype": {"name": "Task"},
            "summary": "Invoice sent twice",
            "description": _description(dialect, "The client was charged twice."),
            "labels": ["complaint"],
        }
        creates = timed(lambda: client.create_issue(fields=fields), issues)
        jql = 'project = SUP AND labels = "complaint" ORDER BY created DESC'
        if dialect == "cloud":
            searches = timed(lambda: client.enhanced_search_issues(jql, maxResults=50), runs)
        else:
            searches = timed(lambda: client.search_issues(jql, maxResults=50), runs)
        client.close()  # type: ignore[no-untyped-call]
    return {
        "start": median_ms(starts),
        "create": median_ms(creates),
        "search": median_ms(searches),
    }


#: A sandbox start above this is a miss: tests and the demo start many.
MAX_START_MS = 250


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox", description=__doc__)
    parser.add_argument("--runs", type=int, default=25, help="runs per median")
    parser.add_argument("--issues", type=int, default=200, help="issues created (and searched)")
    args = parser.parse_args(list(argv))
    rows = []
    missed = []
    for dialect in DIALECTS:
        figures = measure(dialect, args.runs, args.issues)
        if figures["start"] > MAX_START_MS:
            missed.append(f"{dialect} starts in {figures['start']:.0f} ms > {MAX_START_MS} ms")
        print(dialect, {name: round(value, 2) for name, value in figures.items()})
        rows.append(
            f"| {dialect} | {figures['start']:.1f} | {figures['create']:.1f} "
            f"| {figures['search']:.1f} |"
        )
    write_section(
        "sandbox",
        "## Jira sandbox\n\n"
        f"Medians over {args.runs} runs (starts, searches) and {args.issues} creates, through the "
        "real `jira` client over HTTP on 127.0.0.1. Target: start well under a second.\n\n"
        "| dialect | start (ms) | create one issue (ms) | search, page of 50 "
        f"of {args.issues} (ms) |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        "Reproduce: `python -m bench.sandbox`.",
    )
    say_missed(missed)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
