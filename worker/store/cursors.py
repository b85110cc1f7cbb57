"""Where each reader stands: inbox cursors, Jira watermarks and the event consumers' positions.

Every cursor is one row per name, written by the same upsert.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Insert,
    Table,
    Update,
    bindparam,
    func,
    insert,
    select,
    update,
)

from worker.store.schema import consumers, jira_cursors, source_cursors


@dataclass(frozen=True, slots=True)
class Cursor:
    source: str
    uidvalidity: int | None
    last_uid: int


#: Each table's upsert, built once: the intake moves a folder's cursor with every mail.
_UPSERTS: dict[tuple[str, str], tuple[Update, Insert]] = {}


def _upsert(conn: Connection, table: Table, key: Column[Any], name: str, **values: Any) -> None:
    statements = _UPSERTS.get((table.name, key.name))
    if statements is None:
        statements = (update(table).where(key == bindparam("cursor")), insert(table))
        _UPSERTS[table.name, key.name] = statements
    move, add = statements
    if conn.execute(move, {"cursor": name, **values}).rowcount == 0:
        conn.execute(add, {key.name: name, **values})


# --- inbox folders ------------------------------------------------------------------------


def get(conn: Connection, source: str) -> Cursor:
    row = conn.execute(
        select(source_cursors.c.uidvalidity, source_cursors.c.last_uid).where(
            source_cursors.c.source == source
        )
    ).first()
    if row is None:
        return Cursor(source, None, 0)
    return Cursor(source, row.uidvalidity, row.last_uid)


def save(conn: Connection, cursor: Cursor, now: datetime) -> None:
    _upsert(
        conn,
        source_cursors,
        source_cursors.c.source,
        cursor.source,
        uidvalidity=cursor.uidvalidity,
        last_uid=cursor.last_uid,
        updated_at=now,
    )


def inbox_polled_at(conn: Connection) -> datetime | None:
    """When any inbox folder was last read."""
    value: datetime | None = conn.execute(select(func.max(source_cursors.c.updated_at))).scalar()
    return value


# --- Jira searches --------------------------------------------------------------------------

#: The search of recovery issues that brings Jira's changes into recovery events.
RECOVERY_SYNC = "sla:recoveries"


def jira_watermark(conn: Connection, name: str) -> datetime | None:
    """The newest ``updated`` a Jira search has seen, None before its first pass."""
    row = conn.execute(select(jira_cursors.c.watermark).where(jira_cursors.c.name == name)).first()
    return row[0] if row else None


def jira_polled_at(conn: Connection, name: str) -> datetime | None:
    """When the Jira search last finished a pass."""
    row = conn.execute(select(jira_cursors.c.updated_at).where(jira_cursors.c.name == name)).first()
    return row[0] if row else None


def save_jira_watermark(
    conn: Connection, name: str, watermark: datetime | None, now: datetime
) -> None:
    _upsert(conn, jira_cursors, jira_cursors.c.name, name, watermark=watermark, updated_at=now)


# --- event consumers ------------------------------------------------------------------------


def consumed(conn: Connection, name: str) -> int:
    """The last event id the consumer handled (0 before its first)."""
    row = conn.execute(select(consumers.c.last_event_id).where(consumers.c.name == name)).first()
    return int(row[0]) if row else 0


def advance(conn: Connection, name: str, event_id: int, now: datetime) -> None:
    """Move the consumer past ``event_id``; never backwards."""
    if event_id > consumed(conn, name):
        _upsert(conn, consumers, consumers.c.name, name, last_event_id=event_id, updated_at=now)
