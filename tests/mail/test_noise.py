"""Noise and loop rules: automatic, bulk and own mail never opens a recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.data import MAIL, vendored
from worker.core.noise import BULK_LINKS, noise_reason, sender_matches
from worker.domain.mail import ParsedMail
from worker.errors import MessageUnparseable
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


@pytest.mark.parametrize(
    "sender", ["Ann Newsome <newsome@client.example>", "Ross Feeder <ross.feeder@client.example>"]
)
def test_a_person_whose_name_holds_a_machine_word_is_not_noise(sender: str) -> None:
    assert noise_reason(mail_with(sender=sender)) is None


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
    folder = MAIL / "bounces" / "sisimai-set-of-emails" / "maildir" / "bsd"
    files = vendored(folder, at_least=101)
    assert len(files) > 100
    noisy = 0
    for path in files:
        try:
            mail = parse_message(path.read_bytes())
        except MessageUnparseable:
            continue
        noisy += noise_reason(mail) is not None
    assert noisy / len(files) > 0.9


def mail_with(
    *,
    subject: str = "About my order",
    sender: str = "Ann Client <ann@client.example>",
    headers: str = "",
    body: str = "The portal is still not working. This is unacceptable.",
) -> ParsedMail:
    raw = (
        f"From: {sender}\r\nTo: support@acme.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <n@client.example>\r\n{headers}\r\n{body}\r\n"
    )
    return parse_message(raw.encode())


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("AUTO: Ann Client is out of the office (returning 12/01)", "automatic subject (auto)"),
        ("Mail could not be delivered", "automatic subject (mail could not be delivered)"),
        ("Returned Mail - Error During Delivery", "automatic subject (returned mail)"),
        ("Cron <root@web1> /usr/local/bin/backup.sh", "automatic subject (cron <)"),
        ("Your message to support-list awaits moderator approval", "list moderation request"),
        ("Post from ann@client.example requires approval", "list moderation request"),
    ],
)
def test_bounce_auto_reply_and_daemon_subjects(subject: str, expected: str) -> None:
    assert noise_reason(mail_with(subject=subject)) == expected


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("GitHub <notifications@github.example>", "automated sender (notifications)"),
        ("Shop News <newsletter@shop.example>", "automated sender (newsletter)"),
        ("Cron Daemon <root@web1.example>", "automated sender (root)"),
        ("users-owner@lists.example", "list server (users-owner)"),
        ("no-reply-billing@vendor.example", "no-reply sender (no-reply-billing)"),
        ("Daily Headlines <rssfeeds@reader.example>", "automated sender (rssfeeds)"),
        ("City Paper <news-alerts@paper.example>", "automated sender (news-alerts)"),
        ("Shop <site.updates@shop.example>", "automated sender (site.updates)"),
    ],
)
def test_feed_notification_and_daemon_senders(sender: str, expected: str) -> None:
    assert noise_reason(mail_with(sender=sender)) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("X-Campaign: 2026-11-spring\r\n", "bulk mail (x-campaign)"),
        ("X-RSS-Feed: https://blog.example/feed\r\n", "bulk mail (x-rss-feed)"),
        ("X-Cron-Env: <SHELL=/bin/sh>\r\n", "bulk mail (x-cron-env)"),
        ("X-Mailer: MailChimp Mailer - **CID1234**\r\n", "bulk mail (sent with mailchimp)"),
        ("X-Mailer: Lyris ListManager Web Interface\r\n", "bulk mail (sent with lyris)"),
        (
            "Content-Type: message/feedback-report\r\n",
            "delivery report (message/feedback-report)",
        ),
    ],
)
def test_mass_mailer_feed_and_report_headers(headers: str, expected: str) -> None:
    assert noise_reason(mail_with(headers=headers)) == expected


@pytest.mark.parametrize(
    "footer",
    [
        "To unsubscribe, click here: https://news.example/u/123",
        "Unsubscribe | Manage preferences",
        "You are receiving this email because you signed up at shop.example.",
        "View this email in your browser",
        "If you no longer wish to receive these mails, reply with REMOVE.",
        "To be removed from our mailing list, put REMOVE in the subject line.",
        "If you would like to be removed, answer this mail with one word.",
        "This message is sent in compliance with the new e-mail bill.",
        "Having trouble viewing this email? Open it on our site.",
        "Can't see this email properly? View it online.",
        "Add news@shop.example to your address book so we never land in spam.",
        "Forward this email to a friend who loves fabric.",
    ],
)
def test_a_newsletter_without_list_headers_is_bulk(footer: str) -> None:
    news = (
        "Our autumn sale is breaking records: 50% off everything!\r\n"
        "New in the shop this week: quilts, cushions and a whole wall of fabric.\r\n"
        "Read the story of our new workshop on the blog, and see you at the fair.\r\n\r\n"
    )
    body = news + footer
    assert (noise_reason(mail_with(body=body)) or "").startswith("bulk mail (footer")


@pytest.mark.parametrize(
    "complaint",
    [
        "I asked you to unsubscribe me three times and the mails keep coming.",
        "I asked to be removed from the mailing list twice and you still write to me.",
        "Please make sure I am removed from your mailing list, as I asked in March.",
        "Please add me to your address book and stop sending to my old one.",
        "I cannot see this email's attachment and your last three were blank too.",
    ],
)
def test_a_client_who_mentions_unsubscribing_is_not_bulk(complaint: str) -> None:
    opening = "Hello, this is Ann from the Harbour Street shop, customer number 4411. "
    body = f"{opening * 3}{complaint} This is unacceptable and I want it stopped today."
    assert noise_reason(mail_with(body=body)) is None


def test_a_mailing_to_undisclosed_recipients_is_bulk() -> None:
    raw = (
        "From: Mia Shop <mia@shop.example>\r\nTo: undisclosed-recipients:;\r\n"
        "Subject: This week only\r\nMessage-ID: <u@shop.example>\r\n\r\n"
        "I am so disappointed you have not tried our new range yet!\r\n"
    )
    assert noise_reason(parse_message(raw.encode())) == "bulk mail (undisclosed recipients)"


def test_a_mail_of_many_links_is_bulk() -> None:
    offers = "".join(f"Deal {n}: https://deals.example/offer/{n}\r\n" for n in range(BULK_LINKS))
    assert noise_reason(mail_with(body=offers)) == f"bulk mail ({BULK_LINKS} links)"


def test_a_client_pointing_to_a_few_pages_is_not_bulk() -> None:
    pages = " ".join(f"https://portal.example/tickets/{n}" for n in range(BULK_LINKS - 1))
    repeated = " ".join(["https://portal.example/status"] * (BULK_LINKS * 2))
    for links in (pages, repeated):
        body = f"These tickets are still open after a month, unacceptable: {links}"
        assert noise_reason(mail_with(body=body)) is None


@pytest.mark.parametrize("subject", ["ADV: Lowest mortgage rates in years", "[ADV] New offers"])
def test_a_subject_marked_as_advertisement_is_bulk(subject: str) -> None:
    assert noise_reason(mail_with(subject=subject)) == "bulk mail (advertisement subject)"


@pytest.mark.parametrize(
    "headers",
    [
        "X-Spam-Flag: YES\r\n",
        "X-Spam-Status: Yes, score=9.1 required=5.0 tests=...\r\n",
        "X-Spamd-Result: default: True [15.20 / 15.00]\r\n",
        "X-MS-Exchange-Organization-SCL: 7\r\n",
    ],
)
def test_the_receiving_servers_spam_verdict_is_followed_when_asked(headers: str) -> None:
    spam = mail_with(headers=headers)
    assert (noise_reason(spam) or "").startswith("spam verdict (")
    assert noise_reason(spam, skip_spam=False) is None


@pytest.mark.parametrize(
    "headers",
    [
        "X-Spam-Flag: NO\r\n",
        "X-Spam-Status: No, score=0.3 required=5.0\r\n",
        "X-Spamd-Result: default: False [1.20 / 15.00]\r\n",
        "X-MS-Exchange-Organization-SCL: 1\r\n",
    ],
)
def test_a_clean_verdict_is_no_noise(headers: str) -> None:
    assert noise_reason(mail_with(headers=headers)) is None


def hidden(word: str, mark: str = "\u00ad") -> str:
    return mark.join(word)


@pytest.mark.parametrize("mark", ["\u00ad", "\u200b", "\u2060"])
def test_letters_split_by_invisible_characters_are_spam(mark: str) -> None:
    body = (
        f"Your {hidden('Account', mark)} has been {hidden('locked', mark)}. "
        f"{hidden('Verify', mark)} your {hidden('details', mark)} within 24 hours "
        f"or lose {hidden('access', mark)}."
    )
    reason = noise_reason(mail_with(body=body))
    assert reason == "spam (5 words split into letters by invisible characters)"
    # Whatever the spam-verdict policy: no header says it, the text does.
    assert noise_reason(mail_with(body=body), skip_spam=False) == reason


def test_soft_hyphens_between_syllables_are_a_persons_text() -> None:
    body = (
        "The re\u00adfund for the can\u00adcel\u00adled Donau\u00addampf\u00adschiff "
        "trip has still not ar\u00adrived, and the in\u00advoice is wrong."
    )
    assert noise_reason(mail_with(body=body)) is None
