"""The alert value every channel receives, the Channel interface, and the HTTP call they share.

A channel sends one alert and returns what it produced (a comment id, say), or
raises an error of :mod:`worker.errors`: transient ones are retried later by
the sweep, permanent ones are recorded and given up. A channel that writes to Jira
is given a :class:`CommentsOnce` (the outbox) to make its comments exactly once, and
marks them with :func:`marker` so that a comment whose answer was lost is found again.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import requests

from worker.clock import Clock
from worker.core.alerting import Alert, AlertKind, Subject
from worker.core.sla import ClockKind
from worker.domain.document import Document
from worker.errors import ConnectionFailed, RateLimited, RequestRejected, ServerUnavailable
from worker.logs import error_excerpt
from worker.retry import parse_retry_after
from worker.tracker import Tracker

__all__ = [
    "Alert",
    "AlertKind",
    "Channel",
    "CommentsOnce",
    "FindsSent",
    "HttpChannel",
    "alert_from_payload",
    "alert_payload",
    "marker",
    "post",
]


def marker(kind: str, name: str) -> str:
    """The token a write carries (a comment's last line, a label) so it can be found again.

    The same for every attempt at one write: ``kind`` says what is marked (``alert``,
    ``note``, ``reply``...), ``name`` which one.
    """
    return f"rw-{kind}-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16]


class Channel(Protocol):
    """Somewhere alerts go; ``name`` is stable, it keys the ledger."""

    @property
    def name(self) -> str: ...

    def send(self, alert: Alert) -> str:
        """Deliver the alert; return a reference to what was created ("" when none)."""
        ...


@runtime_checkable
class FindsSent(Protocol):
    """A channel that can find what an earlier attempt at an alert left there."""

    def find_sent(self, alert: Alert) -> str | None:
        """The reference ``send`` would have returned, if that alert arrived; else None."""
        ...


class CommentsOnce(Protocol):
    """Makes a Jira comment exactly once (the outbox does): the write is in the ledger, and
    after a lost answer the comment carrying ``token`` on the issue counts as made."""

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
        """The comment's id: ``body`` with a ``ref: <token>`` line, made unless it exists."""
        ...


def alert_payload(alert: Alert) -> dict[str, Any]:
    """The alert as JSON-ready data, kept in the ledger so a retry sends the same alert."""
    return {
        "kind": str(alert.kind),
        "key": alert.key,
        "deadline_id": alert.deadline_id,
        "clock": str(alert.clock),
        "recovery": {
            "id": alert.subject.recovery_id,
            "severity": alert.subject.severity,
            "jira_key": alert.subject.jira_key,
            "owner": alert.subject.owner,
            "summary": alert.subject.summary,
        },
        "deadline": alert.deadline.isoformat(),
        "late_by_seconds": int(alert.late_by.total_seconds()),
        "breaches": alert.breaches,
        "text": alert.text,
    }


def alert_from_payload(data: dict[str, Any]) -> Alert:
    recovery = data["recovery"]
    return Alert(
        kind=AlertKind(data["kind"]),
        key=data["key"],
        deadline_id=data["deadline_id"],
        clock=ClockKind(data["clock"]),
        subject=Subject(
            recovery_id=int(recovery["id"]),
            severity=recovery["severity"],
            jira_key=recovery["jira_key"],
            owner=recovery["owner"],
            summary=recovery["summary"],
        ),
        deadline=datetime.fromisoformat(data["deadline"]),
        late_by=timedelta(seconds=int(data["late_by_seconds"])),
        breaches=int(data["breaches"]),
        text=data["text"],
    )


def post(
    session: requests.Session,
    url: str,
    body: bytes,
    *,
    headers: dict[str, str],
    timeout: float,
    now: datetime,
    what: str,
) -> requests.Response:
    """POST ``body``; failures become the worker's errors (the URL is never in their text)."""
    try:
        response = session.post(
            url,
            data=body,
            headers={"Content-Type": "application/json", **headers},
            timeout=(min(timeout, 5.0), timeout),
            allow_redirects=False,
        )
    except requests.Timeout:
        raise ConnectionFailed(f"{what}: timed out") from None
    except requests.RequestException as exc:
        raise ConnectionFailed(f"{what}: {type(exc).__name__}") from None
    status = response.status_code
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        raise RateLimited(f"{what}: HTTP 429", retry_after=retry_after)
    if status in (408, 500, 502, 503, 504):
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
        raise ServerUnavailable(f"{what}: HTTP {status}", retry_after=retry_after)
    if status >= 300:
        raise RequestRejected(f"{what}: HTTP {status} {error_excerpt(response.text, 200, [url])}")
    return response


class HttpChannel:
    """A channel that POSTs one JSON body per alert to a fixed URL (Slack, Teams, a webhook)."""

    name = ""
    #: How the URL is named in errors: the URL itself may hold a token, so it never is.
    what = ""

    def __init__(
        self, url: str, clock: Clock, timeout: timedelta, session: requests.Session | None = None
    ) -> None:
        self._url = url
        self._clock = clock
        self._timeout = timeout.total_seconds()
        self._session = session or requests.Session()

    def _post(self, body: bytes, now: datetime, headers: dict[str, str] | None = None) -> None:
        post(
            self._session,
            self._url,
            body,
            headers=headers or {},
            timeout=self._timeout,
            now=now,
            what=self.what,
        )
