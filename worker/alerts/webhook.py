"""The generic JSON webhook: a documented body, signed with HMAC-SHA256 over timestamp and body.

Headers: ``X-Recovery-Worker-Timestamp`` (Unix seconds) and
``X-Recovery-Worker-Signature: sha256=<hex>``, the HMAC-SHA256 with the shared
secret of ``<timestamp>.<body>``. Receivers recompute it over the raw body,
compare in constant time, and refuse timestamps older than a few minutes.
The body's schema is in docs/sla.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import requests

from worker.alerts.base import HttpChannel, alert_payload
from worker.clock import Clock
from worker.core.alerting import Alert

SCHEMA = "recovery-worker.alert/1"
TIMESTAMP_HEADER = "X-Recovery-Worker-Timestamp"
SIGNATURE_HEADER = "X-Recovery-Worker-Signature"


def webhook_body(alert: Alert, sent_at: datetime) -> dict[str, object]:
    return {
        "schema": SCHEMA,
        "id": f"{alert.deadline_id}/{alert.key}",
        **alert_payload(alert),
        "sent_at": sent_at.isoformat(),
    }


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for this timestamp and body."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    secret: bytes,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: datetime,
    tolerance: int = 300,
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookChannel(HttpChannel):
    name = "webhook"
    what = "alert webhook"

    def __init__(
        self,
        url: str,
        secret: bytes | None,
        clock: Clock,
        timeout: timedelta,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(url, clock, timeout, session)
        self._secret = secret

    def send(self, alert: Alert) -> str:
        now = self._clock.now()
        body = json.dumps(webhook_body(alert, now), separators=(",", ":")).encode("utf-8")
        timestamp = str(int(now.timestamp()))
        headers = {TIMESTAMP_HEADER: timestamp}
        if self._secret:
            headers[SIGNATURE_HEADER] = sign(self._secret, timestamp, body)
        self._post(body, now, headers)
        return ""
