"""What a decided message writes: its decision, a pending recovery, a thread reply, events.

Each function runs inside the intake's transaction; the caller commits the
folder's cursor with them, so a message is never half recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from worker.domain.decision import QUARANTINED, THREAD, Decision
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.mail import Incoming, ParsedMail
from worker.domain.recovery import CLOSED, RESOLVED
from worker.store import events, messages, recoveries, replies

#: When the team promised the next update in a mail's text, in the recovery's calendar.
PromiseOf = Callable[[str, str, datetime], datetime | None]


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


def open_pending(
    conn: Connection, mail: ParsedMail, decision: Decision, *, source_at: datetime, now: datetime
) -> Decision:
    """Record the pending recovery; a second complaint in the same thread joins the first."""
    source_key = f"mail:{decision.thread_root or mail.key}"
    existing = recoveries.by_source(conn, source_key)
    if existing is not None:
        angrier = decision.severity and decision.severity < existing.severity
        return replace(
            decision,
            decision=THREAD,
            reason="another complaint in the thread of an open recovery",
            recovery_id=existing.id,
            raise_to=decision.severity if angrier else None,
        )
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
        source_at=source_at,
        excerpt=mail.text,
        reasons=decision.reasons,
    )
    return replace(decision, recovery_id=created.id)


def join_thread(
    conn: Connection,
    mail: ParsedMail,
    decision: Decision,
    *,
    recovery_id: int,
    team: bool,
    at: datetime,
    promise_of: PromiseOf,
    reopen_on_complaint: bool,
    now: datetime,
) -> None:
    """A thread message: a client reply to post as a comment, or the team's update."""
    dedupe = f"mail:{mail.key}"
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
    events.record(conn, RecoveryEvent(recovery_id, kind, at, dedupe), now)
    if not team and decision.is_complaint and reopen_on_complaint:
        _ask_reopen(conn, recovery_id, at=at, dedupe_key=f"{dedupe}#reopen", now=now)
    recovery = recoveries.get(conn, recovery_id) if team else None
    if recovery is not None:
        # Recorded after the update, so the clocks see the update first.
        promised = promise_of(mail.new_text or mail.text, recovery.severity, at)
        if promised is not None:
            detail = {"due": promised.isoformat()}
            promise = RecoveryEvent(recovery_id, EventKind.PROMISE, at, f"{dedupe}#promise", detail)
            events.record(conn, promise, now)
    if decision.raise_to:
        before = recoveries.get(conn, recovery_id)
        if before and recoveries.raise_severity(conn, recovery_id, decision.raise_to):
            detail = {
                "from": before.severity,
                "to": decision.raise_to,
                "reason": "an angrier mail in the thread",
            }
            raised = RecoveryEvent(
                recovery_id, EventKind.SEVERITY_RAISED, at, f"{dedupe}#severity", detail
            )
            events.record(conn, raised, now)


def _ask_reopen(
    conn: Connection, recovery_id: int, *, at: datetime, dedupe_key: str, now: datetime
) -> None:
    """A complaint in the thread of a resolved recovery: ask for it to be reopened in Jira.

    A calm reply ("thanks, all good") is only a comment; the reopen itself is made by
    the reopen step, which checks Jira first.
    """
    recovery = recoveries.get(conn, recovery_id)
    if recovery is not None and recovery.state in (RESOLVED, CLOSED):
        events.record(conn, RecoveryEvent(recovery_id, EventKind.REOPEN_ASKED, at, dedupe_key), now)


def quarantine(
    conn: Connection,
    incoming: Incoming,
    key: str,
    reason: str,
    now: datetime,
    *,
    mail: ParsedMail | None = None,
) -> Decision:
    """Record a mail that cannot be decided, keyed by its Message-ID when it was parsed."""
    decision = Decision(
        QUARANTINED,
        reason,
        key=key,
        message_id=mail.message_id if mail is not None else None,
        source=incoming.source,
        uid=incoming.uid,
        sender=mail.sender.email if mail is not None else "",
        subject=mail.subject if mail is not None else "",
        received_at=incoming.received,
    )
    if not messages.is_recorded(conn, key):
        messages.record(conn, decision, now)
    return decision
