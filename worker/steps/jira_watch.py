"""Jira's own complaint signals: each opens (at most) one recovery for its source issue.

Four signals, each a JQL query over the watched projects: an issue labelled as a
complaint, a priority raised to the top, an issue reopened after it was resolved,
and a reporter's new comment that the complaint detector flags. Polling is
incremental: each query keeps a watermark (the newest update handled) and looks
back an overlap past it; what was already handled is remembered in ``jira_seen``
by issue and update time, so the overlap never fires a signal twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, insert, select, update

from worker.core.detection import Detector, load_signals
from worker.core.playbook import STAGES
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import Comment, Issue
from worker.domain.recovery import CLOSED, RESOLVED
from worker.errors import ConfigurationError, PermanentError, TransientError
from worker.logs import get_logger
from worker.steps import Services, end_of_pass
from worker.store import events, recoveries
from worker.store.schema import jira_cursors, jira_seen
from worker.tracker import jql
from worker.tracker.base import Tracker

log = get_logger()

#: Severity each signal opens a recovery with (a comment's comes from the detector).
SIGNAL_SEVERITY = {"labelled": "sev2", "priority": "sev1", "reopened": "sev2"}
MAX_EXCERPT = 4_000
#: The labels the worker writes itself: a recovery's (``idempotency_key``), its subtasks'
#: (``stage_label``) and a follow-up's (``followup_label``). A customer's own ``rw-billing``
#: does not match, so such an issue can still be a signal.
OWN_LABEL = re.compile(rf"rw-(?:[0-9a-f]{{20}}(?:-(?:{'|'.join(STAGES)}))?|fu-[0-9a-f]{{16}})")


@dataclass(frozen=True, slots=True)
class CommentVerdict:
    """The detector's reading of a reporter comment that is a complaint."""

    severity: str
    reasons: tuple[str, ...] = ()


#: Reads a reporter's comment; a verdict when it is a complaint, None otherwise.
CommentJudge = Callable[[Comment, Issue], CommentVerdict | None]


def detector_judge(detector: Detector) -> CommentJudge:
    """The complaint detector, reading a comment the way it reads a mail's new text."""

    def judge(comment: Comment, issue: Issue) -> CommentVerdict | None:
        assessment = detector.assess_text(f"{issue.summary}\n{comment.body}")
        if not assessment.is_complaint:
            return None
        return CommentVerdict(assessment.severity or "sev3", assessment.reasons)

    return judge


@cache
def _configured_judge(signals_file: Path | None, addresses: tuple[str, ...]) -> CommentJudge:
    return detector_judge(Detector(load_signals(signals_file), complaint_addresses=addresses))


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


def signal_query(signal: str, services: Services) -> str:
    """The JQL a signal polls, before the project and time window are added."""
    jira = services.settings.jira
    if signal == "labelled":
        return jira.watch_labelled_jql or jql.eq("labels", jira.complaint_label)
    if signal == "priority":
        return jira.watch_priority_jql or jql.eq("priority", jira.priorities["sev1"])
    if signal == "reopened":
        return jira.watch_reopened_jql or "resolution IS EMPTY"
    return jira.watch_comment_jql


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"jira.timezone: unknown time zone {name!r}") from None


def watch_jira_once(services: Services, *, judge: CommentJudge | None = None) -> int:
    """Poll every enabled signal once; the number of recoveries recorded or raised.

    Reporter comments are read by ``judge``, by default the configured complaint detector.
    A transient failure stops the poll: what was recorded before it stays, and the failure
    is raised at the end for the supervisor to wait (see end_of_pass).
    """
    tracker = services.tracker
    jira = services.settings.jira
    if tracker is None or not jira.watch_projects:
        return 0
    zone = _zone(jira.timezone)
    if judge is None and "comment" in jira.watch_signals:
        detection = services.settings.detection
        judge = _configured_judge(detection.signals_file, tuple(detection.complaint_addresses))
    handled = 0
    deferred: TransientError | None = None
    for name in jira.watch_signals:
        if services.stopping.is_set():
            break
        try:
            handled += _poll(services, tracker, name, zone, judge)
        except TransientError as exc:
            services.metrics.errors.labels(step="watch_jira", kind=type(exc).__name__).inc()
            log.warning("jira.watch_deferred", signal=name, error=type(exc).__name__,
                        detail=str(exc))  # fmt: skip
            deferred = exc
            break
        except PermanentError as exc:
            services.metrics.errors.labels(step="watch_jira", kind=type(exc).__name__).inc()
            log.error("jira.watch_failed", signal=name, error=type(exc).__name__, detail=str(exc))
    if deferred is not None:
        end_of_pass(deferred, progressed=handled > 0)
    return handled


def _poll(
    services: Services, tracker: Tracker, name: str, zone: ZoneInfo, judge: CommentJudge | None
) -> int:
    jira = services.settings.jira
    now = services.clock.now()
    with services.store.transaction() as conn:
        watermark = _watermark(conn, f"signal:{name}")
    since = (watermark or now - jira.watch_lookback) - jira.watch_overlap
    query = jql.order_by(
        jql.all_of(
            jql.in_("project", jira.watch_projects),
            signal_query(name, services),
            jql.updated_since(since, zone),
        ),
        "updated ASC",
    )
    handled = 0
    newest = watermark
    history = name in ("priority", "reopened")
    for issue in tracker.search(query, history=history):
        if services.stopping.is_set():
            break  # the watermark covers the issues handled, the rest come next time
        newest = max(newest or issue.updated_at, issue.updated_at)
        if _is_own(issue, services):
            continue
        for signal in _fired(
            name, issue, since=since, tracker=tracker, judge=judge, services=services
        ):
            with services.store.transaction() as conn:
                if _seen(conn, issue.key, signal.seen):
                    continue
                if _record(conn, signal, services):
                    handled += 1
                _mark_seen(conn, issue.key, signal.seen, now)
    with services.store.transaction() as conn:
        _save_watermark(conn, f"signal:{name}", newest, now)
    services.metrics.poll_lag_seconds.labels(source=f"jira:{name}").set(0)
    return handled


def _is_own(issue: Issue, services: Services) -> bool:
    """The worker's own tickets (recoveries, their subtasks) are never signals."""
    own = set(services.settings.jira.labels)
    return bool(issue.parent) or any(
        label in own or OWN_LABEL.fullmatch(label) for label in issue.labels
    )


def _fired(
    name: str,
    issue: Issue,
    *,
    since: datetime,
    tracker: Tracker,
    judge: CommentJudge | None,
    services: Services,
) -> list[Signal]:
    """The signals this issue fires within the window."""
    if name == "labelled":
        # Once per issue: later edits of a labelled issue are not new complaints.
        label = services.settings.jira.complaint_label
        return [_signal(name, issue, issue.updated_at, "labelled", f"labelled '{label}' in Jira")]
    if name == "priority":
        top = services.settings.jira.priorities["sev1"]
        raised = [c for c in issue.history
                  if c.field == "priority" and c.to_string == top and c.at >= since]  # fmt: skip
        if raised:
            at = raised[-1].at
            reason = f"priority raised from {raised[-1].from_string or 'none'} to {top}"
            return [_signal(name, issue, at, f"priority:{at.isoformat()}", reason)]
        return []
    if name == "reopened":
        reopened = [c for c in issue.history
                    if c.field == "resolution" and c.from_string and not c.to_string
                    and c.at >= since]  # fmt: skip
        if reopened:
            at = reopened[-1].at
            reason = f"reopened after it was resolved as {reopened[-1].from_string}"
            return [_signal(name, issue, at, f"reopened:{at.isoformat()}", reason)]
        return []
    if judge is None or issue.reporter is None:
        return []
    fired = []
    for comment in tracker.comments(issue.key):
        if comment.author != issue.reporter or comment.created_at < since:
            continue
        verdict = judge(comment, issue)
        if verdict is None:
            continue
        fired.append(
            Signal(
                name="comment",
                issue=issue,
                at=comment.created_at,
                severity=verdict.severity,
                reasons=("the reporter complained in a comment", *verdict.reasons),
                excerpt=comment.body[:MAX_EXCERPT],
                seen=f"comment:{comment.id}",
            )
        )
    return fired


def _signal(name: str, issue: Issue, at: datetime, seen: str, reason: str) -> Signal:
    return Signal(
        name=name,
        issue=issue,
        at=at,
        severity=SIGNAL_SEVERITY[name],
        reasons=(reason,),
        excerpt=issue.description[:MAX_EXCERPT],
        seen=seen,
    )


def _record(conn: Connection, signal: Signal, services: Services) -> bool:
    """Record the recovery for the signal's issue, or raise or reopen the one it has; True if so."""
    issue = signal.issue
    source_key = f"jira:{issue.key}"
    now = services.clock.now()
    existing = recoveries.by_source(conn, source_key)
    bound = log.bind(jira_key=issue.key, signal=signal.name)
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
        services.metrics.messages.labels(decision=f"jira_{signal.name}").inc()
        bound.info("jira.signal", recovery_id=recovery.id, severity=signal.severity)
        return True
    raised = recoveries.raise_severity(conn, existing.id, signal.severity)
    if raised:
        events.record(
            conn,
            RecoveryEvent(
                recovery_id=existing.id,
                kind=EventKind.SEVERITY_RAISED,
                at=signal.at,
                dedupe_key=f"jira:{issue.key}#{signal.seen}",
                detail={"from": existing.severity, "to": signal.severity, "signal": signal.name},
            ),
            now,
        )
        bound.info("recovery.severity_raised", recovery_id=existing.id, severity=signal.severity)
    resolved = existing.state in (RESOLVED, CLOSED)
    if resolved and services.settings.jira.reopen_on_complaint:
        # As for a complaint in a resolved recovery's mail thread; the reopen step checks
        # in Jira that the ticket was not resolved after this signal.
        asked = events.record(
            conn,
            RecoveryEvent(
                existing.id,
                EventKind.REOPEN_ASKED,
                signal.at,
                dedupe_key=f"jira:{issue.key}#{signal.seen}#reopen",
            ),
            now,
        )
        if asked:
            bound.info("jira.signal_reopens", recovery_id=existing.id, at=signal.at.isoformat())
            return True
    if not raised:
        bound.info("jira.signal_known", recovery_id=existing.id)
    return raised


# --- the poll's own state -------------------------------------------------------------


def _watermark(conn: Connection, name: str) -> datetime | None:
    row = conn.execute(select(jira_cursors.c.watermark).where(jira_cursors.c.name == name)).first()
    return row[0] if row else None


def _save_watermark(conn: Connection, name: str, watermark: datetime | None, now: datetime) -> None:
    if watermark is None:
        return
    changed = conn.execute(
        update(jira_cursors)
        .where(jira_cursors.c.name == name)
        .values(watermark=watermark, updated_at=now)
    )
    if changed.rowcount == 0:
        conn.execute(insert(jira_cursors).values(name=name, watermark=watermark, updated_at=now))


def _seen(conn: Connection, issue_key: str, change: str) -> bool:
    query = select(jira_seen.c.issue_key).where(
        jira_seen.c.issue_key == issue_key, jira_seen.c.change == change[:255]
    )
    return conn.execute(query).first() is not None


def _mark_seen(conn: Connection, issue_key: str, change: str, now: datetime) -> None:
    conn.execute(insert(jira_seen).values(issue_key=issue_key, change=change[:255], seen_at=now))
