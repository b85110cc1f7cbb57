"""Microsoft Teams incoming webhooks (Workflows): a message with one Adaptive Card."""

from __future__ import annotations

import json

from worker.alerts.base import HttpChannel
from worker.core.alerting import Alert, AlertKind

_TITLES = {
    AlertKind.WARNING: "SLA warning",
    AlertKind.BREACH: "SLA breached",
    AlertKind.REMINDER: "SLA still breached",
    AlertKind.ESCALATION: "SLA escalation",
}


def teams_body(alert: Alert) -> dict[str, object]:
    color = "Warning" if alert.kind is AlertKind.WARNING else "Attention"
    facts = [
        {"title": "Recovery", "value": alert.jira_key or str(alert.recovery_id)},
        {"title": "Severity", "value": alert.severity},
        {"title": "Deadline", "value": alert.deadline.strftime("%Y-%m-%d %H:%M UTC")},
    ]
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": _TITLES[alert.kind],
                "weight": "Bolder",
                "size": "Medium",
                "color": color,
            },
            # Plain text: Teams would read Markdown in it, so it goes in as written, not styled.
            {"type": "TextBlock", "text": alert.text, "wrap": True},
            {"type": "FactSet", "facts": facts},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


class TeamsChannel(HttpChannel):
    name = "teams"
    what = "teams webhook"

    def send(self, alert: Alert) -> str:
        self._post(json.dumps(teams_body(alert)).encode("utf-8"), self._clock.now())
        return ""
