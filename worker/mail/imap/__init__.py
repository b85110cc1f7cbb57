"""The IMAP inbox adapter: connect, watch folders, fetch new mail's text, flag what was handled.

``connection`` logs in and backs off, ``folder`` selects, fetches and marks, ``idle``
waits for new mail, and ``inbox`` puts them together as :class:`ImapInbox`.
"""

from __future__ import annotations

from worker.mail.imap.connection import Backoff, Connection, Session, ssl_context
from worker.mail.imap.folder import (
    MAX_ADDRESS_BYTES,
    MAX_HEADER_BYTES,
    FetchedMessage,
    Folders,
    FolderState,
    keywords_kept,
)
from worker.mail.imap.folder import _header as _header
from worker.mail.imap.inbox import ImapInbox

__all__ = [
    "MAX_ADDRESS_BYTES",
    "MAX_HEADER_BYTES",
    "Backoff",
    "Connection",
    "FetchedMessage",
    "FolderState",
    "Folders",
    "ImapInbox",
    "Session",
    "keywords_kept",
    "ssl_context",
]
