"""Which alerts are due: a pure function of clocks, the alerts already sent, the rules and ``now``.

Every alert is named by its deadline and a key (``warning``, ``breach``,
``reminder:<n>``, ``escalation``), so it goes out once per deadline whatever
the number of sweeps, restarts or crashes. A deadline missed while the worker
was down is alerted with how late it is; only the latest reminder is sent, not
the ones missed meanwhile.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from worker.core.sla import Clock, ClockKind, ClockState


class AlertKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"
    REMINDER = "reminder"
    ESCALATION = "escalation"


@dataclass(frozen=True, slots=True)
class Rules:
    """When to alert: a warning before the deadline, reminders while late, escalation at K."""

    remind_every: timedelta = timedelta(hours=1)
    escalate_after: int = 3
    #: Reminders of one breached deadline; after the last, escalation and the breach label
    #: carry it (an ops channel is not paged every hour for a week).
    max_reminders: int = 6


@dataclass(frozen=True, slots=True)
class Subject:
    """The recovery an alert is about."""

    recovery_id: int
    severity: str
    jira_key: str | None = None
    owner: str = ""
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert, the same for every channel; ``key`` names it within its deadline."""

    kind: AlertKind
    key: str
    deadline_id: str
    clock: ClockKind
    subject: Subject
    deadline: datetime
    late_by: timedelta
    breaches: int
    text: str

    @property
    def recovery_id(self) -> int:
        return self.subject.recovery_id

    @property
    def severity(self) -> str:
        return self.subject.severity

    @property
    def jira_key(self) -> str | None:
        return self.subject.jira_key


#: (deadline id, alert key) pairs already decided for a recovery.
Sent = Collection[tuple[str, str]]


def due_alerts(
    subject: Subject, clocks: Iterable[Clock], sent: Sent, rules: Rules, now: datetime
) -> list[Alert]:
    """The alerts to send now, in deadline order; none already in ``sent``."""
    breached_ids = {deadline_id for deadline_id, key in sent if key == AlertKind.BREACH}
    escalated = any(key == AlertKind.ESCALATION for _, key in sent)
    result: list[Alert] = []
    for clock in sorted(clocks, key=lambda c: c.deadline):

        def make(kind: AlertKind, key: str, breaches: int, clock: Clock = clock) -> Alert:
            late = now - clock.deadline if now > clock.deadline else timedelta(0)
            return Alert(
                kind=kind,
                key=key,
                deadline_id=clock.deadline_id,
                clock=clock.kind,
                subject=subject,
                deadline=clock.deadline,
                late_by=late,
                breaches=breaches,
                text=describe(kind, clock, subject, late, breaches),
            )

        if clock.state is ClockState.WARNING:
            if (clock.deadline_id, AlertKind.WARNING) not in sent:
                result.append(make(AlertKind.WARNING, AlertKind.WARNING, len(breached_ids)))
        elif clock.state is ClockState.BREACHED:
            if (clock.deadline_id, AlertKind.BREACH) not in sent:
                breached_ids.add(clock.deadline_id)
                result.append(make(AlertKind.BREACH, AlertKind.BREACH, len(breached_ids)))
                if not escalated and len(breached_ids) >= rules.escalate_after:
                    escalated = True
                    result.append(
                        make(AlertKind.ESCALATION, AlertKind.ESCALATION, len(breached_ids))
                    )
                continue
            number = reminder_number(clock, rules, now)
            key = f"{AlertKind.REMINDER}:{number}"
            if 1 <= number <= rules.max_reminders and (clock.deadline_id, key) not in sent:
                result.append(make(AlertKind.REMINDER, key, len(breached_ids)))
    return result


def reminder_number(clock: Clock, rules: Rules, now: datetime) -> int:
    """How many reminder intervals have passed since the deadline (0 before the first)."""
    if now <= clock.deadline or rules.remind_every <= timedelta(0):
        return 0
    return int((now - clock.deadline) / rules.remind_every)


def next_check(clocks: Iterable[Clock], rules: Rules, now: datetime) -> datetime | None:
    """The earliest moment after ``now`` at which a clock may need a new alert."""
    moments: list[datetime] = []
    for clock in clocks:
        if not clock.running:
            continue
        if now < clock.warn_at:
            moments.append(clock.warn_at)
        elif now < clock.deadline:
            moments.append(clock.deadline)
        elif rules.remind_every > timedelta(0) and (
            reminder_number(clock, rules, now) < rules.max_reminders
        ):
            moments.append(
                clock.deadline + rules.remind_every * (reminder_number(clock, rules, now) + 1)
            )
    return min(moments) if moments else None


_CLOCK_NAMES = {
    ClockKind.FIRST_CONTACT: "first contact",
    ClockKind.NEXT_UPDATE: "client update",
    ClockKind.RESOLUTION: "resolution",
}


def describe(
    kind: AlertKind, clock: Clock, subject: Subject, late_by: timedelta, breaches: int
) -> str:
    """One plain sentence for people: what is due, for which recovery, and how late."""
    what = _CLOCK_NAMES[clock.kind]
    ticket = subject.jira_key or f"recovery {subject.recovery_id}"
    due = clock.deadline.strftime("%Y-%m-%d %H:%M UTC")
    if kind is AlertKind.WARNING:
        return f"SLA warning: {what} for {ticket} ({subject.severity}) is due {due}."
    late = format_duration(late_by)
    if kind is AlertKind.ESCALATION:
        return (
            f"SLA escalation: {ticket} ({subject.severity}) has missed {breaches} deadlines; "
            f"the latest, {what}, was due {due} and is {late} late."
        )
    prefix = "SLA breached" if kind is AlertKind.BREACH else "SLA still breached"
    return f"{prefix}: {what} for {ticket} ({subject.severity}) was due {due}, {late} late."


def format_duration(value: timedelta) -> str:
    """``"2 h 5 min"``, ``"40 min"``, ``"3 d 1 h"``, ``"0 min"``."""
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
