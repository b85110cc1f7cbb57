"""The IMAP inbox adapter: connect, watch folders, fetch new mail's text, flag what was handled.

It only talks IMAP. Which UID was handled, and what a mail means, belong to the caller;
this module returns bytes and metadata and sets keywords when told to. Nothing is ever
deleted or expunged.

Every socket operation runs under a timeout. A dead connection (BYE, EOF, a socket
error or timeout, an IDLE that keeps waking up with nothing) raises ConnectionFailed and
is dropped; the next call reconnects. After a failed attempt the next one waits for a
jittered exponential backoff: calls made sooner fail at once with ``retry_after`` (which
the supervisor honours), and wait_for_activity sleeps instead, so a worker looping on a
vanished server waits rather than spins.
"""

from __future__ import annotations

import contextlib
import imaplib
import random
import re
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from imapclient import IMAPClient, SocketTimeout
from imapclient import exceptions as imap_errors

from worker.clock import Clock, SystemClock
from worker.domain.mail import AttachmentInfo
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
from worker.mail import bodystructure
from worker.mail.oauth2 import TokenProvider, token_provider
from worker.settings import ImapSettings
from worker.supervisor import backoff_delay

log = get_logger()

#: Messages whose structure and header are fetched in one FETCH command.
FETCH_BATCH = 100
#: Header blocks beyond this are cut at a line break (spam with thousands of Received lines).
MAX_HEADER_BYTES = 64 * 1024
#: To and Cc are fetched apart and capped on their own: ten thousand recipients must not
#: push the Subject and Message-ID out of the header block.
ADDRESS_FIELDS = "TO CC"
MAX_ADDRESS_BYTES = 16 * 1024
#: An IDLE that wakes up with nothing this many times in a row is a dead connection.
EMPTY_WAKEUPS_LIMIT = 3

OUTLINE_ITEMS_WITHOUT_STRUCTURE = (
    "RFC822.SIZE",
    "FLAGS",
    "INTERNALDATE",
    f"BODY.PEEK[HEADER.FIELDS.NOT ({ADDRESS_FIELDS})]<0.{MAX_HEADER_BYTES}>",
    f"BODY.PEEK[HEADER.FIELDS ({ADDRESS_FIELDS})]<0.{MAX_ADDRESS_BYTES}>",
)
OUTLINE_ITEMS = (*OUTLINE_ITEMS_WITHOUT_STRUCTURE, "BODYSTRUCTURE")

_KEYWORD = re.compile(r"^\$?[A-Za-z0-9_.\-]+$")
_TRANSIENT_CODES = (b"[UNAVAILABLE]", b"[INUSE]", b"[LIMIT]", b"[SERVERBUG]", b"[OVERQUOTA]")


@dataclass(frozen=True, slots=True)
class FolderState:
    """What SELECT said about a folder."""

    folder: str
    uidvalidity: int
    uidnext: int | None
    exists: int
    #: Whether the server keeps keywords of our own on this folder (PERMANENTFLAGS has \*).
    keywords_kept: bool = True


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    """One mail as fetched: its text parts rebuilt into a compact message, attachments listed."""

    folder: str
    uid: int
    uidvalidity: int
    size: int  # RFC822.SIZE of the whole mail on the server
    raw: bytes  # header + text parts only
    attachments: tuple[AttachmentInfo, ...]
    flags: tuple[str, ...]
    received: datetime | None = None  # INTERNALDATE
    truncated: bool = False  # a text part was cut at max_text_bytes


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


def _check_keyword(name: str, value: str) -> None:
    if value and not _KEYWORD.match(value):
        raise ConfigurationError(
            f"imap.{name} {value!r} is not a valid IMAP keyword (letters, digits, $ _ . -)"
        )


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


def _flag_text(flag: Any) -> str:
    return flag.decode("utf-8", errors="replace") if isinstance(flag, bytes) else str(flag)


class ImapInbox:
    """One IMAP account: a connection made on demand and remade after it dies.

    ``sleep`` is how wait_for_activity waits (polling without IDLE, or the reconnect
    backoff while the server is away); a run loop passes its shutdown event's ``wait``
    so a stop request cuts the wait short. Other calls never sleep.
    """

    def __init__(
        self,
        settings: ImapSettings,
        *,
        tokens: TokenProvider | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], object] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        max_backoff: timedelta = timedelta(minutes=5),
        readonly: bool = False,
    ) -> None:
        if not settings.host:
            raise ConfigurationError("imap.host is not set")
        if settings.auth == "xoauth2" and tokens is None:
            raise ConfigurationError("imap.auth is xoauth2 but no token source is configured")
        _check_keyword("handled_keyword", settings.handled_keyword)
        _check_keyword("quarantine_keyword", settings.quarantine_keyword)
        self.settings = settings
        self.tokens = tokens
        self.clock = clock or SystemClock()
        self.sleep = sleep
        self.monotonic = monotonic
        self.backoff = Backoff(self.clock, cap=max_backoff, rand=rand)
        #: A dry run: every folder is opened with EXAMINE, and nothing is flagged or moved.
        self.readonly = readonly
        self._client: IMAPClient | None = None
        self._capabilities: frozenset[bytes] = frozenset()
        self._selected: tuple[str, bool] | None = None
        self._state: FolderState | None = None
        self._warned: set[str] = set()
        #: Folders looked at for unmarked mail since this connection was made.
        self._marks_checked: set[str] = set()
        #: Literal bytes of headers and text parts received, for the metrics.
        self.bytes_fetched = 0
        #: True while the connection sits in IDLE; tests and health probes read it.
        self.idling = False

    @classmethod
    def from_settings(cls, settings: ImapSettings, clock: Clock, **kwargs: Any) -> ImapInbox:
        """An inbox with the token source the settings name (for XOAUTH2)."""
        return cls(settings, tokens=token_provider(settings, clock), clock=clock, **kwargs)

    # --- connection --------------------------------------------------------------------

    def source(self, folder: str) -> str:
        """The cursor name of a folder in the store."""
        return f"imap:{self.settings.username}@{self.settings.host}/{folder}"

    @property
    def connected(self) -> bool:
        return self._client is not None

    def connect(self) -> None:
        """Connect and log in; before the backoff after earlier failures ends, refuse at once.

        The refusal carries ``retry_after``, so a run loop waits instead of asking again.
        """
        if self._client is not None:
            return
        remaining = self.backoff.remaining()
        if remaining > 0:
            raise ConnectionFailed(
                f"{self.settings.host} unreachable; next attempt in {remaining:.1f}s",
                retry_after=remaining,
            )
        try:
            client = self._open()
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
        self._client = client
        log.info("imap.connected", host=self.settings.host, security=self.settings.security)
        if self.settings.security == "plain":
            log.warning("imap.plaintext", host=self.settings.host, detail="no TLS: test use only")

    def _open(self) -> IMAPClient:
        settings = self.settings
        seconds = settings.timeout.total_seconds()
        timeout = SocketTimeout(connect=seconds, read=seconds)
        context = ssl_context(settings) if settings.security != "plain" else None
        with self._translate("connect"):
            client = IMAPClient(
                settings.host,
                port=settings.port,
                ssl=settings.security == "tls",
                ssl_context=context,
                timeout=timeout,
            )
        try:
            with self._translate("login"):
                client.normalise_times = False
                if settings.security == "starttls":
                    if not client.has_capability("STARTTLS"):
                        raise ConnectionFailed(f"{settings.host} does not offer STARTTLS")
                    client.starttls(context)
                self._login(client)
                self._capabilities = frozenset(client.capabilities())
        except BaseException:
            _drop(client)
            raise
        return client

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
        client, self._client = self._client, None
        self._selected = None
        self._marks_checked.clear()
        self.idling = False
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            _drop(client)

    def _dead(self) -> None:
        client, self._client = self._client, None
        self._selected = None
        self._marks_checked.clear()
        self.idling = False
        if client is not None:
            _drop(client)

    @contextlib.contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        """Turn imapclient, imaplib, socket and TLS failures into the worker's errors."""
        host = self.settings.host
        try:
            yield
        except ssl.SSLCertVerificationError as exc:
            self._dead()
            raise ConnectionFailed(
                f"TLS certificate of {host} is not trusted ({exc.verify_message}); "
                "set imap.ca_file to trust a private CA"
            ) from None
        except (imaplib.IMAP4.abort, imap_errors.ProtocolError, OSError, EOFError) as exc:
            self._dead()
            raise ConnectionFailed(f"IMAP {action} on {host} failed: {exc}") from None
        except imaplib.IMAP4.error as exc:
            text = str(exc).encode("utf-8", errors="replace")
            if any(code in text for code in _TRANSIENT_CODES):
                raise ServerUnavailable(f"IMAP {action} on {host}: {exc}") from None
            if b"[NONEXISTENT]" in text or b"doesn't exist" in text.lower():
                raise NotFound(f"IMAP {action} on {host}: {exc}") from None
            raise RequestRejected(f"IMAP {action} on {host}: {exc}") from None

    def _connection(self) -> IMAPClient:
        self.connect()
        assert self._client is not None
        return self._client

    def _take_exists_notices(self) -> bool:
        """Whether the server reported new mail (untagged EXISTS) since the last look.

        imaplib files unsolicited EXISTS responses of ordinary commands away in its
        untagged_responses; reading them here means a mail that arrives between a SEARCH
        and the next IDLE is not missed.
        """
        if self._client is None:
            return False
        untagged = getattr(self._client._imap, "untagged_responses", {})
        return bool(untagged.pop("EXISTS", None))

    # --- folders -----------------------------------------------------------------------

    def select(self, folder: str, *, readonly: bool = False) -> FolderState:
        """SELECT (or EXAMINE when readonly, or the inbox is) a folder; its UIDVALIDITY."""
        readonly = readonly or self.readonly
        client = self._connection()
        with self._translate(f"select {folder}"):
            response = client.select_folder(folder, readonly=readonly)
        self._take_exists_notices()
        self._selected = (folder, readonly)
        uidvalidity = response.get(b"UIDVALIDITY")
        if uidvalidity is None:
            raise RequestRejected(f"{self.settings.host} gave no UIDVALIDITY for {folder}")
        self._state = FolderState(
            folder=folder,
            uidvalidity=int(uidvalidity),
            uidnext=int(response[b"UIDNEXT"]) if b"UIDNEXT" in response else None,
            exists=int(response.get(b"EXISTS", 0)),
            keywords_kept=keywords_kept(
                response.get(b"PERMANENTFLAGS"),
                (self.settings.handled_keyword, self.settings.quarantine_keyword),
            ),
        )
        if not readonly and not self._state.keywords_kept and folder not in self._warned:
            # Handling is still recorded by the worker; only the mark in the mailbox is lost.
            self._warned.add(folder)
            log.warning(
                "imap.keywords_not_kept",
                folder=folder,
                detail="the server does not keep custom keywords; consider imap.move_handled_to",
            )
        return self._state

    def _ensure_selected(self, folder: str, *, write: bool = False) -> tuple[IMAPClient, int]:
        current = self._selected
        if (
            self._client is None
            or current is None
            or current[0] != folder
            or (write and current[1])
            or self._state is None
        ):
            self.select(folder, readonly=self.readonly)
        assert self._client is not None
        assert self._state is not None
        return self._client, self._state.uidvalidity

    # --- reading -----------------------------------------------------------------------

    def fetch_since(self, folder: str, last_uid: int, limit: int = 100) -> list[FetchedMessage]:
        """Up to ``limit`` mails with a UID above ``last_uid``, oldest first.

        Memory is bounded by ``limit`` x (max_text_bytes + 80 KiB of header and recipients).

        Each carries the folder's current UIDVALIDITY: when it differs from the one the
        caller stored, the UIDs are from a new numbering and the folder must be rescanned.
        """
        client, uidvalidity = self._ensure_selected(folder)
        self._take_exists_notices()
        with self._translate(f"search {folder}"):
            # "n:*" always matches the highest UID, even when it is below n.
            found = client.search(["UID", f"{last_uid + 1}:*"])
        uids = sorted(int(uid) for uid in found if int(uid) > last_uid)[: max(0, limit)]
        fetched: list[FetchedMessage] = []
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            fetched += self._fetch_batch(client, folder, uidvalidity, batch)
        return fetched

    def _outline(
        self, client: IMAPClient, folder: str, uids: Sequence[int]
    ) -> dict[int, dict[bytes, Any]]:
        """Size, flags, structure and header of each mail; per mail when one is garbled."""
        with self._translate(f"fetch {folder}"):
            try:
                return dict(client.fetch(uids, OUTLINE_ITEMS))
            except imap_errors.ProtocolError:
                if len(uids) > 1:
                    outline: dict[int, dict[bytes, Any]] = {}
                    for uid in uids:
                        outline.update(self._outline(client, folder, [uid]))
                    return outline
                # A structure imapclient cannot parse: take the raw text instead.
                log.warning("imap.fetch.unparsed_structure", folder=folder, uid=uids[0])
                return dict(client.fetch(uids, OUTLINE_ITEMS_WITHOUT_STRUCTURE))

    def _fetch_batch(
        self, client: IMAPClient, folder: str, uidvalidity: int, uids: Sequence[int]
    ) -> list[FetchedMessage]:
        outline = self._outline(client, folder, uids)
        plans: dict[int, tuple[bodystructure.Layout, tuple[bodystructure.PartFetch, ...]]] = {}
        groups: dict[tuple[str, ...], list[int]] = {}
        for uid in uids:
            data = outline.get(uid)
            if data is None:
                continue  # expunged by someone else meanwhile
            structure = _layout_of(data)
            plan = bodystructure.plan_fetch(structure.text_parts, self.settings.max_text_bytes)
            plans[uid] = (structure, plan)
            groups.setdefault(_part_items(plan, structure.multipart), []).append(uid)
        bodies: dict[int, dict[bytes, Any]] = {}
        for part_items, group in groups.items():
            if not part_items:
                continue
            with self._translate(f"fetch {folder}"):
                bodies.update(client.fetch(group, list(part_items)))
        messages = []
        for uid, (structure, plan) in plans.items():
            data = outline[uid]
            header = _header(data)
            got = bodies.get(uid, {})
            parts = []
            truncated = False
            for item in plan:
                mime = b"" if not structure.multipart else _literal(got, _mime_key(item))
                body = _literal(got, _body_key(item))
                if item.truncated and len(body) >= item.length:
                    body = bodystructure.cut_at_line(body)
                    truncated = True
                parts.append((mime, body))
                self.bytes_fetched += len(mime) + len(body)
            self.bytes_fetched += len(header)
            received = data.get(b"INTERNALDATE")
            messages.append(
                FetchedMessage(
                    folder=folder,
                    uid=uid,
                    uidvalidity=uidvalidity,
                    size=int(data.get(b"RFC822.SIZE", 0)),
                    raw=bodystructure.rebuild(header, parts, multipart=structure.multipart),
                    attachments=structure.attachments,
                    flags=tuple(_flag_text(f) for f in data.get(b"FLAGS", ())),
                    received=received if isinstance(received, datetime) else None,
                    truncated=truncated,
                )
            )
        return messages

    # --- marking -----------------------------------------------------------------------

    def mark_handled(self, folder: str, uids: Sequence[int]) -> None:
        """Set the handled keyword; then move the mails when a folder is configured."""
        if not uids or self.readonly:
            return
        client, _ = self._ensure_selected(folder, write=True)
        with self._translate(f"store {folder}"):
            client.add_flags(list(uids), [self.settings.handled_keyword], silent=True)
        target = self.settings.move_handled_to
        if target and target != folder:
            with self._translate(f"move {folder} to {target}"):
                if b"MOVE" in self._capabilities:
                    client.move(list(uids), target)
                else:
                    # COPY leaves the original in place, flagged; it is never deleted.
                    client.copy(list(uids), target)

    def unmarked(self, folder: str, last_uid: int) -> list[int]:
        """Mails up to ``last_uid`` with neither keyword; asked once per folder and connection.

        A mail is marked after its decision is committed, so a connection lost in between
        leaves it decided but unmarked (and unmoved); the next connection is when to look.
        Empty when the server does not keep keywords: there every mail would look unmarked.
        """
        if last_uid < 1 or folder in self._marks_checked:
            return []
        client, _ = self._ensure_selected(folder)
        assert self._state is not None
        self._marks_checked.add(folder)
        if not self._state.keywords_kept:
            return []
        criteria = [
            "UID",
            f"1:{last_uid}",
            "NOT",
            "KEYWORD",
            self.settings.handled_keyword,
            "NOT",
            "KEYWORD",
            self.settings.quarantine_keyword,
        ]
        with self._translate(f"search {folder}"):
            found = client.search(criteria)
        return sorted(int(uid) for uid in found if int(uid) <= last_uid)

    def mark_quarantined(self, folder: str, uids: Sequence[int]) -> None:
        """Set the quarantine keyword on mails that could not be read."""
        if not uids or self.readonly:
            return
        client, _ = self._ensure_selected(folder, write=True)
        with self._translate(f"store {folder}"):
            client.add_flags(list(uids), [self.settings.quarantine_keyword], silent=True)

    # --- waiting -----------------------------------------------------------------------

    def supports_idle(self) -> bool:
        self._connection()
        return self.settings.idle and b"IDLE" in self._capabilities

    def wait_for_activity(self, folder: str, timeout: float) -> bool:
        """Block until new mail may be in the folder (True) or the timeout ends (False).

        Uses IDLE when the server offers it, renewed every ``idle_renew``; otherwise
        sleeps up to ``poll_interval`` and asks with NOOP. Raises ConnectionFailed when
        the connection turns out to be dead.
        """
        if self._client is None and self.backoff.remaining() > 0:
            # The server is away: wait out the backoff (never longer than asked) instead of
            # failing at once, so a loop around this call cannot spin.
            pause = min(max(0.0, timeout), self.backoff.remaining())
            self.sleep(pause)
            if self.backoff.remaining() > 0:
                return False
        client, _ = self._ensure_selected(folder)
        if self._take_exists_notices():
            return True
        if timeout <= 0:
            return False
        if self.supports_idle():
            return self._idle(client, timeout)
        self.sleep(max(0.0, min(timeout, self.settings.poll_interval.total_seconds())))
        with self._translate(f"noop {folder}"):
            _text, responses = client.noop()
        return _announces_mail(responses) or self._take_exists_notices()

    def _idle(self, client: IMAPClient, timeout: float) -> bool:
        deadline = self.monotonic() + max(0.0, timeout)
        renew = self.settings.idle_renew.total_seconds()
        while True:
            session_end = min(deadline, self.monotonic() + renew)
            activity = self._idle_session(client, session_end)
            if activity or self.monotonic() >= deadline:
                return activity

    def _idle_session(self, client: IMAPClient, until: float) -> bool:
        """One IDLE command, ended with DONE at ``until`` or as soon as mail arrives."""
        empty_wakeups = 0
        activity = False
        with self._translate("idle"):
            client.idle()
            self.idling = True
            try:
                while not activity:
                    wait = until - self.monotonic()
                    if wait <= 0:
                        break
                    started = self.monotonic()
                    responses = client.idle_check(timeout=wait)
                    if _says_bye(responses):
                        raise ConnectionFailed(f"{self.settings.host} closed the connection (BYE)")
                    activity = _announces_mail(responses)
                    if responses:
                        empty_wakeups = 0
                    elif self.monotonic() - started < wait / 2:
                        # Readable with nothing to read: the server hung up.
                        empty_wakeups += 1
                        if empty_wakeups >= EMPTY_WAKEUPS_LIMIT:
                            raise ConnectionFailed(
                                f"{self.settings.host} dropped the connection during IDLE"
                            )
            except ConnectionFailed:
                self._dead()
                raise
            self.idling = False
            _text, responses = client.idle_done()
        self._take_exists_notices()
        if _says_bye(responses):
            self._dead()
            raise ConnectionFailed(f"{self.settings.host} closed the connection (BYE)")
        return activity or _announces_mail(responses)

    # --- checks ------------------------------------------------------------------------

    def check(self) -> str:
        """Log in and look at every folder; a line for `recovery-worker check`."""
        client = self._connection()
        described = []
        folders = list(self.settings.folders)
        if self.settings.move_handled_to:
            folders.append(self.settings.move_handled_to)
        for folder in folders:
            with self._translate(f"status {folder}"):
                if not client.folder_exists(folder):
                    raise NotFound(f"folder {folder!r} does not exist on {self.settings.host}")
                status = client.folder_status(folder, [b"MESSAGES"])
            described.append(f"{folder} ({int(status.get(b'MESSAGES', 0))} messages)")
        idle = "IDLE" if b"IDLE" in self._capabilities else "polling"
        return (
            f"{self.settings.username} on {self.settings.host}:{self.settings.port} "
            f"({self.settings.security}, {idle}); folders: {', '.join(described)}"
        )


def keywords_kept(permanent_flags: Any, keywords: Sequence[str]) -> bool:
    """Whether PERMANENTFLAGS lets these keywords stick (``\\*`` or each one listed)."""
    if permanent_flags is None:
        return True  # not announced: RFC 3501 says assume every flag can be set
    flags = {_flag_text(f).lower() for f in permanent_flags}
    return "\\*" in flags or all(k.lower() in flags for k in keywords if k)


def _drop(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.shutdown()


def _layout_of(data: dict[bytes, Any]) -> bodystructure.Layout:
    structure = data.get(b"BODYSTRUCTURE")
    if structure:
        try:
            return bodystructure.layout(structure)
        except (IndexError, TypeError, ValueError):
            pass
    # No usable structure: fetch the body as one text and let the parser make sense of it.
    whole = bodystructure.Part(
        "TEXT", "text/plain", "7bit", int(data.get(b"RFC822.SIZE", 0)), "", ""
    )
    return bodystructure.Layout(multipart=False, text_parts=(whole,), attachments=())


def _part_items(plan: Sequence[bodystructure.PartFetch], multipart: bool) -> tuple[str, ...]:
    items = []
    for item in plan:
        if item.length <= 0:
            continue  # an empty part: nothing to fetch, and "<0.0>" is not valid everywhere
        number = item.part.number
        if multipart:
            items.append(f"BODY.PEEK[{number}.MIME]")
        items.append(f"BODY.PEEK[{number}]<0.{item.length}>")
    return tuple(items)


def _mime_key(item: bodystructure.PartFetch) -> bytes:
    return f"BODY[{item.part.number}.MIME]".encode()


def _body_key(item: bodystructure.PartFetch) -> bytes:
    return f"BODY[{item.part.number}]".encode()


def _header(data: dict[bytes, Any]) -> bytes:
    """The header block: the fields but To and Cc, then To and Cc, each cut at a line break."""
    # Servers echo the section in their own spelling (case, quotes), so match on its start.
    rest = addresses = b""
    for key, value in data.items():
        section = key.upper() if isinstance(key, bytes) else b""
        if isinstance(value, bytes) and section.startswith(b"BODY[HEADER.FIELDS.NOT"):
            rest = value
        elif isinstance(value, bytes) and section.startswith(b"BODY[HEADER.FIELDS"):
            addresses = value
    rest = bodystructure.cap_header(rest, MAX_HEADER_BYTES)
    addresses = bodystructure.cap_header(addresses, MAX_ADDRESS_BYTES)
    # Each block ends with its blank line; only the last one may keep it.
    return rest.removesuffix(b"\r\n") + addresses


def _literal(data: dict[bytes, Any], key: bytes) -> bytes:
    # A partial fetch comes back as "BODY[x]<0>"; servers may drop the origin when whole.
    value = data.get(key + b"<0>", data.get(key))
    return value if isinstance(value, bytes) else b""


def _says_bye(responses: Sequence[Any]) -> bool:
    return any(isinstance(r, tuple) and r and r[0] == b"BYE" for r in responses)


def _announces_mail(responses: Sequence[Any]) -> bool:
    for response in responses:
        if isinstance(response, tuple) and len(response) >= 2 and response[1] == b"EXISTS":
            return True
        if (
            isinstance(response, tuple)
            and len(response) >= 2
            and response[1] == b"RECENT"
            and response[0]
        ):
            return True
    return False
