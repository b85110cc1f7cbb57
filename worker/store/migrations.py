"""The store's migrations: each takes a store from the version before it to its own."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, func, insert, select, update

from worker.store import schema

#: A next check in the past: the sweep evaluates the recovery at its next pass.
LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)
#: The recovery states whose clocks the sweep evaluates.
SWEPT_STATES = ("open", "resolved")


def clocks_by_index(conn: Connection) -> None:
    """Version 2: the sweep finds its work by ``next_check`` alone, metrics read kept counts,
    and Jira updates wait in the clock state for their turn.

    Every open or resolved recovery gets a clock state due at once, so the first sweep after
    the upgrade evaluates each one again and finds what it owes Jira.
    """
    clocks = schema.clock_state
    for column in ("jira_pending INTEGER NOT NULL DEFAULT 0", "jira_want_due DATE",
                   "jira_unlabel INTEGER NOT NULL DEFAULT 0"):  # fmt: skip
        conn.exec_driver_sql(f"ALTER TABLE clock_state ADD COLUMN {column}")
    for index in clocks.indexes:
        if index.name in ("ix_clock_state_open_deadline", "ix_clock_state_jira_pending"):
            index.create(conn)
    schema.clock_counts.create(conn)
    recoveries = schema.recoveries
    missing = (
        select(recoveries.c.id, recoveries.c.severity)
        .where(recoveries.c.state.in_(SWEPT_STATES))
        .where(~recoveries.c.id.in_(select(clocks.c.recovery_id)))
    )
    now = datetime.now(UTC)
    rows = [
        {
            "recovery_id": rid,
            "severity": severity,
            "state": "new",
            "is_open": 0,
            "events_seen": 0,
            "breach_labelled": 0,
            "first_contact_seen": 0,
            "updated_at": now,
        }
        for rid, severity in conn.execute(missing)
    ]
    if rows:
        conn.execute(insert(clocks), rows)
    swept = select(recoveries.c.id).where(recoveries.c.state.in_(SWEPT_STATES))
    conn.execute(update(clocks).where(clocks.c.recovery_id.in_(swept)).values(next_check=LONG_AGO))
    counted = (
        select(clocks.c.severity, clocks.c.state, func.count())
        .where(clocks.c.is_open == 1)
        .group_by(clocks.c.severity, clocks.c.state)
    )
    counts = [{"severity": s, "state": st, "count": n} for s, st, n in conn.execute(counted)]
    if counts:
        conn.execute(insert(schema.clock_counts), counts)
