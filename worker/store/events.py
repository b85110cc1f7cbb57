"""Recovery events: the facts the SLA clocks and follow-up planning are computed from.

Writers record what they saw (a client mail, a team update, a status change);
the dedupe key makes recording the same fact twice harmless, so an overlapping
poll window or a replayed mail never counts double.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, insert, select

from worker.domain.events import EventKind, RecoveryEvent
from worker.store.alerts import clock_due
from worker.store.schema import recovery_events


def record(conn: Connection, event: RecoveryEvent, now: datetime) -> bool:
    """Record the event unless its dedupe key is known; True when it was new."""
    exists = conn.execute(
        select(recovery_events.c.id).where(recovery_events.c.dedupe_key == event.dedupe_key)
    ).first()
    if exists is not None:
        return False
    conn.execute(
        insert(recovery_events).values(
            recovery_id=event.recovery_id,
            kind=str(event.kind),
            at=event.at,
            dedupe_key=event.dedupe_key[:700],
            detail=json.dumps(dict(event.detail), default=str),
            recorded_at=now,
        )
    )
    # The clocks this event moves are evaluated at the next sweep.
    clock_due(conn, event.recovery_id, now)
    return True


def for_recovery(conn: Connection, recovery_id: int) -> list[RecoveryEvent]:
    """The recovery's events in the order they happened."""
    return for_recoveries(conn, [recovery_id]).get(recovery_id, [])


def for_recoveries(conn: Connection, recovery_ids: Sequence[int]) -> dict[int, list[RecoveryEvent]]:
    """Events of many recoveries at once (one query per 500 ids), each list in time order."""
    result: dict[int, list[RecoveryEvent]] = {}
    ids = list(recovery_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = conn.execute(
            select(recovery_events)
            .where(recovery_events.c.recovery_id.in_(chunk))
            .order_by(recovery_events.c.at, recovery_events.c.id)
        ).mappings()
        for row in rows:
            result.setdefault(row["recovery_id"], []).append(_from_row(row))
    return result


def since(conn: Connection, after_id: int, kinds: Sequence[EventKind] = ()) -> list[RecoveryEvent]:
    """Events recorded after the given id (a consumer's cursor), oldest first."""
    query = select(recovery_events).where(recovery_events.c.id > after_id)
    if kinds:
        query = query.where(recovery_events.c.kind.in_([str(k) for k in kinds]))
    rows = conn.execute(query.order_by(recovery_events.c.id)).mappings()
    return [_from_row(row) for row in rows]


def _from_row(row: RowMapping) -> RecoveryEvent:
    return RecoveryEvent(
        recovery_id=row["recovery_id"],
        kind=EventKind(row["kind"]),
        at=row["at"],
        dedupe_key=row["dedupe_key"],
        detail=json.loads(row["detail"]),
        id=row["id"],
    )
