"""Reopening a resolved recovery in Jira when its client complains again in the thread.

The intake records the wish (a REOPEN_ASKED event) with the mail's decision; this step
carries it to Jira. Jira stays the record of the recovery's state: the watcher sees the
reopen like one made by hand, so the SLA clocks restart and the follow-up is held by the
steps that already handle a reopen.
"""

from __future__ import annotations

from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import StatusCategory
from worker.errors import PermanentError, TransientError
from worker.logs import get_logger
from worker.steps import Services, end_of_pass, failed
from worker.store import events, ledger, recoveries
from worker.tracker.base import Tracker

log = get_logger()

CURSOR = "cursor:reopen_asked"


def reopen_recoveries_once(services: Services) -> int:
    """Move recoveries out of Done whose client complained after the resolution; how many.

    A transient failure stops the run: the reopens before it stay done, and the failure
    is raised at the end for the supervisor to wait (see end_of_pass).
    """
    tracker = services.tracker
    if tracker is None:
        return 0
    with services.store.transaction() as conn:
        asked = events.since(conn, ledger.event_cursor(conn, CURSOR), [EventKind.REOPEN_ASKED])
    reopened = 0
    deferred: TransientError | None = None
    for event in asked:
        if services.stopping.is_set():
            break
        assert event.id is not None
        with services.store.transaction() as conn:
            recovery = recoveries.get(conn, event.recovery_id)
        if recovery is not None and recovery.jira_key:
            bound = log.bind(recovery_id=recovery.id, key=recovery.jira_key)
            try:
                if _reopen(services, tracker, recovery.jira_key, event):
                    reopened += 1
            except TransientError as exc:
                failed(services, "reopen", "recovery.reopen_deferred", exc, logger=bound)
                deferred = exc
                break  # the same event again next round
            except PermanentError as exc:
                failed(services, "reopen", "recovery.reopen_failed", exc, logger=bound)
        with services.store.transaction() as conn:
            ledger.save_event_cursor(conn, CURSOR, event.id, services.clock.now())
    if deferred is not None:
        end_of_pass(deferred, progressed=reopened > 0)
    return reopened


def _reopen(services: Services, tracker: Tracker, key: str, event: RecoveryEvent) -> bool:
    """Move the issue out of Done unless it is open already or was resolved after the mail.

    Both checks read Jira, so a second attempt after a crash or a lost answer finds the
    issue open and does nothing, and a resolution the team made after the complaint
    arrived is not undone.
    """
    issue = tracker.get_issue(key)
    if issue.status_category is not StatusCategory.DONE:
        return False
    if issue.resolved_at is not None and issue.resolved_at > event.at:
        return False
    target = services.settings.jira.reopen_status
    if target:
        moved = tracker.transition(key, target)
    else:
        moved = tracker.transition(key, StatusCategory.TODO) or tracker.transition(
            key, StatusCategory.IN_PROGRESS
        )
    if moved:
        log.info(
            "recovery.reopen_sent", recovery_id=event.recovery_id, key=key, at=event.at.isoformat()
        )
    else:
        log.warning(
            "recovery.reopen_refused",
            recovery_id=event.recovery_id,
            key=key,
            status=issue.status,
            hint="no transition out of this status to "
            + (repr(target) if target else "a To Do or In Progress status")
            + "; the client's mail is on the issue as a comment, reopen it by hand",
        )
    return moved
