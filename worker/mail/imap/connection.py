"""The IMAP connection: TLS, login (password or XOAUTH2), timeouts, and the reconnect backoff.

Every socket operation runs under ``settings.timeout``. A dead connection (BYE, EOF, a
socket error or timeout) raises ConnectionFailed and is dropped; the next call reconnects.
After a failed attempt the next one waits for a jittered exponential backoff: calls made
sooner fail at once with ``retry_after``, which the supervisor honours.
"""

from __future__ import annotations

import contextlib
import imaplib
import random
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from imapclient import IMAPClient, SocketTimeout
from imapclient import exceptions as imap_errors

from worker.clock import Clock
from worker.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    NotFound,
    RequestRejected,
    ServerUnavailable,
    TransientError,
)
from worker.logs import get_logger
from worker.mail.oauth2 import TokenProvider
from worker.retry import backoff_delay
from worker.settings import ImapSettings

log = get_logger()

_TRANSIENT_CODES = (b"[UNAVAILABLE]", b"[INUSE]", b"[LIMIT]", b"[SERVERBUG]", b"[OVERQUOTA]")


class Backoff:
    """When the next connection attempt may be made, after a run of failures."""

    def __init__(
        self,
        clock: Clock,
        *,
        base: timedelta = timedelta(seconds=1),
        cap: timedelta = timedelta(minutes=5),
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.clock = clock
        self.base = base
        self.cap = cap
        self.rand = rand
        self.failures = 0
        self.not_before: datetime | None = None

    def remaining(self) -> float:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        if self.not_before is None:
            return 0.0
        return max(0.0, (self.not_before - self.clock.now()).total_seconds())

    def failed(self) -> timedelta:
        self.failures += 1
        delay = backoff_delay(self.failures, base=self.base, cap=self.cap, rand=self.rand)
        self.not_before = self.clock.now() + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.not_before = None


def ssl_context(settings: ImapSettings) -> ssl.SSLContext:
    """A verifying TLS context that also trusts settings.ca_file when given."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(settings.ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"imap.ca_file {settings.ca_file}: {exc}") from None
    return context


@dataclass(slots=True)
class Session:
    """A logged-in connection, with what holds only for as long as it lives."""

    client: IMAPClient
    capabilities: frozenset[bytes]
    #: The folder open on this connection, and whether it was opened read-only (EXAMINE).
    selected: tuple[str, bool] | None = None
    #: Folders searched for unmarked mail: a lost connection is what can leave mail
    #: unmarked, so each new one looks once.
    marks_checked: set[str] = field(default_factory=set)
    #: True while the connection sits in IDLE; tests and health probes read it.
    idling: bool = False


class Connection:
    """The account's connection: made on demand, dropped when it dies, remade after a backoff."""

    def __init__(
        self,
        settings: ImapSettings,
        *,
        tokens: TokenProvider | None,
        backoff: Backoff,
    ) -> None:
        if not settings.host:
            raise ConfigurationError("imap.host is not set")
        if settings.auth == "xoauth2" and tokens is None:
            raise ConfigurationError("imap.auth is xoauth2 but no token source is configured")
        self.settings = settings
        self.tokens = tokens
        self.backoff = backoff
        self.session: Session | None = None

    def connect(self) -> Session:
        """The live session, logging in first when there is none.

        Before the backoff after earlier failures ends, refuse at once; the refusal carries
        ``retry_after``, so a run loop waits instead of asking again.
        """
        if self.session is not None:
            return self.session
        remaining = self.backoff.remaining()
        if remaining > 0:
            raise ConnectionFailed(
                f"{self.settings.host} unreachable; next attempt in {remaining:.1f}s",
                retry_after=remaining,
            )
        try:
            session = self._open()
        except Exception as exc:
            delay = self.backoff.failed()
            log.warning(
                "imap.connect.failed",
                host=self.settings.host,
                error=type(exc).__name__,
                detail=str(exc),
                failures=self.backoff.failures,
                retry_in_s=round(delay.total_seconds(), 3),
            )
            if isinstance(exc, TransientError) and exc.retry_after is None:
                exc.retry_after = delay.total_seconds()
            raise
        self.backoff.succeeded()
        self.session = session
        log.info("imap.connected", host=self.settings.host, security=self.settings.security)
        if self.settings.security == "plain":
            log.warning("imap.plaintext", host=self.settings.host, detail="no TLS: test use only")
        return session

    def _open(self) -> Session:
        settings = self.settings
        seconds = settings.timeout.total_seconds()
        timeout = SocketTimeout(connect=seconds, read=seconds)
        context = ssl_context(settings) if settings.security != "plain" else None
        with self.translate("connect"):
            client = IMAPClient(
                settings.host,
                port=settings.port,
                ssl=settings.security == "tls",
                ssl_context=context,
                timeout=timeout,
            )
        try:
            with self.translate("login"):
                client.normalise_times = False
                if settings.security == "starttls":
                    if not client.has_capability("STARTTLS"):
                        raise ConnectionFailed(f"{settings.host} does not offer STARTTLS")
                    client.starttls(context)
                self._login(client)
                return Session(client, frozenset(client.capabilities()))
        except BaseException:
            _drop(client)
            raise

    def _login(self, client: IMAPClient) -> None:
        settings = self.settings
        if settings.auth == "password":
            secret = settings.resolved_password()
            if secret is None:
                raise ConfigurationError("imap.password or imap.password_file is required")
            try:
                client.login(settings.username, secret.get_secret_value())
            except imap_errors.LoginError:
                raise AuthenticationFailed(
                    f"{settings.host} refused the password of {settings.username}"
                ) from None
            return
        assert self.tokens is not None
        for attempt in (1, 2):
            try:
                client.oauth2_login(settings.username, self.tokens.token())
                return
            except imap_errors.LoginError:
                # A token can be revoked before it expires: fetch a fresh one once.
                self.tokens.invalidate()
                if attempt == 2:
                    raise AuthenticationFailed(
                        f"{settings.host} refused the XOAUTH2 token of {settings.username}"
                    ) from None

    def close(self) -> None:
        """Log out politely; never raises."""
        session, self.session = self.session, None
        if session is None:
            return
        try:
            session.client.logout()
        except Exception:
            _drop(session.client)

    def drop(self) -> None:
        """Forget a dead connection without a word to the server."""
        session, self.session = self.session, None
        if session is not None:
            _drop(session.client)

    @contextlib.contextmanager
    def translate(self, action: str) -> Iterator[None]:
        """Turn imapclient, imaplib, socket and TLS failures into the worker's errors."""
        host = self.settings.host
        try:
            yield
        except ssl.SSLCertVerificationError as exc:
            self.drop()
            raise ConnectionFailed(
                f"TLS certificate of {host} is not trusted ({exc.verify_message}); "
                "set imap.ca_file to trust a private CA"
            ) from None
        except (imaplib.IMAP4.abort, imap_errors.ProtocolError, OSError, EOFError) as exc:
            self.drop()
            raise ConnectionFailed(f"IMAP {action} on {host} failed: {exc}") from None
        except imaplib.IMAP4.error as exc:
            text = str(exc).encode("utf-8", errors="replace")
            if any(code in text for code in _TRANSIENT_CODES):
                raise ServerUnavailable(f"IMAP {action} on {host}: {exc}") from None
            if b"[NONEXISTENT]" in text or b"doesn't exist" in text.lower():
                raise NotFound(f"IMAP {action} on {host}: {exc}") from None
            raise RequestRejected(f"IMAP {action} on {host}: {exc}") from None

    def take_exists_notices(self) -> bool:
        """Whether the server reported new mail (untagged EXISTS) since the last look.

        imaplib files unsolicited EXISTS responses of ordinary commands away in its
        untagged_responses; reading them here means a mail that arrives between a SEARCH
        and the next IDLE is not missed.
        """
        if self.session is None:
            return False
        untagged = getattr(self.session.client._imap, "untagged_responses", {})
        return bool(untagged.pop("EXISTS", None))


def _drop(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.shutdown()
