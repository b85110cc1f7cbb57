"""Noise and loop rules: automatic, bulk and own mail never opens a recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED
from worker.errors import MessageUnparseable
from worker.mail.model import ParsedMail
from worker.mail.noise import noise_reason, sender_matches
from worker.mail.parse import parse_message

DEMO = Path(__file__).resolve().parents[2] / "worker" / "demo" / "mails"


def parsed(
    extra: str = "", sender: str = "client@customer.example", ctype: str = "text/plain"
) -> ParsedMail:
    raw = f"From: {sender}\r\nSubject: hi\r\nContent-Type: {ctype}\r\n{extra}\r\nbody\r\n"
    return parse_message(raw.encode())


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("Auto-Submitted: auto-replied\r\n", "auto-submitted: auto-replied"),
        ("Auto-Submitted: auto-generated; owner-email=x@y\r\n", "auto-submitted: auto-generated"),
        ("Precedence: bulk\r\n", "precedence: bulk"),
        ("Precedence: auto_reply\r\n", "precedence: auto_reply"),
        ("List-Id: <news.example>\r\n", "mailing list (list-id)"),
        ("List-Unsubscribe: <mailto:u@x>\r\n", "mailing list (list-unsubscribe)"),
        ("X-Autoreply: yes\r\n", "automatic reply (x-autoreply)"),
        ("X-Autorespond: yes\r\n", "automatic reply (x-autorespond)"),
        ("X-Auto-Response-Suppress: All\r\n", "automatic message (x-auto-response-suppress: all)"),
        ("Return-Path: <>\r\n", "null return path"),
        ("X-Failed-Recipients: a@b\r\n", "delivery failure (x-failed-recipients)"),
    ],
)
def test_header_rules(extra: str, expected: str) -> None:
    assert noise_reason(parsed(extra)) == expected


def test_a_person_writing_is_not_noise() -> None:
    assert noise_reason(parsed("Auto-Submitted: no\r\nPrecedence: normal\r\n")) is None


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example", "postmaster@x.example"])
def test_system_senders(sender: str) -> None:
    assert (noise_reason(parsed(sender=sender)) or "").startswith("system sender")


def test_system_sender_without_address() -> None:
    assert noise_reason(parsed(sender="MAILER-DAEMON <>")) == "system sender (mailer-daemon)"


@pytest.mark.parametrize("subject", ["Automatic reply: Re: outage", "Undeliverable: invoice"])
def test_automatic_subjects(subject: str) -> None:
    mail = parse_message(f"From: a@b.example\r\nSubject: {subject}\r\n\r\nx".encode())
    assert (noise_reason(mail) or "").startswith("automatic subject")


def test_delivery_report() -> None:
    mail = parsed(ctype='multipart/report; report-type=delivery-status; boundary="b"')
    assert noise_reason(mail) == "delivery report (multipart/report)"


def test_own_addresses_and_ignore_lists() -> None:
    mail = parsed(sender="Support <Support@Acme.example>")
    assert noise_reason(mail, own_addresses=["support@acme.example"]) == "our own address"
    assert noise_reason(mail, ignore_senders=["@acme.example"]) == "ignored sender (@acme.example)"
    assert noise_reason(mail, ignore_senders=["@other.example"]) is None


@pytest.mark.parametrize(
    ("sender", "pattern", "matches"),
    [
        ("a@b.example", "a@b.example", True),
        ("a@b.example", "A@B.example", True),
        ("a@b.example", "c@b.example", False),
        ("a@b.example", "@b.example", True),
        ("a@mail.b.example", "@b.example", False),
        ("a@mail.b.example", "*.b.example", True),
        ("a@mail.b.example", "@*.b.example", True),
        ("a@b.example", "*.b.example", True),
        ("a@notb.example", "*.b.example", False),
        ("a@b.example", "b.example", True),
        ("", "b.example", False),
    ],
)
def test_sender_patterns(sender: str, pattern: str, matches: bool) -> None:
    assert sender_matches(sender, pattern) is matches


def test_demo_out_of_office_and_newsletter_are_noise() -> None:
    for name in ("03-out-of-office.eml", "05-newsletter.eml"):
        assert noise_reason(parse_message((DEMO / name).read_bytes())) is not None
    assert noise_reason(parse_message((DEMO / "01-angry-client.eml").read_bytes())) is None


def test_most_real_bounces_are_noise() -> None:
    folder = SHARED / "corpora" / "mail" / "bounces" / "sisimai-set-of-emails" / "maildir" / "bsd"
    files = sorted(p for p in folder.glob("*") if p.is_file())
    assert len(files) > 100
    noisy = 0
    for path in files:
        try:
            mail = parse_message(path.read_bytes())
        except MessageUnparseable:
            continue
        noisy += noise_reason(mail) is not None
    assert noisy / len(files) > 0.9
