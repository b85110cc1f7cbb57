"""Parsing real, broken and hostile mail into ParsedMail."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.data import MAIL, vendored
from worker.domain.mail import AttachmentInfo
from worker.errors import MessageUnparseable
from worker.mail.parse import content_key, decode_text, normalise_message_id, parse_message

DEMO = Path(__file__).resolve().parents[2] / "worker" / "demo" / "mails"


def mail(headers: str, body: bytes = b"Hello\n") -> bytes:
    return headers.strip().replace("\n", "\r\n").encode() + b"\r\n\r\n" + body


def test_demo_mail_is_read_with_its_identity() -> None:
    parsed = parse_message((DEMO / "01-angry-client.eml").read_bytes())
    assert parsed.key == "demo-angry-0001@northwind-legal.example"
    assert parsed.message_id == parsed.key
    assert parsed.sender.email == "dana.whitfield@northwind-legal.example"
    assert parsed.sender.name == "Dana Whitfield"
    assert parsed.subject == "Third outage this month - this is unacceptable"
    assert parsed.date is not None
    assert parsed.date.tzinfo is not None
    assert "unacceptable" in parsed.new_text
    assert parsed.to[0].email == "support@acme-services.example"


def test_mail_without_message_id_is_keyed_by_its_content() -> None:
    raw = mail("From: a@b.example\nSubject: hi")
    parsed = parse_message(raw)
    assert parsed.message_id is None
    assert parsed.key == content_key(raw)
    assert parsed.key.startswith("sha256:")
    assert content_key(raw) == content_key(raw.replace(b"\r\n", b"\n"))


def test_encoded_words_and_rfc2231_filename_are_decoded() -> None:
    raw = mail(
        "From: =?utf-8?q?Ren=C3=A9e_M=C3=BCller?= <renee@x.example>\n"
        "Subject: =?iso-8859-1?q?R=E9clamation_urgente?=\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBody\r\n"
        b"--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''rapport%20d%C3%A9tail.pdf\r\n\r\n"
        b"JVBER\r\n--b--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.sender.name == "Renée Müller"
    assert parsed.subject == "Réclamation urgente"
    assert parsed.text == "Body"
    assert [a.filename for a in parsed.attachments] == ["rapport détail.pdf"]


def test_filenames_in_encoded_words_and_in_raw_utf8_are_decoded() -> None:
    raw = mail(
        'From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
        b"--b\r\nContent-Type: text/plain\r\n\r\nBody\r\n"
        b'--b\r\nContent-Type: application/pdf; name="=?utf-8?B?RmFjdHVyZSDDqXTDqS5wZGY=?="\r\n'
        b"\r\nJVBER\r\n"
        b"--b\r\nContent-Type: application/msword\r\n"
        b'Content-Disposition: attachment; filename="' + "管理.doc".encode() + b'"\r\n'
        b"\r\nJVBER\r\n--b--\r\n",
    )
    parsed = parse_message(raw)
    assert [a.filename for a in parsed.attachments] == ["Facture été.pdf", "管理.doc"]


def test_outlook_boundary_without_quotes_is_read() -> None:
    # Outlook sends "boundary=----=_NextPart_..." unquoted; the "=" is not allowed there,
    # but the parts are there all the same and the client's words are in them.
    raw = mail(
        "From: a@b.example\nMIME-Version: 1.0\n"
        "Content-Type: multipart/alternative;\n\tboundary=----=_NextPart_000_0093_01C8.EB75E850",
        b"------=_NextPart_000_0093_01C8.EB75E850\r\nContent-Type: text/plain\r\n\r\n"
        b"Still no refund.\r\n"
        b"------=_NextPart_000_0093_01C8.EB75E850\r\nContent-Type: text/html\r\n\r\n"
        b"<p>Still no refund.</p>\r\n------=_NextPart_000_0093_01C8.EB75E850--\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.text == "Still no refund."
    assert parsed.attachments == ()


def test_a_digest_part_without_content_type_is_a_mail_of_its_own() -> None:
    # Read as text, the part would hand its own header lines to the detector.
    raw = mail(
        'From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/digest; boundary="d"',
        b"--d\r\n\r\nFrom: c@d.example\r\nSubject: inner\r\n\r\nInner words\r\n--d--\r\n",
    )
    assert parse_message(raw).text == "Inner words"


def test_unknown_charset_falls_back_to_utf8_then_latin1_with_a_defect() -> None:
    utf8 = mail("From: a@b.example\nContent-Type: text/plain; charset=x-bogus", "Grüße".encode())
    assert parse_message(utf8).text == "Grüße"
    assert any("unknown charset" in d for d in parse_message(utf8).defects)
    bogus = "From: a@b.example\nContent-Type: text/plain; charset=x-bogus"
    latin = mail(bogus, "Grüße".encode("latin-1"))
    parsed = parse_message(latin)
    assert parsed.text == "Grüße"
    assert any("latin-1" in d for d in parsed.defects)


def test_decode_text_refuses_codecs_that_are_not_text() -> None:
    defects: list[str] = []
    assert decode_text(b"abc", "base64", defects) == "abc"
    assert defects


def test_html_only_mail_becomes_readable_text_without_scripts() -> None:
    raw = mail(
        "From: a@b.example\nContent-Type: text/html; charset=utf-8",
        b"<html><head><style>p{}</style></head><body><p>First&nbsp;line</p>"
        b"<script>alert(1)</script><div>Second<br>Third</div></body></html>",
    )
    parsed = parse_message(raw)
    assert parsed.text.split("\n") == ["First line", "Second", "Third"]


def test_alternative_prefers_plain_text() -> None:
    raw = mail(
        'From: a@b.example\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="x"',
        b"--x\r\nContent-Type: text/plain\r\n\r\nplain words\r\n"
        b"--x\r\nContent-Type: text/html\r\n\r\n<p>html words</p>\r\n--x--\r\n",
    )
    assert parse_message(raw).text == "plain words"


def test_quoted_history_is_kept_in_text_but_not_in_new_text() -> None:
    raw = mail(
        "From: a@b.example\nIn-Reply-To: <one@x.example>\nReferences: <zero@x> <one@x.example>",
        b"Still broken.\r\n\r\nOn Mon, 2 Mar 2026 at 09:00, Support <s@x> wrote:\r\n"
        b"> Fixed now.\r\n",
    )
    parsed = parse_message(raw)
    assert parsed.new_text == "Still broken."
    assert "Fixed now." in parsed.text
    assert parsed.in_reply_to == "one@x.example"
    assert parsed.references == ("zero@x", "one@x.example")


def test_text_is_capped_and_marked_truncated() -> None:
    parsed = parse_message(mail("From: a@b.example", b"x" * 5000), max_text_bytes=1024)
    assert len(parsed.text) == 1024
    assert parsed.truncated


def test_given_attachments_are_kept() -> None:
    info = AttachmentInfo("big.zip", "application/zip", 20_000_000)
    assert parse_message(mail("From: a@b.example"), attachments=[info]).attachments == (info,)


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n"])
def test_empty_input_is_unparseable(raw: bytes) -> None:
    with pytest.raises(MessageUnparseable):
        parse_message(raw)


def test_message_id_normalisation() -> None:
    assert normalise_message_id(" <Abc@Host> (comment)") == "Abc@Host"
    assert normalise_message_id("bare@host") == "bare@host"
    assert normalise_message_id("") is None


def _encodable(raw: bytes) -> None:
    """Every text the store will keep must be valid UTF-8 (no lone surrogates)."""
    try:
        parsed = parse_message(raw)
    except MessageUnparseable:
        return
    texts = [parsed.key, parsed.subject, parsed.text, parsed.new_text, parsed.message_id or ""]
    texts += [a.email + a.name for a in (parsed.sender, *parsed.to, *parsed.cc)]
    texts += [*parsed.headers, *parsed.headers.values(), *(a.filename for a in parsed.attachments)]
    for text in texts:
        text.encode("utf-8")


def test_eight_bit_headers_become_valid_text() -> None:
    raw = "From: Jörg <j@x.example>\r\nSubject: Grüße\r\n\r\nx".encode()
    parsed = parse_message(raw)
    assert (parsed.subject, parsed.sender.name) == ("Grüße", "Jörg")
    latin = "From: Jörg <j@x.example>\r\nSubject: Grüße\r\n\r\nx".encode("latin-1")
    assert parse_message(latin).subject == "Grüße"
    _encodable(latin)


def _bounded(raw: bytes, seconds: float = 5.0) -> None:
    started = time.perf_counter()
    with contextlib.suppress(MessageUnparseable):
        parse_message(raw)
    assert time.perf_counter() - started < seconds


def test_thousand_levels_of_nested_multipart_are_bounded() -> None:
    depth = 1000
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    tail = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    raw = (
        b"From: a@b.example\r\nMIME-Version: 1.0\r\n"
        + head
        + b"Content-Type: text/plain\r\n\r\ndeep"
        + tail
    )
    _bounded(raw)
    try:
        parsed = parse_message(raw)
    except MessageUnparseable:
        return
    assert any("nested" in d for d in parsed.defects)


def test_a_five_megabyte_line_is_bounded() -> None:
    raw = mail("From: a@b.example\nSubject: long", b"a" * 5_000_000)
    _bounded(raw)
    assert parse_message(raw).truncated


def test_ten_thousand_recipients_are_bounded() -> None:
    recipients = ", ".join(f"user{i}@example.com" for i in range(10_000))
    raw = mail(f"From: a@b.example\nTo: {recipients}\nCc: {recipients}")
    _bounded(raw)
    parsed = parse_message(raw)
    assert 0 < len(parsed.to) <= 100


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_are_unparseable(raw: bytes) -> None:
    _encodable(raw)


_HEADER_LINES = st.sampled_from(
    [
        b"From: =?utf-8?b?w6k=?= <x@y>",
        b"Subject: =?bogus?q?x?=",
        b"Content-Type: multipart/mixed; boundary=z",
        b"Content-Type: text/html; charset=utf-7",
        b"Content-Transfer-Encoding: base64",
        b"Content-Transfer-Encoding: quoted-printable",
        b"Message-ID: <<>>",
        b"To: ,,,@,<>",
        b"Date: Mon, 99 Foo 99999 99:99:99 +9999",
        b"--z",
        b"--z--",
        b"",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_HEADER_LINES, st.binary(max_size=80)), max_size=30))
def test_mail_shaped_garbage_parses_or_is_unparseable(lines: list[bytes]) -> None:
    _encodable(b"\r\n".join(lines))


def test_every_corpus_file_parses_or_is_unparseable() -> None:
    files = vendored(MAIL, at_least=1000)
    parsed = 0
    for path in files:
        raw = path.read_bytes()
        _encodable(raw)
        with contextlib.suppress(MessageUnparseable):
            parse_message(raw)
            parsed += 1
    assert parsed > 0.95 * len(files)
