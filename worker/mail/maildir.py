"""A Maildir read as the support inbox: for on-premise mail servers and the demo.

New mail waits in ``new/``. Once its decision is recorded the file moves to
``cur/`` with the Seen flag, the way a mail client marks it read; nothing is
deleted. A crash between the two leaves the file in ``new/``, and the next
poll finds its decision already recorded and only moves it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from worker.domain.mail import AttachmentInfo
from worker.errors import ConnectionFailed
from worker.mail.parse import MAX_MESSAGE_BYTES


@dataclass(frozen=True, slots=True)
class MaildirMessage:
    """One file from ``new/``."""

    name: str
    raw: bytes
    attachments: tuple[AttachmentInfo, ...] = ()


class MaildirInbox:
    """Reads ``new/`` in delivery order and files handled mail into ``cur/``.

    ``readonly`` (a dry run) reads the same way but creates no folder and moves no file.
    """

    def __init__(
        self, path: Path, *, max_bytes: int = MAX_MESSAGE_BYTES + 1, readonly: bool = False
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.readonly = readonly

    @property
    def source(self) -> str:
        return f"maildir:{self.path}"

    def ensure(self) -> None:
        """Create the Maildir folders if they are missing (not when read-only)."""
        if self.readonly:
            return
        for sub in ("new", "cur", "tmp"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)

    def pending(self, limit: int = 500) -> list[str]:
        """Names of unhandled messages, oldest first (Maildir names start with the time)."""
        try:
            names = sorted(
                entry.name
                for entry in os.scandir(self.path / "new")
                if entry.is_file() and not entry.name.startswith(".")
            )
        except OSError as exc:
            raise ConnectionFailed(f"cannot read Maildir {self.path}: {exc.strerror}") from None
        return names[:limit]

    def read(self, name: str) -> MaildirMessage:
        """The mail's bytes, at most ``max_bytes``.

        One byte past the parser's limit is enough for it to tell the mail is too large.
        """
        with open(self.path / "new" / name, "rb") as handle:
            raw = handle.read(self.max_bytes)
        return MaildirMessage(name=name, raw=raw)

    def mark_handled(self, name: str) -> None:
        if self.readonly:
            return
        base = name.split(":2,", 1)[0]
        # Missing: already filed by an earlier run that stopped before recording it.
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.path / "new" / name, self.path / "cur" / f"{base}:2,S")
