"""Slack incoming webhooks: a text fallback and one mrkdwn section."""

from __future__ import annotations

import json

from worker.alerts.base import HttpChannel
from worker.core.alerting import Alert, AlertKind

_ICONS = {
    AlertKind.WARNING: ":warning:",
    AlertKind.BREACH: ":rotating_light:",
    AlertKind.REMINDER: ":rotating_light:",
    AlertKind.ESCALATION: ":sos:",
}


def escape(text: str) -> str:
    """Slack's three control characters, so outside text cannot make links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(alert: Alert) -> dict[str, object]:
    text = f"{_ICONS[alert.kind]} {escape(alert.text)}"
    summary = alert.subject.summary[:300]
    blocks: list[dict[str, object]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    ]
    if summary:
        blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": summary}]})
    return {"text": escape(alert.text), "blocks": blocks}


class SlackChannel(HttpChannel):
    name = "slack"
    what = "slack webhook"

    def send(self, alert: Alert) -> str:
        self._post(json.dumps(slack_body(alert)).encode("utf-8"), self._clock.now())
        return ""
