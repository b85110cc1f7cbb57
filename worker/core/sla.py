"""SLA clocks: a pure function of a recovery's events, its policy, a calendar and ``now``.

Three clocks per recovery: first contact (from the opening to the first client
update), next update (from each client update to the next one, or to the time
the update promised) and resolution. A waiting-for-client status pauses every
running clock and shifts its deadline by the paused business time; resolving
meets them all; a reopen starts fresh update and resolution clocks.

A deadline is named by the recovery, the clock and the moment of the event that
started it (the complaint, an update, a reopen), so an event recorded late, dated
before others already seen, renames none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from worker.core.calendar import BusinessCalendar
from worker.domain.events import EventKind, RecoveryEvent


class ClockKind(StrEnum):
    FIRST_CONTACT = "first_contact"
    NEXT_UPDATE = "next_update"
    RESOLUTION = "resolution"


class ClockState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"


#: Most urgent first: the state a recovery shows is that of its most urgent clock.
URGENCY = (
    ClockState.BREACHED,
    ClockState.WARNING,
    ClockState.OK,
    ClockState.PAUSED,
    ClockState.MET,
)


@dataclass(frozen=True, slots=True)
class Policy:
    """What a severity promises; durations are business time in the named calendar."""

    first_contact: timedelta
    update_every: timedelta
    resolution: timedelta
    calendar: str = "24x7"
    #: A stated next update may set a deadline later than ``update_every`` allows.
    promises_extend: bool = False


DEFAULT_POLICIES: dict[str, Policy] = {
    "sev1": Policy(timedelta(hours=1), timedelta(hours=4), timedelta(hours=24), "24x7"),
    "sev2": Policy(timedelta(hours=4), timedelta(hours=8), timedelta(hours=40), "business"),
    "sev3": Policy(timedelta(hours=8), timedelta(hours=16), timedelta(hours=80), "business"),
}


@dataclass(frozen=True, slots=True)
class Clock:
    """One clock as seen at ``now``. ``late_by`` is how late it is (breached) or was (met late)."""

    kind: ClockKind
    deadline_id: str
    started_at: datetime
    deadline: datetime
    warn_at: datetime
    state: ClockState
    met_at: datetime | None = None
    paused_since: datetime | None = None
    late_by: timedelta | None = None

    @property
    def running(self) -> bool:
        return self.state in (ClockState.OK, ClockState.WARNING, ClockState.BREACHED)


@dataclass(frozen=True, slots=True)
class Clocks:
    """A recovery's clocks; absent ones have not started (no update yet, say)."""

    first_contact: Clock | None = None
    next_update: Clock | None = None
    resolution: Clock | None = None

    def __iter__(self) -> Iterator[Clock]:
        return iter(c for c in (self.first_contact, self.next_update, self.resolution) if c)

    @property
    def state(self) -> ClockState:
        """The most urgent state among the clocks (met when there are none)."""
        states = {c.state for c in self}
        return next((s for s in URGENCY if s in states), ClockState.MET)

    @property
    def next_deadline(self) -> datetime | None:
        """The earliest deadline of a clock still running (paused clocks have none yet)."""
        running = [c.deadline for c in self if c.running]
        return min(running) if running else None


@dataclass
class _Running:
    """A clock being replayed: its deadline moves with pauses and promises."""

    kind: ClockKind
    #: When the event that started the clock happened: the deadline's name, whatever moves it.
    origin: datetime
    started_at: datetime
    deadline: datetime
    warn_at: datetime
    met_at: datetime | None = None
    #: Started while the recovery waited on the client: it runs from the end of the wait.
    deferred: bool = False

    def snapshot(self, recovery_id: int, paused_since: datetime | None, now: datetime) -> Clock:
        clock = Clock(
            kind=self.kind,
            deadline_id=f"{recovery_id}:{self.kind}:{self.origin.astimezone(UTC):%Y%m%dT%H%M%SZ}",
            started_at=self.started_at,
            deadline=self.deadline,
            warn_at=self.warn_at,
            state=ClockState.OK,
            met_at=self.met_at,
        )
        if self.met_at is not None:
            late = self.met_at - self.deadline
            return replace(
                clock, state=ClockState.MET, late_by=late if late > timedelta(0) else None
            )
        if paused_since is not None and (self.deferred or paused_since < self.deadline):
            return replace(clock, state=ClockState.PAUSED, paused_since=paused_since)
        if now >= self.deadline:
            return replace(clock, state=ClockState.BREACHED, late_by=now - self.deadline)
        if now >= self.warn_at:
            return replace(clock, state=ClockState.WARNING)
        return clock


def evaluate(
    events: Iterable[RecoveryEvent],
    policy: Policy,
    calendar: BusinessCalendar,
    now: datetime,
    warn_at: float = 0.75,
) -> Clocks:
    """The recovery's clocks at ``now``, from its events up to ``now`` (later ones are ignored)."""
    ordered = sorted((e for e in events if e.at <= now), key=lambda e: (e.at, e.id or 0))
    if not ordered:
        return Clocks()
    recovery_id = ordered[0].recovery_id

    def start(kind: ClockKind, at: datetime, budget: timedelta) -> _Running:
        return _Running(
            kind,
            at,
            at,
            deadline=calendar.add(at, budget),
            warn_at=calendar.add(at, budget * warn_at),
        )

    first: _Running | None = None
    update: _Running | None = None
    resolution: _Running | None = None
    paused_since: datetime | None = None
    resolved = False

    for event in ordered:
        at = event.at
        if event.kind is EventKind.OPENED and first is None:
            first = start(ClockKind.FIRST_CONTACT, at, policy.first_contact)
            resolution = start(ClockKind.RESOLUTION, at, policy.resolution)
        elif event.kind is EventKind.CLIENT_UPDATE and not resolved:
            if first is not None and first.met_at is None:
                first.met_at = at
            if update is not None and update.met_at is None:
                update.met_at = at
            update = start(ClockKind.NEXT_UPDATE, at, policy.update_every)
            # An update sent while waiting: its cadence starts when the wait ends.
            update.deferred = paused_since is not None
        elif event.kind is EventKind.PROMISE and update is not None and update.met_at is None:
            promised = _promised(event)
            if promised is not None and promised > update.started_at:
                target = promised if policy.promises_extend else min(promised, update.deadline)
                budget = calendar.elapsed(update.started_at, target)
                update.deadline = target
                update.warn_at = min(target, calendar.add(update.started_at, budget * warn_at))
        elif event.kind is EventKind.WAITING and not resolved and paused_since is None:
            paused_since = at
        elif event.kind in (EventKind.RESUMED, EventKind.CLIENT_MESSAGE) and paused_since:
            paused = calendar.elapsed(paused_since, at)
            for clock in (first, update, resolution):
                if clock is not None and clock.met_at is None:
                    _shift(
                        clock,
                        calendar=calendar,
                        paused_since=paused_since,
                        resumed=at,
                        paused=paused,
                        policy=policy,
                        warn_share=warn_at,
                    )
            paused_since = None
        elif event.kind is EventKind.RESOLVED and not resolved:
            resolved = True
            paused_since = None
            for clock in (first, update, resolution):
                if clock is not None and clock.met_at is None:
                    clock.met_at = at
        elif event.kind is EventKind.REOPENED and resolved:
            resolved = False
            update = start(ClockKind.NEXT_UPDATE, at, policy.update_every)
            resolution = start(ClockKind.RESOLUTION, at, policy.resolution)

    def snap(clock: _Running | None) -> Clock | None:
        return clock.snapshot(recovery_id, paused_since, now) if clock else None

    return Clocks(snap(first), snap(update), snap(resolution))


def _shift(
    clock: _Running,
    *,
    calendar: BusinessCalendar,
    paused_since: datetime,
    resumed: datetime,
    paused: timedelta,
    policy: Policy,
    warn_share: float,
) -> None:
    """Move a clock's deadline by the paused business time; a clock already late stays late."""
    if clock.deferred:
        clock.deferred = False
        clock.started_at = resumed
        clock.deadline = calendar.add(resumed, policy.update_every)
        clock.warn_at = calendar.add(resumed, policy.update_every * warn_share)
        return
    if clock.deadline > paused_since:
        clock.deadline = calendar.add(clock.deadline, paused)
    if clock.warn_at > paused_since:
        clock.warn_at = calendar.add(clock.warn_at, paused)


def _promised(event: RecoveryEvent) -> datetime | None:
    due = event.detail.get("due")
    if not isinstance(due, str):
        return None
    try:
        moment = datetime.fromisoformat(due)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
