"""Read the watched IMAP folders (and the Sent folder) past their cursors, batch by batch.

Each batch is decided and recorded by the intake before any mail of it is
flagged on the server; a full batch makes the step due again at once.
"""

from __future__ import annotations

from worker.domain.decision import QUARANTINED
from worker.domain.mail import Incoming
from worker.intake import handle_batch
from worker.logs import get_logger
from worker.mail.imap import ImapInbox
from worker.steps import Services
from worker.store import cursors, messages
from worker.store.cursors import Cursor

log = get_logger()

#: Messages read per folder and poll; the loop polls again while there is more.
BATCH = 200
#: Messages recorded per store transaction (one commit, one fsync).
COMMIT_EVERY = 50


def poll_imap_once(services: Services, inbox: ImapInbox, *, limit: int = BATCH) -> int:
    """Read each watched folder (and the Sent folder) past its cursor; how many were handled."""
    settings = services.settings.imap
    handled = 0
    folders = [(folder, False) for folder in settings.folders]
    if settings.sent_folder and settings.sent_folder not in settings.folders:
        folders.append((settings.sent_folder, True))
    for folder, sent in folders:
        handled += _poll_folder(services, inbox, folder, sent=sent, limit=limit)
    return handled


def _poll_folder(
    services: Services, inbox: ImapInbox, folder: str, *, sent: bool, limit: int
) -> int:
    source = inbox.source(folder)
    state = inbox.select(folder)
    with services.store.transaction() as conn:
        cursor = cursors.get(conn, source)
    if cursor.uidvalidity != state.uidvalidity:
        if cursor.uidvalidity is not None:
            # New numbering: read the folder again from the start; the keys dedupe.
            log.warning(
                "imap.uidvalidity.changed",
                folder=folder,
                stored=cursor.uidvalidity,
                current=state.uidvalidity,
            )
        cursor = Cursor(source, state.uidvalidity, 0)
        with services.store.transaction() as conn:
            cursors.save(conn, cursor, services.clock.now())
    if not sent:
        _mark_missed(services, inbox, folder, source, cursor.last_uid)
    fetched = inbox.fetch_since(folder, cursor.last_uid, limit=limit)
    # Renumbered while we read: what carries another UIDVALIDITY waits for the next poll.
    current = [m for m in fetched if m.uidvalidity == cursor.uidvalidity]
    handled = 0
    for start in range(0, len(current), COMMIT_EVERY):
        chunk = current[start : start + COMMIT_EVERY]
        decisions = handle_batch(
            services,
            [
                (
                    Incoming(
                        source=source,
                        raw=message.raw,
                        uid=message.uid,
                        uidvalidity=message.uidvalidity,
                        attachments=message.attachments,
                        received=message.received,
                        sent=sent,
                    ),
                    Cursor(source, message.uidvalidity, message.uid),
                )
                for message in chunk
            ],
        )
        quarantined = [o.uid for o in decisions if o.decision == QUARANTINED and o.uid is not None]
        done = [o.uid for o in decisions if o.decision != QUARANTINED and o.uid is not None]
        # Marked chunk by chunk, so a connection lost now leaves few to mark again.
        inbox.mark_quarantined(folder, quarantined)
        if not sent:
            inbox.mark_handled(folder, done)
        handled += len(decisions)
    return handled


def _mark_missed(
    services: Services, inbox: ImapInbox, folder: str, source: str, last_uid: int
) -> None:
    """Mark the mails decided before a lost connection kept them from being marked."""
    missed = inbox.unmarked(folder, last_uid)
    if not missed:
        return
    with services.store.transaction() as conn:
        quarantined = messages.quarantined_uids(conn, source, missed)
    inbox.mark_quarantined(folder, [uid for uid in missed if uid in quarantined])
    inbox.mark_handled(folder, [uid for uid in missed if uid not in quarantined])
    log.info("imap.marks_restored", folder=folder, count=len(missed))
