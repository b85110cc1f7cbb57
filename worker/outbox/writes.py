"""Exactly-once writes: record the intent, make the write, record the result.

A write whose outcome is unknown (its answer was lost, or the worker died after sending)
may still land in Jira later, or show in its search only after a while. So before it is
made again, whatever it would have made is looked for (by the label or the comment
marker it carries), and until Jira's visibility window has passed since the last send,
not finding it proves nothing: the write waits (:class:`Unconfirmed`) instead of going
out a second time; a write the ledger shows never went out (refused, or never reached
Jira) is looked for once and made at once, without waiting. Every kind of write (an issue,
a bulk of subtasks, a comment, a link) goes through :meth:`Outbox.make`; the steps only say
what to send and how to find it. The common Jira writes have their own methods, with the
marker or label that finds them: :meth:`Outbox.create_once`, :meth:`Outbox.link_once`,
:meth:`Outbox.comment_once`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from worker.alerts.base import marker
from worker.clock import Clock
from worker.domain.document import Document, paragraph
from worker.domain.issue import NewIssue
from worker.errors import Deferred, OutcomeUnknown, PermanentError, WorkerError
from worker.logs import get_logger
from worker.store import ledger
from worker.store.db import Store
from worker.tracker.base import Tracker, find_marked_comment

__all__ = ["Outbox", "Unconfirmed", "Write", "comment_marker", "marker"]

log = get_logger()


class Unconfirmed(Deferred):
    """An earlier attempt's outcome is unknown and not visible yet: looked for again later."""


def comment_marker(key: str) -> str:
    """The token :meth:`Outbox.comment_once` writes into the comment of write ``key``."""
    return marker("note", key)


@dataclass(frozen=True, slots=True)
class Write:
    """One outside write: its ledger key, how to make it and how to find an earlier one."""

    key: str
    kind: str
    #: Makes the write; returns what identifies the result (an issue key, a comment id).
    send: Callable[[], str]
    #: What an earlier attempt made, if it can be seen; None when nothing (yet).
    find: Callable[[], str | None]
    recovery_id: int | None = None
    #: Making it twice does no harm (a link, a label): it never waits for an earlier one.
    idempotent: bool = False


class Outbox:
    """Makes writes exactly once, holding each unconfirmed one until Jira can show it."""

    def __init__(self, store: Store, clock: Clock, *, window: timedelta) -> None:
        self.store = store
        self.clock = clock
        #: How long after a send Jira may still not show what it made (search lag, a write
        #: that lands after its answer was lost).
        self.window = window

    def make(self, write: Write) -> str:
        """The write's result: recorded before, found after an unknown outcome, or made now."""
        with self.store.transaction() as conn:
            action = ledger.record_intent(
                conn, write.key, write.kind, self.clock.now(), write.recovery_id
            )
            sent = ledger.last_sent(conn, write.key)
        if action.state == ledger.DONE:
            return action.result
        if action.attempts > 1:
            found = write.find()
            if found is not None:
                self._complete(write, found)
                log.info("outbox.adopted", key=write.key, kind=write.kind, result=found)
                return found
            if sent is not None and not write.idempotent:
                left = self.window - (self.clock.now() - sent)
                if left > timedelta(0):
                    raise Unconfirmed(
                        f"{write.kind} {write.key}: an earlier attempt may still appear; "
                        "looking again once Jira's visibility window has passed",
                        retry_after=left.total_seconds(),
                    )
        self._note_sent(write)
        try:
            result = write.send()
        except OutcomeUnknown:
            # The answer may have waited long: what it made may be as new as now.
            self._note_sent(write)
            raise
        except WorkerError as exc:
            # Throttled, refused or never arrived: nothing was made that could appear later.
            with self.store.transaction() as conn:
                ledger.forget_sent(conn, write.key, self.clock.now())
                if isinstance(exc, PermanentError):
                    ledger.fail(conn, write.key, f"{type(exc).__name__}: {exc}", self.clock.now())
            raise
        self._complete(write, result)
        return result

    def create_once(
        self,
        key: str,
        tracker: Tracker,
        issue: NewIssue,
        *,
        label: str,
        kind: str = "issue.create",
        recovery_id: int | None = None,
        found: Callable[[str], None] | None = None,
    ) -> str:
        """The key of the issue write ``key`` creates; after a lost answer, the one carrying
        ``label`` (one of ``issue``'s own) counts. ``found`` hears of an adopted one."""

        def find() -> str | None:
            existing = tracker.find_by_label(issue.project, label)
            if not existing:
                return None
            if found is not None:
                found(existing[0].key)
            return existing[0].key

        return self.make(
            Write(
                key,
                kind,
                send=lambda: tracker.create_issue(issue).key,
                find=find,
                recovery_id=recovery_id,
            )
        )

    def link_once(
        self,
        key: str,
        tracker: Tracker,
        inward: str,
        outward: str,
        link_type: str,
        *,
        kind: str = "issue.link",
    ) -> str:
        """Link ``inward`` to ``outward`` unless write ``key`` is done; ``outward``."""

        def send() -> str:
            tracker.link(inward, outward, link_type)
            return outward

        # Jira keeps one link per type between two issues: a second one changes nothing.
        return self.make(Write(key, kind, send=send, find=lambda: None, idempotent=True))

    def comment_once(
        self,
        key: str,
        tracker: Tracker,
        issue_key: str,
        body: Document,
        *,
        kind: str = "comment",
        token: str | None = None,
        recovery_id: int | None = None,
    ) -> str:
        """The id of the comment write ``key`` makes on ``issue_key``: ``body`` and a last
        line ``ref: <token>`` (:func:`comment_marker` of ``key`` unless given), by which a
        comment whose answer was lost is found."""
        mark = token or comment_marker(key)
        marked = Document((*body.blocks, paragraph(f"ref: {mark}")))
        return self.make(
            Write(
                key,
                kind,
                send=lambda: tracker.add_comment(issue_key, marked).id,
                find=lambda: find_marked_comment(tracker, issue_key, mark),
                recovery_id=recovery_id,
            )
        )

    def done(self, key: str) -> str | None:
        """The result of write ``key`` once it is made; None before."""
        with self.store.transaction() as conn:
            action = ledger.get(conn, key)
        return action.result if action is not None and action.state == ledger.DONE else None

    def refusals(self, key: str) -> int:
        """How many times Jira refused write ``key`` (permanent failures)."""
        with self.store.transaction() as conn:
            return ledger.refusals(conn, key)

    def _note_sent(self, write: Write) -> None:
        with self.store.transaction() as conn:
            ledger.note_sent(conn, write.key, self.clock.now(), write.recovery_id)

    def _complete(self, write: Write, result: str) -> None:
        with self.store.transaction() as conn:
            ledger.complete(conn, write.key, result, self.clock.now())
