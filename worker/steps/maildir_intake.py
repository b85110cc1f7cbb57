"""Decide the mails waiting in a Maildir's ``new/`` and file each into ``cur/``.

A mail is filed only after its decision is committed; a chunk is bounded in
mails and in bytes, since a Maildir file holds its attachments.
"""

from __future__ import annotations

from worker.domain.mail import Incoming
from worker.intake import Item, handle_batch
from worker.logs import get_logger
from worker.mail.maildir import MaildirInbox
from worker.steps import Services

log = get_logger()

#: Mails read per poll; the loop polls again while there is more.
BATCH = 200
#: Mails recorded per store transaction (one commit, one fsync).
COMMIT_EVERY = 50
#: Bytes of Maildir files held in memory before their decisions are committed.
MAILDIR_CHUNK_BYTES = 64 * 1024 * 1024


def poll_maildir_once(services: Services, inbox: MaildirInbox, *, limit: int = BATCH) -> int:
    """Decide the mails waiting in ``new/`` and file each into ``cur/``; how many."""
    handled = 0
    names: list[str] = []
    items: list[Item] = []
    held = 0

    def commit() -> int:
        handle_batch(services, items)
        for name in names:
            inbox.mark_handled(name)
        count = len(names)
        names.clear()
        items.clear()
        return count

    for name in inbox.pending(limit):
        try:
            message = inbox.read(name)
        except FileNotFoundError:
            continue  # filed meanwhile by another reader
        except OSError as exc:
            log.warning("maildir.read.failed", name=name, error=exc.strerror)
            continue
        names.append(name)
        items.append((Incoming(inbox.source, message.raw, attachments=message.attachments), None))
        held += len(message.raw)
        # Maildir files hold their attachments: a chunk is bounded in bytes as well as mails.
        if len(items) >= COMMIT_EVERY or held >= MAILDIR_CHUNK_BYTES:
            handled += commit()
            held = 0
    return handled + commit()
