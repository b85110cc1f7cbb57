"""Recoveries in the store: one per complaint source, created before anything goes to Jira."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from worker.domain.recovery import (
    GAVE_UP,
    MAX_EXCERPT,
    OPEN,
    PENDING,
    Recovery,
    idempotency_key,
)
from worker.store import ledger
from worker.store.schema import recoveries


def _from_row(row: Row[Any]) -> Recovery:
    m = row._mapping
    return Recovery(
        id=m["id"],
        source_key=m["source_key"],
        source_kind=m["source_kind"],
        idempotency_key=m["idempotency_key"],
        client=m["client"],
        owner=m["owner"],
        severity=m["severity"],
        summary=m["summary"],
        jira_key=m["jira_key"],
        state=m["state"],
        opened_at=m["opened_at"],
        resolved_at=m["resolved_at"],
        reopen_count=m["reopen_count"],
        source_ref=m["source_ref"],
        source_at=m["source_at"],
        excerpt=m["excerpt"],
        reasons=tuple(json.loads(m["reasons"])),
    )


# Built once: the intake runs these for every complaint (see messages.py).
_GET = select(recoveries).where(recoveries.c.id == bindparam("id"))
_BY_SOURCE = select(recoveries).where(recoveries.c.source_key == bindparam("source_key"))
_INSERT = insert(recoveries)


def get(conn: Connection, recovery_id: int) -> Recovery | None:
    row = conn.execute(_GET, {"id": recovery_id}).first()
    return _from_row(row) if row else None


def by_source(conn: Connection, source_key: str) -> Recovery | None:
    row = conn.execute(_BY_SOURCE, {"source_key": source_key}).first()
    return _from_row(row) if row else None


def by_jira_key(conn: Connection, jira_key: str) -> Recovery | None:
    row = conn.execute(select(recoveries).where(recoveries.c.jira_key == jira_key)).first()
    return _from_row(row) if row else None


def create_pending(
    conn: Connection,
    *,
    source_key: str,
    source_kind: str,
    client: str,
    owner: str,
    severity: str,
    summary: str,
    now: datetime,
    source_ref: str = "",
    source_at: datetime | None = None,
    excerpt: str = "",
    reasons: Sequence[str] = (),
) -> Recovery:
    """Record a new recovery, or return the one this source already has."""
    existing = by_source(conn, source_key)
    if existing is not None:
        return existing
    conn.execute(
        _INSERT,
        {
            "source_key": source_key,
            "source_kind": source_kind,
            "idempotency_key": idempotency_key(source_key),
            "client": client[:320],
            "owner": owner[:255],
            "severity": severity,
            "summary": summary[:2000],
            "state": PENDING,
            "opened_at": now,
            "reopen_count": 0,
            "source_ref": source_ref[:998],
            "source_at": source_at,
            "excerpt": excerpt[:MAX_EXCERPT],
            "reasons": json.dumps(list(reasons)),
        },
    )
    created = by_source(conn, source_key)
    assert created is not None
    return created


def pending(conn: Connection, limit: int = 100) -> list[Recovery]:
    """Recoveries still to be opened in Jira, oldest first; those given up are not among them."""
    rows = conn.execute(
        select(recoveries)
        .where(recoveries.c.state == PENDING)
        .order_by(recoveries.c.id)
        .limit(limit)
    ).all()
    return [_from_row(row) for row in rows]


def mark_open(conn: Connection, recovery_id: int, jira_key: str) -> None:
    conn.execute(
        update(recoveries)
        .where(recoveries.c.id == recovery_id)
        .values(state=OPEN, jira_key=jira_key)
    )


def record_owner(conn: Connection, recovery_id: int, owner: str | None) -> None:
    """Keep the owner the ticket was assigned, for the steps that address them later."""
    if owner:
        conn.execute(
            update(recoveries).where(recoveries.c.id == recovery_id).values(owner=owner[:255])
        )


def mark_given_up(conn: Connection, recovery_id: int) -> None:
    conn.execute(
        update(recoveries)
        .where(recoveries.c.id == recovery_id, recoveries.c.state == PENDING)
        .values(state=GAVE_UP)
    )


def given_up(conn: Connection) -> list[Recovery]:
    """The recoveries Jira refused on every try, oldest first."""
    rows = conn.execute(
        select(recoveries).where(recoveries.c.state == GAVE_UP).order_by(recoveries.c.id)
    ).all()
    return [_from_row(row) for row in rows]


def requeue(conn: Connection, recovery_id: int) -> bool:
    """Put a given-up recovery back in line to open; False when it was not given up."""
    changed = conn.execute(
        update(recoveries)
        .where(recoveries.c.id == recovery_id, recoveries.c.state == GAVE_UP)
        .values(state=PENDING)
    )
    return changed.rowcount == 1


def create_key(recovery_id: int) -> str:
    """The ledger key of a recovery ticket's create."""
    return f"create:{recovery_id}"


def requeue_given_up(conn: Connection, recovery_id: int, now: datetime) -> bool:
    """Put a given-up recovery back in line, its refusals forgiven; False if not given up.

    For after the cause is fixed in Jira or the settings: the next pass tries it as new.
    """
    if not requeue(conn, recovery_id):
        return False
    ledger.forgive(conn, create_key(recovery_id), now)
    return True


def raise_severity(conn: Connection, recovery_id: int, severity: str) -> bool:
    """Raise (never lower) a recovery's severity; True when it changed. sev1 is the highest."""
    current = get(conn, recovery_id)
    if current is None or severity >= current.severity:
        return False
    conn.execute(update(recoveries).where(recoveries.c.id == recovery_id).values(severity=severity))
    return True


def jira_read_at(conn: Connection, recovery_id: int) -> datetime | None:
    """The ticket's ``updated`` when the Jira sync last read it."""
    value: datetime | None = conn.execute(
        select(recoveries.c.jira_updated_at).where(recoveries.c.id == recovery_id)
    ).scalar_one_or_none()
    return value


def mark_jira_read(conn: Connection, recovery_id: int, updated_at: datetime) -> None:
    conn.execute(
        update(recoveries).where(recoveries.c.id == recovery_id).values(jira_updated_at=updated_at)
    )
