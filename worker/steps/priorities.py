"""Carrying severities raised after opening to the recovery tickets' priority."""

from __future__ import annotations

from worker.core.playbook import priority_for
from worker.domain.events import EventKind
from worker.domain.recovery import PENDING, Recovery
from worker.errors import PermanentError, TransientError
from worker.logs import get_logger
from worker.steps import Services, end_of_pass, failed
from worker.store import events, ledger, recoveries

log = get_logger()

STEP = "raise_priorities"

PRIORITY_CURSOR = "cursor:severity_raised"


def raise_priorities_once(services: Services) -> int:
    """Carry raised severities (a harsher reply, a second signal) to the tickets' priority.

    Reads SEVERITY_RAISED events after the last one handled; a recovery still waiting on
    its create stops the pass there, so its event is handled once the ticket exists. A
    transient failure ends the pass, the events handled saved (see end_of_pass).
    """
    tracker = services.tracker
    if tracker is None:
        return 0
    with services.store.transaction() as conn:
        after = ledger.event_cursor(conn, PRIORITY_CURSOR)
        raised = events.since(conn, after, [EventKind.SEVERITY_RAISED])
    changed = 0
    for event in raised:
        if services.stopping.is_set():
            break
        with services.store.transaction() as conn:
            recovery = recoveries.get(conn, event.recovery_id)
            create = ledger.get(conn, recoveries.create_key(event.recovery_id))
        if recovery is not None and _awaits_create(recovery, create):
            break
        jira_key = _ticket_key(recovery, create) if recovery else None
        priority = priority_for(services.settings.jira, recovery.severity) if recovery else None
        if recovery is not None and jira_key and priority:
            try:
                tracker.set_priority(jira_key, priority)
            except TransientError as exc:
                failed(services, STEP, "recovery.priority_deferred", exc, recovery_id=recovery.id)
                end_of_pass(exc, progressed=changed > 0)
                break
            except PermanentError as exc:
                failed(services, STEP, "recovery.priority_failed", exc, recovery_id=recovery.id)
            else:
                changed += 1
                log.info(
                    "recovery.priority_raised",
                    recovery_id=recovery.id,
                    jira_key=jira_key,
                    priority=priority,
                )
        assert event.id is not None
        with services.store.transaction() as conn:
            ledger.save_event_cursor(conn, PRIORITY_CURSOR, event.id, services.clock.now())
    return changed


def _awaits_create(recovery: Recovery, create: ledger.Action | None) -> bool:
    """Whether the ticket may yet be made, or have been made with the severity before the raise.

    A refused create made nothing and the next one takes the raised severity; a recovery
    given up will have no ticket. Neither holds up the raises after it.
    """
    waiting = create is None or create.state == ledger.INTENT
    return recovery.state == PENDING and waiting


def _ticket_key(recovery: Recovery, create: ledger.Action | None) -> str | None:
    """The recovery's ticket: once created and still opening (its subtasks), in the ledger."""
    if recovery.jira_key is None and create is not None and create.state == ledger.DONE:
        return create.result
    return recovery.jira_key
