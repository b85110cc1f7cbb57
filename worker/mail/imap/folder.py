"""One folder at a time: SELECT, fetch the mail after a cursor within size limits, mark it.

A fetch first asks for each mail's size, flags, structure and a capped header, then only
for its text parts, each cut at ``max_text_bytes``: an attachment is listed, never
downloaded, and nothing oversized reaches the parser. Marking sets keywords and may move
mail; nothing is ever deleted or expunged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from imapclient import IMAPClient
from imapclient import exceptions as imap_errors

from worker.domain.mail import AttachmentInfo
from worker.errors import ConfigurationError, RequestRejected
from worker.logs import get_logger
from worker.mail import bodystructure
from worker.mail.imap.connection import Connection, Session

log = get_logger()

#: Messages whose structure and header are fetched in one FETCH command.
FETCH_BATCH = 100
#: Header blocks beyond this are cut at a line break (spam with thousands of Received lines).
MAX_HEADER_BYTES = 64 * 1024
#: To and Cc are fetched apart and capped on their own: ten thousand recipients must not
#: push the Subject and Message-ID out of the header block.
ADDRESS_FIELDS = "TO CC"
MAX_ADDRESS_BYTES = 16 * 1024

OUTLINE_ITEMS_WITHOUT_STRUCTURE = (
    "RFC822.SIZE",
    "FLAGS",
    "INTERNALDATE",
    f"BODY.PEEK[HEADER.FIELDS.NOT ({ADDRESS_FIELDS})]<0.{MAX_HEADER_BYTES}>",
    f"BODY.PEEK[HEADER.FIELDS ({ADDRESS_FIELDS})]<0.{MAX_ADDRESS_BYTES}>",
)
OUTLINE_ITEMS = (*OUTLINE_ITEMS_WITHOUT_STRUCTURE, "BODYSTRUCTURE")

_KEYWORD = re.compile(r"^\$?[A-Za-z0-9_.\-]+$")


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


class Folders:
    """Selecting, reading and marking the account's folders over its connection.

    With ``readonly`` (a dry run) every folder is opened with EXAMINE, and nothing is
    flagged or moved.
    """

    def __init__(self, connection: Connection, *, readonly: bool = False) -> None:
        settings = connection.settings
        _check_keyword("handled_keyword", settings.handled_keyword)
        _check_keyword("quarantine_keyword", settings.quarantine_keyword)
        self.connection = connection
        self.settings = settings
        self.readonly = readonly
        self._state: FolderState | None = None
        self._warned: set[str] = set()
        #: Literal bytes of headers and text parts received, for the metrics.
        self.bytes_fetched = 0

    def select(self, folder: str, *, readonly: bool = False) -> FolderState:
        """SELECT (or EXAMINE when readonly, or the inbox is) a folder; its UIDVALIDITY."""
        readonly = readonly or self.readonly
        session = self.connection.connect()
        with self.connection.translate(f"select {folder}"):
            response = session.client.select_folder(folder, readonly=readonly)
        self.connection.take_exists_notices()
        session.selected = (folder, readonly)
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

    def ensure_selected(self, folder: str, *, write: bool = False) -> tuple[Session, int]:
        """The session with ``folder`` open (writable when asked), and its UIDVALIDITY."""
        session = self.connection.session
        current = session.selected if session is not None else None
        if current is None or current[0] != folder or (write and current[1]) or self._state is None:
            self.select(folder, readonly=self.readonly)
        assert self.connection.session is not None
        assert self._state is not None
        return self.connection.session, self._state.uidvalidity

    def fetch_since(self, folder: str, last_uid: int, limit: int = 100) -> list[FetchedMessage]:
        """Up to ``limit`` mails with a UID above ``last_uid``, oldest first.

        Memory is bounded by ``limit`` x (max_text_bytes + 80 KiB of header and recipients).

        Each carries the folder's current UIDVALIDITY: when it differs from the one the
        caller stored, the UIDs are from a new numbering and the folder must be rescanned.
        """
        session, uidvalidity = self.ensure_selected(folder)
        self.connection.take_exists_notices()
        with self.connection.translate(f"search {folder}"):
            # "n:*" always matches the highest UID, even when it is below n.
            found = session.client.search(["UID", f"{last_uid + 1}:*"])
        uids = sorted(int(uid) for uid in found if int(uid) > last_uid)[: max(0, limit)]
        fetched: list[FetchedMessage] = []
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            fetched += self._fetch_batch(session.client, folder, uidvalidity, batch)
        return fetched

    def _outline(
        self, client: IMAPClient, folder: str, uids: Sequence[int]
    ) -> dict[int, dict[bytes, Any]]:
        """Size, flags, structure and header of each mail; per mail when one is garbled."""
        with self.connection.translate(f"fetch {folder}"):
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
            with self.connection.translate(f"fetch {folder}"):
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

    def mark_handled(self, folder: str, uids: Sequence[int]) -> None:
        """Set the handled keyword; then move the mails when a folder is configured."""
        if not uids or self.readonly:
            return
        session, _ = self.ensure_selected(folder, write=True)
        with self.connection.translate(f"store {folder}"):
            session.client.add_flags(list(uids), [self.settings.handled_keyword], silent=True)
        target = self.settings.move_handled_to
        if target and target != folder:
            with self.connection.translate(f"move {folder} to {target}"):
                if b"MOVE" in session.capabilities:
                    session.client.move(list(uids), target)
                else:
                    # COPY leaves the original in place, flagged; it is never deleted.
                    session.client.copy(list(uids), target)

    def unmarked(self, folder: str, last_uid: int) -> list[int]:
        """Mails up to ``last_uid`` with neither keyword; asked once per folder and connection.

        A mail is marked after its decision is committed, so a connection lost in between
        leaves it decided but unmarked (and unmoved); the next connection is when to look.
        Empty when the server does not keep keywords: there every mail would look unmarked.
        """
        session = self.connection.session
        if last_uid < 1 or (session is not None and folder in session.marks_checked):
            return []
        session, _ = self.ensure_selected(folder)
        assert self._state is not None
        session.marks_checked.add(folder)
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
        with self.connection.translate(f"search {folder}"):
            found = session.client.search(criteria)
        return sorted(int(uid) for uid in found if int(uid) <= last_uid)

    def mark_quarantined(self, folder: str, uids: Sequence[int]) -> None:
        """Set the quarantine keyword on mails that could not be read."""
        if not uids or self.readonly:
            return
        session, _ = self.ensure_selected(folder, write=True)
        with self.connection.translate(f"store {folder}"):
            session.client.add_flags(list(uids), [self.settings.quarantine_keyword], silent=True)


def keywords_kept(permanent_flags: Any, keywords: Sequence[str]) -> bool:
    """Whether PERMANENTFLAGS lets these keywords stick (``\\*`` or each one listed)."""
    if permanent_flags is None:
        return True  # not announced: RFC 3501 says assume every flag can be set
    flags = {_flag_text(f).lower() for f in permanent_flags}
    return "\\*" in flags or all(k.lower() in flags for k in keywords if k)


def _flag_text(flag: Any) -> str:
    return flag.decode("utf-8", errors="replace") if isinstance(flag, bytes) else str(flag)


def _check_keyword(name: str, value: str) -> None:
    if value and not _KEYWORD.match(value):
        raise ConfigurationError(
            f"imap.{name} {value!r} is not a valid IMAP keyword (letters, digits, $ _ . -)"
        )


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
