"""XOAUTH2 end to end: tokens from a local OAuth2 server, checked by Dovecot's oauth2 passdb."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr

from tests.support.dovecot import USER, Dovecot, make_message, plain_settings, start_dovecot
from worker.clock import FrozenClock
from worker.errors import AuthenticationFailed
from worker.mail.imap import ImapInbox

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Issuer:
    """Issues tokens at /token and answers Dovecot's introspection at /introspect."""

    server: ThreadingHTTPServer
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    introspected: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, path: str, form: dict[str, list[str]]) -> dict[str, Any]:
        if path == "/token":
            token = f"issued-{len(self.issued) + 1}"
            self.issued.append(token)
            return {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        token = form.get("token", [""])[0]
        self.introspected.append(token)
        active = token in self.issued and token not in self.revoked
        return {"active": True, "username": USER} if active else {"active": False}


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    holder: dict[str, Issuer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            body = json.dumps(holder["issuer"].handle(self.path, form)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["issuer"] = Issuer(server)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield holder["issuer"]
    server.shutdown()
    server.server_close()


@pytest.fixture
def oauth_dovecot(issuer: Issuer) -> Iterator[Dovecot]:
    server = start_dovecot(oauth2_introspection_url=f"{issuer.base}/introspect")
    yield server
    server.cleanup()


def xoauth2_inbox(server: Dovecot, issuer: Issuer, clock: FrozenClock) -> ImapInbox:
    settings = plain_settings(
        server,
        auth="xoauth2",
        password=None,
        oauth2_token_url=f"{issuer.base}/token",
        oauth2_client_id="recovery-worker",
        oauth2_client_secret=SecretStr("client-secret"),
        oauth2_scope="https://outlook.office365.com/.default",
    )
    return ImapInbox.from_settings(settings, clock)


def test_xoauth2_login_reads_mail(oauth_dovecot: Dovecot, issuer: Issuer) -> None:
    """A client-credentials token logs in over XOAUTH2 and the inbox reads mail."""
    uid = oauth_dovecot.append(make_message("Token login"))
    inbox = xoauth2_inbox(oauth_dovecot, issuer, FrozenClock(START))
    try:
        assert [m.uid for m in inbox.fetch_since("INBOX", 0, limit=10)] == [uid]
    finally:
        inbox.close()

    assert issuer.issued == ["issued-1"]
    assert issuer.introspected == ["issued-1"]
    assert "method=XOAUTH2" in oauth_dovecot.log_tail(50)


def test_revoked_token_is_replaced_once(oauth_dovecot: Dovecot, issuer: Issuer) -> None:
    """A token refused by the server is dropped and a fresh one is fetched for the next login."""
    clock = FrozenClock(START)
    inbox = xoauth2_inbox(oauth_dovecot, issuer, clock)
    try:
        inbox.connect()
        inbox.close()
        issuer.revoked.add("issued-1")

        inbox.connect()

        assert inbox.connected
        assert issuer.issued == ["issued-1", "issued-2"]
        assert issuer.introspected == ["issued-1", "issued-1", "issued-2"]
    finally:
        inbox.close()


def test_token_refreshed_before_expiry_across_reconnects(
    oauth_dovecot: Dovecot, issuer: Issuer
) -> None:
    """A reconnect close to the token's expiry logs in with a new token, not the old one."""
    clock = FrozenClock(START)
    inbox = xoauth2_inbox(oauth_dovecot, issuer, clock)
    try:
        inbox.connect()
        inbox.close()
        clock.advance(timedelta(minutes=56))
        inbox.connect()
    finally:
        inbox.close()

    assert issuer.introspected == ["issued-1", "issued-2"]


def test_always_refused_token_is_an_authentication_failure(
    oauth_dovecot: Dovecot, issuer: Issuer
) -> None:
    """When even a fresh token is refused, the login fails for good."""
    issuer.revoked.update({"issued-1", "issued-2"})
    inbox = xoauth2_inbox(oauth_dovecot, issuer, FrozenClock(START))

    with pytest.raises(AuthenticationFailed, match="XOAUTH2"):
        inbox.connect()
    assert len(issuer.issued) == 2
