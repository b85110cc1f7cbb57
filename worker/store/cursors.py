"""Per-source read cursors: UIDVALIDITY and the last UID whose decision is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from worker.store.schema import source_cursors


@dataclass(frozen=True, slots=True)
class Cursor:
    source: str
    uidvalidity: int | None
    last_uid: int


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
    values = {"uidvalidity": cursor.uidvalidity, "last_uid": cursor.last_uid, "updated_at": now}
    changed = conn.execute(
        update(source_cursors).where(source_cursors.c.source == cursor.source).values(**values)
    )
    if changed.rowcount == 0:
        conn.execute(insert(source_cursors).values(source=cursor.source, **values))
