"""The Maildir inbox: delivery order, filing handled mail, nothing deleted."""

from __future__ import annotations

from pathlib import Path

from worker.mail.maildir import MaildirInbox


def deliver(inbox: MaildirInbox, name: str, body: bytes) -> None:
    (inbox.path / "tmp" / name).write_bytes(body)
    (inbox.path / "tmp" / name).rename(inbox.path / "new" / name)


def test_pending_in_delivery_order_and_filed_when_handled(tmp_path: Path) -> None:
    """New mail is listed oldest first and moves to cur/ with the Seen flag once handled."""
    inbox = MaildirInbox(tmp_path / "Maildir")
    inbox.ensure()
    deliver(inbox, "1700000002.b.host", b"Subject: two\n\nb")
    deliver(inbox, "1700000001.a.host", b"Subject: one\n\na")
    assert inbox.pending() == ["1700000001.a.host", "1700000002.b.host"]
    assert inbox.read("1700000001.a.host").raw == b"Subject: one\n\na"
    inbox.mark_handled("1700000001.a.host")
    inbox.mark_handled("1700000001.a.host")  # a repeat after a crash is harmless
    assert inbox.pending() == ["1700000002.b.host"]
    assert (inbox.path / "cur" / "1700000001.a.host:2,S").read_bytes() == b"Subject: one\n\na"


def test_read_is_capped(tmp_path: Path) -> None:
    """A huge file is read only up to the cap."""
    inbox = MaildirInbox(tmp_path / "M", max_bytes=1024)
    inbox.ensure()
    deliver(inbox, "1.x.host", b"Subject: big\n\n" + b"x" * 10_000)
    assert len(inbox.read("1.x.host").raw) == 1024
