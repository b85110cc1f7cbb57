"""Exactly-once writes: record the intent, make the write, record the result.

A write whose outcome is unknown (its answer was lost, or the worker died after sending)
may still land in Jira later, or show in its search only after a while. So before it is
made again, whatever it would have made is looked for (by the label or the comment
marker it carries), and until Jira's visibility window has passed since the last send,
not finding it proves nothing: the write waits (:class:`Unconfirmed`) instead of going
out a second time. Every kind of write (an issue, a bulk of subtasks, a comment, a link)
goes through :meth:`Outbox.make`; the steps only say what to send and how to find it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from worker.clock import Clock
from worker.errors import Deferred, OutcomeUnknown, PermanentError, WorkerError
from worker.logs import get_logger
from worker.store import ledger
from worker.store.db import Store

log = get_logger()


class Unconfirmed(Deferred):
    """An earlier attempt's outcome is unknown and not visible yet: looked for again later."""


def marker(kind: str, name: str) -> str:
    """The token a write carries (a comment's last line, a label) so it can be found again."""
    return f"rw-{kind}-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


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
