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
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from worker.core.detection import Detector
from worker.core.playbook import STAGES
from worker.domain.issue import Comment, Issue
from worker.errors import ConfigurationError, PermanentError, TransientError
from worker.logs import get_logger
from worker.steps import Services, end_of_pass, failed
from worker.store import cursors, signals
from worker.store.signals import Signal
from worker.tracker import jql
from worker.tracker.base import Tracker
from worker.wiring import detector_for

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
        judge = detector_judge(detector_for(services.settings.detection))
    handled = 0
    deferred: TransientError | None = None
    for name in jira.watch_signals:
        if services.stopping.is_set():
            break
        try:
            handled += _poll(services, tracker, name, zone, judge)
        except TransientError as exc:
            failed(services, "watch_jira", "jira.watch_deferred", exc, signal=name)
            deferred = exc
            break
        except PermanentError as exc:
            failed(services, "watch_jira", "jira.watch_failed", exc, signal=name)
    if deferred is not None:
        end_of_pass(deferred, progressed=handled > 0)
    return handled


def _poll(
    services: Services, tracker: Tracker, name: str, zone: ZoneInfo, judge: CommentJudge | None
) -> int:
    jira = services.settings.jira
    now = services.clock.now()
    with services.store.transaction() as conn:
        watermark = cursors.jira_watermark(conn, f"signal:{name}")
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
                if signals.seen(conn, issue.key, signal.seen):
                    continue
                reopen = services.settings.jira.reopen_on_complaint
                result = signals.record(conn, signal, reopen_on_complaint=reopen, now=now)
                signals.mark_seen(conn, issue.key, signal.seen, now)
            handled += _report(services, signal, result)
    if newest is not None:
        with services.store.transaction() as conn:
            cursors.save_jira_watermark(conn, f"signal:{name}", newest, now)
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


def _report(services: Services, signal: Signal, result: signals.Recorded) -> int:
    """Log and count what a signal did; 1 when it opened, raised or reopened a recovery."""
    bound = log.bind(jira_key=signal.issue.key, signal=signal.name)
    if result.opened:
        services.metrics.messages.labels(decision=f"jira_{signal.name}").inc()
        bound.info("jira.signal", recovery_id=result.recovery_id, severity=signal.severity)
    if result.raised:
        bound.info("recovery.severity_raised", recovery_id=result.recovery_id,
                   severity=signal.severity)  # fmt: skip
    if result.reopen_asked:
        bound.info("jira.signal_reopens", recovery_id=result.recovery_id,
                   at=signal.at.isoformat())  # fmt: skip
    if not (result.opened or result.raised or result.reopen_asked):
        bound.info("jira.signal_known", recovery_id=result.recovery_id)
    return int(result.opened or result.raised or result.reopen_asked)
