"""Closing the loop: follow-up tasks after resolution, reopen handling, and done follow-ups.

``plan_followups_once`` consumes RESOLVED and REOPENED events past its cursor;
``check_followups_once`` alerts on overdue follow-up tasks and closes the
recoveries whose follow-up is done. Every Jira write goes through the ledger:
an intent first, the write, then the result, so a crash never writes twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol

from worker.alerts.base import Channel, alert_payload
from worker.core.alerting import Alert, AlertKind, Subject
from worker.core.followup import due_date, followup_label, plan_followup, root_cause_gaps
from worker.core.sla import ClockKind
from worker.domain.document import Document, Inline, Mention, bullets, document, paragraph
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.followup import CANCELLED, CREATED, DONE, ON_HOLD, PLANNED, Followup
from worker.domain.issue import Issue, NewIssue, StatusCategory
from worker.domain.recovery import Recovery
from worker.errors import (
    PermanentError,
)
from worker.logs import get_logger
from worker.outbox import Write, marker
from worker.steps import Services
from worker.store import alerts as alert_store
from worker.store import cursors, events, ledger, recoveries
from worker.store import followups as store
from worker.tracker.base import Tracker, find_marked_comment
from worker.wiring import channels_from

log = get_logger()

#: This consumer's name in the store's cursor table.
CONSUMER = "followups"

#: Events handled per run, so one run stays short.
BATCH = 100

ROOT_CAUSE_MISSING = "root_cause.missing"
FOLLOWUP_OVERDUE = "followup.overdue"


@dataclass(frozen=True, slots=True)
class FollowupAlert:
    """Something ops and the point of contact should hear about."""

    kind: str  # FOLLOWUP_OVERDUE or ROOT_CAUSE_MISSING
    recovery_id: int
    recovery_key: str
    severity: str
    message: str
    deadline_id: str
    deadline: datetime
    late_by: timedelta = timedelta(0)
    owner: str = ""
    summary: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


class AlertSink(Protocol):
    """Where follow-up alerts go."""

    def send(self, alert: FollowupAlert) -> None: ...


class ChannelAlerts:
    """Alerts as a log event, then through the configured alert channels (Slack, Teams, webhook).

    An overdue follow-up goes out as a missed update (a breach); a missing root cause as a
    warning. Each is planned once per channel in the store and delivered like an SLA alert:
    sent at once, a failing channel retried by the SLA sweep until it gets through or is
    given up, never blocking the others.
    """

    def __init__(self, channels: Sequence[Channel], services: Services) -> None:
        self.channels = tuple(channels)
        self._services = services

    def send(self, alert: FollowupAlert) -> None:
        services = self._services
        log.warning(
            FOLLOWUP_OVERDUE if alert.kind == FOLLOWUP_OVERDUE else ROOT_CAUSE_MISSING,
            recovery_id=alert.recovery_id,
            key=alert.recovery_key,
            severity=alert.severity,
            message=alert.message,
            **dict(alert.detail),
        )
        services.metrics.alerts.labels(kind=alert.kind, severity=alert.severity).inc()
        converted = channel_alert(alert)
        now = services.clock.now()
        with services.store.transaction() as conn:
            alert_store.plan(
                conn,
                recovery_id=alert.recovery_id,
                deadline_id=converted.deadline_id,
                alert_key=converted.key,
                channels=[c.name for c in self.channels],
                payload=alert_payload(converted),
                now=now,
            )
        services.alert_outbox.deliver(
            self.channels, now, step="followups", only=(converted.deadline_id, converted.key)
        )


#: Channels that follow-up alerts skip: the step writes its own Jira comments and log events.
OWN_CHANNELS = frozenset({"jira", "log"})


def default_alerts(services: Services) -> ChannelAlerts:
    """The configured alert channels, less those the step does itself."""
    channels = [c for c in channels_from(services) if c.name not in OWN_CHANNELS]
    return ChannelAlerts(channels, services)


def channel_alert(alert: FollowupAlert) -> Alert:
    """The follow-up alert in the shape every alert channel takes."""
    overdue = alert.kind == FOLLOWUP_OVERDUE
    kind = AlertKind.BREACH if overdue else AlertKind.WARNING
    return Alert(
        kind=kind,
        key=str(kind),
        deadline_id=alert.deadline_id,
        clock=ClockKind.NEXT_UPDATE if overdue else ClockKind.RESOLUTION,
        subject=Subject(
            recovery_id=alert.recovery_id,
            severity=alert.severity,
            jira_key=alert.recovery_key or None,
            owner=alert.owner,
            summary=alert.summary,
        ),
        deadline=alert.deadline,
        late_by=alert.late_by,
        breaches=0,
        text=alert.message,
    )


# --- consuming resolutions and reopens ----------------------------------------------------


def plan_followups_once(services: Services, alerts: AlertSink | None = None) -> int:
    """Handle the RESOLVED and REOPENED events past this consumer's cursor; how many."""
    tracker = services.tracker
    if tracker is None:
        return 0
    sink = alerts or default_alerts(services)
    with services.store.transaction() as conn:
        after = cursors.consumed(conn, CONSUMER)
        pending = events.since(conn, after, (EventKind.RESOLVED, EventKind.REOPENED))[:BATCH]
    handled = 0
    for event in pending:
        if services.stopping.is_set():
            break
        handled += 1
        try:
            _handle(services, tracker, sink, event)
        except PermanentError as exc:
            # A poison event must not hold up the others: recorded, logged, passed.
            log.error(
                "followup.failed",
                recovery_id=event.recovery_id,
                event_id=event.id,
                error=f"{type(exc).__name__}: {exc}",
            )
            services.metrics.errors.labels(step="followups", kind=type(exc).__name__).inc()
            _advance(services, event)
    return handled


def _handle(services: Services, tracker: Tracker, sink: AlertSink, event: RecoveryEvent) -> None:
    with services.store.transaction() as conn:
        recovery = recoveries.get(conn, event.recovery_id)
    if recovery is None or recovery.jira_key is None:
        log.info("followup.skipped", recovery_id=event.recovery_id, reason="not in Jira")
        _advance(services, event)
    elif event.kind == EventKind.RESOLVED:
        _on_resolved(services, tracker, sink, recovery, recovery_key=recovery.jira_key, event=event)
    else:
        _on_reopened(services, tracker, recovery, recovery.jira_key, event)


def _advance(services: Services, event: RecoveryEvent) -> None:
    assert event.id is not None
    with services.store.transaction() as conn:
        cursors.advance(conn, CONSUMER, event.id, services.clock.now())


def _on_resolved(
    services: Services,
    tracker: Tracker,
    sink: AlertSink,
    recovery: Recovery,
    *,
    recovery_key: str,
    event: RecoveryEvent,
) -> None:
    settings = services.settings
    field_ids = sorted(set(settings.followup.root_cause_fields.values()))
    parent = tracker.get_issue(recovery_key, field_ids)
    have = _have_subtask(tracker, parent, recovery, field_ids, settings.followup.have_subtask)
    # A field may be set on the recovery or on its HAVE subtask: whichever holds text counts.
    fields = {k: v for k, v in parent.extra.items() if v.strip()}
    fields.update({k: v for k, v in (have.extra if have else {}).items() if v.strip()})
    gaps = root_cause_gaps(have, fields, settings.followup)
    with services.store.transaction() as conn:
        followup = store.get(conn, recovery.id)

    # A done follow-up followed by a new resolution means the client came back after the
    # touchpoint (a reopen always comes between): that resolution earns a touchpoint of its own.
    if followup is None or followup.state in (PLANNED, CANCELLED, DONE):
        key = _create_followup(
            services, tracker, recovery, followup, parent=parent, have=have, event=event, gaps=gaps
        )
        change = "created"
    elif followup.state == ON_HOLD and followup.jira_key:
        key = followup.jira_key
        _resume_followup(services, tracker, recovery, key, recovery_key=recovery_key, event=event)
        change = "resumed"
    else:
        key = followup.jira_key or ""
        change = "unchanged"

    if gaps and change != "unchanged":  # a repeated resolution is not flagged twice
        _flag_root_cause(
            services, tracker, sink, recovery, recovery_key=recovery_key, event=event, gaps=gaps
        )

    now = services.clock.now()
    with services.store.transaction() as conn:
        store.resolve_recovery(conn, recovery.id, event.at)
        if change == "created":
            store.mark_created(conn, recovery.id, key, now)
        elif change == "resumed":
            due = due_date(recovery, event.at, settings.followup)
            store.resume(conn, recovery.id, resolved_at=event.at, due=due, now=now)
        assert event.id is not None
        cursors.advance(conn, CONSUMER, event.id, now)
    if change == "created":
        services.metrics.followups.labels(event="created").inc()
        log.info(
            "followup.created",
            recovery_id=recovery.id,
            key=recovery_key,
            followup_key=key,
            root_cause_gaps=gaps,
        )
    elif change == "resumed":
        services.metrics.followups.labels(event="resumed").inc()
        log.info("followup.resumed", recovery_id=recovery.id, key=recovery_key, followup_key=key)


def _create_followup(
    services: Services,
    tracker: Tracker,
    recovery: Recovery,
    followup: Followup | None,
    *,
    parent: Issue,
    have: Issue | None,
    event: RecoveryEvent,
    gaps: list[str],
) -> str:
    """Plan, create (exactly once) and link the follow-up task; its key."""
    round_ = 0 if followup is None else followup.round
    if followup is not None and followup.state in (CANCELLED, DONE):
        round_ += 1
    now = services.clock.now()
    resolved = replace(recovery, resolved_at=event.at)
    planned = plan_followup(resolved, parent, have, services.settings, now, round_=round_)
    assert planned.due is not None
    with services.store.transaction() as conn:
        store.plan(
            conn,
            recovery.id,
            label=followup_label(recovery, round_),
            round_=round_,
            resolved_at=event.at,
            due=planned.due,
            gaps=gaps,
            now=now,
        )
    suffix = "" if round_ == 0 else f":{round_}"
    key = _create_once(services, tracker, f"followup:{recovery.id}{suffix}", recovery, planned)
    _link_once(services, tracker, f"followup-link:{recovery.id}{suffix}", parent.key, key)
    return key


def _resume_followup(
    services: Services,
    tracker: Tracker,
    recovery: Recovery,
    key: str,
    *,
    recovery_key: str,
    event: RecoveryEvent,
) -> None:
    """Take a held follow-up off hold, due again from the new resolution."""
    due = due_date(recovery, event.at, services.settings.followup)
    tracker.remove_labels(key, [services.settings.followup.hold_label])
    tracker.set_due(key, due)
    _comment_once(
        services,
        tracker,
        f"followup-resumed:{recovery.id}:{event.id}",
        key,
        document(
            paragraph(
                f"{recovery_key} was resolved again on {event.at.date().isoformat()}: "
                f"this follow-up is back on, now due {due.isoformat()}."
            )
        ),
    )


def _have_subtask(
    tracker: Tracker, parent: Issue, recovery: Recovery, field_ids: Sequence[str], marker: str
) -> Issue | None:
    """The parent's HAVE subtask: by the playbook's stage label, or the marker in its summary."""
    stage_label = f"{recovery.idempotency_key}-{marker.lower()}"
    for key in parent.subtasks:
        subtask = tracker.get_issue(key, field_ids)
        words = subtask.summary.replace(":", " ").replace("-", " ").split()
        labels = {label.lower() for label in subtask.labels}
        if stage_label in labels or marker.lower() in labels or marker in words:
            return subtask
    return None


def _flag_root_cause(
    services: Services,
    tracker: Tracker,
    sink: AlertSink,
    recovery: Recovery,
    *,
    recovery_key: str,
    event: RecoveryEvent,
    gaps: list[str],
) -> None:
    """A comment on the recovery naming what is missing, and one alert, per resolution."""
    owner = recovery.owner
    lead: list[Inline | str] = [Mention(owner), " "] if owner else []
    body = document(
        paragraph(
            *lead,
            f"{recovery_key} was resolved on {event.at.date().isoformat()} without its "
            "root cause written down. Please add what is missing to the HAVE subtask:",
        ),
        bullets(gaps),
        paragraph(
            "The follow-up call reports the preventive measures to the client, "
            "so they need to be known before it."
        ),
    )
    _comment_once(services, tracker, f"root-cause:{recovery.id}:{event.id}", recovery_key, body)
    _alert_once(
        services,
        sink,
        f"alert:root-cause:{recovery.id}:{event.id}",
        FollowupAlert(
            kind=ROOT_CAUSE_MISSING,
            recovery_id=recovery.id,
            recovery_key=recovery_key,
            severity=recovery.severity,
            message=(
                f"{recovery_key} was resolved without its root cause written down; "
                f"missing: {', '.join(gaps)}"
            ),
            deadline_id=f"{recovery.id}:root_cause:{event.id}",
            deadline=event.at,
            owner=recovery.owner,
            summary=recovery.summary,
            detail={"missing": list(gaps)},
        ),
    )


def _on_reopened(
    services: Services,
    tracker: Tracker,
    recovery: Recovery,
    recovery_key: str,
    event: RecoveryEvent,
) -> None:
    settings = services.settings
    now = services.clock.now()
    with services.store.transaction() as conn:
        followup = store.get(conn, recovery.id)
    new_state: str | None = None
    if followup is not None and followup.state in (CREATED, PLANNED):
        new_state = ON_HOLD if settings.followup.on_reopen == "hold" else CANCELLED
        if followup.jira_key and new_state == ON_HOLD:
            tracker.add_labels(followup.jira_key, [settings.followup.hold_label])
            _comment_once(
                services,
                tracker,
                f"followup-hold:{recovery.id}:{event.id}",
                followup.jira_key,
                document(
                    paragraph(
                        f"{recovery_key} was reopened on {event.at.date().isoformat()}: this "
                        "follow-up is on hold until it is resolved again. Do not call yet."
                    )
                ),
            )
        elif followup.jira_key:
            _comment_once(
                services,
                tracker,
                f"followup-cancel:{recovery.id}:{event.id}",
                followup.jira_key,
                document(
                    paragraph(
                        f"{recovery_key} was reopened on {event.at.date().isoformat()}: this "
                        "follow-up is cancelled. A new one is planned when it is resolved again."
                    )
                ),
            )
            tracker.transition(followup.jira_key, StatusCategory.DONE)
        elif new_state == ON_HOLD:
            new_state = CANCELLED  # never created: nothing to hold

    count = recovery.reopen_count + 1
    raised_to = _raised(recovery.severity) if count >= 2 else None
    with services.store.transaction() as conn:
        store.reopen_recovery(conn, recovery.id)
        if new_state is not None:
            store.set_state(conn, recovery.id, new_state, now)
        if raised_to is not None and recoveries.raise_severity(conn, recovery.id, raised_to):
            events.record(
                conn,
                RecoveryEvent(
                    recovery_id=recovery.id,
                    kind=EventKind.SEVERITY_RAISED,
                    at=event.at,
                    dedupe_key=f"{event.dedupe_key}#severity",
                    detail={"from": recovery.severity, "to": raised_to, "reason": "reopened"},
                ),
                now,
            )
        assert event.id is not None
        cursors.advance(conn, CONSUMER, event.id, now)
    if new_state is not None:
        services.metrics.followups.labels(event=new_state).inc()
    log.info(
        "recovery.reopened",
        recovery_id=recovery.id,
        key=recovery_key,
        reopen_count=count,
        followup=new_state,
        severity=raised_to or recovery.severity,
    )


def _raised(severity: str) -> str | None:
    """One severity up (sev3 → sev2 → sev1); None at the top."""
    order = ("sev1", "sev2", "sev3")
    if severity not in order or severity == order[0]:
        return None
    return order[order.index(severity) - 1]


# --- overdue and done follow-ups ----------------------------------------------------------


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
                store.mark_done(conn, followup.recovery_id, done_at, now)
                store.close_recovery(conn, followup.recovery_id)
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
    _comment_once(
        services,
        tracker,
        f"followup-overdue:{recovery.id}:{followup.round}",
        followup.jira_key,
        document(
            paragraph(
                *lead,
                f"This follow-up was due on {followup.due.isoformat()} and is {late} day(s) "
                "late. The client is still waiting for the call.",
            )
        ),
    )
    _alert_once(
        services,
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


# --- exactly-once writes ------------------------------------------------------------------


def _create_once(
    services: Services, tracker: Tracker, action_key: str, recovery: Recovery, issue: NewIssue
) -> str:
    """Create the follow-up task unless the ledger or its label says it exists; its key."""
    label = issue.labels[-1]

    def find() -> str | None:
        found = tracker.find_by_label(issue.project, label)
        if not found:
            return None
        log.info("followup.found", recovery_id=recovery.id, followup_key=found[0].key)
        return found[0].key

    return services.outbox.make(
        Write(
            action_key,
            "followup.create",
            send=lambda: tracker.create_issue(issue).key,
            find=find,
            recovery_id=recovery.id,
        )
    )


def _link_once(
    services: Services, tracker: Tracker, action_key: str, recovery_key: str, followup_key: str
) -> None:
    def send() -> str:
        tracker.link(recovery_key, followup_key, services.settings.followup.link_type)
        return followup_key

    # Jira keeps one link per type between two issues: a second one changes nothing.
    services.outbox.make(
        Write(action_key, "followup.link", send=send, find=lambda: None, idempotent=True)
    )


def comment_marker(action_key: str) -> str:
    """A token written into the comment, the same for every attempt at ``action_key``."""
    return marker("note", action_key)


def _comment_once(
    services: Services, tracker: Tracker, action_key: str, issue_key: str, body: Document
) -> None:
    """Comment once: after an unknown outcome, the comment carrying its marker counts."""
    token = comment_marker(action_key)
    marked = Document((*body.blocks, paragraph(f"ref: {token}")))
    services.outbox.make(
        Write(
            action_key,
            "followup.comment",
            send=lambda: tracker.add_comment(issue_key, marked).id,
            find=lambda: find_marked_comment(tracker, issue_key, token),
        )
    )


def _alert_once(services: Services, sink: AlertSink, action_key: str, alert: FollowupAlert) -> None:
    """Send the alert unless the ledger says it went out."""
    with services.store.transaction() as conn:
        action = ledger.record_intent(
            conn, action_key, "followup.alert", services.clock.now(), alert.recovery_id
        )
    if action.state == ledger.DONE:
        return
    sink.send(alert)
    with services.store.transaction() as conn:
        ledger.complete(conn, action_key, alert.kind, services.clock.now())
