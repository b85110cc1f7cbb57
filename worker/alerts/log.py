"""Alerts as structured log events: sla.warning, sla.breached, sla.reminded, sla.escalated."""

from __future__ import annotations

from worker.core.alerting import Alert, AlertKind
from worker.logs import get_logger

log = get_logger()


class LogChannel:
    """Always on: every alert is also a log event ops can ship anywhere."""

    name = "log"

    def send(self, alert: Alert) -> str:
        fields = {
            "recovery_id": alert.recovery_id,
            "jira_key": alert.jira_key,
            "severity": alert.severity,
            "clock": str(alert.clock),
            "deadline_id": alert.deadline_id,
            "deadline": alert.deadline.isoformat(),
            "late_by_seconds": int(alert.late_by.total_seconds()),
        }
        if alert.kind is AlertKind.WARNING:
            log.warning("sla.warning", **fields)
        elif alert.kind is AlertKind.BREACH:
            log.error("sla.breached", **fields)
        elif alert.kind is AlertKind.REMINDER:
            log.error("sla.reminded", reminder=alert.key, **fields)
        else:
            log.error("sla.escalated", breaches=alert.breaches, **fields)
        return ""
