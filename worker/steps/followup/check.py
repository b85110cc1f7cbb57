"""The open follow-up tasks read from Jira: a done call closes the recovery, an overdue one
is flagged once (a comment to its assignee, an alert, the recovery labelled breached)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from worker.domain.document import Inline, Mention, document, paragraph
from worker.domain.followup import CREATED, Followup
from worker.domain.issue import Issue, StatusCategory
from worker.logs import get_logger
from worker.outbox.followup_alerts import FOLLOWUP_OVERDUE, AlertSink, FollowupAlert, alert_once
from worker.steps import Services
from worker.store import followups as store
from worker.store import recoveries
from worker.tracker.base import Tracker
from worker.wiring import default_alerts

log = get_logger()


def check_followups_once(services: Services, alerts: AlertSink | None = None) -> int:
    """Close recoveries whose follow-up is done; alert once on overdue ones. How many changed."""
    tracker = services.tracker
    if tracker is None:
        return 0
    sink = alerts or default_alerts(services)
    with services.store.transaction() as conn:
        waiting = store.in_state(conn, CREATED)
    changed = 0
    every = services.settings.followup.check_every
    for followup in waiting:
        if services.stopping.is_set():
            break
        now = services.clock.now()
        overdue = now.date() > followup.due and followup.overdue_alerted_at is None
        recent = followup.checked_at is not None and now - followup.checked_at < every
        if followup.jira_key is None or (recent and not overdue):
            continue  # Jira is read once per check_every, and before an overdue alert
        issue = tracker.get_issue(followup.jira_key)
        with services.store.transaction() as conn:
            store.mark_checked(conn, followup.recovery_id, now)
        if issue.status_category == StatusCategory.DONE:
            done_at = issue.resolved_at or now
            if followup.overdue_alerted_at is not None:
                _clear_breach_label(services, tracker, followup.recovery_id)
            with services.store.transaction() as conn:
                store.record_done(conn, followup.recovery_id, done_at, now)
            on_time = done_at.date() <= followup.due
            services.metrics.followups.labels(event="done").inc()
            log.info(
                "recovery.closed",
                recovery_id=followup.recovery_id,
                followup_key=followup.jira_key,
                on_time=on_time,
            )
            changed += 1
        elif overdue:
            _alert_overdue(services, tracker, sink, followup, issue)
            changed += 1
    return changed


def _clear_breach_label(services: Services, tracker: Tracker, recovery_id: int) -> None:
    """The overdue alert marked the recovery breached: the call is made now."""
    with services.store.transaction() as conn:
        recovery = recoveries.get(conn, recovery_id)
    label = services.settings.alerts.breach_label
    if recovery is not None and recovery.jira_key and label:
        tracker.remove_labels(recovery.jira_key, [label])


def _alert_overdue(
    services: Services,
    tracker: Tracker,
    sink: AlertSink,
    followup: Followup,
    issue: Issue,
) -> None:
    with services.store.transaction() as conn:
        recovery = recoveries.get(conn, followup.recovery_id)
    assert recovery is not None
    assert followup.jira_key is not None
    late = (services.clock.now().date() - followup.due).days
    # Due on a day: late from the end of it.
    deadline = datetime.combine(followup.due + timedelta(days=1), time(0), tzinfo=UTC)
    lead: list[Inline | str] = [Mention(issue.assignee), " "] if issue.assignee else []
    services.outbox.comment_once(
        f"followup-overdue:{recovery.id}:{followup.round}",
        tracker,
        followup.jira_key,
        document(
            paragraph(
                *lead,
                f"This follow-up was due on {followup.due.isoformat()} and is {late} day(s) "
                "late. The client is still waiting for the call.",
            )
        ),
        kind="followup.comment",
    )
    alert_once(
        services.outbox,
        sink,
        f"alert:followup-overdue:{recovery.id}:{followup.round}",
        FollowupAlert(
            kind=FOLLOWUP_OVERDUE,
            recovery_id=recovery.id,
            recovery_key=recovery.jira_key or "",
            severity=recovery.severity,
            message=(
                f"The follow-up call {followup.jira_key} was due on "
                f"{followup.due.isoformat()} and is {late} day(s) late"
            ),
            deadline_id=f"{recovery.id}:followup:{followup.round}",
            deadline=deadline,
            late_by=services.clock.now() - deadline,
            owner=issue.assignee or recovery.owner,
            summary=recovery.summary,
            detail={"followup_key": followup.jira_key, "due": followup.due.isoformat()},
        ),
    )
    # Like a missed update, the recovery shows as breached in Jira until the call is made.
    label = services.settings.alerts.breach_label
    if recovery.jira_key and label:
        tracker.add_labels(recovery.jira_key, [label])
    with services.store.transaction() as conn:
        store.mark_overdue_alerted(conn, recovery.id, services.clock.now())
