"""Hostile mails: injection attempts, oversized and malformed structures, and how to check them."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from tests.support.dovecot import USER

#: Markup that would do something in Jira if it went through unescaped.
WIKI_PAYLOADS = (
    "{code}",
    "[~admin]",
    "||",
    "{color:red}",
    "{color}",
    "!image.png!",
    "*bold*",
    "[click|http://evil.test]",
)
JQL_PAYLOAD = '" OR 1=1 OR summary ~ "'
INJECTION_BODY = (
    "h1. Urgent\n"
    "*bold* and _italic_ and {color:red}red{color}\n"
    "||head||head||\n|cell|cell|\n"
    "{code}rm -rf /{code}\n"
    "!image.png!\n"
    "[~admin] please look, [click|http://evil.test]\n"
    f"{JQL_PAYLOAD}\n"
    "bq. quoted\n"
)


@dataclass(frozen=True)
class Hostile:
    """One hostile mail, and the bounds it must stay within."""

    name: str
    build: Callable[[str], bytes]  # token -> raw mail
    max_seconds: float = 10.0
    max_peak_bytes: int = 64 * 1024 * 1024
    #: Bytes the worker may pull over IMAP for this mail (None: not checked).
    max_wire_bytes: int | None = None


def _base(token: str, subject: str, *, name: str = "Dana Client") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = f"{name} <{token.lower()}@client-{token.lower()}.test>"
    msg["To"] = USER
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring=token.lower(), domain="client.test")
    return msg


ANGRY = "This is unacceptable, the service is down again and I want a refund."


def injection(token: str) -> bytes:
    """JQL and wiki markup in subject, sender name and body."""
    msg = _base(
        token,
        f"Outage {JQL_PAYLOAD} {{code}}x{{code}} [~admin] case {token}",
        name="[~admin] {color:red}Boss{color} ||x||",
    )
    msg.set_content(f"{ANGRY}\n{INJECTION_BODY}\ncase {token}\n")
    return bytes(msg)


def _encoded_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def header_injection(token: str) -> bytes:
    """CR/LF hidden in encoded words of Subject and From, trying to add headers."""
    sneaky = _encoded_word(f"Refund case {token}\r\nBcc: victim@evil.test\r\nX-Injected: yes")
    name = _encoded_word("Dana\r\nReply-To: attacker@evil.test")
    raw = (
        f"From: {name} <{token.lower()}@client.test>\r\n"
        f"To: {USER}\r\n"
        f"Subject: {sneaky}\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\n"
        f"Message-ID: <{token.lower()}.inject@client.test>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"{ANGRY}\r\ncase {token}\r\n"
    )
    return raw.encode()


def many_recipients(token: str, count: int = 10_000) -> bytes:
    msg = _base(token, f"Broken again, case {token}")
    msg.replace_header("To", ", ".join(f"user{i}@customer.test" for i in range(count)))
    msg["Cc"] = ", ".join(f"cc{i}@customer.test" for i in range(count))
    msg.set_content(f"{ANGRY}\ncase {token}\n")
    return bytes(msg)


def nested_multipart(token: str, depth: int = 1000) -> bytes:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    tail = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    top = (
        f"From: Dana <{token.lower()}@client.test>\r\nTo: {USER}\r\n"
        f"Subject: Nested, case {token}\r\nDate: {format_datetime(datetime.now(UTC))}\r\n"
        f"Message-ID: <{token.lower()}.nested@client.test>\r\nMIME-Version: 1.0\r\n"
    ).encode()
    return top + head + f"Content-Type: text/plain\r\n\r\n{ANGRY} case {token}".encode() + tail


FIFTY_MB = 50 * 1024 * 1024


def huge_attachment(token: str) -> bytes:
    msg = _base(token, f"Export corrupt, case {token}")
    msg.set_content(f"{ANGRY}\nThe export is attached.\ncase {token}\n")
    msg.add_attachment(
        os.urandom(FIFTY_MB), maintype="application", subtype="zip", filename="export.zip"
    )
    return bytes(msg)


def invalid_charsets(token: str) -> bytes:
    """An unknown charset, a non-text codec as charset, and bytes that are not the charset."""
    boundary = "cs"
    parts = [
        ("x-unknown-charset-999", "Caf\xe9 cass\xe9".encode("latin-1")),
        ("base64_codec", b"not base64 at all !!"),
        ("utf-8", b"broken \xff\xfe\xc3 bytes " + ANGRY.encode()),
        ("utf-7", b"+AGEAYgBj- and +ZeVnLIqe-"),
    ]
    body = b"".join(
        b"--%s\r\nContent-Type: text/plain; charset=%s\r\n\r\n%s\r\n"
        % (boundary.encode(), cs.encode(), data)
        for cs, data in parts
    )
    top = (
        f"From: Dana <{token.lower()}@client.test>\r\nTo: {USER}\r\n"
        f"Subject: =?x-bogus?q?Caf=E9?= case {token}\r\n"
        f"Date: {format_datetime(datetime.now(UTC))}\r\n"
        f"Message-ID: <{token.lower()}.charset@client.test>\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    ).encode()
    return top + body + f"--{boundary}--\r\ncase {token}\r\n".encode()


def long_line(token: str) -> bytes:
    top = (
        f"From: Dana <{token.lower()}@client.test>\r\nTo: {USER}\r\n"
        f"Subject: Long, case {token}\r\nDate: {format_datetime(datetime.now(UTC))}\r\n"
        f"Message-ID: <{token.lower()}.long@client.test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ).encode()
    return top + f"{ANGRY} case {token} ".encode() + b"x" * (5 * 1024 * 1024) + b"\r\n"


HOSTILE = (
    Hostile("markup and JQL injection", injection),
    Hostile("header injection (CR/LF in encoded words)", header_injection),
    Hostile("10,000 recipients", many_recipients),
    Hostile("1,000 levels of nested multipart", nested_multipart),
    Hostile("50 MB attachment", huge_attachment, max_wire_bytes=100_000),
    Hostile("invalid charsets", invalid_charsets),
    Hostile("a single 5 MB line", long_line),
)


# --- checks on what reached Jira ---------------------------------------------------------

# The injected lines that would become a heading or a quote (the worker's own headings may).
_LINE_MACRO = re.compile(r"^\s*(h1\. Urgent|bq\. quoted)", re.MULTILINE)


def wiki_problems(markup: str) -> list[str]:
    """Ways the injected payloads would act in wiki markup (empty when all are inert)."""
    found = [f"{p!r} is live" for p in WIKI_PAYLOADS if p in markup]
    found += [f"line macro {m.group(0)!r}" for m in _LINE_MACRO.finditer(markup)]
    return found


#: ADF node types a worker-written document may hold; anything else came from the input.
ADF_ALLOWED = frozenset(
    {
        "doc",
        "paragraph",
        "text",
        "hardBreak",
        "heading",
        "bulletList",
        "orderedList",
        "listItem",
        "blockquote",
        "rule",
        "mention",
    }
)


def adf_problems(document: Any, allowed_mentions: frozenset[str] = frozenset()) -> list[str]:
    """Nodes or marks in an ADF document that the input could have smuggled in."""
    problems: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind not in ADF_ALLOWED:
            problems.append(f"node {kind!r}")
        if kind == "mention" and node.get("attrs", {}).get("id") not in allowed_mentions:
            problems.append(f"mention {node.get('attrs')!r}")
        for mark in node.get("marks", []) or []:
            if mark.get("type") not in ("strong", "em"):
                problems.append(f"mark {mark!r}")
        walk(node.get("content", []))

    walk(document)
    return problems
