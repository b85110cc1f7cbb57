"""The follow-up steps: a positive touchpoint after each resolution, and the loop closed.

``plan_followups_once`` consumes RESOLVED and REOPENED events past its cursor, in order: a
resolution creates and links the follow-up task, or takes a held one off hold, and flags a
root cause left unwritten (:mod:`.resolution`); a reopen holds or cancels the task and the
second one raises the severity (:mod:`.reopen`). ``check_followups_once`` (:mod:`.check`)
closes the recoveries whose follow-up call is done and alerts once on overdue ones. Every
Jira write and alert goes through the outbox, exactly once.
"""

from __future__ import annotations

from worker.domain.events import EventKind, RecoveryEvent
from worker.errors import PermanentError
from worker.logs import get_logger
from worker.outbox.followup_alerts import AlertSink
from worker.steps import Services, failed
from worker.steps.followup.check import check_followups_once
from worker.steps.followup.reopen import on_reopened
from worker.steps.followup.resolution import on_resolved
from worker.store import cursors, events, recoveries
from worker.store import followups as store
from worker.tracker.base import Tracker
from worker.wiring import default_alerts

__all__ = ["BATCH", "CONSUMER", "check_followups_once", "plan_followups_once"]

log = get_logger()

#: This consumer's name in the store's cursor table.
CONSUMER = "followups"

#: Events handled per run, so one run stays short.
BATCH = 100


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
            failed(
                services,
                "followups",
                "followup.failed",
                exc,
                recovery_id=event.recovery_id,
                event_id=event.id,
            )
            _advance(services, event)
    return handled


def _handle(services: Services, tracker: Tracker, sink: AlertSink, event: RecoveryEvent) -> None:
    with services.store.transaction() as conn:
        recovery = recoveries.get(conn, event.recovery_id)
        followup = store.get(conn, event.recovery_id)
    key = recovery.jira_key if recovery is not None else None
    if recovery is None or key is None:
        log.info("followup.skipped", recovery_id=event.recovery_id, reason="not in Jira")
        _advance(services, event)
    elif event.kind == EventKind.RESOLVED:
        on_resolved(
            services,
            tracker,
            sink,
            recovery,
            key=key,
            followup=followup,
            event=event,
            consumer=CONSUMER,
        )
    else:
        on_reopened(
            services, tracker, recovery, key=key, followup=followup, event=event, consumer=CONSUMER
        )


def _advance(services: Services, event: RecoveryEvent) -> None:
    assert event.id is not None
    with services.store.transaction() as conn:
        cursors.advance(conn, CONSUMER, event.id, services.clock.now())
