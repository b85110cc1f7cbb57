"""Intake on a Maildir and the store: one decision per message, exactly once, across crashes."""

from __future__ import annotations

import mailbox
import shutil
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DatabaseError, OperationalError

from tests.conftest import REPO
from tests.support.builders import make_services
from tests.support.data import MAIL, vendored
from worker.clock import FrozenClock
from worker.core import decision
from worker.core.sla import evaluate
from worker.domain.decision import THREAD, Decision
from worker.domain.events import EventKind
from worker.domain.mail import Incoming, ParsedMail
from worker.domain.recovery import CLOSED, OPEN, RESOLVED
from worker.errors import StoreError
from worker.intake import handle_batch, handle_message
from worker.mail.maildir import MaildirInbox
from worker.mail.parse import MAX_DELIMITER_LINES, MAX_MESSAGE_BYTES
from worker.settings import (
    CalendarSettings,
    DetectionSettings,
    JiraSettings,
    PolicySettings,
    SlaSettings,
)
from worker.steps import Services, maildir_intake
from worker.steps.maildir_intake import poll_maildir_once
from worker.store import Store, cursors, events, followups, recoveries, replies
from worker.store import messages as message_store
from worker.store.cursors import Cursor
from worker.store.intake import open_pending
from worker.store.schema import messages
from worker.wiring import sla_setup

DEMO = REPO / "worker" / "demo" / "mails"
ANGRY = "This is unacceptable, the portal is still not working."
#: The team's own address: its mail is no complaint.
TEAM = DetectionSettings(own_addresses=["support@acme.example"])


def raw_mail(
    body: str,
    *,
    mid: str,
    sender: str = "jane@client.example",
    extra: str = "",
    date: str = "Mon, 02 Mar 2026 08:00:00 +0000",
) -> bytes:
    return (
        f"From: Jane <{sender}>\r\nTo: support@acme.example\r\nSubject: Portal\r\n"
        f"Message-ID: <{mid}>\r\nDate: {date}\r\n{extra}\r\n{body}\r\n"
    ).encode()


@pytest.fixture
def services(store: Store, clock: FrozenClock) -> Services:
    """No tracker: the intake only records; the team writes from support@acme.example."""
    return make_services(store, clock, detection=TEAM)


@pytest.fixture
def maildir(tmp_path: Path) -> MaildirInbox:
    inbox = MaildirInbox(tmp_path / "Maildir")
    inbox.ensure()
    return inbox


def deliver(inbox: MaildirInbox, raw: bytes) -> None:
    box = mailbox.Maildir(inbox.path, create=False)
    box.add(raw)
    box.close()


def decisions(store: Store) -> dict[str, str]:
    with store.transaction() as conn:
        rows = conn.execute(select(messages.c.key, messages.c.decision)).all()
    return {row.key: row.decision for row in rows}


def count(store: Store) -> int:
    with store.transaction() as conn:
        return int(conn.execute(select(func.count()).select_from(messages)).scalar_one())


def test_demo_mails_each_get_one_decision(services: Services, maildir: MaildirInbox) -> None:
    for path in sorted(DEMO.glob("*.eml")):
        deliver(maildir, path.read_bytes())
    demo = len(list(DEMO.glob("*.eml")))
    assert poll_maildir_once(services, maildir) == demo
    found = decisions(services.store)
    # The complaint, a question, an out-of-office, a newsletter; the rest are the thread.
    assert sorted(found.values()) == sorted(
        ["not_complaint", "recovery", "skipped", "skipped"] + ["thread"] * (demo - 4)
    )
    assert maildir.pending() == []
    assert len(list((maildir.path / "cur").iterdir())) == demo
    with services.store.transaction() as conn:
        pending = recoveries.pending(conn)
        assert len(pending) == 1
        recovery = pending[0]
        assert recovery.source_key == "mail:demo-angry-0001@northwind-legal.example"
        assert recovery.client == "dana.whitfield@northwind-legal.example"
        assert "unacceptable" in recovery.excerpt
        assert recovery.reasons
        waiting = replies.unposted(conn)
        assert [r.recovery_id for r in waiting] == [recovery.id] * (demo - 4)
        kinds = [e.kind for e in events.for_recovery(conn, recovery.id)]
        assert kinds == [EventKind.CLIENT_MESSAGE] * (demo - 4)
    assert services.metrics.messages.labels(decision="recovery")._value.get() == 1
    assert poll_maildir_once(services, maildir) == 0


def test_a_message_read_again_after_a_crash_is_not_decided_twice(
    services: Services, maildir: MaildirInbox
) -> None:
    raw = raw_mail(ANGRY, mid="a@client.example")
    deliver(maildir, raw)
    poll_maildir_once(services, maildir)
    # The crash came after the record, before the move: the same file is back in new/.
    deliver(maildir, raw)
    assert poll_maildir_once(services, maildir) == 1
    assert count(services.store) == 1
    with services.store.transaction() as conn:
        assert len(recoveries.pending(conn)) == 1


def test_maildir_chunks_are_bounded_in_bytes(
    services: Services, maildir: MaildirInbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Maildir files hold their attachments: a few large ones are committed a few at a time."""
    for n in range(5):
        deliver(maildir, raw_mail(f"{ANGRY} {'x' * 4000}", mid=f"{n}@x", sender=f"c{n}@y"))
    monkeypatch.setattr(maildir_intake, "MAILDIR_CHUNK_BYTES", 8000)
    real_batch = handle_batch
    chunks: list[int] = []

    def counting(services: Services, items: Any, **kwargs: Any) -> Any:
        chunks.append(len(items))
        return real_batch(services, items, **kwargs)

    monkeypatch.setattr("worker.steps.maildir_intake.handle_batch", counting)
    assert poll_maildir_once(services, maildir) == 5
    assert chunks == [2, 2, 1]
    assert count(services.store) == 5


def test_copies_of_one_message_are_one_message(services: Services, maildir: MaildirInbox) -> None:
    raw = raw_mail(ANGRY, mid="a@client.example", extra="Cc: team@acme.example\r\n")
    deliver(maildir, raw)
    deliver(maildir, raw.replace(b"To: support@", b"To: sales@"))
    poll_maildir_once(services, maildir)
    assert decisions(services.store) == {"a@client.example": "recovery"}


def test_unparseable_mail_is_quarantined_and_the_intake_goes_on(
    services: Services, maildir: MaildirInbox
) -> None:
    deliver(maildir, b"\r\n\r\n")
    deliver(maildir, raw_mail(ANGRY, mid="a@client.example"))
    assert poll_maildir_once(services, maildir) == 2
    assert sorted(decisions(services.store).values()) == ["quarantined", "recovery"]
    assert services.metrics.quarantined._value.get() == 1


def test_noise_and_own_mail_are_skipped(services: Services, maildir: MaildirInbox) -> None:
    deliver(maildir, raw_mail(ANGRY, mid="1@x", extra="Auto-Submitted: auto-replied\r\n"))
    deliver(maildir, raw_mail(ANGRY, mid="2@x", sender="support@acme.example"))
    deliver(maildir, raw_mail(ANGRY, mid="3@x", sender="MAILER-DAEMON@mx.example"))
    poll_maildir_once(services, maildir)
    assert set(decisions(services.store).values()) == {"skipped"}
    with services.store.transaction() as conn:
        assert recoveries.pending(conn) == []


def test_a_flood_is_one_recovery(services: Services, clock: FrozenClock) -> None:
    outcomes = []
    for i in range(8):
        clock.advance(timedelta(seconds=30))
        outcomes.append(
            handle_message(services, Incoming("test", raw_mail(f"{ANGRY} #{i}", mid=f"{i}@x")))
        )
    assert [o.decision for o in outcomes] == ["recovery"] + ["thread"] * 7
    assert {o.recovery_id for o in outcomes} == {outcomes[0].recovery_id}
    with services.store.transaction() as conn:
        assert len(recoveries.pending(conn)) == 1
        assert len(replies.unposted(conn)) == 7


def sent_times(clock: FrozenClock, apart: timedelta) -> list[datetime]:
    """Five moments ``apart`` from each other, the last one now."""
    return [clock.now() - (4 - n) * apart for n in range(5)]


def backlog(
    sent: list[datetime],
    *,
    internaldate: bool,
    text: str = "Could you send me the invoice for order {n}? Thanks.",
) -> list[Incoming]:
    """Mails from one sender (calm questions unless told), one sent at each moment."""
    mails = []
    for n, at in enumerate(sent):
        raw = raw_mail(
            text.format(n=n),
            mid=f"{n}@x",
            date=f"{at:%a, %d %b %Y %H:%M:%S +0000}",
        )
        mails.append(
            Incoming("imap:x/INBOX", raw, uid=n + 1, received=at if internaldate else None)
        )
    return mails


@pytest.mark.parametrize("internaldate", [True, False], ids=["internaldate", "date-header"])
def test_a_backlog_of_mails_a_day_apart_is_no_flood(
    services: Services, clock: FrozenClock, internaldate: bool
) -> None:
    """Read in one batch after downtime, mails sent a day apart count as a day apart."""
    sent = sent_times(clock, timedelta(days=1))
    clock.advance(timedelta(hours=6))
    outcomes = handle_batch(services, [(m, None) for m in backlog(sent, internaldate=internaldate)])
    assert [o.decision for o in outcomes] == ["not_complaint"] * 5
    assert not [r for o in outcomes for r in o.reasons if r.startswith("repeat-contact")]
    with services.store.transaction() as conn:
        assert recoveries.pending(conn) == []
        arrived = conn.execute(select(messages.c.received_at).order_by(messages.c.id)).scalars()
        assert list(arrived) == sent


@pytest.mark.parametrize("internaldate", [True, False], ids=["internaldate", "date-header"])
def test_a_backlog_of_mails_minutes_apart_is_still_a_flood(
    services: Services, clock: FrozenClock, internaldate: bool
) -> None:
    sent = sent_times(clock, timedelta(minutes=2))
    clock.advance(timedelta(days=1))
    angry = "Order {n}: this is unacceptable, the portal is still not working."
    mails = backlog(sent, internaldate=internaldate, text=angry)
    outcomes = handle_batch(services, [(m, None) for m in mails])
    assert [o.decision for o in outcomes] == ["recovery"] + ["thread"] * 4
    assert outcomes[4].reason == "flood: 5 mails within 10 minutes"
    assert {o.recovery_id for o in outcomes} == {outcomes[0].recovery_id}


def test_a_backlog_of_calm_mails_minutes_apart_opens_nothing(
    services: Services, clock: FrozenClock
) -> None:
    """Five questions in ten minutes are a busy client, not a complaint."""
    sent = sent_times(clock, timedelta(minutes=2))
    clock.advance(timedelta(days=1))
    outcomes = handle_batch(services, [(m, None) for m in backlog(sent, internaldate=True)])
    assert [o.decision for o in outcomes] == ["not_complaint"] * 5
    with services.store.transaction() as conn:
        assert recoveries.pending(conn) == []


def test_a_sender_joins_only_a_recovery_of_mail_that_arrived_in_the_window(
    services: Services, clock: FrozenClock
) -> None:
    start = clock.now()
    clock.advance(timedelta(days=3))
    day_later = start + timedelta(days=1)
    batch = [
        Incoming("in", raw_mail(ANGRY, mid="a@x"), received=start),
        Incoming("in", raw_mail(f"{ANGRY} Again.", mid="b@x"), received=day_later),
        Incoming("in", raw_mail("Any news?", mid="c@x"), received=day_later + timedelta(minutes=3)),
    ]
    first, second, third = handle_batch(services, [(incoming, None) for incoming in batch])
    assert (first.decision, second.decision, third.decision) == ("recovery", "recovery", "thread")
    assert first.recovery_id != second.recovery_id
    assert third.recovery_id == second.recovery_id
    assert third.reason == "sender's recovery from the last 10 minutes"


@pytest.mark.parametrize("internaldate", [True, False])
def test_a_date_header_in_the_future_does_not_move_the_clocks_start(
    services: Services, clock: FrozenClock, internaldate: bool
) -> None:
    """A Date far ahead is not believed: the clocks start when the complaint arrived."""
    arrived = clock.now() - timedelta(minutes=3)
    raw = raw_mail(ANGRY, mid="future@x", date="Tue, 01 Dec 2099 08:00:00 +0000")
    outcome = handle_message(
        services, Incoming("test", raw, received=arrived if internaldate else None)
    )
    with services.store.transaction() as conn:
        recovery = recoveries.get(conn, outcome.recovery_id or 0)
    assert recovery is not None
    assert recovery.source_at == (arrived if internaldate else clock.now())


def test_the_cursor_does_not_move_when_the_record_fails(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> int:
        raise StoreError("disk full")

    monkeypatch.setattr(message_store, "record", broken)
    with pytest.raises(StoreError):
        handle_message(
            services,
            Incoming("imap:x/INBOX", raw_mail(ANGRY, mid="a@x"), uid=7, uidvalidity=1),
            cursor=Cursor("imap:x/INBOX", 1, 7),
        )
    with services.store.transaction() as conn:
        assert cursors.get(conn, "imap:x/INBOX").last_uid == 0
        # The recovery was in the same transaction: gone with it.
        assert recoveries.pending(conn) == []


#: What the receiving server writes on the team's own mail that passed its checks.
TEAM_AUTH = "Authentication-Results: mx.acme.example; dkim=pass header.d=acme.example\r\n"


def team_reply(body: str, *, auth: str = TEAM_AUTH) -> bytes:
    """The team's mail to the client, in the thread of the complaint "a@client.example"."""
    return raw_mail(
        body,
        mid="r1@acme.example",
        sender="support@acme.example",
        extra=f"{auth}In-Reply-To: <a@client.example>\r\n",
    )


@pytest.mark.parametrize(
    "auth",
    [
        "",
        "Authentication-Results: mx.acme.example; dkim=fail; spf=softfail\r\n",
        # A sender's own header further down does not count: only the receiving server's.
        "Authentication-Results: mx.acme.example; dkim=none\r\n"
        "Authentication-Results: forged.example; dkim=pass\r\n",
    ],
    ids=["no-results", "failed", "forged-below"],
)
def test_a_forged_team_address_is_no_update_to_the_client(
    services: Services, clock: FrozenClock, auth: str
) -> None:
    """Anyone can write From: support@...; only mail the receiving server vouched for counts."""
    opened = handle_message(services, Incoming("in", raw_mail(ANGRY, mid="a@client.example")))
    clock.advance(timedelta(minutes=20))
    forged = handle_message(services, Incoming("in", team_reply("Resolved, closing.", auth=auth)))
    assert forged.decision == "skipped"
    assert forged.reason == "our own address, but not authenticated by the receiving server"
    assert opened.recovery_id is not None
    with services.store.transaction() as conn:
        assert events.for_recovery(conn, opened.recovery_id) == []


def test_only_the_clients_own_domain_joins_a_recovery_by_its_key(
    services: Services, clock: FrozenClock
) -> None:
    opened = handle_message(services, Incoming("in", raw_mail(ANGRY, mid="a@client.example")))
    assert opened.recovery_id is not None
    with services.store.transaction() as conn:
        recoveries.mark_open(conn, opened.recovery_id, "SUP-69")
    clock.advance(timedelta(hours=2))

    def naming_the_key(mid: str, sender: str) -> bytes:
        return raw_mail(ANGRY, mid=mid, sender=sender).replace(
            b"Subject: Portal", b"Subject: [SUP-69] Portal"
        )

    colleague = handle_message(
        services, Incoming("in", naming_the_key("c@client.example", "bob@client.example"))
    )
    stranger = handle_message(
        services, Incoming("in", naming_the_key("s@evil.example", "eve@evil.example"))
    )
    assert (colleague.decision, colleague.recovery_id) == ("thread", opened.recovery_id)
    assert stranger.decision == "recovery"
    assert stranger.recovery_id != opened.recovery_id
    assert "subject names SUP-69, a recovery of another client: not joined" in stranger.reasons


def decide_failing_on(monkeypatch: pytest.MonkeyPatch, key: str, error: Exception) -> None:
    """Make the decision raise ``error`` for the mail ``key``, and decide the others as usual."""
    real_decide = decision.decide

    def decide(mail: ParsedMail, *args: Any, **kwargs: Any) -> Decision:
        if mail.key == key:
            raise error
        return real_decide(mail, *args, **kwargs)

    monkeypatch.setattr("worker.intake.decide", decide)


def imap_batch(count: int, source: str = "imap:x/INBOX") -> list[tuple[Incoming, Cursor | None]]:
    """Complaints with UIDs 1..count, Message-IDs "<n>@x", each with its cursor."""
    return [
        (
            Incoming(source, raw_mail(f"{ANGRY} {n}", mid=f"{n}@x", sender=f"c{n}@y"), uid=n),
            Cursor(source, 1, n),
        )
        for n in range(1, count + 1)
    ]


def test_one_bad_message_does_not_hold_back_the_batch(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    decide_failing_on(monkeypatch, "3@x", StoreError("cannot decide this one"))
    with pytest.raises(StoreError):
        handle_batch(services, imap_batch(5))
    with services.store.transaction() as conn:
        # The two before it are recorded and the cursor is on the last of them.
        assert cursors.get(conn, "imap:x/INBOX").last_uid == 2
    assert sorted(decisions(services.store)) == ["1@x", "2@x"]


def test_a_mail_the_rules_cannot_decide_is_quarantined_and_the_cursor_passes_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    decide_failing_on(monkeypatch, "2@x", ValueError("a rule tripped over this mail"))
    batch = imap_batch(3)
    outcomes = handle_batch(services, batch)
    assert [o.decision for o in outcomes] == ["recovery", "quarantined", "recovery"]
    assert outcomes[1].reason.startswith("undecidable: ValueError")
    assert decisions(services.store) == {"1@x": "recovery", "2@x": "quarantined", "3@x": "recovery"}
    assert services.metrics.quarantined._value.get() == 1
    with services.store.transaction() as conn:
        assert cursors.get(conn, "imap:x/INBOX").last_uid == 3
    # Read again (a crash before the keyword was set): still one decision.
    assert handle_batch(services, batch[1:2])[0].decision == "quarantined"
    assert count(services.store) == 3


def test_a_mail_that_cannot_be_recorded_is_quarantined_and_the_cursor_passes_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the decision, in the mail's own writes, must not wedge the folder."""
    real_open = open_pending

    def open_failing_on_2(conn: Any, mail: ParsedMail, *args: Any, **kwargs: Any) -> Any:
        if mail.key == "2@x":
            raise OverflowError("date value out of range")
        return real_open(conn, mail, *args, **kwargs)

    monkeypatch.setattr("worker.intake.open_pending", open_failing_on_2)
    outcomes = handle_batch(services, imap_batch(3))
    assert [o.decision for o in outcomes] == ["recovery", "quarantined", "recovery"]
    assert outcomes[1].reason == "unrecordable: OverflowError: date value out of range"
    with services.store.transaction() as conn:
        assert cursors.get(conn, "imap:x/INBOX").last_uid == 3
        # Nothing of the failed mail's writes is left behind: two recoveries, not three.
        assert len(recoveries.pending(conn)) == 2


def test_long_message_ids_sharing_a_prefix_are_two_mails(
    services: Services, maildir: MaildirInbox
) -> None:
    prefix = "x" * 520
    deliver(maildir, raw_mail("hello", mid=f"{prefix}1@y"))
    deliver(maildir, raw_mail(ANGRY, mid=f"{prefix}2@y", sender="bob@other.example"))
    assert poll_maildir_once(services, maildir) == 2
    recorded = decisions(services.store)
    assert sorted(recorded.values()) == ["not_complaint", "recovery"]
    assert all(len(key) <= 512 for key in recorded)  # the store's key column
    # The same long id again is the same mail.
    deliver(maildir, raw_mail("hello", mid=f"{prefix}1@y"))
    assert poll_maildir_once(services, maildir) == 1
    assert count(services.store) == 2


def test_a_reply_dated_past_the_end_of_the_calendar_joins_its_thread(
    services: Services, maildir: MaildirInbox, clock: FrozenClock
) -> None:
    deliver(maildir, raw_mail(ANGRY, mid="root@client.example"))
    reply = raw_mail(
        "any news?",
        mid="reply@client.example",
        date="Fri, 31 Dec 9999 23:59:59 -1400",
        extra="In-Reply-To: <root@client.example>\r\n",
    )
    deliver(maildir, reply)
    assert poll_maildir_once(services, maildir) == 2
    assert decisions(services.store)["reply@client.example"] == "thread"
    with services.store.transaction() as conn:
        (stored,) = replies.unposted(conn)
    assert stored.sent_at == clock.now()


def test_a_date_header_from_long_before_arrival_does_not_start_the_clocks_then(
    services: Services, clock: FrozenClock
) -> None:
    arrived = clock.now() - timedelta(minutes=3)
    raw = raw_mail(ANGRY, mid="old@x", date="Tue, 01 Jan 1980 08:00:00 +0000")
    outcome = handle_message(services, Incoming("test", raw, received=arrived))
    with services.store.transaction() as conn:
        recovery = recoveries.get(conn, outcome.recovery_id or 0)
    assert recovery is not None
    assert recovery.source_at == arrived


def test_team_mail_in_the_sent_folder_is_a_client_update(
    services: Services, clock: FrozenClock
) -> None:
    opened = handle_message(services, Incoming("in", raw_mail(ANGRY, mid="a@client.example")))
    clock.advance(timedelta(minutes=20))
    update = team_reply("Sorry about this; we are on it.")
    sent = handle_message(services, Incoming("sent", update, sent=True))
    assert (sent.decision, sent.recovery_id) == ("thread", opened.recovery_id)
    # The client answers the team's mail: it joins the recovery through it.
    clock.advance(timedelta(hours=2))
    answer = raw_mail("Thanks.", mid="b@client.example", extra="In-Reply-To: <r1@acme.example>\r\n")
    assert handle_message(services, Incoming("in", answer)).recovery_id == opened.recovery_id
    other = raw_mail("Lunch?", mid="x@acme.example", sender="support@acme.example")
    assert handle_message(services, Incoming("sent", other, sent=True)).decision == "skipped"
    assert opened.recovery_id is not None
    with services.store.transaction() as conn:
        kinds = [e.kind for e in events.for_recovery(conn, opened.recovery_id)]
        assert kinds == [EventKind.CLIENT_UPDATE, EventKind.CLIENT_MESSAGE]
        assert len(replies.unposted(conn)) == 1


def test_a_bcc_of_the_teams_mail_in_the_inbox_is_a_client_update(
    services: Services, clock: FrozenClock
) -> None:
    """The team's own mail arriving in the inbox (a Bcc) counts like one seen in Sent, once."""
    opened = handle_message(services, Incoming("in", raw_mail(ANGRY, mid="a@client.example")))
    clock.advance(timedelta(minutes=20))
    update = team_reply("Sorry about this; we are on it.")
    bcc = handle_message(services, Incoming("in", update))
    assert (bcc.decision, bcc.recovery_id) == ("thread", opened.recovery_id)
    # The same mail seen again in the Sent folder is a copy, not a second update.
    assert handle_message(services, Incoming("sent", update, sent=True)).decision == "skipped"
    other = raw_mail("Lunch?", mid="x@acme.example", sender="support@acme.example", extra=TEAM_AUTH)
    assert handle_message(services, Incoming("in", other)).reason == "our own address"
    assert opened.recovery_id is not None
    with services.store.transaction() as conn:
        kinds = [e.kind for e in events.for_recovery(conn, opened.recovery_id)]
        assert kinds == [EventKind.CLIENT_UPDATE]
        assert replies.unposted(conn) == []


@pytest.mark.parametrize("sent", [True, False], ids=["sent-folder", "bcc"])
def test_a_next_update_promised_in_a_mail_sets_the_deadline(
    services: Services, clock: FrozenClock, sent: bool
) -> None:
    """ "We will update you within 2 hours" in the team's mail: the next update is due then."""
    opened = handle_message(services, Incoming("in", raw_mail(ANGRY, mid="a@client.example")))
    assert opened.recovery_id is not None
    update = team_reply("We found the cause. We will update you within 2 hours.\r\n\r\n> " + ANGRY)
    handle_message(services, Incoming("sent" if sent else "in", update, sent=sent))
    sent_at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # the mail's Date
    with services.store.transaction() as conn:
        history = events.for_recovery(conn, opened.recovery_id)
        recovery = recoveries.get(conn, opened.recovery_id)
    assert [e.kind for e in history] == [EventKind.CLIENT_UPDATE, EventKind.PROMISE]
    assert recovery is not None
    policy, calendar = sla_setup(services.settings).calendar_of(recovery.severity)
    assert policy.update_every > timedelta(hours=2)
    clocks = evaluate(history, policy, calendar, sent_at + timedelta(minutes=1))
    assert clocks.next_update is not None
    assert clocks.next_update.deadline == sent_at + timedelta(hours=2)


def test_business_days_promised_in_a_mail_follow_the_policys_calendar(
    store: Store, clock: FrozenClock
) -> None:
    """The team's mail, sent on Monday before opening, promises an update within 2 business
    days; Tuesday is a day off in the policy's calendar, so Monday and Wednesday count and it
    is due at Wednesday's close."""
    business = PolicySettings(
        first_contact=timedelta(hours=4),
        update_every=timedelta(hours=8),
        resolution=timedelta(hours=40),
        calendar="business",
    )
    sla = SlaSettings(
        policies=dict.fromkeys(("sev1", "sev2", "sev3"), business),
        calendars={"business": CalendarSettings(extra_dates=[date(2026, 3, 3)])},
    )
    services = make_services(store, clock, detection=TEAM, sla=sla)
    opened = handle_message(services, Incoming("in", raw_mail(ANGRY, mid="a@client.example")))
    assert opened.recovery_id is not None
    update = team_reply("We found the cause. We will update you within 2 business days.")
    handle_message(services, Incoming("sent", update, sent=True))
    with services.store.transaction() as conn:
        history = events.for_recovery(conn, opened.recovery_id)
    (promise,) = [e for e in history if e.kind is EventKind.PROMISE]
    # The mail's Date is Monday 2 March 08:00 UTC; the calendar works 09:00-17:00 UTC.
    assert promise.detail == {"due": datetime(2026, 3, 4, 17, 0, tzinfo=UTC).isoformat()}


def test_an_angrier_reply_raises_the_recovery(services: Services, clock: FrozenClock) -> None:
    first = handle_message(
        services, Incoming("in", raw_mail("The export still does not work.", mid="a@x"))
    )
    clock.advance(timedelta(days=1))
    furious = "Still not fixed. Unacceptable. Our lawyers will be in touch."
    handle_message(
        services, Incoming("in", raw_mail(furious, mid="b@x", extra="In-Reply-To: <a@x>\r\n"))
    )
    assert first.recovery_id is not None
    with services.store.transaction() as conn:
        recovery = recoveries.get(conn, first.recovery_id)
        assert recovery is not None
        assert recovery.severity == "sev1"
        kinds = [e.kind for e in events.for_recovery(conn, first.recovery_id)]
        assert EventKind.SEVERITY_RAISED in kinds


AGAIN = "It is broken again. This is unacceptable, nothing was fixed."


def reply_after(services: Services, state: str, body: str) -> list[EventKind]:
    """A complaint opened, put in ``state``, then the client's reply ``body``: its events."""
    first = handle_message(services, Incoming("in", raw_mail(ANGRY, mid="a@x")))
    assert first.recovery_id is not None
    with services.store.transaction() as conn:
        recoveries.mark_open(conn, first.recovery_id, "SUP-1")
        if state != OPEN:
            followups.resolve_recovery(conn, first.recovery_id, services.clock.now())
        if state == CLOSED:
            followups.close_recovery(conn, first.recovery_id)
    reply = raw_mail(body, mid="b@x", extra="In-Reply-To: <a@x>\r\n")
    assert handle_message(services, Incoming("in", reply)).decision == THREAD
    with services.store.transaction() as conn:
        return [e.kind for e in events.for_recovery(conn, first.recovery_id)]


@pytest.mark.parametrize(
    ("state", "body", "asked"),
    [
        (RESOLVED, AGAIN, True),
        (CLOSED, AGAIN, True),  # after the follow-up was done
        (RESOLVED, "Thanks, it works now. Have a nice day.", False),
        (OPEN, AGAIN, False),  # nothing to reopen: the clocks run already
    ],
)
def test_a_complaint_after_resolution_asks_for_a_reopen(
    services: Services, clock: FrozenClock, state: str, body: str, asked: bool
) -> None:
    """Only a complaint, and only in the thread of a resolved recovery, asks for a reopen."""
    kinds = reply_after(services, state, body)
    assert EventKind.CLIENT_MESSAGE in kinds
    assert (EventKind.REOPEN_ASKED in kinds) is asked


def test_reopen_on_complaint_can_be_turned_off(store: Store, clock: FrozenClock) -> None:
    jira = JiraSettings(reopen_on_complaint=False)
    services = make_services(store, clock, detection=TEAM, jira=jira)
    assert EventKind.REOPEN_ASKED not in reply_after(services, RESOLVED, AGAIN)


def test_every_corpus_mail_through_the_intake(services: Services, maildir: MaildirInbox) -> None:
    """Every file of the vendored mail corpus ends in a recorded decision (copies: one)."""
    files = vendored(MAIL, at_least=1000)
    for number, path in enumerate(files):
        shutil.copy(path, maildir.path / "new" / f"{number:05d}.corpus")
    handled = 0
    while batch := poll_maildir_once(services, maildir):
        handled += batch
    assert handled == len(files)
    recorded = count(services.store)
    assert 0.5 * len(files) < recorded <= len(files)


def part_bomb(parts: int) -> bytes:
    """A mail of ``parts`` empty MIME parts: small on disk, slow to parse."""
    head = (
        "From: Eve <eve@bomb.example>\r\nTo: support@acme.example\r\nSubject: Portal\r\n"
        "Message-ID: <bomb@bomb.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    )
    return (head + "--b\r\n\r\n" * parts + "--b--\r\n").encode()


def test_oversized_mail_and_part_bombs_are_quarantined_before_parsing(
    services: Services, maildir: MaildirInbox
) -> None:
    """Limits apply before the parser runs; the mails behind them are still decided."""
    deliver(maildir, part_bomb(MAX_DELIMITER_LINES * 20))
    huge = raw_mail(ANGRY + "\r\n" + "x" * MAX_MESSAGE_BYTES, mid="huge@client.example")
    deliver(maildir, huge)
    deliver(maildir, raw_mail(ANGRY, mid="after@client.example"))
    assert poll_maildir_once(services, maildir) == 3
    with services.store.transaction() as conn:
        rows = conn.execute(select(messages.c.decision, messages.c.reason)).all()
    reasons = sorted(row.reason for row in rows if row.decision == "quarantined")
    assert len(reasons) == 2
    assert reasons[0].startswith("unparseable: too large: more than")
    assert reasons[1].startswith("unparseable: too many MIME parts:")
    assert decisions(services.store)["after@client.example"] == "recovery"
    assert list((maildir.path / "new").iterdir()) == []


@pytest.mark.parametrize(
    "fault",
    [
        DatabaseError("INSERT", {}, sqlite3.DatabaseError("database disk image is malformed")),
        OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")),
    ],
    ids=["corrupt", "disk-full"],
)
def test_a_store_fault_stops_the_intake_and_quarantines_nothing(
    services: Services, maildir: MaildirInbox, monkeypatch: pytest.MonkeyPatch, fault: Exception
) -> None:
    """The store, not the mail, is at fault: every mail stays where it is, none quarantined."""
    for n in range(3):
        deliver(maildir, raw_mail(ANGRY, mid=f"{n}@client.example"))

    def broken(*args: object, **kwargs: object) -> None:
        raise fault

    monkeypatch.setattr("worker.store.messages.record", broken)
    with pytest.raises(StoreError):
        poll_maildir_once(services, maildir)
    monkeypatch.undo()
    assert decisions(services.store) == {}
    assert services.metrics.quarantined._value.get() == 0
    assert len(list((maildir.path / "new").iterdir())) == 3
