"""The signed webhook received by a real HTTP server that verifies it as a receiver would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tests.alerts.test_channels import make_alert
from tests.support.webhooks import Delivery, WebhookReceiver
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
    """A receiver that verifies each signature as a real one would, and can fail on demand."""
    state = Receiver(url="")

    def answer(delivery: Delivery) -> int:
        if state.fail_next:
            state.fail_next -= 1
            return 503
        headers = {k.lower(): v for k, v in delivery.headers.items()}
        ok = verify(
            SECRET,
            headers.get(TIMESTAMP_HEADER.lower(), ""),
            delivery.body,
            headers.get(SIGNATURE_HEADER.lower(), ""),
            now=datetime.now(UTC),
        )
        state.verified.append(ok)
        state.received.append(delivery.json())
        return 204 if ok else 401

    server = WebhookReceiver(answer, path="/hooks/sla")
    state.url = server.url
    yield state
    server.close()


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
