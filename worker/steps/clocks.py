"""Keep the cadence: pull Jira changes into recovery events, sweep the clocks, send due alerts.

``sync_recoveries_once`` reads what changed on recovery issues since its last
poll (an overlapping ``updated >=`` window) and records events: client-facing
comments are client updates (with the next update they promise), waiting
statuses pause the clocks, Done resolves and leaving Done reopens.

``sweep_clocks_once`` works from the store alone: it evaluates only the
recoveries with new events or a threshold (warning, deadline, reminder) due,
plans their alerts in the ledger, delivers them on every channel, and touches
Jira only where something changed (the breach label, the due date).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, insert, select, update

from worker.alerts.base import Channel, alert_payload
from worker.core.alerting import AlertKind, Subject, due_alerts, next_check
from worker.core.promises import find_promise
from worker.core.sla import ClockState, evaluate
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import Comment, Issue, StatusCategory
from worker.domain.recovery import OPEN, RESOLVED, Recovery
from worker.errors import (
    ConfigurationError,
    Interrupted,
    PermanentError,
    TransientError,
)
from worker.logs import get_logger
from worker.settings import SlaSettings
from worker.steps import Services
from worker.store import alerts as ledger
from worker.store import events, recoveries
from worker.store.schema import jira_cursors, replies, source_cursors
from worker.tracker import jql
from worker.tracker.base import Tracker
from worker.wiring import SlaSetup, channels_from, sla_setup

log = get_logger()

#: Recoveries the sweep looks at: open ones, and resolved ones (a reopen must be noticed).
SWEPT_STATES = (OPEN, RESOLVED)
CURSOR = "sla:recoveries"
#: When a Jira update of the sweep failed: look again this soon.
JIRA_RETRY = timedelta(minutes=1)


# --- configuration -------------------------------------------------------------------


# --- the sweep -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _JiraUpdate:
    recovery_id: int
    key: str
    remove_label: bool
    due: date | None


def sweep_clocks_once(services: Services, channels: Sequence[Channel] | None = None) -> int:
    """Evaluate what is due, plan and deliver alerts; the number of deliveries made."""
    with services.metrics.sweep_seconds.time():
        return _sweep(services, channels)


def _sweep(services: Services, channels: Sequence[Channel] | None) -> int:
    setup = sla_setup(services.settings)
    chosen = list(channels) if channels is not None else channels_from(services)
    names = [c.name for c in chosen]
    now = services.clock.now()
    jira_updates: list[_JiraUpdate] = []
    with services.store.transaction() as conn:
        for lost in ledger.interrupted(conn):
            log.warning("alert.outcome_unknown", channel=lost.channel, deadline_id=lost.deadline_id)
        due = ledger.due_for_evaluation(conn, now, SWEPT_STATES)
        ids = [d.recovery_id for d in due]
        history = events.for_recoveries(conn, ids)
        sent = ledger.sent_keys(conn, ids)
        rows: list[ledger.ClockRow] = []
        for item in due:
            row, update = _evaluate_one(
                conn,
                services,
                setup=setup,
                item=item,
                history=history.get(item.recovery_id, []),
                sent=sent.get(item.recovery_id, set()),
                channels=names,
                now=now,
            )
            rows.append(row)
            if update is not None:
                jira_updates.append(update)
        ledger.save_clocks(conn, rows, now)
    delivered = services.alert_outbox.deliver(chosen, now, step="sweep_clocks")
    _update_jira(services, jira_updates, now)
    _update_metrics(services, now)
    return delivered


def _evaluate_one(
    conn: Connection,
    services: Services,
    *,
    setup: SlaSetup,
    item: ledger.Due,
    history: list[RecoveryEvent],
    sent: set[tuple[str, str]],
    channels: list[str],
    now: datetime,
) -> tuple[ledger.ClockRow, _JiraUpdate | None]:
    policy, calendar = setup.calendar_of(item.severity)
    clocks = evaluate(history, policy, calendar, now, setup.warn_at)
    subject = Subject(item.recovery_id, item.severity, item.jira_key, item.owner, item.summary)
    labelled = item.breach_labelled
    for alert in due_alerts(subject, clocks, sent, setup.rules, now):
        # Reminders stay out of Jira, so the ticket is not flooded: no delivery is planned
        # there, rather than one counted as sent that wrote nothing.
        wanted = [c for c in channels if not (alert.kind is AlertKind.REMINDER and c == "jira")]
        new = ledger.plan(
            conn,
            recovery_id=item.recovery_id,
            deadline_id=alert.deadline_id,
            alert_key=alert.key,
            channels=wanted,
            payload=alert_payload(alert),
            now=now,
        )
        if new:
            services.metrics.alerts.labels(kind=str(alert.kind), severity=item.severity).inc()
        if alert.kind is AlertKind.BREACH and "jira" in channels:
            labelled = True  # the Jira channel puts the label on with the comment
    first = clocks.first_contact
    seen = item.first_contact_seen
    if not seen and first is not None and first.met_at is not None:
        elapsed = (first.met_at - first.started_at).total_seconds()
        services.metrics.first_contact_seconds.observe(max(0.0, elapsed))
        seen = True
    breached = any(c.state is ClockState.BREACHED for c in clocks)
    resolution = clocks.resolution
    is_open = resolution is None or resolution.state is not ClockState.MET
    deadline = clocks.next_deadline
    due_date = deadline.astimezone(calendar.zone).date() if deadline else None
    update = None
    if item.jira_key and services.tracker is not None:
        remove = item.breach_labelled and not breached
        show = due_date if due_date is not None and due_date != item.jira_due else None
        if remove or show:
            update = _JiraUpdate(item.recovery_id, item.jira_key, remove, show)
    newest = max((e.id or 0 for e in history), default=0)
    row = ledger.ClockRow(
        recovery_id=item.recovery_id,
        severity=item.severity,
        state=str(clocks.state) if is_open else str(ClockState.MET),
        is_open=is_open,
        next_deadline=deadline,
        next_check=next_check(clocks, setup.rules, now),
        events_seen=newest,
        # Stays set until Jira confirms the label is gone.
        breach_labelled=labelled,
        jira_due=item.jira_due,
        first_contact_seen=seen,
    )
    return row, update


def _update_jira(services: Services, updates: Sequence[_JiraUpdate], now: datetime) -> None:
    """Remove breach labels of clocks met again and show the next deadline as the due date."""
    tracker = services.tracker
    if tracker is None or not updates:
        return
    label = services.settings.alerts.breach_label
    field = services.settings.sla.due_field
    done: list[_JiraUpdate] = []
    failed: list[_JiraUpdate] = []
    retry_at = now + JIRA_RETRY
    for index, item in enumerate(updates):
        if services.stopping.is_set():
            failed += updates[index:]  # left for the next start
            break
        try:
            if item.remove_label:
                tracker.remove_labels(item.key, [label])
            if item.due is not None:
                tracker.set_due(item.key, item.due, field)
        except Interrupted:
            failed += updates[index:]  # left for the next start, as above
            break
        except (TransientError, PermanentError) as exc:
            services.metrics.errors.labels(step="sweep_clocks", kind=type(exc).__name__).inc()
            log.warning(
                "sla.jira_update_failed",
                recovery_id=item.recovery_id,
                jira_key=item.key,
                error=type(exc).__name__,
                detail=str(exc)[:300],
            )
            if isinstance(exc, TransientError):
                # Jira is busy or away: the rest waits with this one, as long as it asked.
                retry_at = max(retry_at, now + timedelta(seconds=exc.retry_after or 0))
                failed += updates[index:]
                break
            failed.append(item)
            continue
        done.append(item)
    # Recorded together: both updates are idempotent, so a crash before this only repeats them.
    with services.store.transaction() as conn:
        for item in done:
            ledger.jira_updated(
                conn, item.recovery_id, due=item.due, label_removed=item.remove_label
            )
        for item in failed:
            ledger.retry_jira_update(conn, item.recovery_id, retry_at)


def _update_metrics(services: Services, now: datetime) -> None:
    metrics = services.metrics
    with services.store.transaction() as conn:
        counts = ledger.state_counts(conn)
        nearest = ledger.nearest_deadline(conn)
        jira_polled = conn.execute(
            select(jira_cursors.c.updated_at).where(jira_cursors.c.name == CURSOR)
        ).scalar_one_or_none()
        inbox_polled = conn.execute(select(func.max(source_cursors.c.updated_at))).scalar()
    metrics.open_recoveries.clear()
    for severity, state, count in counts:
        metrics.open_recoveries.labels(severity=severity, clock_state=state).set(count)
    metrics.next_deadline_seconds.set((nearest - now).total_seconds() if nearest else 0.0)
    if jira_polled is not None:
        metrics.poll_lag_seconds.labels(source="jira").set((now - jira_polled).total_seconds())
    if inbox_polled is not None:
        metrics.poll_lag_seconds.labels(source="inbox").set((now - inbox_polled).total_seconds())


# --- the Jira sync -------------------------------------------------------------------


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
        watermark = conn.execute(
            select(jira_cursors.c.watermark).where(jira_cursors.c.name == CURSOR)
        ).scalar_one_or_none()
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
        if recovery is None:
            continue
        recorded += _sync_issue(
            services, tracker, recovery=recovery, issue=issue, since=since, now=now
        )
    with services.store.transaction() as conn:
        _save_watermark(conn, newest, now)
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
        own = ledger.comment_ids(conn, recovery.id) | _reply_comment_ids(conn, recovery.id)
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


def _reply_comment_ids(conn: Connection, recovery_id: int) -> set[str]:
    """Comments the worker posted for the client's own replies: the client's words, not updates."""
    rows = conn.execute(
        select(replies.c.comment_id).where(
            replies.c.recovery_id == recovery_id, replies.c.comment_id.is_not(None)
        )
    ).scalars()
    return {r for r in rows if r}


def _save_watermark(conn: Connection, watermark: datetime | None, now: datetime) -> None:
    changed = conn.execute(
        update(jira_cursors)
        .where(jira_cursors.c.name == CURSOR)
        .values(watermark=watermark, updated_at=now)
    )
    if changed.rowcount == 0:
        conn.execute(insert(jira_cursors).values(name=CURSOR, watermark=watermark, updated_at=now))
