"""The store's answers to the report: which recoveries, and how often each breached."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, distinct, func, select

from worker.store.schema import alerts_sent, recoveries


def recovery_ids(conn: Connection, opened_since: datetime | None = None) -> list[int]:
    """The recoveries opened since a moment (all of them without one), oldest first."""
    query = select(recoveries.c.id).order_by(recoveries.c.id)
    if opened_since is not None:
        query = query.where(recoveries.c.opened_at >= opened_since)
    return [int(row[0]) for row in conn.execute(query)]


def breach_counts(conn: Connection, breach_key: str) -> dict[int, int]:
    """Per recovery, the deadlines a breach alert was raised for (on any channel)."""
    query = (
        select(alerts_sent.c.recovery_id, func.count(distinct(alerts_sent.c.deadline_id)))
        .where(alerts_sent.c.alert_key == breach_key)
        .group_by(alerts_sent.c.recovery_id)
    )
    return {int(rid): int(count) for rid, count in conn.execute(query)}
