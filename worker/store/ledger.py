"""The exactly-once ledger: record the intent, do the outside write, record the result.

A crash between the write and the result leaves an ``intent`` row behind; whoever
finds it must look in the outside system for what may already exist before
writing again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from worker.store.schema import actions

INTENT = "intent"
DONE = "done"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Action:
    key: str
    kind: str
    state: str
    result: str
    attempts: int
    recovery_id: int | None
    created_at: datetime  # the first attempt


def get(conn: Connection, key: str) -> Action | None:
    row = conn.execute(select(actions).where(actions.c.key == key)).mappings().first()
    if row is None:
        return None
    return Action(
        key=row["key"],
        kind=row["kind"],
        state=row["state"],
        result=row["result"],
        attempts=row["attempts"],
        recovery_id=row["recovery_id"],
        created_at=row["created_at"],
    )


def record_intent(
    conn: Connection, key: str, kind: str, now: datetime, recovery_id: int | None = None
) -> Action:
    """Write the intent (or count one more attempt at it); return the row as it now is."""
    existing = get(conn, key)
    if existing is None:
        conn.execute(
            insert(actions).values(
                key=key,
                kind=kind,
                recovery_id=recovery_id,
                state=INTENT,
                result="",
                attempts=1,
                error="",
                created_at=now,
                updated_at=now,
            )
        )
    elif existing.state != DONE:
        conn.execute(
            update(actions)
            .where(actions.c.key == key)
            .values(attempts=actions.c.attempts + 1, updated_at=now)
        )
    action = get(conn, key)
    assert action is not None
    return action


def complete(conn: Connection, key: str, result: str, now: datetime) -> None:
    conn.execute(
        update(actions)
        .where(actions.c.key == key)
        .values(state=DONE, result=result, updated_at=now)
    )


def fail(conn: Connection, key: str, error: str, now: datetime) -> None:
    """A permanent failure: recorded, and counted apart from transient ones (refusals)."""
    refused = refusals(conn, key) + 1
    conn.execute(
        update(actions)
        .where(actions.c.key == key)
        .values(state=FAILED, error=error[:2000], updated_at=now)
    )
    record_intent(conn, f"{key}#refused", "refused", now)
    complete(conn, f"{key}#refused", str(refused), now)


def forgive(conn: Connection, key: str, now: datetime) -> None:
    """Count action ``key``'s refusals from zero again (the cause was fixed)."""
    if get(conn, f"{key}#refused") is not None:
        complete(conn, f"{key}#refused", "0", now)


def refusals(conn: Connection, key: str) -> int:
    """How many times action ``key`` failed permanently; its attempts count transient ones too."""
    counted = get(conn, f"{key}#refused")
    return int(counted.result) if counted is not None and counted.result else 0


def event_cursor(conn: Connection, name: str) -> int:
    """The id of the last recovery event a consumer named ``name`` has handled (0: none)."""
    cursor = get(conn, name)
    return int(cursor.result) if cursor is not None and cursor.result else 0


def save_event_cursor(conn: Connection, name: str, event_id: int, now: datetime) -> None:
    record_intent(conn, name, "cursor", now)
    complete(conn, name, str(event_id), now)


def done_since(conn: Connection, recovery_id: int, kinds: Sequence[str], since: datetime) -> int:
    """How many writes of these kinds were completed for the recovery after ``since``."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(actions)
            .where(
                actions.c.recovery_id == recovery_id,
                actions.c.kind.in_(list(kinds)),
                actions.c.state == DONE,
                actions.c.updated_at > since,
            )
        ).scalar_one()
    )


def note_sent(conn: Connection, key: str, now: datetime, recovery_id: int | None = None) -> None:
    """Record that write ``key`` goes out at ``now``.

    After a lost answer, a search that finds nothing proves nothing until Jira's
    visibility window has passed since the last send, not since the first attempt.
    """
    sent_key = f"{key}#sent"
    record_intent(conn, sent_key, "sent", now, recovery_id)
    complete(conn, sent_key, now.isoformat(), now)


def forget_sent(conn: Connection, key: str, now: datetime) -> None:
    """Write ``key`` was refused or never reached Jira: nothing to wait for.

    Safe to forget: a send goes out only once the wait for any earlier one is over.
    """
    if get(conn, f"{key}#sent") is not None:
        complete(conn, f"{key}#sent", "", now)


def last_sent(conn: Connection, key: str) -> datetime | None:
    """When write ``key`` last went out; None when none is recorded."""
    sent = get(conn, f"{key}#sent")
    return datetime.fromisoformat(sent.result) if sent is not None and sent.result else None
