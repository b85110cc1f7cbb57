"""Access tokens for IMAP XOAUTH2: from a file, from a command, or the client-credentials flow.

Gmail and Microsoft 365 no longer accept passwords over IMAP. The token providers here
hand the IMAP adapter a current access token and forget it when the server refuses it.
Every token obtained is registered with the log redactor, and every outside call (the
command, the token endpoint) runs under a timeout.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import requests

from worker.clock import Clock
from worker.errors import AuthenticationFailed, ConfigurationError, TokenUnavailable
from worker.logs import get_logger, register_secrets
from worker.retry import parse_retry_after
from worker.settings import ImapSettings

log = get_logger()

#: Refresh a token this long before it expires, so it never lapses mid-login.
REFRESH_MARGIN = timedelta(minutes=5)
#: Assumed lifetime when the issuer does not say (both Google and Microsoft issue 1 hour).
DEFAULT_LIFETIME = timedelta(hours=1)
MAX_RESPONSE_BYTES = 64 * 1024
_DETAIL_CHARS = 200


class TokenProvider(Protocol):
    """Anything that can produce a current XOAUTH2 access token."""

    def token(self) -> str: ...

    def invalidate(self) -> None:
        """Forget the current token; the server refused it."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    expires_at: datetime | None

    def fresh(self, now: datetime, margin: timedelta) -> bool:
        return self.expires_at is None or now < self.expires_at - margin


def _checked(value: str, origin: str) -> str:
    token = value.strip()
    if not token:
        raise TokenUnavailable(f"{origin} gave an empty access token")
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        raise AuthenticationFailed(f"{origin} gave something that is not an access token")
    register_secrets([token])
    return token


def _margin(lifetime: timedelta) -> timedelta:
    # Short-lived tokens are refreshed at half their life rather than never being fresh.
    return min(REFRESH_MARGIN, lifetime / 2)


def _expiry(payload: Mapping[str, Any], now: datetime) -> datetime:
    expires_in = payload.get("expires_in")
    try:
        seconds = float(expires_in) if expires_in is not None else None
    except (TypeError, ValueError):
        seconds = None
    if seconds is None or seconds <= 0:
        return now + DEFAULT_LIFETIME
    return now + timedelta(seconds=seconds)


class FileToken:
    """Reads the token from a file that another process keeps current."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def token(self) -> str:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TokenUnavailable(f"cannot read token file {self.path}: {exc.strerror}") from None
        return _checked(text, f"token file {self.path}")

    def invalidate(self) -> None:
        """Nothing to forget: the file is read again on every login."""


class CommandToken:
    """Runs a command that prints a token, or a JSON object with access_token and expires_in."""

    def __init__(
        self,
        command: str,
        clock: Clock,
        *,
        timeout: timedelta = timedelta(seconds=30),
        cache_for: timedelta = timedelta(minutes=5),
    ) -> None:
        self.args = shlex.split(command)
        if not self.args:
            raise ConfigurationError("imap.oauth2_token_command is empty")
        self.clock = clock
        self.timeout = timeout
        self.cache_for = cache_for
        self._current: AccessToken | None = None

    def token(self) -> str:
        now = self.clock.now()
        if self._current is not None and self._current.fresh(now, timedelta(0)):
            return self._current.value
        name = Path(self.args[0]).name
        try:
            done = subprocess.run(  # noqa: S603 - the operator's own configured command
                self.args,
                capture_output=True,
                timeout=self.timeout.total_seconds(),
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise TokenUnavailable(
                f"token command {name} did not finish in {self.timeout.total_seconds():g}s"
            ) from None
        except OSError as exc:
            raise ConfigurationError(f"cannot run token command {name}: {exc.strerror}") from None
        if done.returncode != 0:
            detail = done.stderr.decode("utf-8", errors="replace").strip()[:_DETAIL_CHARS]
            raise TokenUnavailable(f"token command {name} exited {done.returncode}: {detail}")
        output = done.stdout[:MAX_RESPONSE_BYTES].decode("utf-8", errors="replace").strip()
        if output.startswith("{"):
            try:
                payload = json.loads(output)
            except ValueError:
                raise TokenUnavailable(f"token command {name} printed invalid JSON") from None
            value = _checked(str(payload.get("access_token", "")), f"token command {name}")
            expires_at = _expiry(payload, now)
            self._current = AccessToken(value, expires_at - _margin(expires_at - now))
        else:
            value = _checked(output.splitlines()[0] if output else "", f"token command {name}")
            self._current = AccessToken(value, now + self.cache_for)
        return value

    def invalidate(self) -> None:
        self._current = None


class ClientCredentialsToken:
    """The OAuth2 client-credentials grant (RFC 6749 section 4.4), refreshed before expiry.

    Microsoft 365 issues IMAP tokens this way to an app registration that has been
    granted access to the mailbox.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str,
        clock: Clock,
        *,
        connect_timeout: timedelta = timedelta(seconds=10),
        read_timeout: timedelta = timedelta(seconds=30),
        session: requests.Session | None = None,
    ) -> None:
        if not (token_url and client_id and client_secret):
            raise ConfigurationError(
                "client credentials need imap.oauth2_token_url, oauth2_client_id and a secret"
            )
        register_secrets([client_secret])
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self.scope = scope
        self.clock = clock
        self.timeouts = (connect_timeout.total_seconds(), read_timeout.total_seconds())
        self.session = session or requests.Session()
        self._current: AccessToken | None = None
        self._margin = REFRESH_MARGIN

    def token(self) -> str:
        now = self.clock.now()
        if self._current is not None and self._current.fresh(now, self._margin):
            return self._current.value
        self._current = self._request(now)
        return self._current.value

    def invalidate(self) -> None:
        self._current = None

    def _request(self, now: datetime) -> AccessToken:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
        }
        if self.scope:
            form["scope"] = self.scope
        try:
            response = self.session.post(
                self.token_url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=self.timeouts,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise TokenUnavailable(f"token endpoint {self.token_url} timed out") from None
        except requests.RequestException as exc:
            raise TokenUnavailable(
                f"token endpoint {self.token_url} unreachable: {type(exc).__name__}"
            ) from None
        payload = _json_object(response)
        if response.status_code in (400, 401, 403):
            error = str(payload.get("error", response.status_code))[:_DETAIL_CHARS]
            description = str(payload.get("error_description", ""))[:_DETAIL_CHARS]
            raise AuthenticationFailed(
                f"token endpoint refused the client credentials: {error} {description}".strip()
            )
        if response.status_code != 200:
            raise TokenUnavailable(
                f"token endpoint answered HTTP {response.status_code}",
                retry_after=parse_retry_after(response.headers.get("Retry-After"), now),
            )
        value = _checked(str(payload.get("access_token", "")), "token endpoint")
        expires_at = _expiry(payload, now)
        self._margin = _margin(expires_at - now)
        log.info(
            "imap.oauth2.token_refreshed",
            expires_in_s=int((expires_at - now).total_seconds()),
        )
        return AccessToken(value, expires_at)


def _json_object(response: requests.Response) -> dict[str, Any]:
    body = response.content[:MAX_RESPONSE_BYTES]
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def token_provider(settings: ImapSettings, clock: Clock) -> TokenProvider | None:
    """The token source the settings name: a file, then a command, then client credentials."""
    if settings.auth != "xoauth2":
        return None
    if settings.oauth2_token_file is not None:
        return FileToken(settings.oauth2_token_file)
    if settings.oauth2_token_command:
        return CommandToken(settings.oauth2_token_command, clock, timeout=settings.timeout)
    if settings.oauth2_token_url:
        secret = settings.resolved_client_secret()
        return ClientCredentialsToken(
            settings.oauth2_token_url,
            settings.oauth2_client_id,
            secret.get_secret_value() if secret else "",
            settings.oauth2_scope,
            clock,
            read_timeout=settings.timeout,
        )
    raise ConfigurationError(
        "imap.auth is xoauth2: set imap.oauth2_token_file, oauth2_token_command "
        "or oauth2_token_url with a client id and secret"
    )
