"""Slack incoming webhooks: a text fallback and one mrkdwn section."""

from __future__ import annotations

import json
from datetime import timedelta

import requests

from worker.alerts.base import post
from worker.clock import Clock
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


class SlackChannel:
    name = "slack"

    def __init__(
        self, url: str, clock: Clock, timeout: timedelta, session: requests.Session | None = None
    ) -> None:
        self._url = url
        self._clock = clock
        self._timeout = timeout.total_seconds()
        self._session = session or requests.Session()

    def send(self, alert: Alert) -> str:
        body = json.dumps(slack_body(alert)).encode("utf-8")
        post(
            self._session,
            self._url,
            body,
            headers={},
            timeout=self._timeout,
            now=self._clock.now(),
            what="slack webhook",
        )
        return ""
