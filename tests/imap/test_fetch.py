"""Reading mail from a real Dovecot: text parts fetched, attachments listed, keywords set."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from pydantic import SecretStr

from tests.support.dovecot import Dovecot, make_message
from worker.errors import AuthenticationFailed, ConnectionFailed, NotFound
from worker.mail.imap import MAX_ADDRESS_BYTES, ImapInbox, keywords_kept
from worker.mail.imap import _header as imap_header


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def crlf_size(raw: bytes) -> int:
    """The size IMAP reports for a mail: every line ended with CRLF."""
    return len(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def test_fetch_since_returns_new_mail_with_its_text(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """Mail above the given UID comes back oldest first with headers and body intact."""
    first = dovecot.append(make_message("First", "The invoice is wrong."))
    second = dovecot.append(make_message("Second", "Still waiting for an answer."))
    inbox = make_inbox()
    state = inbox.select("INBOX")

    messages = inbox.fetch_since("INBOX", 0, limit=10)

    assert [m.uid for m in messages] == [first, second]
    assert {m.uidvalidity for m in messages} == {state.uidvalidity}
    mail = parsed(messages[1].raw)
    assert mail["Subject"] == "Second"
    assert mail.get_content().strip() == "Still waiting for an answer."
    assert messages[1].size == crlf_size(make_message("Second", "Still waiting for an answer."))
    assert [m.uid for m in inbox.fetch_since("INBOX", first, limit=10)] == [second]
    assert inbox.fetch_since("INBOX", second, limit=10) == []


def test_limit_bounds_one_fetch(dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]) -> None:
    """A backlog is read in slices of at most ``limit`` mails."""
    uids = [dovecot.append(make_message(f"Mail {i}")) for i in range(5)]
    inbox = make_inbox()

    assert [m.uid for m in inbox.fetch_since("INBOX", 0, limit=2)] == uids[:2]
    assert [m.uid for m in inbox.fetch_since("INBOX", uids[1], limit=2)] == uids[2:4]


def test_attachments_are_listed_and_only_text_is_kept(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """The rebuilt mail holds the text parts only; attachments are names, types and sizes."""
    pdf = b"%PDF-1.4 " + bytes(range(256)) * 200
    raw = make_message(
        "Broken export",
        "See the attached files.",
        html="<p>See the <b>attached</b> files.</p>",
        attachments=[
            ("résumé de l'incident.pdf", "application/pdf", pdf),
            ("log.txt", "text/plain", b"E42"),
        ],
    )
    dovecot.append(raw)
    inbox = make_inbox()

    (message,) = inbox.fetch_since("INBOX", 0, limit=10)

    names = {a.filename: a for a in message.attachments}
    assert set(names) == {"résumé de l'incident.pdf", "log.txt"}
    assert names["résumé de l'incident.pdf"].content_type == "application/pdf"
    assert abs(names["résumé de l'incident.pdf"].size - len(pdf)) < len(pdf) * 0.01
    assert names["log.txt"].content_type == "text/plain"
    assert message.size == crlf_size(raw)
    assert pdf[:50] not in message.raw
    assert len(message.raw) < 2000
    mail = parsed(message.raw)
    assert mail["Subject"] == "Broken export"
    bodies = [part.get_content().strip() for part in mail.walk() if not part.is_multipart()]
    # The plain alternative is enough; the HTML rendering of the same text is not fetched.
    assert bodies == ["See the attached files."]


def test_html_only_mail_keeps_its_html(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A mail with no plain text part gives its HTML part, with its own Content-Type."""
    html = EmailMessage()
    html["From"] = "client@customer.test"
    html["Subject"] = "Only HTML"
    html.set_content("<p>Nothing works since <i>Monday</i>.</p>", subtype="html")
    html.add_attachment(b"\x89PNG....", maintype="image", subtype="png", filename="shot.png")
    dovecot.append(bytes(html))
    inbox = make_inbox()

    (message,) = inbox.fetch_since("INBOX", 0, limit=10)

    parts = [p for p in parsed(message.raw).walk() if not p.is_multipart()]
    assert [p.get_content_type() for p in parts] == ["text/html"]
    assert "Nothing works since <i>Monday</i>." in parts[0].get_content()
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("shot.png", "image/png")
    ]


def test_text_is_capped_with_a_partial_fetch(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A huge text body is cut at max_text_bytes, at a line break, and marked truncated."""
    body = "".join(f"line {i} of a very long complaint\n" for i in range(20000))
    dovecot.append(make_message("Long", body))
    inbox = make_inbox(max_text_bytes=4096)

    (message,) = inbox.fetch_since("INBOX", 0, limit=10)

    text = parsed(message.raw).get_content()
    assert message.truncated
    assert 3000 < len(text) <= 4096
    assert text.rstrip().endswith("of a very long complaint")
    assert text.endswith("\n")
    assert text.startswith("line 0 of")


def test_handled_and_quarantined_keywords_are_set_and_nothing_deleted(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """Marking sets the configured keywords and leaves every mail in place."""
    handled = dovecot.append(make_message("One"))
    broken = dovecot.append(make_message("Two"))
    inbox = make_inbox(handled_keyword="$Done", quarantine_keyword="$Broken")

    inbox.mark_handled("INBOX", [handled])
    inbox.mark_quarantined("INBOX", [broken])

    assert "$Done" in dovecot.flags("INBOX", handled)
    assert "$Broken" not in dovecot.flags("INBOX", handled)
    assert "$Broken" in dovecot.flags("INBOX", broken)
    assert dovecot.uids("INBOX") == [handled, broken]
    (first, _second) = inbox.fetch_since("INBOX", 0, limit=10)
    assert "$Done" in first.flags
    assert "\\Seen" not in first.flags  # BODY.PEEK leaves mail unread for the team


def test_handled_mail_moves_to_the_configured_folder(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """With move_handled_to, handled mail lands there with its keyword."""
    dovecot.create_folder("Handled")
    uid = dovecot.append(make_message("Move me"))
    inbox = make_inbox(move_handled_to="Handled")

    inbox.mark_handled("INBOX", [uid])

    assert dovecot.uids("INBOX") == []
    (moved,) = dovecot.uids("Handled")
    assert "$RecoveryHandled" in dovecot.flags("Handled", moved)


def test_each_folder_is_read_on_its_own(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """Two folders have their own UIDs and UIDVALIDITY."""
    dovecot.create_folder("Escalations")
    in_inbox = dovecot.append(make_message("Inbox mail"))
    in_escalations = dovecot.append(make_message("Escalated"), folder="Escalations")
    inbox = make_inbox(folders=["INBOX", "Escalations"])

    inbox_state = inbox.select("INBOX")
    escalations_state = inbox.select("Escalations")
    from_inbox = inbox.fetch_since("INBOX", 0, limit=10)
    from_escalations = inbox.fetch_since("Escalations", 0, limit=10)

    assert [m.uid for m in from_inbox] == [in_inbox]
    assert [(m.folder, m.uid) for m in from_escalations] == [("Escalations", in_escalations)]
    assert parsed(from_escalations[0].raw)["Subject"] == "Escalated"
    assert from_escalations[0].uidvalidity == escalations_state.uidvalidity
    assert from_inbox[0].uidvalidity == inbox_state.uidvalidity
    assert inbox.source("INBOX") != inbox.source("Escalations")


def test_uidvalidity_change_is_reported(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A new UIDVALIDITY under the worker shows in select() and on every fetched mail."""
    dovecot.append(make_message("Before"))
    inbox = make_inbox()
    before = inbox.select("INBOX")
    inbox.fetch_since("INBOX", 0, limit=10)

    changed_to = dovecot.change_uidvalidity("INBOX")
    inbox.close()  # Dovecot disconnects sessions on the changed mailbox anyway
    after = inbox.select("INBOX")
    messages = inbox.fetch_since("INBOX", 0, limit=10)

    assert after.uidvalidity == changed_to != before.uidvalidity
    assert [m.uidvalidity for m in messages] == [changed_to]


def test_uidvalidity_change_while_connected_is_reported(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """With the folder selected when UIDVALIDITY changes, the next calls see the new value."""
    dovecot.append(make_message("Before"))
    inbox = make_inbox()
    before = inbox.select("INBOX")

    changed_to = dovecot.change_uidvalidity("INBOX")
    seen = None
    for _attempt in range(3):  # the first call may meet the server's BYE
        try:
            seen = inbox.select("INBOX").uidvalidity
            break
        except ConnectionFailed:
            continue

    assert seen == changed_to != before.uidvalidity


def test_check_names_the_folders(dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]) -> None:
    """check() logs in and counts the mail in each folder."""
    dovecot.append(make_message())
    inbox = make_inbox()

    line = inbox.check()

    assert "INBOX (1 messages)" in line
    assert "IDLE" in line


def test_check_fails_on_a_missing_folder(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A folder that does not exist is named in the error."""
    inbox = make_inbox(folders=["INBOX", "Nope"])

    with pytest.raises(NotFound, match="Nope"):
        inbox.check()


def test_wrong_password_is_an_authentication_failure(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A refused login raises AuthenticationFailed without the password in the message."""
    inbox = make_inbox(password=SecretStr("not-the-password"))

    with pytest.raises(AuthenticationFailed) as raised:
        inbox.connect()
    assert "not-the-password" not in str(raised.value)


def test_empty_mail_and_empty_parts_do_not_stall_the_inbox(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A mail with no body, or with an empty text part, is fetched like any other."""
    empty = dovecot.append(b"From: a@example.test\r\nSubject: empty\r\n\r\n")
    other = dovecot.append(
        b"From: a@example.test\r\nSubject: empty part\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nSecond part has words.\r\n--b--\r\n"
    )
    inbox = make_inbox()

    messages = inbox.fetch_since("INBOX", 0, limit=10)

    assert [m.uid for m in messages] == [empty, other]
    assert parsed(messages[0].raw)["Subject"] == "empty"
    assert parsed(messages[0].raw).get_content() == ""
    second = parsed(messages[1].raw)
    assert second["Subject"] == "empty part"
    texts = [p.get_content().strip() for p in second.walk() if not p.is_multipart()]
    assert texts == ["", "Second part has words."]


def test_dovecot_keeps_our_keywords(dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]) -> None:
    """Dovecot allows custom keywords, so select() reports they are kept."""
    assert make_inbox().select("INBOX").keywords_kept


@pytest.mark.parametrize(
    ("permanent_flags", "kept"),
    [
        ((b"\\Answered", b"\\Seen", b"\\*"), True),  # Dovecot, Gmail
        ((b"\\Seen", b"\\Answered", b"\\Flagged", b"\\Deleted", b"\\Draft", b"$MDNSent"), False),
        ((b"\\Seen", b"$RecoveryHandled", b"$RecoveryQuarantined"), True),
        (None, True),
    ],
)
def test_keywords_kept_reads_permanentflags(permanent_flags: object, kept: bool) -> None:
    """Keywords stick when PERMANENTFLAGS has \\* or names them, or says nothing at all."""
    assert keywords_kept(permanent_flags, ("$RecoveryHandled", "$RecoveryQuarantined")) is kept


def test_the_header_is_rebuilt_from_sections_in_the_servers_spelling() -> None:
    """Servers may echo the field names quoted or in lower case; To and Cc are kept either way."""
    data = {
        b'BODY[HEADER.FIELDS.NOT ("to" "cc")]<0>': b"Subject: Refund\r\nMessage-ID: <a@b>\r\n\r\n",
        b'BODY[HEADER.FIELDS ("to" "cc")]<0>': b"To: support@example.com\r\nCc: x@y\r\n\r\n",
    }
    message = parsed(imap_header(data) + b"body\r\n")
    assert (message["Subject"], message["Message-ID"]) == ("Refund", "<a@b>")
    assert (message["To"], message["Cc"]) == ("support@example.com", "x@y")


def test_a_huge_recipient_list_is_capped_on_its_own() -> None:
    """Ten thousand recipients are cut at a line break; the other fields stay whole."""
    many = b"To: " + b",\r\n ".join(b"r%d@example.com" % n for n in range(10_000)) + b"\r\n\r\n"
    data = {
        b"BODY[HEADER.FIELDS.NOT (TO CC)]<0>": b"Subject: Still down\r\n\r\n",
        b"BODY[HEADER.FIELDS (TO CC)]<0>": many,
    }
    header = imap_header(data)
    assert len(header) <= MAX_ADDRESS_BYTES + 100
    assert header.endswith(b"\r\n\r\n")
    assert parsed(header + b"body\r\n")["Subject"] == "Still down"
