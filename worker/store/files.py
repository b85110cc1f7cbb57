"""Where a store lives, for people and for copies: its URL read, its SQLite file found."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ArgumentError

from worker.errors import ConfigurationError


def backend(url: str) -> str:
    """The database kind a store URL names (``sqlite``, ``postgresql``...)."""
    return make_url(url).get_backend_name()


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite store's file; None for another backend or in memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).absolute()


def location(url: str) -> str:
    """Where the store is, for people: a SQLite file's absolute path, else the URL
    without its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        return str(path) if path is not None else "an in-memory SQLite database"
    return parsed.render_as_string(hide_password=True)


def copy_sqlite(url: str, target: Path) -> Path | None:
    """Copy the SQLite store at ``url`` into ``target``; the real file, or None if absent.

    The real store is read, never written: with no write-ahead log beside it no process
    has it open and it is read as immutable (nothing is created next to it); with one, the
    log and its index exist already and a read-only connection reads them.
    """
    if backend(url) != "sqlite":
        raise ConfigurationError(
            f"run --dry-run works on a copy of an SQLite store; store.url names {backend(url)}"
        )
    path = sqlite_file(url)
    if path is None or not path.is_file():
        return None
    wal = path.with_name(path.name + "-wal")
    mode = "ro" if wal.exists() else "ro&immutable=1"
    try:
        source = sqlite3.connect(f"{path.as_uri()}?mode={mode}", uri=True)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        # Said and ended like a setting that is wrong (exit 2): nothing has run yet.
        raise ConfigurationError(f"cannot read the state store {path}: {exc}") from None
    return path
