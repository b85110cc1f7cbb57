"""ImapInbox: one IMAP account as the steps use it, built from the three parts of this package.

It only talks IMAP. Which UID was handled, and what a mail means, belong to the caller;
the inbox returns bytes and metadata and sets keywords when told to.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from worker.clock import Clock, SystemClock
from worker.errors import NotFound
from worker.mail.imap.connection import Backoff, Connection
from worker.mail.imap.folder import FetchedMessage, Folders, FolderState
from worker.mail.imap.idle import ActivityWaiter
from worker.mail.oauth2 import TokenProvider, token_provider
from worker.settings import ImapSettings


class ImapInbox:
    """One IMAP account: a connection made on demand and remade after it dies.

    ``sleep`` is how wait_for_activity waits (polling without IDLE, or the reconnect
    backoff while the server is away); a run loop passes its shutdown event's ``wait``
    so a stop request cuts the wait short. Other calls never sleep.

    The work is done by ``connection`` (login, backoff), ``folders`` (select, fetch, mark)
    and ``waiter`` (IDLE or polling); the methods here hand over to them.
    """

    def __init__(
        self,
        settings: ImapSettings,
        *,
        tokens: TokenProvider | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], object] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        max_backoff: timedelta = timedelta(minutes=5),
        readonly: bool = False,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        backoff = Backoff(self.clock, cap=max_backoff, rand=rand)
        self.connection = Connection(settings, tokens=tokens, backoff=backoff)
        self.folders = Folders(self.connection, readonly=readonly)
        self.waiter = ActivityWaiter(
            self.connection, self.folders, sleep=sleep, monotonic=monotonic
        )

    @classmethod
    def from_settings(cls, settings: ImapSettings, clock: Clock, **kwargs: Any) -> ImapInbox:
        """An inbox with the token source the settings name (for XOAUTH2)."""
        return cls(settings, tokens=token_provider(settings, clock), clock=clock, **kwargs)

    def source(self, folder: str) -> str:
        """The cursor name of a folder in the store."""
        return f"imap:{self.settings.username}@{self.settings.host}/{folder}"

    @property
    def connected(self) -> bool:
        return self.connection.session is not None

    @property
    def backoff(self) -> Backoff:
        return self.connection.backoff

    @property
    def readonly(self) -> bool:
        """A dry run: every folder is opened with EXAMINE, and nothing is flagged or moved."""
        return self.folders.readonly

    @property
    def idling(self) -> bool:
        """True while the connection sits in IDLE; tests and health probes read it."""
        session = self.connection.session
        return session is not None and session.idling

    @property
    def bytes_fetched(self) -> int:
        """Literal bytes of headers and text parts received, for the metrics."""
        return self.folders.bytes_fetched

    def connect(self) -> None:
        """Connect and log in; before the backoff after earlier failures ends, refuse at once.

        The refusal carries ``retry_after``, so a run loop waits instead of asking again.
        """
        self.connection.connect()

    def close(self) -> None:
        """Log out politely; never raises."""
        self.connection.close()

    def _dead(self) -> None:
        # The name the old single-module inbox had: tests lose the connection through it.
        self.connection.drop()

    def select(self, folder: str, *, readonly: bool = False) -> FolderState:
        return self.folders.select(folder, readonly=readonly)

    def fetch_since(self, folder: str, last_uid: int, limit: int = 100) -> list[FetchedMessage]:
        return self.folders.fetch_since(folder, last_uid, limit)

    def mark_handled(self, folder: str, uids: Sequence[int]) -> None:
        self.folders.mark_handled(folder, uids)

    def unmarked(self, folder: str, last_uid: int) -> list[int]:
        return self.folders.unmarked(folder, last_uid)

    def mark_quarantined(self, folder: str, uids: Sequence[int]) -> None:
        self.folders.mark_quarantined(folder, uids)

    def supports_idle(self) -> bool:
        return self.waiter.supports_idle()

    def wait_for_activity(self, folder: str, timeout: float) -> bool:
        return self.waiter.wait_for_activity(folder, timeout)

    def check(self) -> str:
        """Log in and look at every folder; a line for `recovery-worker check`."""
        session = self.connection.connect()
        described = []
        folders = list(self.settings.folders)
        if self.settings.move_handled_to:
            folders.append(self.settings.move_handled_to)
        for folder in folders:
            with self.connection.translate(f"status {folder}"):
                if not session.client.folder_exists(folder):
                    raise NotFound(f"folder {folder!r} does not exist on {self.settings.host}")
                status = session.client.folder_status(folder, [b"MESSAGES"])
            described.append(f"{folder} ({int(status.get(b'MESSAGES', 0))} messages)")
        idle = "IDLE" if b"IDLE" in session.capabilities else "polling"
        return (
            f"{self.settings.username} on {self.settings.host}:{self.settings.port} "
            f"({self.settings.security}, {idle}); folders: {', '.join(described)}"
        )
