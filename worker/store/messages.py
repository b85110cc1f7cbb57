"""Recorded decisions, one per message, and the lookups threading and flood rules need."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select

from worker.domain.decision import Decision
from worker.store.schema import messages

# Decisions that tie a message to a recovery.
_LINKED = ("recovery", "thread")
# When a message arrived; rows without it (quarantined, older stores) count from their decision.
_ARRIVED = func.coalesce(messages.c.received_at, messages.c.decided_at)


# The statements every mail runs are built once, with their values bound at each call:
# building a statement anew costs more than the query on a small store.
_IS_RECORDED = select(messages.c.id).where(messages.c.key == bindparam("key"))
_INSERT = insert(messages)


def is_recorded(conn: Connection, key: str) -> bool:
    return conn.execute(_IS_RECORDED, {"key": key}).first() is not None


def record(conn: Connection, decision: Decision, now: datetime) -> int:
    """Write the decision; the unique key makes a second write for the same message fail."""
    result = conn.execute(
        _INSERT,
        {
            "key": decision.key,
            "message_id": decision.message_id[:998] if decision.message_id else None,
            "source": decision.source[:512],
            "uid": decision.uid,
            "sender": decision.sender[:320],
            "subject": decision.subject[:2000],
            "received_at": decision.received_at,
            "decision": decision.decision,
            "reason": decision.reason[:2000],
            "score": decision.score,
            "severity": decision.severity,
            "reasons": json.dumps(list(decision.reasons)),
            "recovery_id": decision.recovery_id,
            "decided_at": now,
        },
    )
    primary_key = result.inserted_primary_key
    assert primary_key is not None
    return int(primary_key[0])


def quarantined_uids(conn: Connection, source: str, uids: Sequence[int]) -> set[int]:
    """Which of ``uids`` in ``source`` were quarantined."""
    found: set[int] = set()
    for start in range(0, len(uids), 500):
        rows = conn.execute(
            select(messages.c.uid).where(
                messages.c.source == source,
                messages.c.uid.in_(uids[start : start + 500]),
                messages.c.decision == "quarantined",
            )
        )
        found.update(int(row.uid) for row in rows)
    return found


def recovery_for_message_ids(conn: Connection, message_ids: Sequence[str]) -> int | None:
    """The recovery an earlier message of the thread belongs to, if any."""
    ids = [m for m in message_ids if m][:200]
    if not ids:
        return None
    row = conn.execute(
        select(messages.c.recovery_id)
        .where(messages.c.message_id.in_(ids), messages.c.recovery_id.is_not(None))
        .order_by(messages.c.id)
        .limit(1)
    ).first()
    return int(row.recovery_id) if row else None


#: A sender's mails that arrived in [since, until].
_FROM_SENDER = (
    messages.c.sender == bindparam("sender"),
    _ARRIVED.between(
        bindparam("since", type_=messages.c.decided_at.type),
        bindparam("until", type_=messages.c.decided_at.type),
    ),
)
_LATEST_RECOVERY_FROM = (
    select(messages.c.recovery_id)
    .where(
        *_FROM_SENDER,
        messages.c.decision.in_(_LINKED),
        messages.c.recovery_id.is_not(None),
    )
    .order_by(messages.c.id.desc())
    .limit(1)
)
_COUNT_FROM = select(func.count()).select_from(messages).where(*_FROM_SENDER)


def latest_recovery_from(
    conn: Connection, sender: str, since: datetime, until: datetime
) -> int | None:
    """The newest recovery opened or joined by a sender's mail that arrived in [since, until]."""
    window = {"sender": sender, "since": since, "until": until}
    row = conn.execute(_LATEST_RECOVERY_FROM, window).first()
    return int(row.recovery_id) if row else None


def count_from(conn: Connection, sender: str, since: datetime, until: datetime) -> int:
    """How many of a sender's mails arrived in [since, until] (repeat contact, floods)."""
    window = {"sender": sender, "since": since, "until": until}
    return int(conn.execute(_COUNT_FROM, window).scalar_one())


def last_id(conn: Connection) -> int:
    """The id of the newest decision (0 when there is none)."""
    return int(conn.execute(select(func.max(messages.c.id))).scalar_one_or_none() or 0)


def decided_since(conn: Connection, after_id: int) -> list[Decision]:
    """The decisions recorded after ``after_id``, oldest first."""
    rows = conn.execute(select(messages).where(messages.c.id > after_id).order_by(messages.c.id))
    return [
        Decision(
            row.decision,
            row.reason,
            score=row.score,
            severity=row.severity,
            reasons=tuple(str(reason) for reason in json.loads(row.reasons or "[]")),
            recovery_id=row.recovery_id,
            key=row.key,
            message_id=row.message_id,
            source=row.source,
            uid=row.uid,
            sender=row.sender,
            subject=row.subject,
            received_at=row.received_at,
        )
        for row in rows
    ]


def reasons_of(conn: Connection, key: str) -> list[str]:
    """The detection rules that matched a mail, with their weights, as recorded."""
    found = conn.execute(
        select(messages.c.reasons).where(messages.c.key == key)
    ).scalar_one_or_none()
    return [str(reason) for reason in json.loads(found or "[]")]
