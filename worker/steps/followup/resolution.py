"""A recovery resolved: its follow-up task created and linked, or taken off hold, and a root
cause left unwritten flagged on the recovery and to the alert channels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from worker.core.followup import due_date, followup_label, plan_followup, root_cause_gaps
from worker.domain.document import Inline, Mention, bullets, document, paragraph
from worker.domain.events import RecoveryEvent
from worker.domain.followup import CANCELLED, DONE, ON_HOLD, PLANNED, Followup
from worker.domain.issue import Issue
from worker.domain.recovery import Recovery
from worker.logs import get_logger
from worker.outbox.followup_alerts import ROOT_CAUSE_MISSING, AlertSink, FollowupAlert, alert_once
from worker.steps import Services
from worker.store import cursors
from worker.store import followups as store
from worker.tracker.base import Tracker

log = get_logger()


def on_resolved(
    services: Services,
    tracker: Tracker,
    sink: AlertSink,
    recovery: Recovery,
    *,
    key: str,
    followup: Followup | None,
    event: RecoveryEvent,
    consumer: str,
) -> None:
    """Handle the resolution ``event`` of the recovery in Jira as ``key``; ``consumer``'s
    cursor moves past it with the recorded outcome."""
    settings = services.settings.followup
    field_ids = sorted(set(settings.root_cause_fields.values()))
    parent = tracker.get_issue(key, field_ids)
    have = _have_subtask(tracker, parent, recovery, field_ids, settings.have_subtask)
    # A field may be set on the recovery or on its HAVE subtask: whichever holds text counts.
    fields = {k: v for k, v in parent.extra.items() if v.strip()}
    fields.update({k: v for k, v in (have.extra if have else {}).items() if v.strip()})
    gaps = root_cause_gaps(have, fields, settings)

    # A done follow-up followed by a new resolution means the client came back after the
    # touchpoint (a reopen always comes between): that resolution earns a touchpoint of its own.
    created: str | None = None
    resumed: date | None = None
    if followup is None or followup.state in (PLANNED, CANCELLED, DONE):
        task = created = _create_followup(
            services, tracker, recovery, followup, parent=parent, have=have, event=event, gaps=gaps
        )
    elif followup.state == ON_HOLD and followup.jira_key:
        task = followup.jira_key
        resumed = _resume_followup(services, tracker, recovery, task, key=key, event=event)
    else:
        task = followup.jira_key or ""
    if gaps and (created or resumed):  # a repeated resolution is not flagged twice
        _flag_root_cause(services, tracker, sink, recovery, key=key, event=event, gaps=gaps)

    now = services.clock.now()
    with services.store.transaction() as conn:
        store.record_resolution(
            conn, recovery.id, resolved_at=event.at, now=now, created=created, resumed_due=resumed
        )
        assert event.id is not None
        cursors.advance(conn, consumer, event.id, now)
    if created:
        services.metrics.followups.labels(event="created").inc()
        log.info(
            "followup.created",
            recovery_id=recovery.id,
            key=key,
            followup_key=task,
            root_cause_gaps=gaps,
        )
    elif resumed:
        services.metrics.followups.labels(event="resumed").inc()
        log.info("followup.resumed", recovery_id=recovery.id, key=key, followup_key=task)


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
    label = followup_label(recovery, round_)
    with services.store.transaction() as conn:
        store.plan(
            conn,
            recovery.id,
            label=label,
            round_=round_,
            resolved_at=event.at,
            due=planned.due,
            gaps=gaps,
            now=now,
        )
    suffix = "" if round_ == 0 else f":{round_}"
    task = services.outbox.create_once(
        f"followup:{recovery.id}{suffix}",
        tracker,
        planned,
        label=label,
        kind="followup.create",
        recovery_id=recovery.id,
        found=lambda k: log.info("followup.found", recovery_id=recovery.id, followup_key=k),
    )
    services.outbox.link_once(
        f"followup-link:{recovery.id}{suffix}",
        tracker,
        parent.key,
        task,
        services.settings.followup.link_type,
        kind="followup.link",
    )
    return task


def _resume_followup(
    services: Services,
    tracker: Tracker,
    recovery: Recovery,
    task: str,
    *,
    key: str,
    event: RecoveryEvent,
) -> date:
    """Take a held follow-up off hold, due again from the new resolution; its due date."""
    due = due_date(recovery, event.at, services.settings.followup)
    tracker.remove_labels(task, [services.settings.followup.hold_label])
    tracker.set_due(task, due)
    news = (
        f"{key} was resolved again on {event.at.date().isoformat()}: "
        f"this follow-up is back on, now due {due.isoformat()}."
    )
    services.outbox.comment_once(
        f"followup-resumed:{recovery.id}:{event.id}",
        tracker,
        task,
        document(paragraph(news)),
        kind="followup.comment",
    )
    return due


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
    key: str,
    event: RecoveryEvent,
    gaps: list[str],
) -> None:
    """A comment on the recovery naming what is missing, and one alert, per resolution."""
    lead: list[Inline | str] = [Mention(recovery.owner), " "] if recovery.owner else []
    body = document(
        paragraph(
            *lead,
            f"{key} was resolved on {event.at.date().isoformat()} without its "
            "root cause written down. Please add what is missing to the HAVE subtask:",
        ),
        bullets(gaps),
        paragraph(
            "The follow-up call reports the preventive measures to the client, "
            "so they need to be known before it."
        ),
    )
    write = f"root-cause:{recovery.id}:{event.id}"
    services.outbox.comment_once(write, tracker, key, body, kind="followup.comment")
    alert = FollowupAlert(
        kind=ROOT_CAUSE_MISSING,
        recovery_id=recovery.id,
        recovery_key=key,
        severity=recovery.severity,
        message=f"{key} was resolved without its root cause written down; "
        f"missing: {', '.join(gaps)}",
        deadline_id=f"{recovery.id}:root_cause:{event.id}",
        deadline=event.at,
        owner=recovery.owner,
        summary=recovery.summary,
        detail={"missing": list(gaps)},
    )
    alert_once(services.outbox, sink, f"alert:{write}", alert)
