"""Intake: every inbox message ends in exactly one recorded decision, and only then moves on.

For each message, one store transaction records the decision, what it implies
(a pending recovery, a thread reply, a client event) and the folder's cursor;
only after it commits is the message marked handled on the server. A crash
anywhere leaves the message to be read again, and the dedupe by message key
makes the second reading harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.exc import (
    SQLAlchemyError,
)

from worker.core.calendar import BusinessCalendar
from worker.core.decision import (
    QUARANTINED,
    RECOVERY,
    SKIPPED,
    THREAD,
    Decision,
    DecisionPolicy,
    arrival_time,
    decide,
    is_team_mail,
    sent_time,
    thread_recovery,
)
from worker.core.detection import Detector
from worker.core.noise import OWN_ADDRESS
from worker.core.promises import find_promise
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.mail import AttachmentInfo, ParsedMail
from worker.domain.recovery import CLOSED, RESOLVED
from worker.errors import MessageUnparseable, StoreError
from worker.logs import get_logger
from worker.mail.imap import ImapInbox
from worker.mail.maildir import MaildirInbox
from worker.mail.parse import content_key, parse_message
from worker.steps import Services
from worker.store import cursors, events, messages, recoveries, replies
from worker.store.cursors import Cursor
from worker.store.db import is_store_fault
from worker.store.messages import DecisionRecord
from worker.wiring import detector_for, policy_for, sla_setup

log = get_logger()

#: Messages read per folder and poll; the loop polls again while there is more.
BATCH = 200
#: Failures of the store itself (locked, disk full, connection lost), as opposed to a
#: mail whose writes fail the same way on every try.
#: Messages recorded per store transaction (one commit, one fsync).
COMMIT_EVERY = 50
#: Bytes of Maildir files held in memory before their decisions are committed.
MAILDIR_CHUNK_BYTES = 64 * 1024 * 1024
#: The calendar a severity's promises are read in (its policy's): zone and working days.
CalendarOf = Callable[[str], BusinessCalendar]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message as a mail source delivers it."""

    source: str
    raw: bytes
    uid: int | None = None
    uidvalidity: int | None = None
    attachments: tuple[AttachmentInfo, ...] = ()
    received: datetime | None = None
    #: From the team's Sent folder: an update to the client, not a client's mail.
    sent: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """What was recorded for one message."""

    decision: str
    key: str
    recovery_id: int | None = None
    reasons: tuple[str, ...] = field(default_factory=tuple)
    reason: str = ""
    score: float | None = None
    severity: str | None = None
    source: str = ""
    uid: int | None = None


# --- the rules -----------------------------------------------------------------------


# --- one message ---------------------------------------------------------------------


class StoreContext:
    """What decisions need to know, read from the store inside the intake's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def is_recorded(self, key: str) -> bool:
        return messages.is_recorded(self.conn, key)

    def recovery_for_message_ids(self, message_ids: Sequence[str]) -> int | None:
        return messages.recovery_for_message_ids(self.conn, message_ids)

    def recovery_for_jira_key(self, jira_key: str) -> int | None:
        found = recoveries.by_jira_key(self.conn, jira_key)
        return found.id if found else None

    def count_from(self, sender: str, since: datetime, until: datetime) -> int:
        return messages.count_from(self.conn, sender, since, until)

    def latest_recovery_from(self, sender: str, since: datetime, until: datetime) -> int | None:
        return messages.latest_recovery_from(self.conn, sender, since, until)

    def severity_of(self, recovery_id: int) -> str | None:
        found = recoveries.get(self.conn, recovery_id)
        return found.severity if found else None

    def client_of(self, recovery_id: int) -> str | None:
        found = recoveries.get(self.conn, recovery_id)
        return found.client if found else None


def handle_message(
    services: Services,
    incoming: Incoming,
    *,
    cursor: Cursor | None = None,
    detector: Detector | None = None,
    policy: DecisionPolicy | None = None,
) -> Outcome:
    """Decide one message and record it (with ``cursor`` saved) in one transaction."""
    return handle_batch(services, [(incoming, cursor)], detector=detector, policy=policy)[0]


def handle_batch(
    services: Services,
    items: Sequence[tuple[Incoming, Cursor | None]],
    *,
    detector: Detector | None = None,
    policy: DecisionPolicy | None = None,
) -> list[Outcome]:
    """Decide messages in order and record them, each with its cursor, in one transaction.

    One commit for the batch keeps a backlog fast; a cursor still never passes a message
    whose decision is not committed with it. When the batch fails, its messages are tried
    one transaction each, so one bad message cannot hold back those before it; one that
    still cannot be recorded, for a reason other than the store, is quarantined.
    """
    if not items:
        return []
    detection = services.settings.detection
    detector = detector or detector_for(detection)
    policy = policy or policy_for(detection)
    max_text = services.settings.imap.max_text_bytes

    def calendar_of(severity: str) -> BusinessCalendar:
        return sla_setup(services.settings).calendar_of(severity)[1]

    parsed: list[tuple[Incoming, Cursor | None, ParsedMail | str]] = []
    for incoming, cursor in items:
        try:
            mail: ParsedMail | str = parse_message(
                incoming.raw, attachments=incoming.attachments, max_text_bytes=max_text
            )
        except MessageUnparseable as exc:
            mail = str(exc)
        parsed.append((incoming, cursor, mail))

    reopen = services.settings.jira.reopen_on_complaint

    def record(conn: Connection, item: tuple[Incoming, Cursor | None, ParsedMail | str]) -> Outcome:
        return _decide_and_record(
            conn,
            services.clock.now(),
            item,
            detector,
            policy,
            calendar_of=calendar_of,
            reopen_on_complaint=reopen,
        )

    def record_alone(item: tuple[Incoming, Cursor | None, ParsedMail | str]) -> Outcome:
        try:
            with services.store.transaction() as conn:
                return record(conn, item)
        except Exception as exc:
            if is_store_fault(exc):
                # The store, not the mail: the intake stops with the cursor where it is and
                # the step fails (so /readyz says so) until the store records again.
                raise StoreError(f"the store cannot record decisions: {_brief(exc)}") from exc
            # Whatever in the mail made recording fail would fail the same way on every
            # poll and hold back the folder behind it for good.
            incoming, cursor, mail = item
            reason = f"unrecordable: {type(exc).__name__}: {str(exc)[:200]}"
            now = services.clock.now()
            with services.store.transaction() as conn:
                parsed_mail = mail if isinstance(mail, ParsedMail) else None
                outcome = _quarantine(conn, incoming, reason, now, mail=parsed_mail)
                if cursor is not None:
                    cursors.save(conn, cursor, now)
            return outcome

    if len(parsed) > 1:
        try:
            with services.store.transaction() as conn:
                outcomes = [record(conn, item) for item in parsed]
        except Exception:
            log.warning("intake.batch_retried_singly", size=len(parsed))
        else:
            for outcome in outcomes:
                _report(services, outcome)
            return outcomes
    outcomes = []
    for item in parsed:
        outcomes.append(record_alone(item))
        _report(services, outcomes[-1])
    return outcomes


def _decide_and_record(
    conn: Connection,
    now: datetime,
    item: tuple[Incoming, Cursor | None, ParsedMail | str],
    detector: Detector,
    policy: DecisionPolicy,
    *,
    calendar_of: CalendarOf,
    reopen_on_complaint: bool,
) -> Outcome:
    incoming, cursor, mail = item
    team = False
    decision: Decision | None = None
    if isinstance(mail, str):
        outcome = _quarantine(conn, incoming, f"unparseable: {mail}", now)
    else:
        try:
            context = StoreContext(conn)
            team = incoming.sent or is_team_mail(mail, policy)
            if team:
                # In the inbox, the team's own mail is a Bcc of what it sent the client.
                decision = _decide_sent(mail, context, outside="" if incoming.sent else OWN_ADDRESS)
            else:
                decision = decide(mail, detector, context, now, policy, received=incoming.received)
        except (StoreError, SQLAlchemyError):
            raise  # the store, not the mail: retried with the cursor where it is
        except Exception as exc:
            # A mail that trips the rules must not hold back every mail behind it.
            reason = f"undecidable: {type(exc).__name__}: {str(exc)[:200]}"
            outcome = _quarantine(conn, incoming, reason, now, mail=mail)
    if decision is not None and not isinstance(mail, str):
        recovery_id = decision.recovery_id
        if not (decision.decision == SKIPPED and decision.reason.startswith("duplicate")):
            # (A duplicate was decided before: a copy, or a crash before the cursor moved.)
            if decision.decision == RECOVERY:
                decision, recovery_id = _open(conn, mail, incoming, decision, now)
            if decision.decision == THREAD and recovery_id is not None:
                _join(
                    conn,
                    mail,
                    incoming,
                    decision,
                    recovery_id=recovery_id,
                    team=team,
                    calendar_of=calendar_of,
                    reopen_on_complaint=reopen_on_complaint,
                    now=now,
                )
            messages.record(conn, _record(mail, incoming, decision, recovery_id, now), now)
        outcome = Outcome(
            decision.decision,
            mail.key,
            recovery_id,
            decision.reasons,
            reason=decision.reason,
            score=decision.score,
            severity=decision.severity,
            source=incoming.source,
            uid=incoming.uid,
        )
    if cursor is not None:
        cursors.save(conn, cursor, now)
    return outcome


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def _report(services: Services, outcome: Outcome) -> None:
    """Metrics and the log line, once the decision is committed."""
    services.metrics.messages.labels(decision=outcome.decision).inc()
    if outcome.decision == QUARANTINED:
        services.metrics.quarantined.inc()
        log.warning(
            "message.quarantined",
            source=outcome.source,
            uid=outcome.uid,
            key=outcome.key,
            reason=outcome.reason,
        )
        return
    log.info(
        "message.decided",
        source=outcome.source,
        uid=outcome.uid,
        key=outcome.key,
        decision=outcome.decision,
        reason=outcome.reason,
        score=outcome.score,
        severity=outcome.severity,
        recovery_id=outcome.recovery_id,
    )


def _decide_sent(mail: ParsedMail, context: StoreContext, *, outside: str = "") -> Decision:
    """A mail the team sent: an update to the client when it is in a recovery's thread."""
    if context.is_recorded(mail.key):
        return Decision(SKIPPED, "duplicate: this message is already decided")
    recovery_id, _ = thread_recovery(mail, context)
    if recovery_id is None:
        return Decision(SKIPPED, outside or "sent mail outside any recovery's thread")
    return Decision(THREAD, "team update to the client", recovery_id=recovery_id)


def _open(
    conn: Connection, mail: ParsedMail, incoming: Incoming, decision: Decision, now: datetime
) -> tuple[Decision, int]:
    """Create the pending recovery; a second complaint in the same thread joins the first."""
    source_key = f"mail:{decision.thread_root or mail.key}"
    existing = recoveries.by_source(conn, source_key)
    if existing is not None:
        joined = Decision(
            THREAD,
            "another complaint in the thread of an open recovery",
            is_complaint=decision.is_complaint,
            score=decision.score,
            severity=decision.severity,
            reasons=decision.reasons,
            recovery_id=existing.id,
            thread_root=decision.thread_root,
            raise_to=decision.severity
            if decision.severity and decision.severity < existing.severity
            else None,
        )
        return joined, existing.id
    created = recoveries.create_pending(
        conn,
        source_key=source_key,
        source_kind="mail",
        client=mail.sender.email,
        owner="",
        severity=decision.severity or "sev3",
        summary=mail.subject.strip() or "(no subject)",
        now=now,
        source_ref=mail.message_id or mail.key,
        source_at=sent_time(mail, incoming.received, now),
        excerpt=mail.text,
        reasons=decision.reasons,
    )
    return decision, created.id


def _join(
    conn: Connection,
    mail: ParsedMail,
    incoming: Incoming,
    decision: Decision,
    *,
    recovery_id: int,
    team: bool,
    calendar_of: CalendarOf,
    reopen_on_complaint: bool,
    now: datetime,
) -> None:
    """A thread message: a client reply to post as a comment, or the team's update."""
    at = sent_time(mail, incoming.received, now)
    if team:
        kind = EventKind.CLIENT_UPDATE
    else:
        kind = EventKind.CLIENT_MESSAGE
        replies.add(
            conn,
            message_key=mail.key,
            recovery_id=recovery_id,
            author=mail.sender.email,
            author_name=mail.sender.name,
            sent_at=at,
            text=mail.new_text or mail.text,
            attachments=mail.attachments,
            now=now,
        )
    events.record(
        conn,
        RecoveryEvent(recovery_id=recovery_id, kind=kind, at=at, dedupe_key=f"mail:{mail.key}"),
        now,
    )
    if not team and decision.is_complaint and reopen_on_complaint:
        _ask_reopen(conn, recovery_id, at=at, dedupe_key=f"mail:{mail.key}#reopen", now=now)
    recovery = recoveries.get(conn, recovery_id) if team else None
    if recovery is not None:
        # Recorded after the update, so the clocks see the update first.
        promised = find_promise(mail.new_text or mail.text, at, calendar_of(recovery.severity))
        if promised is not None:
            events.record(
                conn,
                RecoveryEvent(
                    recovery_id=recovery_id,
                    kind=EventKind.PROMISE,
                    at=at,
                    dedupe_key=f"mail:{mail.key}#promise",
                    detail={"due": promised.isoformat()},
                ),
                now,
            )
    if decision.raise_to:
        before = recoveries.get(conn, recovery_id)
        if before and recoveries.raise_severity(conn, recovery_id, decision.raise_to):
            events.record(
                conn,
                RecoveryEvent(
                    recovery_id=recovery_id,
                    kind=EventKind.SEVERITY_RAISED,
                    at=at,
                    dedupe_key=f"mail:{mail.key}#severity",
                    detail={
                        "from": before.severity,
                        "to": decision.raise_to,
                        "reason": "an angrier mail in the thread",
                    },
                ),
                now,
            )


def _ask_reopen(
    conn: Connection, recovery_id: int, *, at: datetime, dedupe_key: str, now: datetime
) -> None:
    """A complaint in the thread of a resolved recovery: ask for it to be reopened in Jira.

    A calm reply ("thanks, all good") is only a comment; the reopen itself is made by
    worker.steps.reopen, which checks Jira first.
    """
    recovery = recoveries.get(conn, recovery_id)
    if recovery is not None and recovery.state in (RESOLVED, CLOSED):
        events.record(conn, RecoveryEvent(recovery_id, EventKind.REOPEN_ASKED, at, dedupe_key), now)


def _record(
    mail: ParsedMail,
    incoming: Incoming,
    decision: Decision,
    recovery_id: int | None,
    now: datetime,
) -> DecisionRecord:
    return DecisionRecord(
        key=mail.key,
        message_id=mail.message_id,
        source=incoming.source,
        uid=incoming.uid,
        sender=mail.sender.email,
        subject=mail.subject,
        # The time decisions count floods on, so later mails measure against the same one.
        received_at=arrival_time(mail, incoming.received, now),
        decision=decision.decision,
        reason=decision.reason,
        score=decision.score,
        severity=decision.severity,
        reasons=decision.reasons,
        recovery_id=recovery_id,
    )


def _quarantine(
    conn: Connection,
    incoming: Incoming,
    reason: str,
    now: datetime,
    *,
    mail: ParsedMail | None = None,
) -> Outcome:
    """Record a mail that cannot be decided, keyed by its Message-ID when it was parsed."""
    key = mail.key if mail is not None else content_key(incoming.raw)
    if not messages.is_recorded(conn, key):
        record = DecisionRecord(
            key=key,
            message_id=mail.message_id if mail is not None else None,
            source=incoming.source,
            uid=incoming.uid,
            sender=mail.sender.email if mail is not None else "",
            subject=mail.subject if mail is not None else "",
            received_at=incoming.received,
            decision=QUARANTINED,
            reason=reason,
        )
        messages.record(conn, record, now)
    return Outcome(QUARANTINED, key, reason=reason, source=incoming.source, uid=incoming.uid)


# --- sources -------------------------------------------------------------------------


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
        outcomes = handle_batch(
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
        quarantined = [o.uid for o in outcomes if o.decision == QUARANTINED and o.uid is not None]
        done = [o.uid for o in outcomes if o.decision != QUARANTINED and o.uid is not None]
        # Marked chunk by chunk, so a connection lost now leaves few to mark again.
        inbox.mark_quarantined(folder, quarantined)
        if not sent:
            inbox.mark_handled(folder, done)
        handled += len(outcomes)
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


def poll_maildir_once(services: Services, inbox: MaildirInbox, *, limit: int = BATCH) -> int:
    """Decide the mails waiting in ``new/`` and file each into ``cur/``; how many."""
    handled = 0
    names: list[str] = []
    items: list[tuple[Incoming, Cursor | None]] = []
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
