"""A 20 MB attachment is listed, never downloaded: measured on the wire through a relay."""

from __future__ import annotations

import os
from collections.abc import Callable

from tests.support.dovecot import CountingProxy, Dovecot, make_message
from worker.mail.imap import ImapInbox

TWENTY_MB = 20 * 1024 * 1024


def test_twenty_megabyte_attachment_is_not_downloaded(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """Fetching a mail with a 20 MB attachment moves a few kilobytes, not megabytes."""
    payload = os.urandom(TWENTY_MB)
    uid = dovecot.append(
        make_message(
            "Export attached",
            "The export you sent is corrupt, see attached.",
            attachments=[("export.zip", "application/zip", payload)],
        )
    )
    proxy = CountingProxy((dovecot.host, dovecot.imap_port))
    try:
        inbox = make_inbox(port=proxy.port)

        (message,) = inbox.fetch_since("INBOX", 0, limit=10)
        inbox.close()

        received = proxy.to_client
    finally:
        proxy.close()

    assert message.uid == uid
    assert message.size > TWENTY_MB
    (attachment,) = message.attachments
    assert attachment.filename == "export.zip"
    assert abs(attachment.size - TWENTY_MB) < TWENTY_MB * 0.001
    assert b"The export you sent is corrupt" in message.raw
    # Greeting, capabilities, select, search, structure, header and text: a few kB in all.
    assert received < 20_000, f"{received} bytes crossed the wire for a {message.size} byte mail"
    assert received < message.size / 1000
    assert inbox.bytes_fetched < received
