"""The signed webhook received by a real HTTP server that verifies it as a receiver would."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.alerts.test_channels import make_alert
from worker.alerts.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookChannel, verify
from worker.clock import FrozenClock
from worker.errors import RequestRejected, ServerUnavailable

SECRET = b"shared-secret"


@dataclass
class Receiver:
    url: str
    received: list[dict[str, object]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)
    fail_next: int = 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.fail_next:
                state.fail_next -= 1
                self.send_response(503)
                self.end_headers()
                return
            ok = verify(
                SECRET,
                self.headers.get(TIMESTAMP_HEADER, ""),
                body,
                self.headers.get(SIGNATURE_HEADER, ""),
                now=datetime.now(UTC),
            )
            state.verified.append(ok)
            state.received.append(json.loads(body))
            self.send_response(204 if ok else 401)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/sla"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_receiver_verifies_the_signature(receiver: Receiver) -> None:
    """A real server recomputes the HMAC over the raw body and accepts it."""
    clock = FrozenClock(datetime.now(UTC))
    WebhookChannel(receiver.url, SECRET, clock, timedelta(seconds=5)).send(make_alert())
    assert receiver.verified == [True]
    assert receiver.received[0]["id"] == "7:first_contact:0/breach"


def test_wrong_key_is_refused_by_the_receiver(receiver: Receiver) -> None:
    """Signed with another key, the receiver answers 401 and the channel reports it."""
    clock = FrozenClock(datetime.now(UTC))
    with pytest.raises(RequestRejected, match="HTTP 401"):
        WebhookChannel(receiver.url, b"wrong", clock, timedelta(seconds=5)).send(make_alert())
    assert receiver.verified == [False]


def test_server_error_is_transient(receiver: Receiver) -> None:
    """A 503 is a transient failure the sweep retries; the next attempt goes through."""
    receiver.fail_next = 1
    channel = WebhookChannel(
        receiver.url, SECRET, FrozenClock(datetime.now(UTC)), timedelta(seconds=5)
    )
    with pytest.raises(ServerUnavailable):
        channel.send(make_alert())
    channel.send(make_alert())
    assert receiver.verified == [True]
