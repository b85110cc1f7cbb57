"""The loop's step functions: each does one small unit of work and returns how much it did.

A step takes the :class:`Services` it needs, reads time from ``services.clock``
and keeps every multi-step write in one store transaction. Tests call steps
directly; the supervisor runs them in the long-running worker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from worker.clock import Clock
from worker.errors import TransientError, WorkerError
from worker.logs import get_logger
from worker.metrics import Metrics
from worker.outbox import Outbox
from worker.outbox.alerts import AlertOutbox
from worker.retry import CallBudget, pause
from worker.settings import Settings
from worker.store import Store
from worker.tracker import Tracker

_log = get_logger()
#: Characters of an error's text a failure's log line keeps (error pages are long).
_DETAIL = 500


@dataclass
class Services:
    """What the steps share: settings, time, the store, metrics, the tracker when configured."""

    settings: Settings
    clock: Clock
    store: Store
    metrics: Metrics
    tracker: Tracker | None = None
    #: Set when the worker is asked to stop: steps look at it between items and in waits.
    stopping: threading.Event = field(default_factory=threading.Event)
    #: The pace of the calls that can wait, by name, kept across passes (see ``budget``).
    budgets: dict[str, CallBudget] = field(default_factory=dict)

    @property
    def outbox(self) -> Outbox:
        """Where the steps make their outside writes, each exactly once."""
        return Outbox(self.store, self.clock, window=self.settings.jira.visibility_window)

    @property
    def alert_outbox(self) -> AlertOutbox:
        """Where planned alert deliveries go out, each claimed, retried and counted."""
        return AlertOutbox(
            self.store, self.clock, self.metrics, self.stopping, self.settings.alerts.max_attempts
        )

    def budget(self, name: str, per_minute: int) -> CallBudget:
        """The pace of the calls called ``name``, kept from one pass to the next."""
        found = self.budgets.get(name)
        if found is None or found.per_minute != per_minute:
            found = self.budgets[name] = CallBudget(per_minute)
        return found

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``; Interrupted when the worker is asked to stop meanwhile."""
        pause(seconds, self.stopping)


def failed(
    services: Services,
    step: str,
    event: str,
    exc: WorkerError,
    *,
    logger: Any = None,
    **fields: object,
) -> None:
    """Count a failure of ``step`` and log it as ``event``: a transient one as a warning (it is
    tried again), a permanent one as an error (recorded, not retried)."""
    services.metrics.errors.labels(step=step, kind=type(exc).__name__).inc()
    out = logger or _log
    emit = out.warning if isinstance(exc, TransientError) else out.error
    emit(event, error=type(exc).__name__, detail=str(exc)[:_DETAIL], **fields)


def end_of_pass(exc: TransientError, *, progressed: bool) -> None:
    """Raise the transient failure that ended a step's pass, unless the pass got work through.

    Raised, it makes the supervisor back off, and wait at least the Retry-After the server
    gave. A pass that made progress before a failure without Retry-After just ends: its next
    run comes at the step's interval, not after a backoff that grows while Jira flickers.
    """
    if exc.retry_after is not None or not progressed:
        raise exc
