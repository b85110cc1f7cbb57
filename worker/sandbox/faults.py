"""Fault injection: rules that make the sandbox slow, throttled, broken or eventually consistent."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Literal

FaultKind = Literal["latency", "status", "drop"]


@dataclass
class FaultRule:
    """One fault: applies to matching calls, `times` times (None: forever), with a probability.

    `endpoint` is a call name as in `RunningSandbox.calls` ("POST /rest/api/3/issue"); None
    matches every Jira call.
    """

    kind: FaultKind
    endpoint: str | None = None
    times: int | None = 1
    probability: float = 1.0
    status: int = 503
    delay: float = 0.0
    retry_after: str | None = None

    def matches(self, endpoint: str) -> bool:
        return self.endpoint is None or self.endpoint == endpoint


@dataclass(frozen=True)
class Fault:
    """What the server must do to one call."""

    kind: FaultKind
    status: int = 503
    delay: float = 0.0
    retry_after: str | None = None


@dataclass
class Faults:
    """The fault controls of a running sandbox; safe to call from tests while it serves."""

    seed: int | None = None
    rules: list[FaultRule] = field(default_factory=list)
    search_lag_seconds: float = 0.0
    search_lag_calls: int = 0
    injected: list[tuple[str, Fault]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def reseed(self, seed: int) -> None:
        """Restart the random stream, so a run with the same rules injects the same faults."""
        with self._lock:
            self._random = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def latency(
        self,
        seconds: float,
        endpoint: str | None = None,
        *,
        times: int | None = 1,
        probability: float = 1.0,
    ) -> FaultRule:
        """Delay matching calls by `seconds` before answering."""
        return self.add(FaultRule("latency", endpoint, times, probability, delay=seconds))

    def rate_limit(
        self,
        retry_after: str | int | datetime = 1,
        endpoint: str | None = None,
        *,
        times: int | None = 1,
        probability: float = 1.0,
    ) -> FaultRule:
        """Answer 429 with this Retry-After: seconds, or a moment sent as an HTTP date."""
        return self.add(
            FaultRule(
                "status", endpoint, times, probability, status=429,
                retry_after=_retry_after(retry_after),
            )
        )  # fmt: skip

    def server_error(
        self,
        status: int = 503,
        endpoint: str | None = None,
        *,
        times: int | None = 1,
        probability: float = 1.0,
        retry_after: str | int | datetime | None = None,
    ) -> FaultRule:
        """Answer 500, 502 or 503 (optionally with Retry-After) instead of doing the work."""
        if status not in (500, 502, 503, 504):
            raise ValueError(f"not a server error status: {status}")
        after = None if retry_after is None else _retry_after(retry_after)
        return self.add(
            FaultRule("status", endpoint, times, probability, status=status, retry_after=after)
        )

    def drop_connection(
        self, endpoint: str | None = None, *, times: int | None = 1, probability: float = 1.0
    ) -> FaultRule:
        """Close the connection without answering, after reading the request."""
        return self.add(FaultRule("drop", endpoint, times, probability))

    def search_lag(self, *, seconds: float = 0.0, calls: int = 0) -> None:
        """Keep new issues out of search for `seconds` (sandbox clock) and `calls` searches.

        This is how Jira Cloud's search behaves: it is eventually consistent with writes.
        """
        with self._lock:
            self.search_lag_seconds = seconds
            self.search_lag_calls = calls

    def clear(self) -> None:
        """Remove every rule and the search lag."""
        with self._lock:
            self.rules.clear()
            self.search_lag_seconds = 0.0
            self.search_lag_calls = 0

    def pick(self, endpoint: str) -> list[Fault]:
        """The faults for one call, in rule order; uses up a rule's remaining `times`."""
        chosen: list[Fault] = []
        with self._lock:
            for rule in list(self.rules):
                if not rule.matches(endpoint):
                    continue
                if rule.probability < 1.0 and self._random.random() >= rule.probability:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times <= 0:
                        self.rules.remove(rule)
                fault = Fault(rule.kind, rule.status, rule.delay, rule.retry_after)
                chosen.append(fault)
                self.injected.append((endpoint, fault))
        return chosen


def _retry_after(value: str | int | datetime) -> str:
    if isinstance(value, datetime):
        return format_datetime(value, usegmt=True)
    return str(value)
