"""Follow-up alerts: an overdue follow-up call, a recovery resolved without its root cause.

Each is raised once per follow-up round or resolution (:func:`alert_once`, through the
ledger), logged, and sent on the outside alert channels like an SLA alert: planned once
per channel, sent at once, a failing channel retried by the SLA sweep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from worker.alerts.base import Channel
from worker.core.alerting import Alert, AlertKind, Subject
from worker.core.sla import ClockKind
from worker.logs import get_logger
from worker.outbox.alerts import AlertOutbox
from worker.outbox.writes import Outbox, Write

log = get_logger()

ROOT_CAUSE_MISSING = "root_cause.missing"
FOLLOWUP_OVERDUE = "followup.overdue"

#: Channels that follow-up alerts skip: the follow-up steps write their own Jira comments
#: and log events.
OWN_CHANNELS = frozenset({"jira", "log"})


@dataclass(frozen=True, slots=True)
class FollowupAlert:
    """Something ops and the point of contact should hear about."""

    kind: str  # FOLLOWUP_OVERDUE or ROOT_CAUSE_MISSING
    recovery_id: int
    recovery_key: str
    severity: str
    message: str
    deadline_id: str
    deadline: datetime
    late_by: timedelta = timedelta(0)
    owner: str = ""
    summary: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


class AlertSink(Protocol):
    """Where follow-up alerts go."""

    def send(self, alert: FollowupAlert) -> None: ...


class DeliversAlerts(Protocol):
    """What sending follow-up alerts needs of the steps' services."""

    @property
    def alert_outbox(self) -> AlertOutbox: ...


class ChannelAlerts:
    """Alerts as a log event, then through the configured alert channels (Slack, Teams, webhook).

    An overdue follow-up goes out as a missed update (a breach); a missing root cause as a
    warning. Each is planned once per channel in the store and delivered like an SLA alert:
    sent at once, a failing channel retried by the SLA sweep until it gets through or is
    given up, never blocking the others.
    """

    def __init__(self, channels: Sequence[Channel], services: DeliversAlerts) -> None:
        self.channels = tuple(channels)
        self._services = services

    def send(self, alert: FollowupAlert) -> None:
        outbox = self._services.alert_outbox
        log.warning(
            FOLLOWUP_OVERDUE if alert.kind == FOLLOWUP_OVERDUE else ROOT_CAUSE_MISSING,
            recovery_id=alert.recovery_id,
            key=alert.recovery_key,
            severity=alert.severity,
            message=alert.message,
            **dict(alert.detail),
        )
        outbox.metrics.alerts.labels(kind=alert.kind, severity=alert.severity).inc()
        outbox.send_now(channel_alert(alert), self.channels, step="followups")


def outside_channels(channels: Sequence[Channel]) -> list[Channel]:
    """The channels follow-up alerts go to: all but those the follow-up steps do themselves."""
    return [c for c in channels if c.name not in OWN_CHANNELS]


def channel_alert(alert: FollowupAlert) -> Alert:
    """The follow-up alert in the shape every alert channel takes."""
    overdue = alert.kind == FOLLOWUP_OVERDUE
    kind = AlertKind.BREACH if overdue else AlertKind.WARNING
    return Alert(
        kind=kind,
        key=str(kind),
        deadline_id=alert.deadline_id,
        clock=ClockKind.NEXT_UPDATE if overdue else ClockKind.RESOLUTION,
        subject=Subject(
            recovery_id=alert.recovery_id,
            severity=alert.severity,
            jira_key=alert.recovery_key or None,
            owner=alert.owner,
            summary=alert.summary,
        ),
        deadline=alert.deadline,
        late_by=alert.late_by,
        breaches=0,
        text=alert.message,
    )


def alert_once(outbox: Outbox, sink: AlertSink, key: str, alert: FollowupAlert) -> None:
    """Send the alert unless the ledger says write ``key`` went out.

    No search and no wait before a second send (after a failure, or a crash before the send
    was recorded): :class:`ChannelAlerts` plans each alert once per channel, so no channel
    gets it twice.
    """

    def send() -> str:
        sink.send(alert)
        return alert.kind

    outbox.make(
        Write(
            key,
            "followup.alert",
            send=send,
            find=lambda: None,
            recovery_id=alert.recovery_id,
            idempotent=True,
        )
    )
