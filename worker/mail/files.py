"""Mail read from files: single .eml files, directories, Maildir folders and mbox files."""

from __future__ import annotations

import mailbox
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Largest file read; a bigger one is read up to here (the parser caps text anyway).
MAX_FILE_BYTES = 64 * 1024 * 1024
_MAILDIR_PARTS = ("cur", "new", "tmp")


@dataclass(frozen=True, slots=True)
class MailFile:
    """One message found on disk, or the reason it could not be read."""

    source: str
    raw: bytes | None
    error: str | None = None


def iter_mail(paths: Iterable[Path]) -> Iterator[MailFile]:
    """Every message under the given paths, in a stable order; never raises for a bad file."""
    for path in paths:
        yield from _from_path(Path(path))


def _from_path(path: Path) -> Iterator[MailFile]:
    try:
        if path.is_dir():
            if all((path / part).is_dir() for part in _MAILDIR_PARTS):
                yield from _maildir(path)
            else:
                yield from _directory(path)
        elif path.exists():
            yield from _file(path)
        else:
            yield MailFile(str(path), None, "no such file or directory")
    except OSError as exc:
        yield MailFile(str(path), None, exc.strerror or type(exc).__name__)


def _directory(path: Path) -> Iterator[MailFile]:
    entries: list[Path] = []
    for root, dirs, files in os.walk(path, onerror=None):
        dirs.sort()
        base = Path(root)
        if base != path and all(d in dirs for d in _MAILDIR_PARTS):
            yield from _maildir(base)
            dirs[:] = [d for d in dirs if d not in _MAILDIR_PARTS]
        entries.extend(base / name for name in sorted(files))
    for entry in entries:
        if entry.is_symlink() and not entry.exists():
            yield MailFile(str(entry), None, "broken link")
            continue
        yield from _file(entry)


def _maildir(path: Path) -> Iterator[MailFile]:
    for part in ("new", "cur"):
        folder = path / part
        for name in sorted(n for n in os.listdir(folder) if not n.startswith(".")):
            yield from _read(folder / name)


def _file(path: Path) -> Iterator[MailFile]:
    try:
        with open(path, "rb") as handle:
            start = handle.read(5)
    except OSError as exc:
        yield MailFile(str(path), None, exc.strerror or type(exc).__name__)
        return
    if start == b"From ":
        yield from _mbox(path)
    else:
        yield from _read(path)


def _read(path: Path) -> Iterator[MailFile]:
    try:
        with open(path, "rb") as handle:
            yield MailFile(str(path), handle.read(MAX_FILE_BYTES))
    except OSError as exc:
        yield MailFile(str(path), None, exc.strerror or type(exc).__name__)


def _mbox(path: Path) -> Iterator[MailFile]:
    """Each message of an mbox file, labelled ``path#n`` (n from 1)."""
    try:
        box = mailbox.mbox(path, create=False)
        keys = box.keys()
    except (OSError, mailbox.Error) as exc:
        yield MailFile(str(path), None, f"not a readable mbox: {exc}")
        return
    try:
        for number, key in enumerate(keys, start=1):
            label = f"{path}#{number}"
            try:
                yield MailFile(label, box.get_bytes(key)[:MAX_FILE_BYTES])
            except (OSError, KeyError, mailbox.Error) as exc:
                yield MailFile(label, None, str(exc) or type(exc).__name__)
    finally:
        box.close()
