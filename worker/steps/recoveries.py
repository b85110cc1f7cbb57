"""Opening recoveries in Jira and posting thread replies to them, each exactly once.

Every outside write runs under a ledger intent written before it and completed
after it. An intent found not done means a crash or a lost answer: the step
first looks in Jira for what it may already have made (the recovery's
idempotency label, the subtasks' own labels, a marker in comments) and adopts
it; only what is missing is created.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Connection

from worker.core.playbook import Playbook, parse_playbook, plan_recovery, priority_for
from worker.errors import (
    Deferred,
    OutcomeUnknown,
    PermanentError,
    RequestRejected,
    TransientError,
    WorkerError,
)
from worker.logs import get_logger
from worker.steps import Services, end_of_pass
from worker.store import events, ledger, recoveries, replies
from worker.store.events import EventKind, RecoveryEvent
from worker.store.recoveries import Recovery
from worker.store.replies import Reply
from worker.tracker.base import (
    CreateFailed,
    Issue,
    IssueRef,
    NewIssue,
    Tracker,
    find_marked_comment,
)
from worker.tracker.document import Block, Document, Paragraph, Quote, Text, bullets, paragraph

log = get_logger()

DEFAULT_PLAYBOOK = Path(__file__).resolve().parent.parent / "defaults" / "playbook.toml"
#: Searches for a lost create before concluding it never happened (Cloud search lags writes).
LOOKUP_ATTEMPTS = 4
LOOKUP_WAIT = 2.0
#: A create Jira refused this many times is given up; until then a settings fix may cure it.
MAX_ATTEMPTS = 5


@cache
def _read_playbook(path: Path) -> Playbook:
    return parse_playbook(path.read_text(encoding="utf-8"), str(path))


def playbook_for(services: Services) -> Playbook:
    """The configured playbook, or the shipped one."""
    return _read_playbook(services.settings.jira.playbook_file or DEFAULT_PLAYBOOK)


class SearchLagging(Deferred):
    """A create whose answer was lost is not in Jira's search yet: look again after the lag."""


@dataclass
class _Context:
    services: Services
    tracker: Tracker
    sleep: Callable[[float], None]


def open_recoveries_once(
    services: Services, *, limit: int = 100, sleep: Callable[[float], None] | None = None
) -> int:
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
    context = _Context(services, tracker, sleep or services.pause)
    opened = 0
    for recovery in waiting:
        if services.stopping.is_set():
            break
        try:
            if _open(context, recovery):
                opened += 1
        except SearchLagging as exc:
            log.info("recovery.search_lagging", recovery_id=recovery.id, detail=str(exc))
        except TransientError as exc:
            services.metrics.errors.labels(step="open_recoveries", kind=type(exc).__name__).inc()
            log.warning(
                "recovery.open_deferred",
                recovery_id=recovery.id,
                error=type(exc).__name__,
                detail=str(exc),
            )
            end_of_pass(exc, progressed=opened > 0)
            break
        except PermanentError as exc:
            services.metrics.errors.labels(step="open_recoveries", kind=type(exc).__name__).inc()
            log.error(
                "recovery.open_failed",
                recovery_id=recovery.id,
                error=type(exc).__name__,
                detail=str(exc),
            )
    return opened


def _intent(context: _Context, key: str, kind: str, recovery_id: int) -> ledger.Action:
    with context.services.store.transaction() as conn:
        return ledger.record_intent(conn, key, kind, context.services.clock.now(), recovery_id)


def _complete(context: _Context, key: str, result: str) -> None:
    with context.services.store.transaction() as conn:
        ledger.complete(conn, key, result, context.services.clock.now())


def _refusals(context: _Context, key: str) -> int:
    with context.services.store.transaction() as conn:
        return ledger.refusals(conn, key)


def _fail(context: _Context, key: str, error: WorkerError) -> None:
    with context.services.store.transaction() as conn:
        ledger.fail(conn, key, f"{type(error).__name__}: {error}", context.services.clock.now())


def _open(context: _Context, recovery: Recovery) -> bool:
    services = context.services
    settings = services.settings
    tracker = context.tracker
    bound = log.bind(recovery_id=recovery.id, source=recovery.source_key)

    create_key = _create_key(recovery.id)
    action = _intent(context, create_key, "create_recovery", recovery.id)
    if action.state == ledger.FAILED and _refusals(context, create_key) >= MAX_ATTEMPTS:
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

    # 1. The recovery ticket.
    if action.state == ledger.DONE:
        parent_key = action.result
    else:
        parent_key = _create_ticket(context, recovery, plan.parent, action)
        _complete(context, create_key, parent_key)

    # 2. The three subtasks, in one bulk call.
    subtasks_key = f"subtasks:{recovery.id}"
    action = _intent(context, subtasks_key, "create_subtasks", recovery.id)
    if action.state == ledger.FAILED and _refusals(context, subtasks_key) >= MAX_ATTEMPTS:
        # The ticket exists and its clocks matter more than its playbook: open without them.
        bound.error("recovery.subtasks_given_up", jira_key=parent_key, attempts=MAX_ATTEMPTS)
    elif action.state != ledger.DONE:
        keys = _create_subtasks(context, plan.subtasks_of(parent_key), parent_key, action)
        _complete(context, subtasks_key, ",".join(keys))

    # 3. For a Jira signal, the link to the issue it came from.
    if recovery.source_kind == "jira":
        _link_source(context, recovery, parent_key)

    # 4. Open in the store: the SLA clocks start from the OPENED event.
    now = services.clock.now()
    with services.store.transaction() as conn:
        recoveries.mark_open(conn, recovery.id, parent_key)
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


def _create_ticket(
    context: _Context, recovery: Recovery, parent: NewIssue, action: ledger.Action
) -> str:
    """The recovery ticket's key: the one a lost create made, else a new one."""
    services = context.services
    if action.attempts > 1:
        with services.store.transaction() as conn:
            noted = ledger.sends_noted(conn, action.key)
            lag_left = ledger.search_lag_left(conn, action.key, services.clock.now())
        # With its sends noted, the lag is waited across passes and one look a pass is
        # enough; without (a store from before), looks a few seconds apart.
        found = _find_lost_create(context, recovery, 1 if noted else LOOKUP_ATTEMPTS)
        if found is not None:
            log.info(
                "recovery.adopted",
                recovery_id=recovery.id,
                source=recovery.source_key,
                jira_key=found.key,
            )
            return found.key
        if action.state == ledger.INTENT and lag_left:
            # Not found may mean not indexed yet: creating again now could make a second one.
            raise SearchLagging(
                f"recovery ticket {recovery.idempotency_key} not found yet; "
                "searching again once Jira's search has caught up",
                retry_after=lag_left.total_seconds(),
            )
    with services.store.transaction() as conn:
        ledger.note_sent(conn, action.key, services.clock.now(), recovery.id)
    try:
        return context.tracker.create_issue(parent).key
    except OutcomeUnknown:
        # The call may have waited long for its answer: the ticket may be as new as now.
        with services.store.transaction() as conn:
            ledger.note_sent(conn, action.key, services.clock.now(), recovery.id)
        raise
    except WorkerError as exc:
        # Throttled, refused, or never arrived: no ticket was made that search could miss.
        with services.store.transaction() as conn:
            ledger.forget_sent(conn, action.key, services.clock.now())
        if isinstance(exc, PermanentError):
            _fail(context, action.key, exc)
        raise


def _create_subtasks(
    context: _Context, wanted: Sequence[NewIssue], parent_key: str, action: ledger.Action
) -> list[str]:
    """The subtasks' keys: those an earlier attempt made, and the rest made now."""
    tracker = context.tracker
    existing = _existing_subtasks(tracker, parent_key) if action.attempts > 1 else {}
    missing = [s for s in wanted if s.labels[-1] not in existing]
    try:
        created: list[IssueRef | CreateFailed] = tracker.create_issues(missing) if missing else []
        refused = [r for r in created if isinstance(r, CreateFailed)]
        if refused:
            raise RequestRejected(f"Jira refused subtasks: {[dict(r.errors) for r in refused]}")
    except PermanentError as exc:
        _fail(context, action.key, exc)
        raise
    return [*existing.values(), *(r.key for r in created if isinstance(r, IssueRef))]


def _create_key(recovery_id: int) -> str:
    """The ledger key of a recovery ticket's create."""
    return f"create:{recovery_id}"


def requeue_given_up(conn: Connection, recovery_id: int, now: datetime) -> bool:
    """Put a given-up recovery back in line, its refusals forgiven; False if not given up.

    For after the cause is fixed in Jira or the settings: the next pass tries it as new.
    """
    if not recoveries.requeue(conn, recovery_id):
        return False
    ledger.forgive(conn, _create_key(recovery_id), now)
    return True


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
    link_key = f"link:{recovery.id}"
    action = _intent(context, link_key, "link_source", recovery.id)
    if action.state == ledger.DONE:
        return
    source_issue = recovery.source_ref or recovery.source_key.removeprefix("jira:")
    try:
        # Jira keeps one link per type between two issues, so a repeated link is harmless.
        context.tracker.link(parent_key, source_issue, "Relates")
    except PermanentError as exc:
        _fail(context, link_key, exc)
        services.metrics.errors.labels(step="open_recoveries", kind=type(exc).__name__).inc()
        log.error(
            "recovery.link_failed",
            recovery_id=recovery.id,
            jira_key=parent_key,
            source=recovery.source_key,
            error=type(exc).__name__,
            detail=str(exc),
        )
        return
    _complete(context, link_key, source_issue)


def _find_lost_create(context: _Context, recovery: Recovery, lookups: int) -> Issue | None:
    """The ticket an earlier, unconfirmed create made, if any, in up to ``lookups`` searches."""
    project = context.services.settings.jira.project
    for attempt in range(lookups):
        found = context.tracker.find_by_label(project, recovery.idempotency_key)
        if found:
            # Two would mean an earlier bug; adopt the oldest, the others stay visible in Jira.
            return min(found, key=lambda issue: (issue.created_at, issue.key))
        if attempt + 1 < lookups:
            context.sleep(LOOKUP_WAIT)
    return None


def _existing_subtasks(tracker: Tracker, parent_key: str) -> dict[str, str]:
    """The parent's subtasks by their label; read by key, which never lags."""
    found: dict[str, str] = {}
    for key in tracker.get_issue(parent_key).subtasks:
        for label in tracker.get_issue(key).labels:
            found.setdefault(label, key)
    return found


# --- thread replies ------------------------------------------------------------------


def reply_marker(message_key: str) -> str:
    """A token written into the comment, so a lost answer can be recognised in Jira."""
    return "rw-reply-" + hashlib.sha256(message_key.encode("utf-8")).hexdigest()[:16]


def _size(size: int) -> str:
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} bytes"


def reply_document(reply: Reply) -> tuple[Block, ...]:
    """The comment for a client reply: who, when, the new text, the attachments, the marker."""
    when = reply.sent_at.strftime("%Y-%m-%d %H:%M UTC") if reply.sent_at else "an unknown time"
    who = f"{reply.author_name} <{reply.author}>" if reply.author_name else reply.author
    blocks: list[Block] = [
        Paragraph((Text("Client reply from "), Text(who or "unknown sender", strong=True),
                   Text(f", sent {when}:"))),
        Quote(reply.text or "(no new text)"),
    ]  # fmt: skip
    if reply.attachments:
        blocks.append(paragraph("Attachments:"))
        blocks.append(
            bullets(f"{a.filename or 'unnamed'} ({_size(a.size)})" for a in reply.attachments)
        )
    blocks.append(paragraph(f"ref: {reply_marker(reply.message_key)}"))
    return tuple(blocks)


def post_replies_once(services: Services, *, limit: int = 100) -> int:
    """Post each unposted thread reply as one comment on its recovery; the number posted.

    A transient failure ends the pass, what was posted saved (see end_of_pass).
    """
    tracker = services.tracker
    if tracker is None:
        return 0
    with services.store.transaction() as conn:
        waiting = [(r, recoveries.get(conn, r.recovery_id)) for r in replies.to_post(conn, limit)]
    posted = 0
    for reply, recovery in waiting:
        if services.stopping.is_set():
            break
        if recovery is None or recovery.jira_key is None:
            continue  # not open in Jira yet; the reply waits for its ticket
        key = f"comment:{reply.message_key}"
        bound = log.bind(message_key=reply.message_key, jira_key=recovery.jira_key)
        try:
            with services.store.transaction() as conn:
                action = ledger.record_intent(conn, key, "post_reply", services.clock.now(),
                                              recovery.id)  # fmt: skip
            comment_id = action.result if action.state == ledger.DONE else None
            if comment_id is None and action.attempts > 1:
                marker = reply_marker(reply.message_key)
                comment_id = find_marked_comment(tracker, recovery.jira_key, marker)
                if comment_id is not None:
                    bound.info("reply.adopted", comment_id=comment_id)
            if comment_id is None:
                comment_id = tracker.add_comment(
                    recovery.jira_key, Document(reply_document(reply))
                ).id
            with services.store.transaction() as conn:
                ledger.complete(conn, key, comment_id, services.clock.now())
                replies.mark_posted(conn, reply.id, comment_id)
        except TransientError as exc:
            services.metrics.errors.labels(step="post_replies", kind=type(exc).__name__).inc()
            bound.warning("reply.post_deferred", error=type(exc).__name__, detail=str(exc))
            end_of_pass(exc, progressed=posted > 0)
            break
        except PermanentError as exc:
            services.metrics.errors.labels(step="post_replies", kind=type(exc).__name__).inc()
            bound.error("reply.post_failed", error=type(exc).__name__, detail=str(exc))
            continue
        posted += 1
        bound.info("reply.posted", comment_id=comment_id)
    return posted


# --- severity raised after opening ------------------------------------------------------

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
            create = ledger.get(conn, _create_key(event.recovery_id))
        if recovery is not None and _awaits_create(recovery, create):
            break
        jira_key = _ticket_key(recovery, create) if recovery else None
        priority = priority_for(services.settings.jira, recovery.severity) if recovery else None
        if recovery is not None and jira_key and priority:
            try:
                tracker.set_priority(jira_key, priority)
            except TransientError as exc:
                log.warning(
                    "recovery.priority_deferred",
                    recovery_id=recovery.id,
                    error=type(exc).__name__,
                    detail=str(exc),
                )
                end_of_pass(exc, progressed=changed > 0)
                break
            except PermanentError as exc:
                log.error(
                    "recovery.priority_failed",
                    recovery_id=recovery.id,
                    error=type(exc).__name__,
                    detail=str(exc),
                )
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
    return recovery.state == recoveries.PENDING and waiting


def _ticket_key(recovery: Recovery, create: ledger.Action | None) -> str | None:
    """The recovery's ticket: once created and still opening (its subtasks), in the ledger."""
    if recovery.jira_key is None and create is not None and create.state == ledger.DONE:
        return create.result
    return recovery.jira_key
