"""Pull Jira changes on recovery issues into recovery events, for the SLA clocks.

``sync_recoveries_once`` reads what changed on recovery issues since its last
poll (an overlapping ``updated >=`` window) and records events: client-facing
comments are client updates (with the next update they promise), waiting
statuses pause the clocks, Done resolves and leaving Done reopens.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from worker.core.promises import find_promise
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import Comment, Issue, StatusCategory
from worker.domain.recovery import Recovery
from worker.errors import ConfigurationError
from worker.logs import get_logger
from worker.settings import SlaSettings
from worker.steps import Services
from worker.store import alerts as ledger
from worker.store import cursors, events, recoveries, replies
from worker.tracker import jql
from worker.tracker.base import Tracker
from worker.wiring import sla_setup

log = get_logger()

CURSOR = cursors.RECOVERY_SYNC


def sync_recoveries_once(services: Services) -> int:
    """Record what changed on recovery issues since the last poll; the number of new events."""
    tracker = services.tracker
    if tracker is None:
        return 0
    jira = services.settings.jira
    now = services.clock.now()
    try:
        zone = ZoneInfo(jira.timezone)
    except (ValueError, KeyError):
        raise ConfigurationError(f"jira.timezone: unknown time zone {jira.timezone!r}") from None
    with services.store.transaction() as conn:
        watermark = cursors.jira_watermark(conn, CURSOR)
    since = (watermark or now - jira.watch_lookback) - jira.watch_overlap
    clauses = [jql.eq("project", jira.project), jql.updated_since(since, zone)]
    if jira.labels:
        clauses.insert(1, jql.eq("labels", jira.labels[0]))
    query = jql.order_by(jql.all_of(*clauses), "updated ASC")
    recorded = 0
    newest = watermark
    for issue in tracker.search(query, history=True):
        if services.stopping.is_set():
            break  # the watermark covers the issues synced, the rest come next time
        newest = max(newest or issue.updated_at, issue.updated_at)
        with services.store.transaction() as conn:
            recovery = recoveries.by_jira_key(conn, issue.key)
            # The overlapping window finds an issue again on every poll: read it only when
            # it changed since the last reading (the worker's own writes change it too).
            unchanged = recovery is not None and (
                recoveries.jira_read_at(conn, recovery.id) == issue.updated_at
            )
        if recovery is None or unchanged:
            continue
        recorded += _sync_issue(
            services, tracker, recovery=recovery, issue=issue, since=since, now=now
        )
        with services.store.transaction() as conn:
            recoveries.mark_jira_read(conn, recovery.id, issue.updated_at)
    with services.store.transaction() as conn:
        cursors.save_jira_watermark(conn, CURSOR, newest, now)
    return recorded


def _sync_issue(
    services: Services,
    tracker: Tracker,
    *,
    recovery: Recovery,
    issue: Issue,
    since: datetime,
    now: datetime,
) -> int:
    sla = services.settings.sla
    _, calendar = sla_setup(services.settings).calendar_of(recovery.severity)
    comments = tracker.comments(issue.key)
    found: list[RecoveryEvent] = []
    with services.store.transaction() as conn:
        # The worker's own comments (alerts, the client's replies) are not team updates.
        own = ledger.comment_ids(conn, recovery.id) | replies.comment_ids(conn, recovery.id)
        last_status, last_done = ledger.jira_status(conn, recovery.id)
    for comment in comments:
        if comment.id in own or comment.created_at < since or not is_client_facing(comment, sla):
            continue
        base = f"jira:{issue.key}#comment-{comment.id}"
        found.append(
            RecoveryEvent(
                recovery.id, EventKind.CLIENT_UPDATE, comment.created_at, f"{base}:update"
            )
        )
        promised = find_promise(comment.body, comment.created_at, calendar)
        if promised is not None:
            found.append(
                RecoveryEvent(
                    recovery.id,
                    EventKind.PROMISE,
                    comment.created_at,
                    f"{base}:promise",
                    {"due": promised.isoformat()},
                )
            )
    found += status_events(recovery.id, issue, sla.waiting_statuses, last_status, last_done)
    new = 0
    with services.store.transaction() as conn:
        for event in sorted(found, key=lambda e: e.at):
            if events.record(conn, event, now):
                new += 1
                log.info(
                    "sla.event_recorded",
                    recovery_id=recovery.id,
                    jira_key=issue.key,
                    kind=str(event.kind),
                    at=event.at.isoformat(),
                )
        ledger.save_jira_status(
            conn,
            recovery.id,
            severity=recovery.severity,
            status=issue.status,
            done=issue.status_category is StatusCategory.DONE,
            now=now,
        )
    return new


def is_client_facing(comment: Comment, sla: SlaSettings) -> bool:
    """A public JSM comment, a comment carrying the marker, or one in a client visibility."""
    if sla.client_comment_public and comment.public is True:
        return True
    if sla.client_comment_marker and sla.client_comment_marker.lower() in comment.body.lower():
        return True
    return comment.visibility is not None and comment.visibility in sla.client_comment_visibilities


def status_events(
    recovery_id: int,
    issue: Issue,
    waiting_statuses: Sequence[str],
    last_status: str | None,
    last_done: bool | None,
) -> list[RecoveryEvent]:
    """Waiting, resumed, resolved and reopened, from the issue's history and its last seen state."""
    waiting = {s.lower() for s in waiting_statuses}
    found: list[RecoveryEvent] = []

    def add(kind: EventKind, at: datetime) -> None:
        found.append(
            RecoveryEvent(recovery_id, kind, at, f"jira:{issue.key}:{kind}:{at.isoformat()}")
        )

    status_changes = [c for c in issue.history if c.field.lower() == "status"]
    for change in status_changes:
        was = (change.from_string or "").lower() in waiting
        now_waiting = (change.to_string or "").lower() in waiting
        if now_waiting and not was:
            add(EventKind.WAITING, change.at)
        elif was and not now_waiting:
            add(EventKind.RESUMED, change.at)
    if not status_changes and last_status != issue.status:
        # No history from this Jira: the change is dated by the issue's last update.
        was = (last_status or "").lower() in waiting
        is_waiting = issue.status.lower() in waiting
        if is_waiting and not was:
            add(EventKind.WAITING, issue.updated_at)
        elif was and not is_waiting:
            add(EventKind.RESUMED, issue.updated_at)
    done = issue.status_category is StatusCategory.DONE
    if done and last_done is not True:
        add(EventKind.RESOLVED, issue.resolved_at or issue.updated_at)
    elif not done and last_done is True:
        reopened = [
            c.at
            for c in issue.history
            if c.field.lower() == "resolution" and c.from_string and not c.to_string
        ]
        add(EventKind.REOPENED, reopened[-1] if reopened else issue.updated_at)
    return found
