"""Thread replies: recorded with the mail's decision, posted to the recovery as a comment later."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from worker.domain.mail import AttachmentInfo
from worker.store.schema import recoveries, replies

#: Longest reply text kept for the comment; the client's whole mail stays in the inbox.
MAX_TEXT = 32_000


@dataclass(frozen=True, slots=True)
class Reply:
    id: int
    message_key: str
    recovery_id: int
    author: str
    author_name: str
    sent_at: datetime | None
    text: str
    attachments: tuple[AttachmentInfo, ...]
    comment_id: str | None


def add(
    conn: Connection,
    *,
    message_key: str,
    recovery_id: int,
    author: str,
    author_name: str,
    sent_at: datetime | None,
    text: str,
    attachments: Sequence[AttachmentInfo],
    now: datetime,
) -> bool:
    """Record a reply to be posted; False when this message is already recorded."""
    if conn.execute(select(replies.c.id).where(replies.c.message_key == message_key)).first():
        return False
    conn.execute(
        insert(replies).values(
            message_key=message_key[:512],
            recovery_id=recovery_id,
            author=author[:320],
            author_name=author_name[:320],
            sent_at=sent_at,
            text=text[:MAX_TEXT],
            attachments=json.dumps(
                [
                    {"filename": a.filename, "content_type": a.content_type, "size": a.size}
                    for a in attachments
                ]
            ),
            created_at=now,
        )
    )
    return True


def unposted(conn: Connection, limit: int = 100) -> list[Reply]:
    """Replies with no comment yet, oldest first."""
    rows = conn.execute(
        select(replies).where(replies.c.comment_id.is_(None)).order_by(replies.c.id).limit(limit)
    ).mappings()
    return [_from_row(row) for row in rows]


def to_post(conn: Connection, limit: int = 100, per_recovery: int | None = None) -> list[Reply]:
    """Replies with no comment yet whose recovery has its ticket, oldest first.

    A reply to a recovery not in Jira yet, or never to be, takes no place in line; with
    ``per_recovery``, neither do more than that many of one recovery's (a flood).
    """
    waiting = (
        select(
            replies.c.id,
            func.row_number()
            .over(partition_by=replies.c.recovery_id, order_by=replies.c.id)
            .label("place"),
        )
        .join(recoveries, recoveries.c.id == replies.c.recovery_id)
        .where(replies.c.comment_id.is_(None), recoveries.c.jira_key.is_not(None))
        .subquery()
    )
    query = select(replies).join(waiting, waiting.c.id == replies.c.id)
    if per_recovery is not None:
        query = query.where(waiting.c.place <= per_recovery)
    rows = conn.execute(query.order_by(replies.c.id).limit(limit)).mappings()
    return [_from_row(row) for row in rows]


def waiting_for(conn: Connection, recovery_id: int, first_id: int, last_id: int) -> list[Reply]:
    """The recovery's replies with no comment yet whose ids lie in [first_id, last_id]."""
    rows = conn.execute(
        select(replies)
        .where(
            replies.c.recovery_id == recovery_id,
            replies.c.comment_id.is_(None),
            replies.c.id.between(first_id, last_id),
        )
        .order_by(replies.c.id)
    ).mappings()
    return [_from_row(row) for row in rows]


def last_waiting_id(conn: Connection, recovery_id: int) -> int | None:
    """The id of the recovery's newest reply with no comment yet."""
    found = conn.execute(
        select(func.max(replies.c.id)).where(
            replies.c.recovery_id == recovery_id, replies.c.comment_id.is_(None)
        )
    ).scalar_one_or_none()
    return int(found) if found is not None else None


def mark_posted(conn: Connection, reply_id: int, comment_id: str) -> None:
    conn.execute(update(replies).where(replies.c.id == reply_id).values(comment_id=comment_id))


def comment_ids(conn: Connection, recovery_id: int) -> set[str]:
    """The comments posted for the recovery's replies: the client's own words, not updates."""
    rows = conn.execute(
        select(replies.c.comment_id).where(
            replies.c.recovery_id == recovery_id, replies.c.comment_id.is_not(None)
        )
    ).scalars()
    return {r for r in rows if r}


def _from_row(row: RowMapping) -> Reply:
    return Reply(
        id=row["id"],
        message_key=row["message_key"],
        recovery_id=row["recovery_id"],
        author=row["author"],
        author_name=row["author_name"],
        sent_at=row["sent_at"],
        text=row["text"],
        attachments=tuple(AttachmentInfo(**item) for item in json.loads(row["attachments"])),
        comment_id=row["comment_id"],
    )
