"""Jira's complaint signals in the store: the recovery each opens, and what was handled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import Issue
from worker.domain.recovery import CLOSED, RESOLVED
from worker.store import events, recoveries
from worker.store.schema import jira_seen


@dataclass(frozen=True, slots=True)
class Signal:
    """One fired signal: the issue, why, how severe, and the text to quote."""

    name: str
    issue: Issue
    at: datetime
    severity: str
    reasons: tuple[str, ...]
    excerpt: str
    seen: str  # the jira_seen change key


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording a signal did to its issue's recovery."""

    recovery_id: int
    opened: bool = False
    raised: bool = False
    reopen_asked: bool = False


def record(
    conn: Connection, signal: Signal, *, reopen_on_complaint: bool, now: datetime
) -> Recorded:
    """Open the recovery for the signal's issue, or raise or reopen the one it has."""
    issue = signal.issue
    source_key = f"jira:{issue.key}"
    existing = recoveries.by_source(conn, source_key)
    if existing is None:
        recovery = recoveries.create_pending(
            conn,
            source_key=source_key,
            source_kind="jira",
            client=issue.reporter or "",
            owner=issue.assignee or "",
            severity=signal.severity,
            summary=issue.summary,
            now=now,
            source_ref=issue.key,
            source_at=signal.at,
            excerpt=signal.excerpt,
            reasons=signal.reasons,
        )
        return Recorded(recovery.id, opened=True)
    dedupe = f"jira:{issue.key}#{signal.seen}"
    raised = recoveries.raise_severity(conn, existing.id, signal.severity)
    if raised:
        detail = {"from": existing.severity, "to": signal.severity, "signal": signal.name}
        event = RecoveryEvent(existing.id, EventKind.SEVERITY_RAISED, signal.at, dedupe, detail)
        events.record(conn, event, now)
    asked = False
    if existing.state in (RESOLVED, CLOSED) and reopen_on_complaint:
        # As for a complaint in a resolved recovery's mail thread; the reopen step checks
        # in Jira that the ticket was not resolved after this signal.
        event = RecoveryEvent(existing.id, EventKind.REOPEN_ASKED, signal.at, f"{dedupe}#reopen")
        asked = events.record(conn, event, now)
    return Recorded(existing.id, raised=raised, reopen_asked=asked)


def seen(conn: Connection, issue_key: str, change: str) -> bool:
    """Whether this change of the issue was handled already (the poll windows overlap)."""
    query = select(jira_seen.c.issue_key).where(
        jira_seen.c.issue_key == issue_key, jira_seen.c.change == change[:255]
    )
    return conn.execute(query).first() is not None


def mark_seen(conn: Connection, issue_key: str, change: str, now: datetime) -> None:
    conn.execute(insert(jira_seen).values(issue_key=issue_key, change=change[:255], seen_at=now))
