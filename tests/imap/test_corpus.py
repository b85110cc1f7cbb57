"""Every real mail of the vendored corpus goes through Dovecot and the adapter without a crash."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.data import MAIL, vendored
from tests.support.dovecot import Dovecot
from worker.mail.imap import MAX_HEADER_BYTES, FetchedMessage, ImapInbox

pytestmark = pytest.mark.integration


def corpus_files() -> list[Path]:
    return [
        path
        for path in vendored(MAIL, at_least=1000)
        if path.suffix in (".eml", ".raw") and path.stat().st_size > 0
    ]


def body_text(raw: bytes) -> str:
    """The text a reader sees first, whitespace collapsed; empty when there is none."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError, AssertionError):
        return "(undecodable)"
    return " ".join(str(content).split())


def test_every_corpus_mail_is_fetched_and_reads_like_the_original(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """All corpus mails come back, parse, stay small, and nearly all show the same text."""
    files = corpus_files()
    if not files:
        pytest.fail(f"no .eml or .raw mail found under {MAIL}")
    dovecot.append_many([path.read_bytes() for path in files])
    inbox = make_inbox(max_text_bytes=262144)

    fetched: list[FetchedMessage] = []
    while batch := inbox.fetch_since("INBOX", fetched[-1].uid if fetched else 0, limit=250):
        fetched += batch

    assert len(fetched) == len(files)
    differing = []
    for path, message in zip(files, fetched, strict=True):
        assert len(message.raw) <= MAX_HEADER_BYTES + 262144 + 16 * 1024, path
        mine = body_text(message.raw)
        if not message.truncated and mine != body_text(path.read_bytes()):
            differing.append(path.name)
    # Malformed mails (no blank line after the header, bare CR line ends, NUL bytes) are
    # read differently by Dovecot and by the email package; they are the only exceptions.
    assert len(differing) <= len(files) * 0.03, differing
