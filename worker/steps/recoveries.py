"""Opening recoveries in Jira, each exactly once.

Every outside write runs under a ledger intent written before it and completed
after it. An intent found not done means a crash or a lost answer: the step
first looks in Jira for what it may already have made (the recovery's
idempotency label, the subtasks' own labels, a marker in comments) and adopts
it; only what is missing is created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from worker.core.playbook import plan_recovery
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import CreateFailed, IssueRef, NewIssue
from worker.domain.recovery import Recovery
from worker.errors import PermanentError, RequestRejected, TransientError
from worker.logs import get_logger
from worker.outbox import Unconfirmed, Write
from worker.steps import Services, end_of_pass, failed
from worker.store import events, recoveries
from worker.tracker.base import Tracker
from worker.wiring import playbook_for

log = get_logger()

STEP = "open_recoveries"

#: A create Jira refused this many times is given up; until then a settings fix may cure it.
MAX_ATTEMPTS = 5
#: Puts a given-up recovery back in line, its refusals forgiven (``retry-given-up``).
requeue_given_up = recoveries.requeue_given_up


@dataclass
class _Context:
    services: Services
    tracker: Tracker


def open_recoveries_once(services: Services, *, limit: int = 100) -> int:
    """Open every pending recovery in Jira; the number opened.

    A transient failure ends the pass, what was opened saved, and goes to the supervisor to
    wait (see end_of_pass); a permanent one is recorded against its recovery and the others
    go on. A recovery waiting for Jira's search to show its lost create waits alone, without
    holding up the step: it is looked for again on the next pass.
    """
    tracker = services.tracker
    if tracker is None:
        return 0
    with services.store.transaction() as conn:
        waiting = recoveries.pending(conn, limit)
    context = _Context(services, tracker)
    opened = 0
    for recovery in waiting:
        if services.stopping.is_set():
            break
        try:
            if _open(context, recovery):
                opened += 1
        except Unconfirmed as exc:
            # Waits alone: the others open meanwhile.
            log.info("recovery.search_lagging", recovery_id=recovery.id, detail=str(exc))
        except TransientError as exc:
            failed(services, STEP, "recovery.open_deferred", exc, recovery_id=recovery.id)
            end_of_pass(exc, progressed=opened > 0)
            break
        except PermanentError as exc:
            failed(services, STEP, "recovery.open_failed", exc, recovery_id=recovery.id)
    return opened


def _open(context: _Context, recovery: Recovery) -> bool:
    services = context.services
    settings = services.settings
    tracker = context.tracker
    bound = log.bind(recovery_id=recovery.id, source=recovery.source_key)

    outbox = services.outbox
    create_key = recoveries.create_key(recovery.id)
    if outbox.done(create_key) is None and outbox.refusals(create_key) >= MAX_ATTEMPTS:
        _give_up(context, recovery)
        return False
    subtask_type = settings.jira.subtask_type or tracker.subtask_issue_type(settings.jira.project)
    plan = plan_recovery(
        recovery,
        settings,
        services.clock.now(),
        playbook=playbook_for(services),
        subtask_type=subtask_type,
    )

    # 1. The recovery ticket, found again by its idempotency label.
    parent_key = outbox.make(
        Write(
            create_key,
            "create_recovery",
            send=lambda: tracker.create_issue(plan.parent).key,
            find=lambda: _find_lost_create(context, recovery),
            recovery_id=recovery.id,
        )
    )

    # 2. The three subtasks, in one bulk call, each found again by its own label.
    subtasks_key = f"subtasks:{recovery.id}"
    wanted = plan.subtasks_of(parent_key)
    if outbox.done(subtasks_key) is None and outbox.refusals(subtasks_key) >= MAX_ATTEMPTS:
        # The ticket exists and its clocks matter more than its playbook: open without them.
        bound.error("recovery.subtasks_given_up", jira_key=parent_key, attempts=MAX_ATTEMPTS)
    else:
        # What the last look found: a retry creates only the rest, a first try all three.
        seen: dict[str, str] = {}
        outbox.make(
            Write(
                subtasks_key,
                "create_subtasks",
                send=lambda: _create_subtasks(tracker, wanted, seen),
                find=lambda: _all_subtasks(tracker, wanted, parent_key, seen),
                recovery_id=recovery.id,
            )
        )

    # 3. For a Jira signal, the link to the issue it came from.
    if recovery.source_kind == "jira":
        _link_source(context, recovery, parent_key)

    # 4. Open in the store: the SLA clocks start from the OPENED event. The owner chosen for
    # the ticket is kept with it, so the later steps' comments address the same person.
    now = services.clock.now()
    with services.store.transaction() as conn:
        recoveries.mark_open(conn, recovery.id, parent_key)
        recoveries.record_owner(conn, recovery.id, plan.parent.assignee)
        events.record(
            conn,
            RecoveryEvent(
                recovery_id=recovery.id,
                kind=EventKind.OPENED,
                at=recovery.source_at or recovery.opened_at,
                dedupe_key=f"opened:{recovery.source_key}",
                detail={"jira_key": parent_key, "severity": recovery.severity},
            ),
            now,
        )
    services.metrics.recoveries_opened.labels(
        source=recovery.source_kind, severity=recovery.severity
    ).inc()
    bound.info("recovery.opened", jira_key=parent_key, severity=recovery.severity)
    return True


def _create_subtasks(tracker: Tracker, wanted: Sequence[NewIssue], seen: dict[str, str]) -> str:
    """Create the subtasks not ``seen`` (by their label); all their keys, comma-joined."""
    missing = [s for s in wanted if s.labels[-1] not in seen]
    created: list[IssueRef | CreateFailed] = tracker.create_issues(missing) if missing else []
    refused = [r for r in created if isinstance(r, CreateFailed)]
    if refused:
        raise RequestRejected(f"Jira refused subtasks: {[dict(r.errors) for r in refused]}")
    return ",".join([*seen.values(), *(r.key for r in created if isinstance(r, IssueRef))])


def _all_subtasks(
    tracker: Tracker, wanted: Sequence[NewIssue], parent_key: str, seen: dict[str, str]
) -> str | None:
    """The subtasks' keys when an earlier attempt made every one of them; else None.

    What it finds is kept in ``seen``, so that the create that follows makes only the rest.
    """
    seen.clear()
    seen.update(_existing_subtasks(tracker, parent_key))
    if all(s.labels[-1] in seen for s in wanted):
        return ",".join(seen[s.labels[-1]] for s in wanted)
    return None


def _give_up(context: _Context, recovery: Recovery) -> None:
    """Stop trying a recovery Jira refused every time, so it no longer holds a place in line."""
    with context.services.store.transaction() as conn:
        recoveries.mark_given_up(conn, recovery.id)
    log.error(
        "recovery.given_up",
        recovery_id=recovery.id,
        source=recovery.source_key,
        attempts=MAX_ATTEMPTS,
    )


def _link_source(context: _Context, recovery: Recovery, parent_key: str) -> None:
    """Relate the ticket to the Jira issue the signal came from; a refusal is logged, not raised.

    The source may have been deleted, or be one the account may not link: the recovery opens
    all the same.
    """
    services = context.services
    source_issue = recovery.source_ref or recovery.source_key.removeprefix("jira:")

    def send() -> str:
        context.tracker.link(parent_key, source_issue, "Relates")
        return source_issue

    try:
        # Jira keeps one link per type between two issues, so a repeated link is harmless.
        services.outbox.make(
            Write(
                f"link:{recovery.id}",
                "link_source",
                send=send,
                find=lambda: None,
                recovery_id=recovery.id,
                idempotent=True,
            )
        )
    except PermanentError as exc:
        failed(
            services,
            STEP,
            "recovery.link_failed",
            exc,
            recovery_id=recovery.id,
            jira_key=parent_key,
            source=recovery.source_key,
        )


def _find_lost_create(context: _Context, recovery: Recovery) -> str | None:
    """The ticket an earlier, unconfirmed create made, if Jira's search shows it."""
    project = context.services.settings.jira.project
    found = context.tracker.find_by_label(project, recovery.idempotency_key)
    if not found:
        return None
    # Two would mean an earlier bug; adopt the oldest, the others stay visible in Jira.
    oldest = min(found, key=lambda issue: (issue.created_at, issue.key))
    log.info(
        "recovery.adopted",
        recovery_id=recovery.id,
        source=recovery.source_key,
        jira_key=oldest.key,
    )
    return oldest.key


def _existing_subtasks(tracker: Tracker, parent_key: str) -> dict[str, str]:
    """The parent's subtasks by their label; read by key, which never lags."""
    found: dict[str, str] = {}
    for key in tracker.get_issue(parent_key).subtasks:
        for label in tracker.get_issue(key).labels:
            found.setdefault(label, key)
    return found
