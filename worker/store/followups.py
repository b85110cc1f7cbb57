"""Follow-up tasks in the store, and the recovery states they move.

A follow-up row is written (``planned``) before its Jira task is created and
moves to ``created`` once the task exists; a reopen puts it ``on_hold`` or
``cancelled``; a task found done makes it ``done`` and the recovery ``closed``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, RowMapping, insert, select, update

from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.followup import CREATED, DONE, PLANNED, Followup
from worker.domain.recovery import CLOSED, OPEN, RESOLVED
from worker.store import events
from worker.store import recoveries as recovery_rows
from worker.store.schema import followups, recoveries


def _from_row(row: RowMapping) -> Followup:
    return Followup(
        recovery_id=row["recovery_id"],
        label=row["label"],
        round=row["round"],
        jira_key=row["jira_key"],
        state=row["state"],
        resolved_at=row["resolved_at"],
        due=row["due"],
        root_cause_gaps=tuple(json.loads(row["root_cause_gaps"])),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        done_at=row["done_at"],
        overdue_alerted_at=row["overdue_alerted_at"],
        checked_at=row["checked_at"],
    )


def get(conn: Connection, recovery_id: int) -> Followup | None:
    row = (
        conn.execute(select(followups).where(followups.c.recovery_id == recovery_id))
        .mappings()
        .first()
    )
    return _from_row(row) if row else None


def plan(
    conn: Connection,
    recovery_id: int,
    *,
    label: str,
    round_: int,
    resolved_at: datetime,
    due: date,
    gaps: Sequence[str],
    now: datetime,
) -> Followup:
    """Record the follow-up about to be created (a new round replaces a cancelled one)."""
    values = {
        "label": label,
        "round": round_,
        "jira_key": None,
        "state": PLANNED,
        "resolved_at": resolved_at,
        "due": due,
        "root_cause_gaps": json.dumps(list(gaps)),
        "updated_at": now,
        "done_at": None,
        "overdue_alerted_at": None,
        "checked_at": None,
    }
    if get(conn, recovery_id) is None:
        conn.execute(insert(followups).values(recovery_id=recovery_id, created_at=now, **values))
    else:
        conn.execute(
            update(followups).where(followups.c.recovery_id == recovery_id).values(**values)
        )
    planned = get(conn, recovery_id)
    assert planned is not None
    return planned


def mark_created(conn: Connection, recovery_id: int, jira_key: str, now: datetime) -> None:
    _update(conn, recovery_id, state=CREATED, jira_key=jira_key, updated_at=now)


def set_state(conn: Connection, recovery_id: int, state: str, now: datetime) -> None:
    _update(conn, recovery_id, state=state, updated_at=now)


def resume(
    conn: Connection, recovery_id: int, *, resolved_at: datetime, due: date, now: datetime
) -> None:
    """Back from hold after a new resolution, due again from that resolution."""
    _update(
        conn,
        recovery_id,
        state=CREATED,
        resolved_at=resolved_at,
        due=due,
        overdue_alerted_at=None,
        updated_at=now,
    )


def mark_done(conn: Connection, recovery_id: int, done_at: datetime, now: datetime) -> None:
    _update(conn, recovery_id, state=DONE, done_at=done_at, updated_at=now)


def mark_overdue_alerted(conn: Connection, recovery_id: int, now: datetime) -> None:
    _update(conn, recovery_id, overdue_alerted_at=now, updated_at=now)


def mark_checked(conn: Connection, recovery_id: int, now: datetime) -> None:
    _update(conn, recovery_id, checked_at=now)


def in_state(conn: Connection, *states: str) -> list[Followup]:
    rows = conn.execute(
        select(followups)
        .where(followups.c.state.in_(states))
        .order_by(followups.c.due, followups.c.recovery_id)
    ).mappings()
    return [_from_row(row) for row in rows]


def every(conn: Connection) -> list[Followup]:
    rows = conn.execute(select(followups).order_by(followups.c.recovery_id)).mappings()
    return [_from_row(row) for row in rows]


def _update(conn: Connection, recovery_id: int, **values: object) -> None:
    conn.execute(update(followups).where(followups.c.recovery_id == recovery_id).values(**values))


# --- the recovery states follow-ups move ------------------------------------------------


def resolve_recovery(conn: Connection, recovery_id: int, resolved_at: datetime) -> None:
    conn.execute(
        update(recoveries)
        .where(recoveries.c.id == recovery_id)
        .values(state=RESOLVED, resolved_at=resolved_at)
    )


def reopen_recovery(conn: Connection, recovery_id: int) -> int:
    """Back to open, one more reopen counted; the new count."""
    conn.execute(
        update(recoveries)
        .where(recoveries.c.id == recovery_id)
        .values(state=OPEN, resolved_at=None, reopen_count=recoveries.c.reopen_count + 1)
    )
    row = conn.execute(
        select(recoveries.c.reopen_count).where(recoveries.c.id == recovery_id)
    ).first()
    return int(row[0]) if row else 0


def close_recovery(conn: Connection, recovery_id: int) -> None:
    conn.execute(update(recoveries).where(recoveries.c.id == recovery_id).values(state=CLOSED))


def record_resolution(
    conn: Connection,
    recovery_id: int,
    *,
    resolved_at: datetime,
    now: datetime,
    created: str | None = None,
    resumed_due: date | None = None,
) -> None:
    """The recovery resolved; its follow-up task ``created``, or back from hold, due anew."""
    resolve_recovery(conn, recovery_id, resolved_at)
    if created is not None:
        mark_created(conn, recovery_id, created, now)
    elif resumed_due is not None:
        resume(conn, recovery_id, resolved_at=resolved_at, due=resumed_due, now=now)


def record_reopen(
    conn: Connection,
    reopened: RecoveryEvent,
    *,
    followup_state: str | None,
    severity: str,
    raised_to: str | None,
    now: datetime,
) -> None:
    """The recovery open again: its follow-up held or cancelled, its severity raised.

    A raise is recorded as a SEVERITY_RAISED event, for the steps that carry it to Jira.
    """
    recovery_id = reopened.recovery_id
    reopen_recovery(conn, recovery_id)
    if followup_state is not None:
        set_state(conn, recovery_id, followup_state, now)
    if raised_to is not None and recovery_rows.raise_severity(conn, recovery_id, raised_to):
        events.record(
            conn,
            RecoveryEvent(
                recovery_id=recovery_id,
                kind=EventKind.SEVERITY_RAISED,
                at=reopened.at,
                dedupe_key=f"{reopened.dedupe_key}#severity",
                detail={"from": severity, "to": raised_to, "reason": "reopened"},
            ),
            now,
        )


def record_done(conn: Connection, recovery_id: int, done_at: datetime, now: datetime) -> None:
    """The follow-up call made: the follow-up done, the recovery closed."""
    mark_done(conn, recovery_id, done_at, now)
    close_recovery(conn, recovery_id)
