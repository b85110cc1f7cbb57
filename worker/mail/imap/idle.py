"""Waiting for new mail in a folder: IDLE when the server offers it, else sleep and NOOP.

An IDLE is ended with DONE and begun again every ``idle_renew``. One that keeps waking up
with nothing to read, or a BYE, is a dead connection: it is dropped and ConnectionFailed
raised. While the server is away the wait sleeps out the reconnect backoff, so a loop
around it waits rather than spins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from worker.errors import ConnectionFailed
from worker.mail.imap.connection import Connection, Session
from worker.mail.imap.folder import Folders

#: An IDLE that wakes up with nothing this many times in a row is a dead connection.
EMPTY_WAKEUPS_LIMIT = 3


class ActivityWaiter:
    """Blocks until new mail may be in a folder.

    ``sleep`` is how it waits (polling without IDLE, or the reconnect backoff while the
    server is away); a run loop passes its shutdown event's ``wait`` so a stop request cuts
    the wait short.
    """

    def __init__(
        self,
        connection: Connection,
        folders: Folders,
        *,
        sleep: Callable[[float], object],
        monotonic: Callable[[], float],
    ) -> None:
        self.connection = connection
        self.folders = folders
        self.settings = connection.settings
        self.sleep = sleep
        self.monotonic = monotonic

    def supports_idle(self) -> bool:
        session = self.connection.connect()
        return self.settings.idle and b"IDLE" in session.capabilities

    def wait_for_activity(self, folder: str, timeout: float) -> bool:
        """Block until new mail may be in the folder (True) or the timeout ends (False).

        Uses IDLE when the server offers it, renewed every ``idle_renew``; otherwise
        sleeps up to ``poll_interval`` and asks with NOOP. Raises ConnectionFailed when
        the connection turns out to be dead.
        """
        backoff = self.connection.backoff
        if self.connection.session is None and backoff.remaining() > 0:
            # The server is away: wait out the backoff (never longer than asked) instead of
            # failing at once, so a loop around this call cannot spin.
            self.sleep(min(max(0.0, timeout), backoff.remaining()))
            if backoff.remaining() > 0:
                return False
        session, _ = self.folders.ensure_selected(folder)
        if self.connection.take_exists_notices():
            return True
        if timeout <= 0:
            return False
        if self.supports_idle():
            return self._idle(session, timeout)
        self.sleep(max(0.0, min(timeout, self.settings.poll_interval.total_seconds())))
        with self.connection.translate(f"noop {folder}"):
            _text, responses = session.client.noop()
        return _announces_mail(responses) or self.connection.take_exists_notices()

    def _idle(self, session: Session, timeout: float) -> bool:
        deadline = self.monotonic() + max(0.0, timeout)
        renew = self.settings.idle_renew.total_seconds()
        while True:
            session_end = min(deadline, self.monotonic() + renew)
            activity = self._idle_once(session, session_end)
            if activity or self.monotonic() >= deadline:
                return activity

    def _idle_once(self, session: Session, until: float) -> bool:
        """One IDLE command, ended with DONE at ``until`` or as soon as mail arrives."""
        client = session.client
        host = self.settings.host
        empty_wakeups = 0
        activity = False
        with self.connection.translate("idle"):
            client.idle()
            session.idling = True
            try:
                while not activity:
                    wait = until - self.monotonic()
                    if wait <= 0:
                        break
                    started = self.monotonic()
                    responses = client.idle_check(timeout=wait)
                    if _says_bye(responses):
                        raise ConnectionFailed(f"{host} closed the connection (BYE)")
                    activity = _announces_mail(responses)
                    if responses:
                        empty_wakeups = 0
                    elif self.monotonic() - started < wait / 2:
                        # Readable with nothing to read: the server hung up.
                        empty_wakeups += 1
                        if empty_wakeups >= EMPTY_WAKEUPS_LIMIT:
                            raise ConnectionFailed(f"{host} dropped the connection during IDLE")
            except ConnectionFailed:
                self.connection.drop()
                raise
            session.idling = False
            _text, responses = client.idle_done()
        self.connection.take_exists_notices()
        if _says_bye(responses):
            self.connection.drop()
            raise ConnectionFailed(f"{host} closed the connection (BYE)")
        return activity or _announces_mail(responses)


def _says_bye(responses: Sequence[Any]) -> bool:
    return any(isinstance(r, tuple) and r and r[0] == b"BYE" for r in responses)


def _announces_mail(responses: Sequence[Any]) -> bool:
    for response in responses:
        if isinstance(response, tuple) and len(response) >= 2 and response[1] == b"EXISTS":
            return True
        if (
            isinstance(response, tuple)
            and len(response) >= 2
            and response[1] == b"RECENT"
            and response[0]
        ):
            return True
    return False
