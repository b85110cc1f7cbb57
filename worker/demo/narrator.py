"""Turns the worker's own log events into the demo's readable story.

The demo shows what the worker really logged, not a script of what it should
have done: each line below is rendered from one event the steps emitted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

import structlog

from worker.clock import Clock
from worker.store import Store, messages

Render = Callable[[dict[str, Any]], str]


def _at(value: Any) -> str:
    try:
        return f"{datetime.fromisoformat(str(value)):%H:%M}"
    except ValueError:
        return str(value)


def _late(event: dict[str, Any]) -> str:
    minutes = int(event.get("late_by_seconds") or 0) // 60
    return f", {minutes} min late" if minutes else ""


def _decided(e: dict[str, Any]) -> str:
    line = f"mail <{e.get('key')}>: {e.get('decision')} ({e.get('reason')})"
    if e.get("severity"):
        line += f", {e['severity']}, score {e.get('score')}"
    return line


def _recorded(e: dict[str, Any]) -> str:
    kind = e.get("kind")
    what = {
        "client_update": "client update logged",
        "promise": "next update promised",
        "resolved": "resolution seen",
        "reopened": "reopen seen",
        "waiting": "waiting for the client: clocks paused",
        "resumed": "clocks running again",
    }.get(str(kind), str(kind))
    return f"{what} on {e.get('jira_key')} (at {_at(e.get('at'))})"


RENDERERS: dict[str, Render] = {
    "message.decided": _decided,
    "recovery.opened": lambda e: (
        f"recovery opened: {e.get('jira_key')} ({e.get('severity')}) with KNOW, HAVE, DO subtasks"
    ),
    "reply.posted": lambda e: f"reply threaded: comment {e.get('comment_id')} on the recovery",
    "recovery.severity_raised": lambda e: f"severity raised to {e.get('severity', e.get('to'))}",
    "sla.warning": lambda e: (
        f"WARNING sent: {e.get('clock')} on {e.get('jira_key')} is due at {_at(e.get('deadline'))}"
    ),
    "sla.breached": lambda e: (
        f"BREACH alert sent to ops: {e.get('clock')} on {e.get('jira_key')} was due at "
        f"{_at(e.get('deadline'))}{_late(e)}"
    ),
    "sla.reminded": lambda e: f"breach reminder: {e.get('clock')} on {e.get('jira_key')}",
    "sla.escalated": lambda e: f"ESCALATED: {e.get('jira_key')} after {e.get('breaches')} breaches",
    "sla.event_recorded": _recorded,
    "root_cause.missing": lambda e: f"root cause not written down on {e.get('key')}",
    "followup.created": lambda e: (
        f"follow-up task created: {e.get('followup_key')} for {e.get('key')}"
    ),
    "recovery.closed": lambda e: f"recovery closed after follow-up {e.get('followup_key')}",
    "recovery.reopen_sent": lambda e: (
        f"complaint after resolution: {e.get('key')} moved out of Done"
    ),
    "recovery.reopened": lambda e: (
        f"recovery {e.get('key')} reopened (reopen {e.get('reopen_count')}), clocks running "
        f"again; follow-up {str(e.get('followup') or 'unchanged').replace('_', ' ')}"
    ),
}
#: Where the reasons are indented to: under the text of the decision line.
_WHY = " " * 10


def reasons_in(store: Store, message_key: str) -> list[str]:
    """The detection rules that matched a mail, with their weights, as the store keeps them."""
    with store.transaction() as conn:
        return messages.reasons_of(conn, message_key)


class Narrator:
    """A structlog processor: renders the events the story needs, drops the rest.

    Once ``store`` is set, a decided mail's line is followed by the rules that matched it:
    the event is logged after the decision is committed, so the store holds them.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.seen: list[str] = []
        self.store: Store | None = None

    def __call__(self, _logger: Any, _name: str, event_dict: Any) -> str:
        name = str(event_dict.get("event", ""))
        render = RENDERERS.get(name)
        if render is None:
            raise structlog.DropEvent
        self.seen.append(name)
        line = f"   {self.clock.now():%H:%M}  {render(dict(event_dict))}"
        if name == "message.decided" and self.store is not None:
            reasons = reasons_in(self.store, str(event_dict.get("key")))
            line += "".join(
                f"\n{_WHY}{'why: ' if n == 0 else '     '}{r}" for n, r in enumerate(reasons)
            )
        return line


def narrate(clock: Clock, stream: TextIO) -> Narrator:
    """Send the worker's log events through a narrator to ``stream``; other logging is quiet."""
    narrator = Narrator(clock)
    structlog.configure(
        processors=[narrator],
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    logging.getLogger().setLevel(logging.CRITICAL)
    return narrator
