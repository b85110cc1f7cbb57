"""The recovery report: how well a team recovers, computed from what the store holds.

Pure: recoveries, their events and their follow-ups are passed in with ``now``.
Rendering to a table, JSON or CSV lives here too, so every format shows the same
figures.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from worker.core.calendar import BusinessCalendar
from worker.core.sla import Clock, ClockKind, ClockState, Policy, evaluate
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.followup import CANCELLED, CREATED, DONE, ON_HOLD, Followup
from worker.domain.recovery import GAVE_UP, Recovery

NO_RECOVERIES = "no recoveries yet"


@dataclass(frozen=True, slots=True)
class Durations:
    """How long something took, over the recoveries where it happened."""

    count: int
    median: timedelta | None
    p90: timedelta | None
    pending: int  # recoveries where it has not happened yet


@dataclass(frozen=True, slots=True)
class DeadlineTally:
    """Deadlines that came due: met, or missed."""

    met: int = 0
    missed: int = 0

    def __add__(self, other: DeadlineTally) -> DeadlineTally:
        return DeadlineTally(self.met + other.met, self.missed + other.missed)

    @property
    def share_met(self) -> float | None:
        total = self.met + self.missed
        return self.met / total if total else None


@dataclass(frozen=True, slots=True)
class FollowupTally:
    done: int
    done_on_time: int
    overdue: int  # created, past due, not done
    waiting: int  # created, not yet due
    on_hold: int
    cancelled: int


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: datetime
    since: datetime | None
    recoveries: int
    opened: Mapping[tuple[str, str], int]  # (source, severity) -> count
    first_contact: Durations
    cadence: DeadlineTally
    breaches: int
    resolution: Durations
    followups: FollowupTally
    reopened: int  # recoveries reopened at least once
    reopens: int  # reopen events in all
    given_up: int = 0  # complaints Jira refused a ticket for every time: in no other figure


#: Counts a recovery's deadlines that came due by ``now``: (recovery, its events, now).
CadenceJudge = Callable[[Recovery, Sequence[RecoveryEvent], datetime], DeadlineTally]


def promises_kept(
    recovery: Recovery, events: Sequence[RecoveryEvent], now: datetime
) -> DeadlineTally:
    """Deadlines from the events alone: each promised update, met by a client update in time.

    A promise still in the future and not yet met is not counted.
    """
    updates = sorted(e.at for e in events if e.kind == EventKind.CLIENT_UPDATE)
    met = missed = 0
    for event in events:
        if event.kind != EventKind.PROMISE:
            continue
        due = _parse_time(event.detail.get("due"))
        if due is None:
            continue
        kept = any(event.at < at <= due for at in updates)
        if kept:
            met += 1
        elif due <= now:
            missed += 1
    return DeadlineTally(met, missed)


#: The deadlines the cadence is made of; the resolution target is not an update owed.
CADENCE_CLOCKS = frozenset({ClockKind.FIRST_CONTACT, ClockKind.NEXT_UPDATE})


def sla_judge(
    policies: Mapping[str, Policy],
    calendars: Mapping[str, BusinessCalendar],
    warn_at: float = 0.75,
) -> CadenceJudge:
    """Deadlines as the SLA engine sets them: the severity's policy in its calendar."""

    def judge(recovery: Recovery, events: Sequence[RecoveryEvent], now: datetime) -> DeadlineTally:
        policy = policies.get(recovery.severity) or policies[max(policies)]
        return deadlines_met(events, policy, calendars[policy.calendar], now, warn_at)

    return judge


def deadlines_met(
    events: Sequence[RecoveryEvent],
    policy: Policy,
    calendar: BusinessCalendar,
    now: datetime,
    warn_at: float = 0.75,
) -> DeadlineTally:
    """Every first-contact and update deadline that came due by ``now``: met in time, or not.

    The SLA engine shows a recovery's clocks at one moment; replaying it after
    each event sees every deadline before the next one replaces it.
    """
    ordered = sorted((e for e in events if e.at <= now), key=lambda e: (e.at, e.id or 0))
    seen: dict[str, Clock] = {}
    kept: dict[str, bool] = {}
    for index, event in enumerate(ordered):
        clocks = {
            c.deadline_id: c
            for c in evaluate(ordered[: index + 1], policy, calendar, event.at, warn_at)
        }
        for deadline_id, clock in seen.items():
            if deadline_id not in clocks and deadline_id not in kept:
                # Replaced by this event (an update, a resolution): met now, if not already.
                kept[deadline_id] = _in_time(clock, event.at)
        seen.update(clocks)
    for clock in evaluate(ordered, policy, calendar, now, warn_at):
        if clock.deadline_id in kept:
            continue
        if clock.state == ClockState.MET:
            kept[clock.deadline_id] = clock.late_by is None
        elif clock.state == ClockState.BREACHED:
            kept[clock.deadline_id] = False
    chosen = [ok for deadline_id, ok in kept.items() if seen[deadline_id].kind in CADENCE_CLOCKS]
    met = sum(1 for ok in chosen if ok)
    return DeadlineTally(met, len(chosen) - met)


def _in_time(clock: Clock, met_at: datetime) -> bool:
    if clock.met_at is not None:
        return clock.late_by is None
    return met_at <= clock.deadline


def build_report(
    recoveries: Sequence[Recovery],
    events: Mapping[int, Sequence[RecoveryEvent]],
    followups: Sequence[Followup],
    now: datetime,
    *,
    since: datetime | None = None,
    cadence: CadenceJudge = promises_kept,
    breaches: Mapping[int, int] | None = None,
) -> Report:
    """The report over the recoveries opened since ``since`` (all when None).

    ``breaches`` counts the breach alerts per recovery; without it, missed deadlines count.
    """
    in_window = [r for r in recoveries if since is None or r.opened_at >= since]
    chosen = [r for r in in_window if r.state != GAVE_UP]
    ids = {r.id for r in chosen}
    opened: Counter[tuple[str, str]] = Counter((r.source_kind, r.severity) for r in chosen)

    to_contact: list[timedelta] = []
    to_resolve: list[timedelta] = []
    tally = DeadlineTally()
    reopens = 0
    reopened = 0
    for recovery in chosen:
        own = sorted(events.get(recovery.id, ()), key=lambda e: (e.at, e.id or 0))
        start = next((e.at for e in own if e.kind == EventKind.OPENED), recovery.opened_at)
        contact = next(
            (e.at for e in own if e.kind == EventKind.CLIENT_UPDATE and e.at >= start), None
        )
        if contact is not None:
            to_contact.append(contact - start)
        resolved = next((e.at for e in own if e.kind == EventKind.RESOLVED), None)
        resolved = resolved or recovery.resolved_at
        if resolved is not None:
            to_resolve.append(max(resolved - start, timedelta(0)))
        count = sum(1 for e in own if e.kind == EventKind.REOPENED) or recovery.reopen_count
        reopens += count
        reopened += 1 if count else 0
        tally += cadence(recovery, own, now)

    return Report(
        generated_at=now,
        since=since,
        recoveries=len(chosen),
        opened=dict(sorted(opened.items())),
        first_contact=_durations(to_contact, len(chosen)),
        cadence=tally,
        breaches=tally.missed if breaches is None else sum(breaches.get(i, 0) for i in ids),
        resolution=_durations(to_resolve, len(chosen)),
        followups=_followups([f for f in followups if f.recovery_id in ids], now),
        reopened=reopened,
        reopens=reopens,
        given_up=len(in_window) - len(chosen),
    )


def percentile(values: Sequence[timedelta], share: float) -> timedelta | None:
    """The nearest-rank percentile: the smallest value with ``share`` of the values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _durations(values: list[timedelta], total: int) -> Durations:
    return Durations(len(values), median(values), percentile(values, 0.9), total - len(values))


def median(values: Sequence[timedelta]) -> timedelta | None:
    """The middle value; the mean of the two middle ones for an even count."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _followups(followups: Sequence[Followup], now: datetime) -> FollowupTally:
    done = [f for f in followups if f.state == DONE]
    created = [f for f in followups if f.state == CREATED]
    return FollowupTally(
        done=len(done),
        done_on_time=sum(1 for f in done if f.done_at is not None and f.done_at.date() <= f.due),
        overdue=sum(1 for f in created if now.date() > f.due),
        waiting=sum(1 for f in created if now.date() <= f.due),
        on_hold=sum(1 for f in followups if f.state == ON_HOLD),
        cancelled=sum(1 for f in followups if f.state == CANCELLED),
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


# --- rendering --------------------------------------------------------------------------


def as_dict(report: Report) -> dict[str, Any]:
    """The report as plain data (durations in seconds), the JSON format."""
    result: dict[str, Any] = {
        "generated_at": report.generated_at.isoformat(),
        "since": report.since.isoformat() if report.since else None,
        "recoveries": report.recoveries,
        "opened": [
            {"source": source, "severity": severity, "count": count}
            for (source, severity), count in report.opened.items()
        ],
        "time_to_first_contact": _durations_dict(report.first_contact),
        "cadence": {
            "deadlines_met": report.cadence.met,
            "deadlines_missed": report.cadence.missed,
            "share_met": report.cadence.share_met,
        },
        "breaches": report.breaches,
        "time_to_resolution": _durations_dict(report.resolution),
        "followups": {
            "done": report.followups.done,
            "done_on_time": report.followups.done_on_time,
            "overdue": report.followups.overdue,
            "waiting": report.followups.waiting,
            "on_hold": report.followups.on_hold,
            "cancelled": report.followups.cancelled,
        },
        "reopened": {"recoveries": report.reopened, "reopens": report.reopens},
        "given_up": report.given_up,
    }
    if report.recoveries == 0:
        result["message"] = NO_RECOVERIES
    return result


def _durations_dict(durations: Durations) -> dict[str, Any]:
    return {
        "count": durations.count,
        "median_seconds": _seconds(durations.median),
        "p90_seconds": _seconds(durations.p90),
        "pending": durations.pending,
    }


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else round(value.total_seconds())


def to_json(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2)


def rows(report: Report) -> list[tuple[str, str, str]]:
    """The report as (section, measure, value) rows, durations in seconds: the CSV format."""
    out: list[tuple[str, str, str]] = [("recoveries", "total", str(report.recoveries))]
    out += [
        ("opened", f"{source}/{severity}", str(count))
        for (source, severity), count in report.opened.items()
    ]
    for section, durations in (
        ("time_to_first_contact", report.first_contact),
        ("time_to_resolution", report.resolution),
    ):
        out += [
            (section, "count", str(durations.count)),
            (section, "median_seconds", _cell(_seconds(durations.median))),
            (section, "p90_seconds", _cell(_seconds(durations.p90))),
            (section, "pending", str(durations.pending)),
        ]
    share = report.cadence.share_met
    out += [
        ("cadence", "deadlines_met", str(report.cadence.met)),
        ("cadence", "deadlines_missed", str(report.cadence.missed)),
        ("cadence", "share_met", "" if share is None else f"{share:.4f}"),
        ("breaches", "total", str(report.breaches)),
    ]
    f = report.followups
    out += [
        ("followups", "done", str(f.done)),
        ("followups", "done_on_time", str(f.done_on_time)),
        ("followups", "overdue", str(f.overdue)),
        ("followups", "waiting", str(f.waiting)),
        ("followups", "on_hold", str(f.on_hold)),
        ("followups", "cancelled", str(f.cancelled)),
        ("reopened", "recoveries", str(report.reopened)),
        ("reopened", "reopens", str(report.reopens)),
        ("given_up", "recoveries", str(report.given_up)),
    ]
    return out


def _cell(value: int | None) -> str:
    return "" if value is None else str(value)


def to_csv(report: Report) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("section", "measure", "value"))
    writer.writerows(rows(report))
    return buffer.getvalue()


def to_table(report: Report) -> str:
    """A report a person reads in a terminal."""
    scope = f"since {report.since.date().isoformat()}" if report.since else "all time"
    head = f"Recovery report, {scope} (as of {report.generated_at:%Y-%m-%d %H:%M} UTC)"
    if report.recoveries == 0:
        return f"{head}\n\n{NO_RECOVERIES}.\n"
    f = report.followups
    share = report.cadence.share_met
    lines = [head, ""]
    lines.append(f"Recoveries opened: {report.recoveries}")
    width = max(len(source) for source, _ in report.opened)
    lines += [
        f"  {source:<{width}}  {severity}  {count:>5}"
        for (source, severity), count in report.opened.items()
    ]
    lines += [
        "",
        _durations_line("Time to first contact", report.first_contact, "not contacted yet"),
        _durations_line("Time to resolution   ", report.resolution, "not resolved yet"),
        "",
        "Cadence kept:          "
        + ("no deadline came due yet" if share is None else f"{share:.0%}")
        + f" ({report.cadence.met} met, {report.cadence.missed} missed)",
        f"Breaches:              {report.breaches}",
        f"Follow-ups done:       {f.done} ({f.done_on_time} on time); "
        f"{f.overdue} overdue, {f.waiting} not yet due, {f.on_hold} on hold, "
        f"{f.cancelled} cancelled",
        f"Recoveries reopened:   {report.reopened} ({report.reopens} reopens)",
    ]
    if report.given_up:
        lines.append(f"Given up (no ticket):  {report.given_up}; see recovery.given_up in the log")
    return "\n".join(lines) + "\n"


def _durations_line(title: str, durations: Durations, pending: str) -> str:
    if durations.count == 0:
        return f"{title}  none yet ({durations.pending} {pending})"
    return (
        f"{title}  median {_human(durations.median)}, 90th percentile "
        f"{_human(durations.p90)} ({durations.count} recoveries, {durations.pending} {pending})"
    )


def _human(value: timedelta | None) -> str:
    """A duration as people say it: 45m, 3h 20m, 2d 4h."""
    if value is None:
        return ""
    minutes = round(value.total_seconds() / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"
