"""What the worker knows about one mail after parsing; shared by every mail source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """An attachment seen but never downloaded: its name, type and size."""

    filename: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox address with its display name, both as decoded text."""

    email: str  # lower-cased addr-spec, "" when missing or unparseable
    name: str = ""

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2] if "@" in self.email else ""


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """One mail, decoded and normalised, ready for noise checks and complaint detection."""

    #: Stable identity: the normalised Message-ID, or ``sha256:<hex>`` of the content.
    key: str
    message_id: str | None
    subject: str
    sender: Address
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    date: datetime | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    #: Selected raw header values that noise/loop rules read (lower-cased names).
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    #: The whole readable text (capped), HTML turned into text.
    text: str = ""
    #: What the sender wrote now: quoted history and signature removed.
    new_text: str = ""
    attachments: tuple[AttachmentInfo, ...] = ()
    #: Problems the parser recovered from (bad charset, broken boundary, ...).
    defects: tuple[str, ...] = ()
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message as a mail source delivers it."""

    source: str
    raw: bytes
    uid: int | None = None
    uidvalidity: int | None = None
    attachments: tuple[AttachmentInfo, ...] = ()
    received: datetime | None = None
    #: From the team's Sent folder: an update to the client, not a client's mail.
    sent: bool = False
