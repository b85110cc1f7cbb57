"""Secrets echoed back by an error page (a webhook's path, Basic credentials) never reach a log,
an alert or `check` in any form."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from tests.alerts.test_channels import make_alert
from worker.alerts.base import AlertKind
from worker.alerts.teams import TeamsChannel
from worker.cli import main
from worker.clock import FrozenClock
from worker.errors import RequestRejected
from worker.logs import REDACTED, SecretRedactor
from worker.settings import AlertSettings, ImapSettings, JiraSettings, Settings

TOKEN_PATH = "/webhookb2/0f3c5e7a-1b2d-4c6e-8f90-a1b2c3d4e5f6/IncomingWebhook/9d8c7b6a5f4e"


class EchoingHandler(BaseHTTPRequestHandler):
    """An error page that repeats the request path and headers, as some proxies do."""

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = f"400 Bad Request\n{self.headers}{self.path}".encode()
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def echoing() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), EchoingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_echoed_webhook_path_is_redacted(echoing: str) -> None:
    url = echoing + TOKEN_PATH
    channel = TeamsChannel(url, FrozenClock(datetime(2026, 3, 2, tzinfo=UTC)), timedelta(seconds=5))
    with pytest.raises(RequestRejected) as refused:
        channel.send(make_alert(AlertKind.BREACH))
    text = str(refused.value)
    assert "[redact" in text  # the page did echo the path: redacted before it was cut
    assert "0f3c5e7a" not in text
    assert "9d8c7b6a5f4e" not in text


def test_basic_credentials_and_encoded_forms_are_known_secrets() -> None:
    settings = Settings(
        jira=JiraSettings(email="bot@acme.example", api_token=SecretStr("tok-3141592653")),
        imap=ImapSettings(username="support", password=SecretStr("pa ss/w0rd!")),
        alerts=AlertSettings(teams_webhook_url=SecretStr("https://t.example" + TOKEN_PATH)),
    )
    redactor = SecretRedactor(settings.secret_values())
    basic = base64.b64encode(b"bot@acme.example:tok-3141592653").decode()
    plain = base64.b64encode(b"\0support\0pa ss/w0rd!").decode()
    echoed = (
        f"Authorization: Basic {basic}\nAUTHENTICATE PLAIN {plain}\n"
        f"password={quote('pa ss/w0rd!', safe='')}\nPOST {TOKEN_PATH} HTTP/1.1"
    )
    cleaned = redactor._clean(echoed)
    for leaked in (basic, plain, quote("pa ss/w0rd!", safe=""), "9d8c7b6a5f4e", "tok-3141592653"):
        assert leaked not in cleaned


def test_check_prints_no_echoed_credentials(
    echoing: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__URL", echoing)
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__EMAIL", "bot@acme.example")
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__API_TOKEN", "tok-3141592653")
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__DIALECT", "cloud")
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    basic = base64.b64encode(b"bot@acme.example:tok-3141592653").decode()
    assert REDACTED in out, out  # the page did echo the credentials
    assert basic not in out
    assert "tok-3141592653" not in out
