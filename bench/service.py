"""Shared by the benches that run the service: its inbox folder, its store read from outside,
and waiting for what it does."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path


def make_maildir(folder: Path) -> Path:
    """A Maildir (``new/``, ``cur/``, ``tmp/``) at ``folder / "inbox"``; its path."""
    inbox = folder / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True)
    return inbox


def count(db: Path, query: str, *params: object) -> int:
    """The first column of the first row of ``query`` on the service's SQLite store, read-only.

    0 while the store does not exist yet or is busy: the caller asks again at its next poll.
    """
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1) as conn:
            row = conn.execute(query, params).fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


def wait(condition: Callable[[], object], seconds: float, what: str, every: float = 0.2) -> None:
    """Poll ``condition`` every ``every`` seconds; end the bench when ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"not within {seconds:.0f} s: {what}")
        time.sleep(every)
