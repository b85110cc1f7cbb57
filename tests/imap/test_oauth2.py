"""XOAUTH2 token sources: a file, a command, and client credentials against a local HTTP server."""

from __future__ import annotations

import io
import json
import shlex
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr

from tests.support.dovecot import free_port
from worker.clock import FrozenClock
from worker.errors import AuthenticationFailed, ConfigurationError, TokenUnavailable
from worker.logs import configure_logging, get_logger
from worker.mail.oauth2 import (
    ClientCredentialsToken,
    CommandToken,
    FileToken,
    token_provider,
)
from worker.settings import ImapSettings

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class TokenEndpoint:
    """A tiny OAuth2 token endpoint: issues numbered tokens, records every request."""

    server: ThreadingHTTPServer
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    status: int = 200
    expires_in: int = 3600
    hang: threading.Event | None = None
    retry_after: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def reply(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        self.requests.append(form)
        if self.hang is not None:
            self.hang.wait(10)
        if form.get("client_secret") != ["s3cret-value"]:
            return 401, {"error": "invalid_client", "error_description": "bad secret"}
        if self.status != 200:
            return self.status, {"error": "temporarily_unavailable"}
        return 200, {
            "access_token": f"token-{len(self.requests)}",
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }


@pytest.fixture
def endpoint() -> Iterator[TokenEndpoint]:
    state: dict[str, TokenEndpoint] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            status, payload = state["endpoint"].reply(form)
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if state["endpoint"].retry_after is not None:
                self.send_header("Retry-After", state["endpoint"].retry_after)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["endpoint"] = TokenEndpoint(server)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state["endpoint"]
    if state["endpoint"].hang is not None:
        state["endpoint"].hang.set()
    server.shutdown()
    server.server_close()


def provider(endpoint: TokenEndpoint, clock: FrozenClock, **kwargs: Any) -> ClientCredentialsToken:
    return ClientCredentialsToken(
        endpoint.url,
        "client-id",
        kwargs.pop("secret", "s3cret-value"),
        "https://outlook.office365.com/.default",
        clock,
        **kwargs,
    )


def test_client_credentials_token_is_cached_then_refreshed_before_expiry(
    endpoint: TokenEndpoint,
) -> None:
    """One request per token lifetime; a new token five minutes before the old one expires."""
    clock = FrozenClock(START)
    tokens = provider(endpoint, clock)

    first = tokens.token()
    clock.advance(timedelta(minutes=54))
    again = tokens.token()
    clock.advance(timedelta(minutes=1, seconds=1))
    refreshed = tokens.token()

    assert (first, again, refreshed) == ("token-1", "token-1", "token-2")
    assert len(endpoint.requests) == 2
    form = endpoint.requests[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_id"] == ["client-id"]
    assert form["scope"] == ["https://outlook.office365.com/.default"]


def test_short_lived_token_is_refreshed_at_half_its_life(endpoint: TokenEndpoint) -> None:
    """A token valid for two minutes is renewed after one, not on every login."""
    endpoint.expires_in = 120
    clock = FrozenClock(START)
    tokens = provider(endpoint, clock)

    tokens.token()
    clock.advance(timedelta(seconds=59))
    tokens.token()
    clock.advance(timedelta(seconds=2))
    tokens.token()

    assert len(endpoint.requests) == 2


def test_invalidated_token_is_fetched_again(endpoint: TokenEndpoint) -> None:
    """After the IMAP server refuses a token, the next login gets a new one."""
    clock = FrozenClock(START)
    tokens = provider(endpoint, clock)

    tokens.token()
    tokens.invalidate()

    assert tokens.token() == "token-2"


def test_refused_client_is_an_authentication_failure(endpoint: TokenEndpoint) -> None:
    """A wrong client secret is permanent, and the secret is not in the message."""
    tokens = provider(endpoint, FrozenClock(START), secret="wrong-secret-value")

    with pytest.raises(AuthenticationFailed, match="invalid_client") as raised:
        tokens.token()
    assert "wrong-secret-value" not in str(raised.value)


def test_endpoint_trouble_is_transient(endpoint: TokenEndpoint) -> None:
    """A 503 from the token endpoint is TokenUnavailable, to be retried later."""
    endpoint.status = 503

    with pytest.raises(TokenUnavailable, match="503"):
        provider(endpoint, FrozenClock(START)).token()


@pytest.mark.parametrize(
    ("header", "wait"),
    [("120", 120.0), ("Mon, 02 Mar 2026 09:05:00 GMT", 300.0), ("soon", None)],
)
def test_endpoint_retry_after_is_read_in_both_forms(
    endpoint: TokenEndpoint, header: str, wait: float | None
) -> None:
    """Retry-After in seconds or as an HTTP date (read against the clock) is the wait asked."""
    endpoint.status = 503
    endpoint.retry_after = header

    with pytest.raises(TokenUnavailable) as raised:
        provider(endpoint, FrozenClock(START)).token()
    assert raised.value.retry_after == wait


def test_endpoint_that_hangs_times_out(endpoint: TokenEndpoint) -> None:
    """A token endpoint that never answers is given up on after the read timeout."""
    endpoint.hang = threading.Event()
    tokens = provider(endpoint, FrozenClock(START), read_timeout=timedelta(seconds=0.3))

    with pytest.raises(TokenUnavailable, match="timed out"):
        tokens.token()


def test_endpoint_that_is_down_is_transient() -> None:
    """Nothing listening at the token URL is TokenUnavailable."""
    tokens = ClientCredentialsToken(
        f"http://127.0.0.1:{free_port()}/token", "id", "secret", "", FrozenClock(START)
    )

    with pytest.raises(TokenUnavailable, match="unreachable"):
        tokens.token()


def test_tokens_never_reach_the_logs(endpoint: TokenEndpoint) -> None:
    """A token obtained at run time is redacted from every later log line."""
    stream = io.StringIO()
    configure_logging("info", "json", stream)
    token = provider(endpoint, FrozenClock(START)).token()

    get_logger().info("imap.debug", detail=f"auth=Bearer {token}")

    text = stream.getvalue()
    assert "imap.debug" in text
    assert token not in text


def test_file_token_is_read_on_every_call(tmp_path: Path) -> None:
    """A token file rotated by another process is picked up without a restart."""
    path = tmp_path / "token"
    path.write_text("ya29.first\n")
    tokens = FileToken(path)

    first = tokens.token()
    path.write_text("ya29.second\n")

    assert (first, tokens.token()) == ("ya29.first", "ya29.second")


def test_missing_or_empty_token_file_is_transient(tmp_path: Path) -> None:
    """No token yet is a wait-and-retry, not a crash."""
    path = tmp_path / "token"
    with pytest.raises(TokenUnavailable, match="cannot read"):
        FileToken(path).token()
    path.write_text("  \n")
    with pytest.raises(TokenUnavailable, match="empty"):
        FileToken(path).token()


def python_command(code: str) -> str:
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def test_command_token_is_cached_for_a_while(tmp_path: Path) -> None:
    """The command runs once per cache period, and again after invalidate()."""
    counter = tmp_path / "runs"
    code = (
        f"import pathlib; p = pathlib.Path({str(counter)!r}); "
        "n = int(p.read_text()) + 1 if p.exists() else 1; "
        "p.write_text(str(n)); print(f'cmd-token-{n}')"
    )
    clock = FrozenClock(START)
    tokens = CommandToken(python_command(code), clock, cache_for=timedelta(minutes=5))

    values = [tokens.token(), tokens.token()]
    clock.advance(timedelta(minutes=5, seconds=1))
    values.append(tokens.token())
    tokens.invalidate()
    values.append(tokens.token())

    assert values == ["cmd-token-1", "cmd-token-1", "cmd-token-2", "cmd-token-3"]


def test_command_printing_json_sets_the_expiry() -> None:
    """A command printing access_token and expires_in is trusted for that long, less a margin."""
    code = "import json; print(json.dumps({'access_token': 'json-token', 'expires_in': 600}))"
    clock = FrozenClock(START)
    tokens = CommandToken(python_command(code), clock, cache_for=timedelta(hours=5))

    assert tokens.token() == "json-token"
    clock.advance(timedelta(minutes=4))
    assert tokens._current is not None
    assert tokens._current.fresh(clock.now(), timedelta(0))
    clock.advance(timedelta(minutes=2))
    assert not tokens._current.fresh(clock.now(), timedelta(0))


def test_failing_or_slow_command_is_transient() -> None:
    """A command that fails or outlives its timeout raises TokenUnavailable."""
    failing = CommandToken(python_command("import sys; sys.exit('no session')"), FrozenClock(START))
    with pytest.raises(TokenUnavailable, match="no session"):
        failing.token()

    slow = CommandToken(
        python_command("import time; time.sleep(30)"),
        FrozenClock(START),
        timeout=timedelta(seconds=0.3),
    )
    with pytest.raises(TokenUnavailable, match="did not finish"):
        slow.token()


def test_settings_choose_the_token_source(tmp_path: Path) -> None:
    """File first, then command, then client credentials; none configured is an error."""
    clock = FrozenClock(START)
    base = {"host": "imap.example.test", "auth": "xoauth2"}
    token_file = tmp_path / "t"

    assert token_provider(ImapSettings(host="h"), clock) is None
    assert isinstance(
        token_provider(ImapSettings(**base, oauth2_token_file=token_file), clock), FileToken
    )
    assert isinstance(
        token_provider(ImapSettings(**base, oauth2_token_command="print-token"), clock),
        CommandToken,
    )
    credentials = ImapSettings(
        **base,
        oauth2_token_url="https://login.example.test/token",
        oauth2_client_id="id",
        oauth2_client_secret=SecretStr("secret"),
    )
    assert isinstance(token_provider(credentials, clock), ClientCredentialsToken)
    with pytest.raises(ConfigurationError, match="xoauth2"):
        token_provider(ImapSettings(**base), clock)
