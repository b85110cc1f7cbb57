"""Posting the client's thread replies to their recovery ticket, each exactly once.

A client writing again and again (or a mail loop in their name) must not bury the ticket:
within ``jira.reply_comment_window`` a recovery gets at most ``jira.max_reply_comments``
comments of replies. When more are waiting, the last comment allowed is a digest of all of
them: one line each, the whole text kept in the store. Nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from worker.domain.document import Block, Document, Paragraph, Quote, Text, bullets, paragraph
from worker.domain.recovery import Recovery
from worker.errors import PermanentError, TransientError
from worker.logs import get_logger
from worker.outbox import Unconfirmed, Write, marker
from worker.steps import Services, end_of_pass, failed
from worker.store import ledger, recoveries, replies
from worker.store.replies import Reply
from worker.tracker.base import Tracker, find_marked_comment

log = get_logger()

STEP = "post_replies"

#: The ledger kinds of the comments that count towards a recovery's allowance.
REPLY_KINDS = ("post_reply", "reply_digest")
#: Replies quoted one line each in a digest; the rest are counted.
DIGEST_LINES = 25
#: Characters of each reply quoted in a digest.
DIGEST_EXCERPT = 160


def reply_marker(message_key: str) -> str:
    """A token written into the comment, so a lost answer can be recognised in Jira."""
    return marker("reply", message_key)


def _size(size: int) -> str:
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} bytes"


def _sender(reply: Reply) -> str:
    who = f"{reply.author_name} <{reply.author}>" if reply.author_name else reply.author
    return who or "unknown sender"


def _when(reply: Reply) -> str:
    return reply.sent_at.strftime("%Y-%m-%d %H:%M UTC") if reply.sent_at else "an unknown time"


def reply_document(reply: Reply) -> tuple[Block, ...]:
    """The comment for a client reply: who, when, the new text, the attachments, the marker."""
    blocks: list[Block] = [
        Paragraph((Text("Client reply from "), Text(_sender(reply), strong=True),
                   Text(f", sent {_when(reply)}:"))),
        Quote(reply.text or "(no new text)"),
    ]  # fmt: skip
    if reply.attachments:
        blocks.append(paragraph("Attachments:"))
        blocks.append(
            bullets(f"{a.filename or 'unnamed'} ({_size(a.size)})" for a in reply.attachments)
        )
    blocks.append(paragraph(f"ref: {reply_marker(reply.message_key)}"))
    return tuple(blocks)


def digest_document(members: Sequence[Reply], token: str) -> Document:
    """One comment for many replies: a line each (the first DIGEST_LINES), then a count."""
    first, last = members[0], members[-1]
    lines = []
    for reply in members[:DIGEST_LINES]:
        text = " ".join(reply.text.split()) or "(no new text)"
        cut = text if len(text) <= DIGEST_EXCERPT else text[: DIGEST_EXCERPT - 1] + "…"
        lines.append(f"{_when(reply)}, {_sender(reply)}: {cut}")
    blocks: list[Block] = [
        paragraph(
            f"{len(members)} more mails in this thread, sent {_when(first)} to {_when(last)}, "
            "in one comment so that the ticket stays readable. The worker keeps each one whole."
        ),
        bullets(lines),
    ]
    if len(members) > DIGEST_LINES:
        blocks.append(paragraph(f"... and {len(members) - DIGEST_LINES} more."))
    blocks.append(paragraph(f"ref: {token}"))
    return Document(tuple(blocks))


def post_replies_once(services: Services, *, limit: int = 100) -> int:
    """Post the waiting thread replies, within each recovery's allowance; the comments made.

    A transient failure ends the pass, what was posted saved (see end_of_pass).
    """
    tracker = services.tracker
    if tracker is None:
        return 0
    cap = services.settings.jira.max_reply_comments
    with services.store.transaction() as conn:
        # One more than the allowance of each recovery tells whether a digest is needed.
        waiting = replies.to_post(conn, limit, per_recovery=cap + 1)
    by_recovery: dict[int, list[Reply]] = {}
    for reply in waiting:
        by_recovery.setdefault(reply.recovery_id, []).append(reply)
    posted = 0
    for recovery_id, group in by_recovery.items():
        if services.stopping.is_set():
            break
        with services.store.transaction() as conn:
            recovery = recoveries.get(conn, recovery_id)
            since = services.clock.now() - services.settings.jira.reply_comment_window
            allowance = cap - ledger.done_since(conn, recovery_id, REPLY_KINDS, since)
        if recovery is None or recovery.jira_key is None:
            continue  # not open in Jira yet; the replies wait for its ticket
        started = _digest_started(services, recovery_id, group[0].id)
        if allowance <= 0 and not started:
            log.info("reply.held", recovery_id=recovery_id, waiting=len(group))
            continue
        try:
            if started:
                # A digest sent before a crash or a lost answer is finished before anything else.
                posted += _post_digest(services, tracker, recovery, group[0])
                continue
            singles = group if len(group) <= allowance else group[: allowance - 1]
            for reply in singles:
                if services.stopping.is_set():
                    return posted  # the rest stay unposted for the next start
                posted += _post_one(services, tracker, recovery, reply)
            if len(group) > allowance and not services.stopping.is_set():
                posted += _post_digest(services, tracker, recovery, group[allowance - 1])
        except TransientError as exc:
            failed(
                services,
                STEP,
                "reply.post_deferred",
                exc,
                recovery_id=recovery_id,
                jira_key=recovery.jira_key,
            )
            end_of_pass(exc, progressed=posted > 0)
            break
    return posted


def _post_one(services: Services, tracker: Tracker, recovery: Recovery, reply: Reply) -> int:
    """Post one reply as its own comment; 1 when posted, 0 when it waits or was refused."""
    assert recovery.jira_key is not None
    bound = log.bind(message_key=reply.message_key, jira_key=recovery.jira_key)
    body = Document(reply_document(reply))
    token = reply_marker(reply.message_key)
    key = f"comment:{reply.message_key}"
    comment_id = _comment_once(
        services, tracker, recovery, key, kind="post_reply", body=body, token=token, bound=bound
    )
    if comment_id is None:
        return 0
    with services.store.transaction() as conn:
        replies.mark_posted(conn, reply.id, comment_id)
    bound.info("reply.posted", comment_id=comment_id)
    return 1


def _digest_key(recovery_id: int, first_id: int) -> str:
    return f"digest:{recovery_id}:{first_id}"


def _digest_started(services: Services, recovery_id: int, first_id: int) -> bool:
    """Whether a digest starting at reply ``first_id`` has fixed its members already."""
    with services.store.transaction() as conn:
        return ledger.get(conn, _digest_key(recovery_id, first_id) + "#members") is not None


def _post_digest(services: Services, tracker: Tracker, recovery: Recovery, first: Reply) -> int:
    """Post every waiting reply from ``first`` on as one digest comment; 1 when posted."""
    assert recovery.jira_key is not None
    key = _digest_key(recovery.id, first.id)
    # Who is in the digest is fixed before it is sent, so a retry after a lost answer or a
    # crash covers the same replies, not the ones that arrived since.
    with services.store.transaction() as conn:
        members_key = f"{key}#members"
        recorded = ledger.get(conn, members_key)
        if recorded is None or recorded.state != ledger.DONE:
            last_id = replies.last_waiting_id(conn, recovery.id) or first.id
            ledger.record_intent(conn, members_key, "digest_members", services.clock.now())
            ledger.complete(conn, members_key, str(last_id), services.clock.now())
        else:
            last_id = int(recorded.result)
        members = replies.waiting_for(conn, recovery.id, first.id, last_id)
    if not members:
        return 0
    token = marker("digest", key)
    bound = log.bind(recovery_id=recovery.id, jira_key=recovery.jira_key)
    body = digest_document(members, token)
    comment_id = _comment_once(
        services, tracker, recovery, key, kind="reply_digest", body=body, token=token, bound=bound
    )
    if comment_id is None:
        return 0
    with services.store.transaction() as conn:
        for reply in members:
            replies.mark_posted(conn, reply.id, comment_id)
    bound.info("reply.digested", replies=len(members), comment_id=comment_id)
    return 1


def _comment_once(
    services: Services,
    tracker: Tracker,
    recovery: Recovery,
    key: str,
    *,
    kind: str,
    body: Document,
    token: str,
    bound: Any,
) -> str | None:
    """Make comment write ``key`` on the recovery's ticket, found again by ``token``; its id,
    or None when it waits for Jira to show it or Jira refused it."""
    assert recovery.jira_key is not None
    issue_key = recovery.jira_key

    def send() -> str:
        return tracker.add_comment(issue_key, body).id

    try:
        return services.outbox.make(
            Write(
                key,
                kind,
                send=send,
                find=partial(find_marked_comment, tracker, issue_key, token),
                recovery_id=recovery.id,
            )
        )
    except Unconfirmed as exc:
        bound.info("reply.unconfirmed", detail=str(exc))
        return None
    except PermanentError as exc:
        failed(services, STEP, "reply.post_failed", exc, logger=bound)
        return None
