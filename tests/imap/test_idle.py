"""Waiting for mail: IDLE against a real Dovecot, polling without it, and dead connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.support.dovecot import (
    CountingProxy,
    Dovecot,
    make_message,
    plain_settings,
    start_dovecot,
)
from worker.errors import ConnectionFailed
from worker.mail.imap import ImapInbox

pytestmark = pytest.mark.integration


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a condition until it holds, failing the test at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not met before the deadline")
        time.sleep(0.01)


class Waiter:
    """Runs wait_for_activity in a thread so the test can act on the server meanwhile."""

    def __init__(self, inbox: ImapInbox, folder: str = "INBOX", timeout: float = 20.0) -> None:
        self.result: bool | None = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.finished: float | None = None
        self.thread = threading.Thread(target=self._run, args=(inbox, folder, timeout))
        self.thread.start()

    def _run(self, inbox: ImapInbox, folder: str, timeout: float) -> None:
        try:
            self.result = inbox.wait_for_activity(folder, timeout)
        except BaseException as exc:
            self.error = exc
        self.finished = time.monotonic()

    def join(self, timeout: float = 10.0) -> float:
        """Wait for the thread; return how long wait_for_activity took after ``since``."""
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "wait_for_activity did not return in time"
        assert self.finished is not None
        return self.finished


def test_new_mail_is_noticed_through_idle(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A mail appended while the inbox idles ends the wait at once, not at its timeout."""
    inbox = make_inbox()
    inbox.select("INBOX")
    assert inbox.supports_idle()

    waiter = Waiter(inbox, timeout=20)
    wait_until(lambda: inbox.idling)
    appended_at = time.monotonic()
    uid = dovecot.append(make_message("Urgent", "Our shop is down."))
    finished = waiter.join()

    assert waiter.error is None
    assert waiter.result is True
    assert finished - appended_at < 2.0  # Dovecot batches IDLE notices for about half a second
    assert [m.uid for m in inbox.fetch_since("INBOX", 0, limit=10)] == [uid]


def test_mail_that_arrived_between_fetch_and_idle_is_not_missed(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """Mail reported by the server during another command ends the next wait at once."""
    inbox = make_inbox()
    assert inbox.fetch_since("INBOX", 0, limit=10) == []
    dovecot.append(make_message("Sneaky"))
    inbox.mark_quarantined("INBOX", [999])  # any command lets Dovecot report the new mail

    started = time.monotonic()
    assert inbox.wait_for_activity("INBOX", 10) is True
    assert time.monotonic() - started < 1.0


def test_idle_times_out_without_mail_and_renews(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """Without mail the wait ends at its timeout, having renewed IDLE every idle_renew."""
    proxy = CountingProxy((dovecot.host, dovecot.imap_port))
    try:
        inbox = make_inbox(port=proxy.port, idle_renew=timedelta(seconds=0.25))
        inbox.select("INBOX")
        started = time.monotonic()

        assert inbox.wait_for_activity("INBOX", 1.0) is False

        elapsed = time.monotonic() - started
        assert 0.9 < elapsed < 3.0
        sent = bytes(proxy.to_server)
        assert sent.count(b" IDLE\r\n") >= 4
        assert sent.count(b"DONE\r\n") == sent.count(b" IDLE\r\n")
    finally:
        proxy.close()


def test_polling_without_idle_notices_new_mail(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """With IDLE off, the wait sleeps for poll_interval and a NOOP reveals new mail."""
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        dovecot.append(make_message("Arrived while polling"))

    inbox = make_inbox({"sleep": sleep}, idle=False, poll_interval=timedelta(seconds=7))
    inbox.select("INBOX")

    assert inbox.wait_for_activity("INBOX", 60) is True
    assert slept == [7.0]
    assert inbox.idling is False


def test_polling_without_mail_reports_nothing(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A poll that finds nothing new says so."""
    slept: list[float] = []
    inbox = make_inbox({"sleep": slept.append}, idle=False, poll_interval=timedelta(seconds=30))
    inbox.select("INBOX")

    assert inbox.wait_for_activity("INBOX", 5) is False
    assert slept == [5.0]


def test_server_killed_mid_idle_then_reconnected(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A crash during IDLE raises ConnectionFailed; after a restart the inbox reads new mail."""
    inbox = make_inbox()
    inbox.select("INBOX")
    waiter = Waiter(inbox, timeout=30)
    wait_until(lambda: inbox.idling)
    killed_at = time.monotonic()

    dovecot.kill()
    finished = waiter.join()

    assert isinstance(waiter.error, ConnectionFailed)
    assert "dropped the connection during IDLE" in str(waiter.error)
    assert finished - killed_at < 3.0
    assert not inbox.connected

    dovecot.start()
    uid = dovecot.append(make_message("After the restart"))
    assert [m.uid for m in inbox.fetch_since("INBOX", 0, limit=10)] == [uid]
    assert inbox.connected


def test_bye_mid_idle_is_a_dead_connection(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A session ended by the server with BYE during IDLE raises ConnectionFailed at once."""
    inbox = make_inbox()
    inbox.select("INBOX")
    waiter = Waiter(inbox, timeout=30)
    wait_until(lambda: inbox.idling)
    kicked_at = time.monotonic()

    dovecot.kick()
    finished = waiter.join()

    assert isinstance(waiter.error, ConnectionFailed)
    assert "BYE" in str(waiter.error)
    assert finished - kicked_at < 3.0
    assert inbox.fetch_since("INBOX", 0, limit=10) == []  # and the next call reconnects


def test_server_gone_between_calls_is_a_connection_failure(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A command on a connection the server dropped raises ConnectionFailed, not a crash."""
    inbox = make_inbox()
    inbox.select("INBOX")
    dovecot.kill()

    errors: list[Any] = []
    for call in (
        lambda: inbox.fetch_since("INBOX", 0, 10),
        lambda: inbox.mark_handled("INBOX", [1]),
    ):
        with pytest.raises(ConnectionFailed) as raised:
            call()
        errors.append(raised.value)
    assert len(errors) == 2
    assert not inbox.connected


def test_silent_network_during_idle_is_caught_at_renewal(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A connection that silently stops carrying bytes fails at the next IDLE renewal."""
    proxy = CountingProxy((dovecot.host, dovecot.imap_port))
    try:
        inbox = make_inbox(
            port=proxy.port, idle_renew=timedelta(seconds=0.3), timeout=timedelta(seconds=0.5)
        )
        inbox.select("INBOX")
        waiter = Waiter(inbox, timeout=30)
        wait_until(lambda: inbox.idling)
        proxy.frozen = True
        frozen_at = time.monotonic()

        finished = waiter.join()

        assert isinstance(waiter.error, ConnectionFailed)
        assert finished - frozen_at < 3.0
        assert not inbox.connected
    finally:
        proxy.close()


def test_server_that_never_answers_times_out(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A command whose answer never comes fails after the configured timeout."""
    proxy = CountingProxy((dovecot.host, dovecot.imap_port))
    try:
        inbox = make_inbox(port=proxy.port, timeout=timedelta(seconds=0.5))
        inbox.select("INBOX")
        proxy.frozen = True
        started = time.monotonic()

        with pytest.raises(ConnectionFailed, match="timed out"):
            inbox.fetch_since("INBOX", 0, limit=10)

        assert 0.4 < time.monotonic() - started < 3.0
    finally:
        proxy.close()


def test_server_without_idle_is_polled() -> None:
    """When the server does not advertise IDLE, the inbox polls even with idle switched on."""
    server = start_dovecot(capabilities="IMAP4rev1 SASL-IR LITERAL+ UIDPLUS MOVE UNSELECT")
    slept: list[float] = []
    inbox = ImapInbox(
        plain_settings(server, idle=True, poll_interval=timedelta(seconds=3)), sleep=slept.append
    )
    try:
        inbox.select("INBOX")
        assert not inbox.supports_idle()
        assert inbox.wait_for_activity("INBOX", 10) is False
        assert slept == [3.0]
        assert "IDLE" not in inbox.check()
    finally:
        inbox.close()
        server.cleanup()
