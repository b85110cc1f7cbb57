"""Reading an IMAP BODYSTRUCTURE: which parts are text to fetch, which are attachments to list.

Pure functions over the nested tuples imapclient returns, so the IMAP adapter can fetch
the text of a mail without ever downloading its attachments, and rebuild a compact
message the parser reads like any other.
"""

from __future__ import annotations

import contextlib
import email.message
import email.policy
import email.utils
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from worker.domain.mail import AttachmentInfo

#: More text parts than this in one mail is abuse, not correspondence.
MAX_TEXT_PARTS = 16
MAX_FILENAME_CHARS = 255
BODY_TYPES = ("text/plain", "text/html")


@dataclass(frozen=True, slots=True)
class Part:
    """One leaf of the MIME tree, as BODYSTRUCTURE describes it."""

    number: str  # IMAP part specifier: "1", "2.1"; "TEXT" for a single-part mail
    content_type: str
    encoding: str
    size: int  # encoded octets, as the server will send them
    disposition: str
    filename: str

    @property
    def is_body_text(self) -> bool:
        # As mail clients (and the email package's get_body) see it: a name alone does
        # not make a text part an attachment, a Content-Disposition of attachment does.
        return self.content_type in BODY_TYPES and self.disposition != "attachment"


@dataclass(frozen=True, slots=True)
class Layout:
    """What to fetch from one mail and what to only list."""

    multipart: bool
    text_parts: tuple[Part, ...]
    attachments: tuple[AttachmentInfo, ...]


@dataclass(frozen=True, slots=True)
class PartFetch:
    """A text part and how many of its octets to fetch."""

    part: Part
    length: int

    @property
    def truncated(self) -> bool:
        return self.length < self.part.size


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def _pairs(flat: Any) -> list[tuple[str, str]]:
    """(k1, v1, k2, v2, ...) into [(k1, v1), ...], keys lower-cased."""
    if not isinstance(flat, tuple | list):
        return []
    items = [_text(item) for item in flat]
    return [(items[i].lower(), items[i + 1]) for i in range(0, len(items) - 1, 2)]


def decode_filename(params: list[tuple[str, str]]) -> str:
    """The filename from MIME parameters: RFC 2231 continuations and charsets, RFC 2047 words."""
    try:
        decoded = email.utils.decode_params([("", ""), *params])[1:]
    except (ValueError, LookupError, IndexError):
        decoded = list(params)
    values = {name.lower(): value for name, value in decoded}
    raw: Any = values.get("filename") or values.get("name") or ""
    if isinstance(raw, tuple):
        raw = email.utils.collapse_rfc2231_value(raw, errors="replace")
    name = email.utils.unquote(str(raw))
    if "=?" in name:
        # The header machinery of the modern policy is lenient with sloppy encoded words.
        with contextlib.suppress(ValueError, LookupError, UnicodeError, IndexError):
            name = str(email.policy.default.header_factory("filename", name))
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:MAX_FILENAME_CHARS]


def _leaf(node: Sequence[Any], number: str) -> Part:
    maintype, subtype = _text(node[0]).lower(), _text(node[1]).lower()
    content_type = f"{maintype}/{subtype}"
    # Extension data starts after the type-specific fields (RFC 3501, section 7.4.2).
    if maintype == "text":
        extension = 8
    elif content_type in ("message/rfc822", "message/global"):
        extension = 10
    else:
        extension = 7
    disposition, disposition_params = "", []
    raw_disposition = node[extension + 1] if len(node) > extension + 1 else None
    if isinstance(raw_disposition, tuple | list) and raw_disposition:
        disposition = _text(raw_disposition[0]).lower()
        if len(raw_disposition) > 1:
            disposition_params = _pairs(raw_disposition[1])
    filename = decode_filename(disposition_params) or decode_filename(
        [(k, v) for k, v in _pairs(node[2]) if k.startswith("name")]
    )
    size = node[6] if len(node) > 6 and isinstance(node[6], int) else 0
    return Part(
        number=number,
        content_type=content_type,
        encoding=_text(node[5]).lower() or "7bit",
        size=max(0, size),
        disposition=disposition,
        filename=filename,
    )


def decoded_size(part: Part) -> int:
    """The size of the part once decoded, estimated from its encoded size."""
    if part.encoding != "base64":
        return part.size
    # Lines of 76 characters plus CRLF; every 4 characters carry 3 bytes.
    characters = part.size - 2 * (-(-part.size // 78))
    return max(0, characters) * 3 // 4


def _attachment(part: Part) -> AttachmentInfo:
    return AttachmentInfo(
        filename=part.filename, content_type=part.content_type, size=decoded_size(part)
    )


def _collect(node: Any, number: str) -> tuple[list[Part], list[AttachmentInfo]]:
    if node and isinstance(node[0], list):
        subtype = _text(node[1]).lower() if len(node) > 1 else "mixed"
        prefix = f"{number}." if number else ""
        children = [_collect(child, f"{prefix}{i}") for i, child in enumerate(node[0], 1)]
        attachments = [att for _texts, atts in children for att in atts]
        if subtype == "alternative":
            # One rendering of the same text is enough: plain when offered, else HTML.
            with_plain = [t for t, _a in children if any(p.content_type == "text/plain" for p in t)]
            with_any = [t for t, _a in children if t]
            chosen = (with_plain or with_any or [[]])[0]
            return list(chosen), attachments
        return [p for texts, _atts in children for p in texts], attachments
    part = _leaf(node, number or "1")
    if part.is_body_text:
        return [part], []
    return [], [_attachment(part)]


def layout(bodystructure: Any) -> Layout:
    """Split a BODYSTRUCTURE into the text parts to fetch and the attachments to list."""
    multipart = bool(bodystructure) and isinstance(bodystructure[0], list)
    texts, attachments = _collect(bodystructure, "")
    if not multipart and texts:
        # The body of a single-part mail is its TEXT; its MIME header is the mail's header.
        texts = [
            Part("TEXT", p.content_type, p.encoding, p.size, p.disposition, p.filename)
            for p in texts
        ]
    return Layout(
        multipart=multipart,
        text_parts=tuple(texts[:MAX_TEXT_PARTS]),
        attachments=tuple(attachments),
    )


def plan_fetch(parts: Sequence[Part], budget: int) -> tuple[PartFetch, ...]:
    """How many octets of each text part to fetch so the whole stays within the budget."""
    plan = []
    remaining = budget
    for part in parts:
        if remaining <= 0:
            break
        length = min(part.size, remaining)
        plan.append(PartFetch(part, length))
        remaining -= length
    return tuple(plan)


def cut_at_line(body: bytes) -> bytes:
    """End a truncated body at its last line break, so encodings decode cleanly."""
    end = body.rfind(b"\n")
    return body[: end + 1] if end >= 0 else body


_FIELD = re.compile(rb"^([^:\s]+)\s*:")


def header_without(header: bytes, names: Sequence[bytes]) -> bytes:
    """The header block without the named fields (folded lines included), ending in CRLF."""
    drop = {n.lower() for n in names}
    kept: list[bytes] = []
    skipping = False
    for line in header.splitlines(keepends=True):
        if line in (b"\r\n", b"\n"):
            break
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        match = _FIELD.match(line)
        skipping = bool(match and match.group(1).lower() in drop)
        if not skipping:
            kept.append(line)
    block = b"".join(kept)
    if block and not block.endswith(b"\n"):
        block += b"\r\n"
    return block


def cap_header(header: bytes, limit: int) -> bytes:
    """A header block cut to the limit at a line break, and ended with a blank line."""
    if len(header) > limit:
        header = cut_at_line(header[:limit])
    header = header_without(header, ())
    return header + b"\r\n"


def multipart_content_type(header: bytes, boundary: str) -> bytes:
    """A Content-Type line with the mail's own multipart subtype and parameters, new boundary.

    Keeping ``multipart/report; report-type=delivery-status`` lets noise rules still see a
    bounce for what it is after the attachments are left out.
    """
    original = email.message_from_bytes(header)
    subtype = "mixed"
    if original.get_content_maintype() == "multipart":
        subtype = original.get_content_subtype()
    rebuilt = email.message.Message()
    rebuilt["Content-Type"] = f"multipart/{subtype}"
    for name, value in (original.get_params() or [])[1:]:
        if isinstance(value, str) and name.lower() != "boundary" and _TOKEN.match(name):
            rebuilt.set_param(name, value)
    rebuilt.set_param("boundary", boundary)
    return f"Content-Type: {rebuilt['Content-Type']}\r\n".encode("ascii", errors="replace")


_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")


def rebuild(header: bytes, parts: Sequence[tuple[bytes, bytes]], *, multipart: bool) -> bytes:
    """A compact RFC 822 message: the real header and only the text parts.

    ``parts`` holds (MIME header, body) pairs. A single-part text mail comes back as it
    was; a multipart one keeps its multipart type with only its text parts inside, each
    with its own Content-Type and Content-Transfer-Encoding.
    """
    header = cap_header(header, len(header))
    if not multipart and len(parts) == 1:
        return header + parts[0][1]
    base = header_without(header, (b"content-type", b"content-transfer-encoding"))
    if not parts:
        return base + b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    # Derived from the content, so a mail fetched twice is rebuilt to the same bytes: a mail
    # without a Message-ID is known by the hash of those bytes.
    digest = hashlib.sha256(header)
    for mime, body in parts:
        digest.update(mime)
        digest.update(body)
    boundary = "=_text_" + digest.hexdigest()[:24]
    while any(boundary.encode() in body for _mime, body in parts):
        boundary = "=_text_" + hashlib.sha256(boundary.encode()).hexdigest()[:24]
    if not re.search(rb"(?im)^mime-version\s*:", base):
        base += b"MIME-Version: 1.0\r\n"
    out = [base, multipart_content_type(header, boundary), b"\r\n"]
    for mime, body in parts:
        out += [b"--", boundary.encode(), b"\r\n", cap_header(mime, len(mime)), body]
        if not body.endswith(b"\n"):
            out.append(b"\r\n")
    out += [b"--", boundary.encode(), b"--\r\n"]
    return b"".join(out)
