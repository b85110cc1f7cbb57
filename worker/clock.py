"""Clocks: every rule reads time from here, so tests can move time instead of sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that can tell the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to; for tests and the demo."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment.astimezone(UTC)


class AcceleratedClock:
    """Wall time sped up by a factor from a starting point; the demo uses it."""

    def __init__(self, start: datetime, factor: float, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._origin_real = self._base.now()
        self._origin_virtual = start.astimezone(UTC)
        self._factor = factor

    def now(self) -> datetime:
        elapsed = self._base.now() - self._origin_real
        return self._origin_virtual + elapsed * self._factor
