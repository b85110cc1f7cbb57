"""A recovery reopened: its follow-up task held or cancelled, and on the second reopen the
recovery's severity raised one step."""

from __future__ import annotations

from worker.domain.document import document, paragraph
from worker.domain.events import RecoveryEvent
from worker.domain.followup import CANCELLED, CREATED, ON_HOLD, PLANNED, Followup
from worker.domain.issue import StatusCategory
from worker.domain.recovery import Recovery
from worker.logs import get_logger
from worker.steps import Services
from worker.store import cursors
from worker.store import followups as store
from worker.tracker.base import Tracker

log = get_logger()

#: What a reopen tells a follow-up task already in Jira, per new state: the write's name
#: in the ledger, and the news.
NEWS = {
    ON_HOLD: ("followup-hold", "on hold until it is resolved again. Do not call yet."),
    CANCELLED: ("followup-cancel", "cancelled. A new one is planned when it is resolved again."),
}


def on_reopened(
    services: Services,
    tracker: Tracker,
    recovery: Recovery,
    *,
    key: str,
    followup: Followup | None,
    event: RecoveryEvent,
    consumer: str,
) -> None:
    """Handle the reopen ``event`` of the recovery in Jira as ``key``; ``consumer``'s cursor
    moves past it with the recorded outcome."""
    settings = services.settings.followup
    new_state: str | None = None
    if followup is not None and followup.state in (CREATED, PLANNED):
        new_state = ON_HOLD if settings.on_reopen == "hold" else CANCELLED
        task = followup.jira_key
        if task is None:
            new_state = CANCELLED  # never created: nothing to hold
        else:
            if new_state == ON_HOLD:
                tracker.add_labels(task, [settings.hold_label])
            write, news = NEWS[new_state]
            text = f"{key} was reopened on {event.at.date().isoformat()}: this follow-up is {news}"
            services.outbox.comment_once(
                f"{write}:{recovery.id}:{event.id}",
                tracker,
                task,
                document(paragraph(text)),
                kind="followup.comment",
            )
            if new_state == CANCELLED:
                tracker.transition(task, StatusCategory.DONE)

    count = recovery.reopen_count + 1
    raised_to = _raised(recovery.severity) if count >= 2 else None
    now = services.clock.now()
    with services.store.transaction() as conn:
        store.record_reopen(
            conn,
            event,
            followup_state=new_state,
            severity=recovery.severity,
            raised_to=raised_to,
            now=now,
        )
        assert event.id is not None
        cursors.advance(conn, consumer, event.id, now)
    if new_state is not None:
        services.metrics.followups.labels(event=new_state).inc()
    log.info(
        "recovery.reopened",
        recovery_id=recovery.id,
        key=key,
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
