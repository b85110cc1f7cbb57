"""Alerts sent, per channel, as an intent ledger; and each recovery's clock state for the sweep.

An alert is recorded as ``pending`` for every channel before anything is sent,
``sending`` just before the call, then ``sent`` or ``failed``. A row found in
``sending`` at the start of a sweep was interrupted by a crash: its outcome is
unknown and it is not sent again, so a crash never repeats an alert.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from worker.store.schema import alerts_sent, clock_counts, clock_state, recoveries

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
GAVE_UP = "gave_up"
UNKNOWN = "unknown"
#: The clock state of a recovery the sweep has not evaluated yet.
NEW = "new"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert on one channel, as recorded."""

    id: int
    deadline_id: str
    alert_key: str
    channel: str
    recovery_id: int
    state: str
    payload: dict[str, Any]
    attempts: int
    last_error: str
    result: str


def sent_keys(conn: Connection, recovery_ids: Sequence[int]) -> dict[int, set[tuple[str, str]]]:
    """Per recovery, the (deadline id, alert key) pairs already decided on any channel."""
    result: dict[int, set[tuple[str, str]]] = {}
    ids = list(recovery_ids)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(alerts_sent.c.recovery_id, alerts_sent.c.deadline_id, alerts_sent.c.alert_key)
            .where(alerts_sent.c.recovery_id.in_(ids[start : start + 500]))
            .distinct()
        )
        for recovery_id, deadline_id, key in rows:
            result.setdefault(recovery_id, set()).add((deadline_id, key))
    return result


def plan(
    conn: Connection,
    *,
    recovery_id: int,
    deadline_id: str,
    alert_key: str,
    channels: Sequence[str],
    payload: dict[str, Any],
    now: datetime,
) -> int:
    """Record the alert as pending on every channel that has no row for it; how many were new."""
    existing = set(
        conn.execute(
            select(alerts_sent.c.channel).where(
                alerts_sent.c.deadline_id == deadline_id, alerts_sent.c.alert_key == alert_key
            )
        ).scalars()
    )
    body = json.dumps(payload, default=str)
    new = [c for c in channels if c not in existing]
    for channel in new:
        conn.execute(
            insert(alerts_sent).values(
                deadline_id=deadline_id,
                alert_key=alert_key,
                channel=channel,
                recovery_id=recovery_id,
                state=PENDING,
                payload=body,
                attempts=0,
                created_at=now,
            )
        )
    return len(new)


def to_deliver(
    conn: Connection, now: datetime, limit: int = 500, *, alert: tuple[str, str] | None = None
) -> list[Delivery]:
    """Pending deliveries and failed ones whose retry time has come, oldest first.

    With ``alert`` (deadline id, alert key), only that alert's.
    """
    query = select(alerts_sent).where(
        or_(
            alerts_sent.c.state == PENDING,
            and_(alerts_sent.c.state == FAILED, alerts_sent.c.next_attempt_at <= now),
        )
    )
    if alert is not None:
        query = query.where(
            alerts_sent.c.deadline_id == alert[0], alerts_sent.c.alert_key == alert[1]
        )
    rows = conn.execute(query.order_by(alerts_sent.c.id).limit(limit)).mappings()
    return [
        Delivery(
            id=row["id"],
            deadline_id=row["deadline_id"],
            alert_key=row["alert_key"],
            channel=row["channel"],
            recovery_id=row["recovery_id"],
            state=row["state"],
            payload=json.loads(row["payload"]),
            attempts=row["attempts"],
            last_error=row["last_error"],
            result=row["result"],
        )
        for row in rows
    ]


def claim(conn: Connection, delivery_id: int, seen_state: str) -> bool:
    """Take the delivery for sending, if it is still as it was read; False when another
    worker on the same store took it first (one conditional update, so only one wins)."""
    taken = conn.execute(
        update(alerts_sent)
        .where(alerts_sent.c.id == delivery_id, alerts_sent.c.state == seen_state)
        .values(state=SENDING, attempts=alerts_sent.c.attempts + 1)
    )
    return taken.rowcount == 1


def mark_sent(conn: Connection, delivery_id: int, result: str, now: datetime) -> None:
    conn.execute(
        update(alerts_sent)
        .where(alerts_sent.c.id == delivery_id)
        .values(state=SENT, result=result[:255], sent_at=now, next_attempt_at=None)
    )


def mark_failed(conn: Connection, delivery_id: int, error: str, retry_at: datetime | None) -> None:
    """A failed attempt: tried again at ``retry_at``, or given up when it is None."""
    conn.execute(
        update(alerts_sent)
        .where(alerts_sent.c.id == delivery_id)
        .values(
            state=FAILED if retry_at is not None else GAVE_UP,
            last_error=error[:1000],
            next_attempt_at=retry_at,
        )
    )


def put_back(conn: Connection, delivery_id: int, error: str, now: datetime) -> None:
    """An attempt that sent nothing, stopped before its retry: due again, and not counted."""
    conn.execute(
        update(alerts_sent)
        .where(alerts_sent.c.id == delivery_id)
        .values(
            state=FAILED,
            attempts=alerts_sent.c.attempts - 1,
            last_error=error[:1000],
            next_attempt_at=now,
        )
    )


def interrupted(conn: Connection) -> list[Delivery]:
    """Mark deliveries a crash left in ``sending`` as of unknown outcome, and return them."""
    rows = conn.execute(
        select(alerts_sent.c.id, alerts_sent.c.channel, alerts_sent.c.deadline_id).where(
            alerts_sent.c.state == SENDING
        )
    ).all()
    if rows:
        conn.execute(
            update(alerts_sent).where(alerts_sent.c.state == SENDING).values(state=UNKNOWN)
        )
    return [Delivery(r.id, r.deadline_id, "", r.channel, 0, UNKNOWN, {}, 0, "", "") for r in rows]


def comment_ids(conn: Connection, recovery_id: int) -> set[str]:
    """Ids of the Jira comments the alerts wrote on this recovery (not client updates)."""
    rows = conn.execute(
        select(alerts_sent.c.result).where(
            alerts_sent.c.recovery_id == recovery_id,
            alerts_sent.c.channel == "jira",
            alerts_sent.c.state == SENT,
        )
    ).scalars()
    return {r for r in rows if r}


# --- clock state -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Due:
    """A recovery whose clocks need evaluating now, with what is known of its last evaluation."""

    recovery_id: int
    severity: str
    jira_key: str | None
    owner: str
    summary: str
    known: bool
    breach_labelled: bool
    jira_due: date | None
    first_contact_seen: bool


@dataclass(frozen=True, slots=True)
class ClockRow:
    recovery_id: int
    severity: str
    state: str
    is_open: bool
    next_deadline: datetime | None
    next_check: datetime | None
    events_seen: int
    breach_labelled: bool
    jira_due: date | None
    first_contact_seen: bool
    #: The due date Jira should show, when it shows another; the breach label to take off.
    jira_want_due: date | None = None
    jira_unlabel: bool = False


@dataclass(frozen=True, slots=True)
class JiraUpdate:
    """A Jira update the sweep owes a recovery."""

    recovery_id: int
    key: str
    due: date | None
    remove_label: bool


def due_for_evaluation(conn: Connection, now: datetime, open_states: Sequence[str]) -> list[Due]:
    """Recoveries whose check time has come: new ones, ones with new events, raised severity,
    or a threshold reached. One range of the ``next_check`` index, whatever the store holds.

    Every recovery event, a raised severity and the opening itself move ``next_check`` to
    their moment (see :func:`clock_due`); a recovery found here that the sweep does not
    evaluate any more (closed, given up) is taken out of the range.
    """
    query = (
        select(
            recoveries.c.id,
            recoveries.c.state.label("recovery_state"),
            recoveries.c.severity,
            recoveries.c.jira_key,
            recoveries.c.owner,
            recoveries.c.summary,
            clock_state.c.state,
            clock_state.c.breach_labelled,
            clock_state.c.jira_due,
            clock_state.c.first_contact_seen,
        )
        .select_from(clock_state.join(recoveries, clock_state.c.recovery_id == recoveries.c.id))
        .where(clock_state.c.next_check <= now)
    )
    # Sorted here, not by the query: an ORDER BY on the id would walk every row in id order
    # instead of the index range.
    due, parked = [], []
    for row in sorted(conn.execute(query), key=lambda row: row.id):
        if row.recovery_state not in open_states:
            parked.append(row.id)
            continue
        due.append(
            Due(
                recovery_id=row.id,
                severity=row.severity,
                jira_key=row.jira_key,
                owner=row.owner,
                summary=row.summary,
                known=row.state != NEW,
                breach_labelled=bool(row.breach_labelled),
                jira_due=row.jira_due,
                first_contact_seen=bool(row.first_contact_seen),
            )
        )
    for start in range(0, len(parked), 500):
        conn.execute(
            update(clock_state)
            .where(clock_state.c.recovery_id.in_(parked[start : start + 500]))
            .values(next_check=None)
        )
    return due


def clock_due(conn: Connection, recovery_id: int, at: datetime) -> None:
    """Have the sweep evaluate the recovery's clocks at ``at`` at the latest.

    The first call for a recovery creates its clock state, not yet counted as open: the
    evaluation says what it is.
    """
    changed = conn.execute(
        update(clock_state)
        .where(clock_state.c.recovery_id == recovery_id)
        .values(next_check=func.min(func.coalesce(clock_state.c.next_check, at), at))
    )
    if changed.rowcount == 0:
        severity = conn.execute(
            select(recoveries.c.severity).where(recoveries.c.id == recovery_id)
        ).scalar_one_or_none()
        if severity is not None:
            conn.execute(insert(clock_state).values(_placeholder(recovery_id, severity, at)))


def _placeholder(recovery_id: int, severity: str, at: datetime) -> dict[str, Any]:
    return {
        "recovery_id": recovery_id,
        "severity": severity,
        "state": NEW,
        "is_open": 0,
        "next_check": at,
        "events_seen": 0,
        "breach_labelled": 0,
        "first_contact_seen": 0,
        "updated_at": at,
    }


def save_clocks(conn: Connection, rows: Sequence[ClockRow], now: datetime) -> None:
    """Store many evaluations at once: one UPDATE and one INSERT statement, many parameter sets."""
    if not rows:
        return
    ids = [row.recovery_id for row in rows]
    before: dict[int, tuple[str, str, int]] = {}
    for start in range(0, len(ids), 500):
        found = conn.execute(
            select(
                clock_state.c.recovery_id,
                clock_state.c.severity,
                clock_state.c.state,
                clock_state.c.is_open,
            ).where(clock_state.c.recovery_id.in_(ids[start : start + 500]))
        )
        before.update((rid, (severity, state, is_open)) for rid, severity, state, is_open in found)
    existing = set(before)
    params = [
        {
            "rid": row.recovery_id,
            "severity": row.severity,
            "state": row.state,
            "is_open": int(row.is_open),
            "next_deadline": row.next_deadline,
            "next_check": row.next_check,
            "events_seen": row.events_seen,
            "breach_labelled": int(row.breach_labelled),
            "jira_due": row.jira_due,
            "first_contact_seen": int(row.first_contact_seen),
            "updated_at": now,
            "jira_pending": int(row.jira_want_due is not None or row.jira_unlabel),
            "jira_want_due": row.jira_want_due,
            "jira_unlabel": int(row.jira_unlabel),
        }
        for row in rows
    ]
    _count(conn, before, rows)
    columns = [key for key in params[0] if key != "rid"]
    updates = [p for p in params if p["rid"] in existing]
    inserts = [p for p in params if p["rid"] not in existing]
    if updates:
        conn.execute(
            update(clock_state)
            .where(clock_state.c.recovery_id == bindparam("rid"))
            .values({name: bindparam(name) for name in columns}),
            updates,
        )
    if inserts:
        conn.execute(
            insert(clock_state),
            [{"recovery_id": p["rid"], **{name: p[name] for name in columns}} for p in inserts],
        )


def save_clock(conn: Connection, row: ClockRow, now: datetime) -> None:
    save_clocks(conn, [row], now)


def _count(
    conn: Connection, before: dict[int, tuple[str, str, int]], rows: Sequence[ClockRow]
) -> None:
    """Move the kept counts from each row's last evaluation to this one."""
    delta: dict[tuple[str, str], int] = {}
    for row in rows:
        old = before.get(row.recovery_id)
        if old is not None and old[2]:
            delta[(old[0], old[1])] = delta.get((old[0], old[1]), 0) - 1
        if row.is_open:
            delta[(row.severity, row.state)] = delta.get((row.severity, row.state), 0) + 1
    for (severity, state), change in delta.items():
        if change == 0:
            continue
        key = (clock_counts.c.severity == severity) & (clock_counts.c.state == state)
        moved = conn.execute(
            update(clock_counts).where(key).values(count=clock_counts.c.count + change)
        )
        if moved.rowcount == 0:
            conn.execute(insert(clock_counts).values(severity=severity, state=state, count=change))


def state_counts(conn: Connection) -> list[tuple[str, str, int]]:
    """(severity, clock state, count) over open recoveries."""
    rows = conn.execute(
        select(clock_counts.c.severity, clock_counts.c.state, clock_counts.c.count)
        .where(clock_counts.c.count > 0)
        .order_by(clock_counts.c.severity, clock_counts.c.state)
    ).all()
    return [(r[0], r[1], int(r[2])) for r in rows]


def nearest_deadline(conn: Connection) -> datetime | None:
    """The earliest next deadline over open recoveries."""
    return conn.execute(
        select(func.min(clock_state.c.next_deadline)).where(clock_state.c.is_open == 1)
    ).scalar_one_or_none()


def jira_status(conn: Connection, recovery_id: int) -> tuple[str | None, bool | None]:
    """The status and Done-ness the Jira sync saw last for this recovery."""
    row = conn.execute(
        select(clock_state.c.jira_status, clock_state.c.jira_done).where(
            clock_state.c.recovery_id == recovery_id
        )
    ).first()
    if row is None:
        return None, None
    return row.jira_status, None if row.jira_done is None else bool(row.jira_done)


def save_jira_status(
    conn: Connection, recovery_id: int, *, severity: str, status: str, done: bool, now: datetime
) -> None:
    values = {"jira_status": status[:255], "jira_done": int(done), "updated_at": now}
    changed = conn.execute(
        update(clock_state).where(clock_state.c.recovery_id == recovery_id).values(**values)
    )
    if changed.rowcount == 0:
        # Not swept yet: a placeholder the next sweep evaluates.
        conn.execute(
            insert(clock_state).values({**_placeholder(recovery_id, severity, now), **values})
        )


def jira_updated(
    conn: Connection, recovery_id: int, *, due: date | None, label_removed: bool
) -> None:
    """Jira now shows ``due`` (when given) and no longer has the breach label (when removed)."""
    values: dict[str, Any] = {"jira_pending": 0, "jira_want_due": None, "jira_unlabel": 0}
    if due is not None:
        values["jira_due"] = due
    if label_removed:
        values["breach_labelled"] = 0
    conn.execute(
        update(clock_state).where(clock_state.c.recovery_id == recovery_id).values(**values)
    )


def jira_updates_owed(conn: Connection, limit: int) -> list[JiraUpdate]:
    """The Jira updates the sweep owes, the nearest deadline first."""
    rows = conn.execute(
        select(
            clock_state.c.recovery_id,
            recoveries.c.jira_key,
            clock_state.c.jira_want_due,
            clock_state.c.jira_unlabel,
        )
        .select_from(clock_state.join(recoveries, clock_state.c.recovery_id == recoveries.c.id))
        .where(clock_state.c.jira_pending == 1, recoveries.c.jira_key.is_not(None))
        .order_by(clock_state.c.next_deadline.is_(None), clock_state.c.next_deadline)
        .limit(limit)
    )
    return [JiraUpdate(rid, key, due, bool(unlabel)) for rid, key, due, unlabel in rows if key]


def breach_labelled(conn: Connection, recovery_id: int, now: datetime) -> None:
    """The breach label went on in Jira: evaluate the recovery now, to take it off if met."""
    conn.execute(
        update(clock_state)
        .where(clock_state.c.recovery_id == recovery_id)
        .values(breach_labelled=1, next_check=now)
    )


def retry_jira_update(conn: Connection, recovery_id: int, at: datetime) -> None:
    """A Jira update failed: evaluate the recovery again at ``at`` at the latest."""
    conn.execute(
        update(clock_state)
        .where(clock_state.c.recovery_id == recovery_id)
        .values(next_check=func.min(func.coalesce(clock_state.c.next_check, at), at))
    )
