"""Raw mail bytes to a ParsedMail, with the standard library's email parser.

Every input ends either in a ParsedMail or in MessageUnparseable; whatever a
hostile or broken mail holds, the work is bounded: headers, addresses, text and
the depth of nested parts are capped, and what was cut is recorded as a defect.
"""

from __future__ import annotations

import codecs
import email.policy
import functools
import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import NamedTuple

from worker.domain.mail import Address, AttachmentInfo, ParsedMail
from worker.errors import MessageUnparseable
from worker.mail.html import html_to_text
from worker.mail.quotes import split_reply

#: Deepest nesting of parts read; below it parts are ignored (recorded as a defect).
MAX_DEPTH = 32
#: Parts looked at per mail.
MAX_PARTS = 500
#: Largest mail parsed; a bigger one is quarantined unread (its attachments would be held
#: in memory several times over while parsing). As much as common mail services accept.
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
#: Lines that may open a MIME part ("--boundary") before a mail is taken for a part bomb and
#: quarantined unparsed: 400,000 empty parts in 3 MiB would hold the parser for a minute.
MAX_DELIMITER_LINES = 5_000
MAX_HEADERS = 300
MAX_HEADER_VALUE = 8_192
#: Address headers are read up to this many characters and this many addresses.
MAX_ADDRESS_TEXT = 16_384
MAX_ADDRESSES = 100
MAX_REFERENCES = 50
MAX_ATTACHMENTS = 100

#: The structure is read with the plain policy: the modern one parses Content-Type afresh
#: each of the many times the parser asks for it, which cost more than everything the
#: detector does. The few headers the worker reads are decoded with the modern policy
#: (RFC 2047 words, RFC 2231 parameters, address lists), each distinct value once.
_STRUCTURE = email.policy.compat32
_HEADERS = email.policy.default
_CUT = "text part cut at the size limit"
_MSGID = re.compile(r"<([^<>\s]+)>")
#: Longest Message-ID kept as it is; a longer one is replaced by its hash, so that two ids
#: sharing a long prefix stay two ids (and still fit the store's column).
MAX_ID_LENGTH = 900
_SPACES = re.compile(r"\s+")

#: Charset names seen in real mail that Python does not know, mapped to what they mean.
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-sjis": "shift_jis",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-user-defined": "latin-1",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "ansi_x3.4-1968": "ascii",
    "us-ascii": "ascii",
}


def parse_message(
    raw: bytes,
    *,
    attachments: Iterable[AttachmentInfo] = (),
    max_text_bytes: int = 262_144,
) -> ParsedMail:
    """Parse one mail; raises only MessageUnparseable."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MessageUnparseable(f"not bytes: {type(raw).__name__}")
    data = bytes(raw)
    if not data.strip():
        raise MessageUnparseable("empty message")
    # Checked before parsing: the parser's cost is what these limits are there to bound.
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageUnparseable(f"too large: more than {MAX_MESSAGE_BYTES:,} bytes")
    delimiters = data.count(b"\n--")
    if delimiters > MAX_DELIMITER_LINES:
        raise MessageUnparseable(
            f"too many MIME parts: {delimiters:,} part delimiters, at most "
            f"{MAX_DELIMITER_LINES:,} read"
        )
    try:
        return _parse(data, tuple(attachments), max_text_bytes)
    except MessageUnparseable:
        raise
    except RecursionError:
        raise MessageUnparseable("structure nested too deeply") from None
    except Exception as exc:
        raise MessageUnparseable(f"{type(exc).__name__}: {str(exc)[:200]}") from None


def content_key(raw: bytes) -> str:
    """The identity of a mail without a Message-ID: a hash of its bytes, line endings unified."""
    return "sha256:" + hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()


#: Longest Message-ID that is a mail's key as it is; a longer one is keyed by its hash.
MAX_KEY_LENGTH = 400


def message_key(message_id: str | None, raw: bytes) -> str:
    """The identity a mail's decision is recorded under.

    The Message-ID, so that copies of one mail are one mail; the hash of one too long
    for the store's key column, so that two ids sharing a long prefix stay two mails.
    """
    if message_id is None:
        return content_key(raw)
    if len(message_id) <= MAX_KEY_LENGTH:
        return message_id
    return "id-sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def normalise_message_id(value: str | None) -> str | None:
    """The id inside the first <...>, or the bare token; None when there is none."""
    if not value:
        return None
    found = _MSGID.search(value[:MAX_HEADER_VALUE])
    if found:
        return canonical_id(found.group(1))
    token = value.strip().split()[0] if value.strip() else ""
    return canonical_id(token) if token else None


def canonical_id(message_id: str) -> str:
    """A Message-ID as the worker records it: itself, or the hash of the whole of a long one."""
    if len(message_id) <= MAX_ID_LENGTH:
        return message_id
    return "id-sha256:" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()


def reference_ids(value: str) -> tuple[str, ...]:
    """The ids of a References header, oldest first, each as canonical_id records it."""
    return tuple(canonical_id(i) for i in _MSGID.findall(value[:MAX_HEADER_VALUE]))


def _parse(raw: bytes, given: tuple[AttachmentInfo, ...], max_text_bytes: int) -> ParsedMail:
    defects: list[str] = []
    try:
        message = BytesParser(policy=_STRUCTURE).parsebytes(raw)
    except RecursionError:
        # Nested past Python's stack: keep the header and treat the rest as opaque.
        message = BytesParser(policy=_STRUCTURE).parsebytes(raw, headersonly=True)
        defects.append("parts nested too deeply; body not read")
        message.set_payload("")
    headers = _raw_headers(message)
    if not headers and not message.get_payload():
        raise MessageUnparseable("no header and no body")
    for defect in message.defects[:10]:
        defects.append(type(defect).__name__)

    message_id = normalise_message_id(headers.get("message-id"))
    sender = _first(_addresses(headers.get("from", ""))) or _first(
        _addresses(headers.get("sender", ""))
    )
    bodies, found_attachments = _collect(message, defects, max_text_bytes)
    text, truncated = _join_text(bodies, max_text_bytes)
    new_text, _quoted = split_reply(text)
    return ParsedMail(
        key=message_key(message_id, raw),
        message_id=message_id,
        subject=_decoded(message, "subject", headers),
        sender=sender or Address(""),
        to=_addresses(headers.get("to", "")),
        cc=_addresses(headers.get("cc", "")),
        reply_to=_addresses(headers.get("reply-to", "")),
        date=_date(headers.get("date")),
        in_reply_to=normalise_message_id(headers.get("in-reply-to")),
        references=reference_ids(headers.get("references", ""))[-MAX_REFERENCES:],
        headers=headers,
        content_type=_content_type(message),
        text=text,
        new_text=new_text,
        attachments=(given + tuple(found_attachments))[:MAX_ATTACHMENTS],
        defects=tuple(defects[:50]),
        truncated=truncated or _CUT in defects,
    )


def clean(text: str) -> str:
    """Text without lone surrogates: undeclared 8-bit header bytes read as UTF-8, else Latin-1."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", errors="surrogateescape")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")
        except Exception:
            return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _raw_headers(message: Message) -> dict[str, str]:
    """Header values as sent (unfolded, undecoded), first occurrence wins, capped."""
    headers: dict[str, str] = {}
    for name, value in message.raw_items():
        if len(headers) >= MAX_HEADERS:
            break
        key = clean(str(name)).strip().lower()
        if key and key not in headers:
            text = value if isinstance(value, str) else str(value)
            headers[key] = clean(_SPACES.sub(" ", text[:MAX_ADDRESS_TEXT]).strip())
    return headers


def _decoded(message: Message, name: str, headers: dict[str, str]) -> str:
    """A header's value with RFC 2047 words decoded; the raw text when decoding fails."""
    raw = headers.get(name, "")[:MAX_HEADER_VALUE]
    if not raw:
        return ""
    try:
        return clean(_SPACES.sub(" ", str(_HEADERS.header_factory(name, raw))).strip())
    except Exception:
        return raw


def _addresses(raw: str) -> tuple[Address, ...]:
    if not raw:
        return ()
    return _addresses_in(raw[:MAX_ADDRESS_TEXT])


@functools.lru_cache(maxsize=512)
def _addresses_in(text: str) -> tuple[Address, ...]:
    # The same To (the support address) and the same senders recur through an inbox.
    found: list[Address] = []
    try:
        header = _HEADERS.header_factory("to", text)
        for group in getattr(header, "groups", ()):
            for addr in group.addresses:
                email_addr = addr.addr_spec if addr.username else ""
                found.append(
                    Address(clean(email_addr.lower()[:320]), clean(str(addr.display_name)[:200]))
                )
                if len(found) >= MAX_ADDRESSES:
                    break
            if len(found) >= MAX_ADDRESSES:
                break
    except Exception:
        found = [
            Address(clean(addr.lower()[:320]), clean(name[:200]))
            for name, addr in getaddresses([text])[:MAX_ADDRESSES]
        ]
    return tuple(a for a in found if a.email or a.name)


def _first(addresses: tuple[Address, ...]) -> Address | None:
    for address in addresses:
        if address.email:
            return address
    return addresses[0] if addresses else None


def _date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(raw[:200])
        # In UTC here, so that a date at the edge of the calendar fails now, not in the store.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class _Mime(NamedTuple):
    """What a part's Content-Type and Content-Disposition say, as the modern policy reads them."""

    content_type: str
    charset: str | None
    charset_unreadable: bool
    disposition: str
    filename: str


def _mime(part: Message) -> _Mime:
    return _mime_of(
        _first_raw(part, "content-type"),
        _first_raw(part, "content-disposition"),
        part.get_default_type(),
    )


def _first_raw(part: Message, name: str) -> str | None:
    for key, value in part.raw_items():
        if key.lower() == name:
            return (value if isinstance(value, str) else str(value))[:MAX_HEADER_VALUE]
    return None


@functools.lru_cache(maxsize=256)
def _mime_of(content_type: str | None, disposition: str | None, default_type: str) -> _Mime:
    # Most parts of most mails share a handful of these headers: each is parsed once.
    view = EmailMessage(policy=_HEADERS)
    view.set_default_type(default_type)
    if content_type is not None:
        view.set_raw("Content-Type", content_type)
    if disposition is not None:
        view.set_raw("Content-Disposition", disposition)
    try:
        ctype = view.get_content_type()
    except Exception:
        ctype = "text/plain"
    charset, unreadable = None, False
    try:
        charset = view.get_content_charset()
    except Exception:
        unreadable = True
    try:
        kind = (view.get_content_disposition() or "") if disposition is not None else ""
    except Exception:
        kind = ""
    try:
        filename = clean(str(view.get_filename() or "")[:255])
    except Exception:
        filename = ""
    return _Mime(ctype, charset, unreadable, kind, filename)


def _content_type(message: Message) -> str:
    return _mime(message).content_type


def _walk(message: Message, defects: list[str]) -> Iterator[tuple[Message, int]]:
    """Parts depth first, with their depth; stops at MAX_DEPTH and MAX_PARTS."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            defects.append(f"more than {MAX_PARTS} parts; the rest ignored")
            return
        yield part, depth
        if not part.is_multipart():
            continue
        if depth >= MAX_DEPTH:
            defects.append(f"parts nested deeper than {MAX_DEPTH}; the rest ignored")
            continue
        children = part.get_payload()
        if isinstance(children, list):
            stack.extend(
                (child, depth + 1)
                for child in reversed(children[:MAX_PARTS])
                if isinstance(child, Message)
            )


def _collect(
    message: Message, defects: list[str], max_bytes: int
) -> tuple[list[str], list[AttachmentInfo]]:
    """The readable bodies (one per alternative group) and the attachments seen."""
    bodies: list[str] = []
    attachments: list[AttachmentInfo] = []
    skip: set[int] = set()
    for part, _depth in _walk(message, defects):
        if id(part) in skip:
            continue
        mime = _mime(part)
        ctype = mime.content_type
        if ctype == "multipart/alternative":
            chosen = _pick_alternative(part)
            children = part.get_payload()
            if isinstance(children, list):
                skip.update(id(child) for child in children if child is not chosen)
            continue
        if part.is_multipart():
            continue
        filename = mime.filename
        readable = ctype in ("text/plain", "text/html") and mime.disposition != "attachment"
        if readable and not filename:
            # Markup shrinks to text; read more of it, but never without bound.
            limit = max_bytes * 4 if ctype == "text/html" else max_bytes
            body = _text_of(part, mime, defects, limit)
            bodies.append(html_to_text(body) if ctype == "text/html" else body)
        elif part is not message:
            payload = part.get_payload(decode=False)
            size = len(payload) if isinstance(payload, str | bytes) else 0
            attachments.append(AttachmentInfo(filename or "", ctype, size))
    return bodies, attachments


def _pick_alternative(part: Message) -> Message | None:
    payload = part.get_payload()
    children = [c for c in payload if isinstance(c, Message)] if isinstance(payload, list) else []
    types = [_content_type(child) for child in children]
    for wanted in ("text/plain", "text/html"):
        if wanted in types:
            return children[types.index(wanted)]
    return children[-1] if children else None


def _text_of(part: Message, mime: _Mime, defects: list[str], limit: int) -> str:
    """A text part's payload decoded with its charset, falling back when it lies."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    if len(payload) > limit:
        payload = payload[:limit]
        defects.append(_CUT)
    if mime.charset_unreadable:
        defects.append("unreadable charset parameter")
    return decode_text(payload, (mime.charset or "").strip().lower(), defects)


def decode_text(payload: bytes, charset: str, defects: list[str]) -> str:
    """Bytes to text: the declared charset, else UTF-8, else Latin-1 (recorded as a defect)."""
    name = _CHARSET_ALIASES.get(charset, charset) or "ascii"
    try:
        info = codecs.lookup(name)
        known = getattr(info, "_is_text_encoding", True)
    except LookupError:
        known = False
    if known:
        try:
            if name in ("ascii", "us-ascii"):
                # Undeclared 8-bit text is usually UTF-8 in practice.
                return payload.decode("utf-8")
            return payload.decode(name, errors="replace")
        except UnicodeDecodeError:
            pass
        except Exception:
            known = False
    if not known:
        defects.append(f"unknown charset {charset[:40]!r}")
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        defects.append(f"text not valid in {charset[:40] or 'utf-8'}; read as latin-1")
        return payload.decode("latin-1")


def _join_text(bodies: list[str], max_bytes: int) -> tuple[str, bool]:
    text = "\n\n".join(body.replace("\r\n", "\n").replace("\r", "\n") for body in bodies if body)
    encoded = text.encode("utf-8", errors="replace")
    if len(encoded) <= max_bytes:
        return text.strip(), False
    return encoded[:max_bytes].decode("utf-8", errors="ignore").strip(), True
