"""BODYSTRUCTURE walking and message rebuilding, on structures shaped like imapclient's."""

from __future__ import annotations

import base64
import email
import email.policy
from email.message import EmailMessage

from worker.mail.bodystructure import (
    Part,
    cap_header,
    decode_filename,
    decoded_size,
    header_without,
    layout,
    plan_fetch,
    rebuild,
)


def leaf(
    maintype: bytes, subtype: bytes, size: int, disposition: object = None, **kw: object
) -> tuple[object, ...]:
    params = kw.get("params", (b"charset", b"utf-8"))
    encoding = kw.get("encoding", b"7bit")
    if maintype == b"text":
        return (
            maintype,
            subtype,
            params,
            None,
            None,
            encoding,
            size,
            3,
            None,
            disposition,
            None,
            None,
        )
    return (maintype, subtype, params, None, None, encoding, size, None, disposition, None, None)


def multipart(subtype: bytes, *children: object) -> tuple[object, ...]:
    return ([*children], subtype, (b"boundary", b"xyz"), None, None, None)


def test_alternative_keeps_plain_and_lists_attachments() -> None:
    """Plain text wins over its HTML twin; files are listed with decoded names."""
    structure = multipart(
        b"mixed",
        multipart(b"alternative", leaf(b"text", b"plain", 120), leaf(b"text", b"html", 900)),
        leaf(
            b"application",
            b"pdf",
            7800,
            (b"attachment", (b"filename*", b"utf-8''r%C3%A9sum%C3%A9.pdf")),
            params=None,
            encoding=b"base64",
        ),
        leaf(b"text", b"plain", 40, (b"attachment", (b"filename", b"notes.txt"))),
    )

    result = layout(structure)

    assert result.multipart
    assert [(p.number, p.content_type) for p in result.text_parts] == [("1.1", "text/plain")]
    assert [(a.filename, a.content_type) for a in result.attachments] == [
        ("résumé.pdf", "application/pdf"),
        ("notes.txt", "text/plain"),
    ]
    assert result.attachments[0].size == 5700  # 7800 octets of base64 in 78-octet lines


def test_html_alternative_inside_related_is_used_when_there_is_no_plain() -> None:
    """An HTML-only mail with inline images yields the HTML part and lists the images."""
    structure = multipart(
        b"related",
        leaf(b"text", b"html", 500),
        leaf(b"image", b"png", 300, (b"inline", (b"filename", b"logo.png")), params=None),
    )

    result = layout(structure)

    assert [(p.number, p.content_type) for p in result.text_parts] == [("1", "text/html")]
    assert [a.filename for a in result.attachments] == ["logo.png"]


def test_single_part_mail_is_fetched_as_its_text() -> None:
    """A one-part text mail uses the TEXT section, since its MIME header is the mail's."""
    result = layout(leaf(b"text", b"plain", 42))

    assert not result.multipart
    assert [p.number for p in result.text_parts] == ["TEXT"]
    assert result.attachments == ()


def test_single_part_attachment_mail_has_no_text() -> None:
    """A mail that is only a PDF has nothing to fetch and one attachment, named by Content-Type."""
    result = layout(
        leaf(b"application", b"pdf", 1000, params=(b"name", b"=?utf-8?q?caf=C3=A9?=.pdf"))
    )

    assert result.text_parts == ()
    assert [a.filename for a in result.attachments] == ["café.pdf"]


def test_rfc2231_continuations_are_joined() -> None:
    """A long filename split over several parameters comes back whole."""
    params = [("filename*0*", "utf-8''rapport%20"), ("filename*1*", "annuel%C3%A9.pdf")]

    assert decode_filename(params) == "rapport annuelé.pdf"


def test_budget_is_shared_across_text_parts() -> None:
    """Parts are fetched in order until the budget runs out; the last one is cut."""
    parts = [Part(str(i), "text/plain", "7bit", 600, "", "") for i in (1, 2, 3)]

    plan = plan_fetch(parts, 1000)

    assert [(p.part.number, p.length, p.truncated) for p in plan] == [
        ("1", 600, False),
        ("2", 400, True),
    ]


def test_base64_size_estimate() -> None:
    """The decoded size of base64 accounts for line breaks and the 4-to-3 ratio."""
    assert decoded_size(Part("2", "application/zip", "base64", 78 * 100, "", "")) == 5700
    assert decoded_size(Part("2", "application/zip", "7bit", 500, "", "")) == 500


def test_header_fields_are_removed_with_their_folded_lines() -> None:
    """Content-Type with a folded parameter line goes entirely; other fields stay."""
    header = (
        b'From: a@example.test\r\nContent-Type: multipart/mixed;\r\n\tboundary="zzz"\r\n'
        b"Subject: hi\r\n there\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
    )

    assert header_without(header, (b"content-type", b"content-transfer-encoding")) == (
        b"From: a@example.test\r\nSubject: hi\r\n there\r\n"
    )


def test_oversized_header_is_cut_at_a_line() -> None:
    """A header over the limit keeps whole lines and still ends with a blank line."""
    header = b"".join(b"Received: from host%d\r\n" % i for i in range(100)) + b"\r\n"

    capped = cap_header(header, 200)

    assert capped.endswith(b"\r\n\r\n")
    assert len(capped) <= 202
    assert all(line.startswith(b"Received: from host") for line in capped.split(b"\r\n")[:-2])


def test_rebuilt_multipart_parses_with_each_part_decoded() -> None:
    """The compact message keeps the real header and decodes each text part by its own headers."""
    header = (
        b"From: Client <client@customer.test>\r\nSubject: =?utf-8?q?Facture_erron=C3=A9e?=\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="orig"\r\n\r\n'
    )
    plain = (
        b'Content-Type: text/plain; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
        b"La facture est erron=C3=A9e.\r\n",
    )
    html = (
        b"Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        base64.b64encode("<p>Déjà payé</p>".encode("iso-8859-1")) + b"\r\n",
    )

    raw = rebuild(header, [plain, html], multipart=True)

    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Facture erronée"
    assert message.get_content_type() == "multipart/mixed"
    assert b"orig" not in raw
    texts = [p.get_content() for p in message.walk() if not p.is_multipart()]
    assert texts[0].strip() == "La facture est erronée."
    assert texts[1] == "<p>Déjà payé</p>"
    assert message.defects == []


def test_a_mail_rebuilt_twice_is_the_same_bytes() -> None:
    """A mail without a Message-ID is known by its bytes: a second fetch must match the first."""
    header = b'From: a@example.test\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    parts = [(b"Content-Type: text/plain\r\n\r\n", b"first\r\n")]
    other = [(b"Content-Type: text/plain\r\n\r\n", b"second\r\n")]

    assert rebuild(header, parts, multipart=True) == rebuild(header, parts, multipart=True)
    assert rebuild(header, parts, multipart=True) != rebuild(header, other, multipart=True)


def test_rebuilt_single_part_is_the_mail_itself() -> None:
    """A one-part text mail comes back byte for byte."""
    header = b"From: a@example.test\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\n"

    assert rebuild(header, [(b"", b"body\r\n")], multipart=False) == header + b"body\r\n"


def test_mail_without_text_becomes_an_empty_text_mail() -> None:
    """With no text parts the header stays and the body is empty plain text."""
    header = (
        b"From: a@example.test\r\nContent-Type: application/pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
    )

    raw = rebuild(header, [], multipart=False)

    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "text/plain"
    assert message["From"] == "a@example.test"


def test_rebuilt_bounce_keeps_its_report_type() -> None:
    """A delivery report stays multipart/report with its report-type, under a new boundary."""
    header = (
        b"From: MAILER-DAEMON@mx.example.test\r\nSubject: Undelivered Mail\r\n"
        b"Content-Type: multipart/report; report-type=delivery-status;\r\n"
        b'\tboundary="orig-boundary"\r\n\r\n'
    )
    text = (b"Content-Type: text/plain\r\n\r\n", b"Your message could not be delivered.\r\n")

    raw = rebuild(header, [text], multipart=True)

    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_content_type() == "multipart/report"
    assert message.get_param("report-type") == "delivery-status"
    assert message.get_boundary() != "orig-boundary"
    (part,) = [p for p in message.walk() if not p.is_multipart()]
    assert part.get_content().strip() == "Your message could not be delivered."
