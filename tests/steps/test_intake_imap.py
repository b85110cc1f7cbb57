"""Intake against a real Dovecot: keywords, cursors, restarts, UIDVALIDITY resets, Sent mail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support.dovecot import Dovecot, make_message, plain_settings
from worker.clock import FrozenClock
from worker.domain.events import EventKind
from worker.errors import ConnectionFailed, StoreError
from worker.mail.imap import ImapInbox
from worker.metrics import Metrics
from worker.settings import DetectionSettings, Settings
from worker.steps import Services
from worker.steps.imap_intake import poll_imap_once
from worker.store import Store, cursors, events, recoveries
from worker.store import messages as message_store
from worker.store.schema import messages

ANGRY = "This is unacceptable, the portal is still not working."
HANDLED = "$RecoveryHandled"


def make_services(store: Store, clock: FrozenClock, server: Dovecot, **overrides: Any) -> Services:
    settings = Settings(
        imap=plain_settings(server, **overrides),
        detection=DetectionSettings(own_addresses=["support@acme.example"]),
    )
    return Services(settings=settings, clock=clock, store=store, metrics=Metrics())


@pytest.fixture
def services(store: Store, clock: FrozenClock, dovecot: Dovecot) -> Services:
    return make_services(store, clock, dovecot)


@pytest.fixture
def inbox(services: Services) -> Iterator[ImapInbox]:
    made = ImapInbox(services.settings.imap, clock=services.clock)
    yield made
    made.close()


def count(store: Store) -> int:
    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())


def angry(n: int, sender: str = "client@customer.test") -> bytes:
    return make_message(
        f"Outage {n}", ANGRY, sender=sender, message_id=f"<angry-{n}@customer.test>"
    )


def test_messages_are_decided_marked_and_the_cursor_follows(
    services: Services, inbox: ImapInbox, dovecot: Dovecot
) -> None:
    uids = [
        dovecot.append(angry(1)),
        dovecot.append(make_message("Invoice", "Could you send the March invoice?")),
        dovecot.append(b"\r\n\r\n"),
    ]
    assert poll_imap_once(services, inbox) == 3
    assert count(services.store) == 3
    assert HANDLED in dovecot.flags("INBOX", uids[0])
    assert HANDLED in dovecot.flags("INBOX", uids[1])
    assert "$RecoveryQuarantined" in dovecot.flags("INBOX", uids[2])
    with services.store.transaction() as conn:
        cursor = cursors.get(conn, inbox.source("INBOX"))
        assert cursor.last_uid == uids[-1]
        assert cursor.uidvalidity == dovecot.uidvalidity()
        assert len(recoveries.pending(conn)) == 1
    assert poll_imap_once(services, inbox) == 0


def test_restart_continues_without_duplicates(
    store: Store, clock: FrozenClock, dovecot: Dovecot
) -> None:
    for n in range(3):
        dovecot.append(angry(n, sender=f"c{n}@customer.test"))
    first = make_services(store, clock, dovecot)
    before = ImapInbox(first.settings.imap, clock=clock)
    assert poll_imap_once(first, before, limit=2) == 2
    before.close()
    dovecot.append(angry(9, sender="c9@customer.test"))
    # A new process: new services, new connection, the same store.
    second = make_services(store, clock, dovecot)
    after = ImapInbox(second.settings.imap, clock=clock)
    assert poll_imap_once(second, after) == 2
    after.close()
    assert count(store) == 4


def test_cursor_stays_when_the_record_fails(
    services: Services, inbox: ImapInbox, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    uid = dovecot.append(angry(1))
    real_record = message_store.record

    def broken(*_args: object, **_kwargs: object) -> int:
        raise StoreError("disk full")

    monkeypatch.setattr(message_store, "record", broken)
    with pytest.raises(StoreError):
        poll_imap_once(services, inbox)
    with services.store.transaction() as conn:
        assert cursors.get(conn, inbox.source("INBOX")).last_uid == 0
    assert HANDLED not in dovecot.flags("INBOX", uid)
    monkeypatch.setattr(message_store, "record", real_record)
    assert poll_imap_once(services, inbox) == 1
    assert HANDLED in dovecot.flags("INBOX", uid)


def test_uidvalidity_reset_rescans_without_duplicates(
    services: Services, inbox: ImapInbox, dovecot: Dovecot
) -> None:
    for n in range(3):
        dovecot.append(angry(n, sender=f"c{n}@customer.test"))
    assert poll_imap_once(services, inbox) == 3
    inbox.close()
    dovecot.change_uidvalidity()
    dovecot.append(angry(7, sender="c7@customer.test"))
    assert poll_imap_once(services, inbox) == 4  # all read again ...
    assert count(services.store) == 4  # ... and only the new one decided
    with services.store.transaction() as conn:
        assert len(recoveries.pending(conn)) == 4
        assert cursors.get(conn, inbox.source("INBOX")).uidvalidity == dovecot.uidvalidity()


def test_a_mail_without_message_id_is_not_decided_again_after_a_reset(
    services: Services, inbox: ImapInbox, dovecot: Dovecot
) -> None:
    """Known by the hash of its fetched bytes, which must be the same on the second fetch."""
    raw = make_message("Outage", ANGRY, html=f"<p>{ANGRY}</p>", sender="form@customer.test")
    assert b"Message-ID" not in raw
    dovecot.append(raw)
    assert poll_imap_once(services, inbox) == 1
    inbox.close()
    dovecot.change_uidvalidity()
    assert poll_imap_once(services, inbox) == 1
    assert count(services.store) == 1
    with services.store.transaction() as conn:
        (recovery,) = recoveries.pending(conn)
        # Not a reply in its own thread: no client message, no reopen asked.
        assert events.for_recovery(conn, recovery.id) == []


def test_mails_decided_before_a_lost_connection_are_marked_on_the_next(
    services: Services, inbox: ImapInbox, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    uids = [dovecot.append(angry(1)), dovecot.append(b"\r\n\r\n")]
    real_mark = ImapInbox.mark_handled

    def lose_the_connection(self: ImapInbox, folder: str, marked: list[int]) -> None:
        monkeypatch.setattr(ImapInbox, "mark_handled", real_mark)
        self._dead()
        raise ConnectionFailed("connection reset while marking")

    monkeypatch.setattr(ImapInbox, "mark_handled", lose_the_connection)
    with pytest.raises(ConnectionFailed):
        poll_imap_once(services, inbox)
    assert count(services.store) == 2  # decided and committed, but not marked
    assert HANDLED not in dovecot.flags("INBOX", uids[0])
    assert poll_imap_once(services, inbox) == 0
    assert HANDLED in dovecot.flags("INBOX", uids[0])
    assert "$RecoveryQuarantined" in dovecot.flags("INBOX", uids[1])
    assert HANDLED not in dovecot.flags("INBOX", uids[1])


def test_noise_and_a_flood(services: Services, inbox: ImapInbox, dovecot: Dovecot) -> None:
    ooo = make_message("Automatic reply: Outage", "I am out of the office.")
    dovecot.append(ooo)
    dovecot.append_many([angry(n) for n in range(7)])
    assert poll_imap_once(services, inbox) == 8
    with services.store.transaction() as conn:
        rows = conn.execute(select(messages.c.decision)).scalars().all()
        assert sorted(rows) == ["recovery", "skipped"] + ["thread"] * 6
        assert len(recoveries.pending(conn)) == 1


def test_sent_folder_updates_and_idle_pickup(
    store: Store, clock: FrozenClock, dovecot: Dovecot
) -> None:
    dovecot.create_folder("Sent")
    services = make_services(store, clock, dovecot, sent_folder="Sent")
    inbox = ImapInbox(services.settings.imap, clock=clock)
    try:
        dovecot.append(angry(1))
        poll_imap_once(services, inbox)
        inbox.select("INBOX")
        assert inbox.supports_idle()
        reply = make_message("Re: Outage 1", "We are on it.", sender="support@acme.example")
        reply = reply.replace(b"Subject:", b"In-Reply-To: <angry-1@customer.test>\r\nSubject:", 1)
        dovecot.append(reply, folder="Sent")
        follow = make_message("Re: Outage 1", "Any news?", message_id="<f@customer.test>")
        follow = follow.replace(b"Subject:", b"In-Reply-To: <angry-1@customer.test>\r\nSubject:", 1)
        appender = threading.Timer(0.3, dovecot.append, args=(follow,))
        appender.start()
        assert inbox.wait_for_activity("INBOX", timeout=10)
        appender.join()
        assert poll_imap_once(services, inbox) == 2
        with store.transaction() as conn:
            recovery = recoveries.pending(conn)[0]
            kinds = {e.kind for e in events.for_recovery(conn, recovery.id)}
        assert kinds == {EventKind.CLIENT_UPDATE, EventKind.CLIENT_MESSAGE}
    finally:
        inbox.close()
