"""Random MIME trees through Dovecot: the right parts are fetched and every attachment listed."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.dovecot import Dovecot, plain_settings, start_dovecot
from worker.mail.imap import ImapInbox

pytestmark = pytest.mark.integration

WORDS = (
    st.text(alphabet="abcdefghij klmnop éü", min_size=1, max_size=40).map(str.strip).filter(bool)
)


@st.composite
def leaves(draw: st.DrawFn) -> EmailMessage:
    part = EmailMessage()
    kind = draw(st.sampled_from(["plain", "html", "file", "attached-text"]))
    text = draw(WORDS)
    if kind == "plain":
        part.set_content(text)
    elif kind == "html":
        part.set_content(f"<p>{text}</p>", subtype="html")
    elif kind == "file":
        part.set_content(text.encode(), maintype="application", subtype="octet-stream")
        part.add_header("Content-Disposition", "attachment", filename=f"{text[:10]}.bin")
    else:
        part.set_content(text, disposition="attachment", filename=f"{text[:10]}.txt")
    return part


def trees() -> st.SearchStrategy[EmailMessage]:
    def nest(children: st.SearchStrategy[EmailMessage]) -> st.SearchStrategy[EmailMessage]:
        @st.composite
        def multipart(draw: st.DrawFn) -> EmailMessage:
            node = EmailMessage()
            node.set_type(f"multipart/{draw(st.sampled_from(['mixed', 'related']))}")
            for child in draw(st.lists(children, min_size=1, max_size=3)):
                node.attach(child)
            return node

        return multipart()

    return st.recursive(leaves(), nest, max_leaves=6)


def walk_leaves(message: email.message.Message) -> Iterator[EmailMessage]:
    for part in message.walk():
        if not part.is_multipart():
            assert isinstance(part, EmailMessage)
            yield part


@pytest.fixture(scope="module")
def server() -> Iterator[Dovecot]:
    dovecot = start_dovecot()
    yield dovecot
    dovecot.cleanup()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=trees())
def test_random_structures_keep_text_and_list_attachments(
    server: Dovecot, tree: EmailMessage
) -> None:
    """Whatever the nesting, the texts fetched are the mail's texts and no attachment is missed."""
    mail = EmailMessage()
    mail["Subject"] = "structure"
    mail["From"] = "client@customer.test"
    mail.set_type("multipart/mixed")
    mail.attach(tree)
    raw = bytes(mail)
    uid = server.append(raw)
    inbox = ImapInbox(plain_settings(server))
    try:
        (fetched,) = inbox.fetch_since("INBOX", uid - 1, limit=1)
    finally:
        inbox.close()

    original = list(walk_leaves(email.message_from_bytes(raw, policy=email.policy.default)))
    expected_texts = [
        str(p.get_content()).strip()
        for p in original
        if p.get_content_type() in ("text/plain", "text/html") and not p.is_attachment()
    ]
    expected_files = sorted(p.get_filename() or "" for p in original if p.is_attachment())

    rebuilt = email.message_from_bytes(fetched.raw, policy=email.policy.default)
    texts = [
        str(p.get_content()).strip()
        for p in walk_leaves(rebuilt)
        if p.get_content_type() in ("text/plain", "text/html")
    ]
    assert sorted(texts) == sorted(expected_texts) or (not expected_texts and texts == [""])
    assert sorted(a.filename for a in fetched.attachments) == expected_files
