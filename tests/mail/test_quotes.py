"""New text separated from quoted history and signatures, on real replies."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.data import MAIL, vendored
from worker.mail.html import html_to_text
from worker.mail.parse import parse_message
from worker.mail.quotes import MAX_ATTRIBUTION, split_reply

REPLIES = MAIL / "reply-parsing"
FOLDERS = (
    REPLIES / "github-email_reply_parser" / "test" / "emails",
    REPLIES / "zapier-email-reply-parser" / "test" / "emails",
)


def corpus(name: str) -> str:
    for folder in FOLDERS:
        if (folder / name).exists():
            return (folder / name).read_text(encoding="utf-8")
    pytest.fail(f"test data missing: {name} is in none of {', '.join(map(str, FOLDERS))}")


@pytest.mark.parametrize(
    ("name", "first", "absent"),
    [
        ("email_1_3.txt", "Oh thanks.", "Russell Brown wrote"),
        ("email_partial_quote_header.txt", "On your remote host", "odd issue"),
        ("email_BlackBerry.txt", "Here is another email", "BlackBerry"),
        ("email_iPhone.txt", "Here is another email", "iPhone"),
        ("email_headers_no_delimiter.txt", "And another reply!", "Dan Watson"),
    ],
)
def test_real_replies(name: str, first: str, absent: str) -> None:
    new, rest = split_reply(corpus(name))
    assert new.startswith(first)
    assert absent not in new
    assert absent in rest


def test_inline_reply_keeps_every_answer_and_drops_quotes() -> None:
    new, _ = split_reply(corpus("email_1_2.txt"))
    assert new.startswith("Hi,")
    assert "You can list the keys" in new
    assert "Abhishek Kona wrote" not in new
    assert "What is the best way" not in new


def test_a_sentence_starting_like_a_mobile_signature_is_kept() -> None:
    new, _ = split_reply(corpus("email_sent_from_my_not_signature.txt"))
    assert "Sent from my desk" in new


def test_signature_after_delimiter_is_removed() -> None:
    new, rest = split_reply("The export fails again.\n\n-- \nJo Bloggs\nACME Ltd\n")
    assert new == "The export fails again."
    assert rest.startswith("-- \nJo Bloggs")


NOTICE = (
    "This email and any attachments are confidential and may be privileged. If you are not\n"
    "the intended recipient, please notify the sender and delete it; copying it is prohibited."
)


@pytest.mark.parametrize(
    "notice",
    [
        NOTICE,
        "DISCLAIMER: the views expressed are the author's own.",
        NOTICE + "\n\nRegistered in England, company number 0123456. Registered office: 1 Quay St.",
        "Please consider the environment before printing.\n\n" + NOTICE,
    ],
)
def test_a_companys_legal_notice_is_not_what_the_client_wrote(notice: str) -> None:
    body = f"Could you add Tom to our account?\n\nThanks,\nPriya\n\n{notice}\n"
    new, rest = split_reply(body)
    assert new == "Could you add Tom to our account?\n\nThanks,\nPriya"
    assert rest == notice


@pytest.mark.parametrize(
    "body",
    [
        # A client's own last paragraph about a mail sent in error, with one or two marks.
        "Hello,\n\nI am not the intended recipient of invoice 4471; it is not my company.",
        "Hello,\n\nYour last notice was confidential and reached the wrong person here.",
        "Hello,\n\nMy confidential file was forwarded by your agent, which is prohibited; I "
        "hold you to full liability and ask you to notify the sender.",
        "Hello,\n\nMy company number is 0123456 and you have charged us twice for it.",
        # A notice alone is all the mail there is: nothing is left to read otherwise.
        NOTICE,
    ],
)
def test_a_clients_own_words_are_not_taken_for_a_notice(body: str) -> None:
    new, _ = split_reply(body)
    assert new == body


def test_delimiter_inside_a_line_is_not_a_signature() -> None:
    new, _ = split_reply(corpus("email_sig_delimiter_in_middle_of_line.txt"))
    assert "--" in new


@pytest.mark.parametrize(
    "history",
    [
        "-----Original Message-----\nFrom: Support\nSent: Monday\nTo: me\n\nWe fixed it.",
        "_" * 32 + "\nFrom: Support <s@x>\nSent: Monday\nTo: me\nSubject: Re\n\nWe fixed it.",
        "From: Support <s@x>\nDate: Monday\nTo: me\nSubject: Re\n\nWe fixed it.",
        "Le lun. 2 mars 2026 à 09:00, Support <s@x> a écrit :\n> We fixed it.",
        "Am 02.03.2026 um 09:00 schrieb Support <s@x>:\n\nWe fixed it.",
        "On Mon, Mar 2, 2026 at 9:00 AM Support Team <\ns@x> wrote:\n\nWe fixed it.",
    ],
)
def test_client_history_blocks(history: str) -> None:
    new, rest = split_reply("It is still broken.\n\n" + history)
    assert new == "It is still broken."
    assert "We fixed it." in rest


def test_html_blockquote_is_quoted_text() -> None:
    text = html_to_text(
        "<div>Still down.</div><div class=gmail_quote>On Mon, Support wrote:"
        "<blockquote><p>Fixed now.</p></blockquote></div>"
    )
    assert text.split("\n") == ["Still down.", "On Mon, Support wrote:", "> Fixed now."]
    new, _ = split_reply(text)
    assert new == "Still down."


def test_html_lists_tables_and_pre() -> None:
    text = html_to_text(
        "<ul><li>one</li><li>two</li></ul><table><tr><td>a</td><td>b</td></tr></table>"
        "<pre>x  y\nz</pre><head><title>t</title></head>"
    )
    assert text.split("\n") == ["- one", "- two", "a b", "x  y", "z"]


def test_unclosed_head_does_not_hide_the_body() -> None:
    assert html_to_text("<html><head><title>x<body><p>Visible</p>") == "Visible"


@pytest.mark.parametrize("path", vendored(REPLIES, "*.eml", at_least=10))
def test_real_client_mails_have_new_text(path: Path) -> None:
    parsed = parse_message(path.read_bytes())
    assert parsed.new_text
    assert len(parsed.new_text) <= len(parsed.text)


def test_an_overlong_line_is_never_an_attribution() -> None:
    """The attribution patterns backtrack; a line past MAX_ATTRIBUTION is text, unmatched."""
    padded = " " * MAX_ATTRIBUTION + "On Monday Bob wrote:"
    new_text, _ = split_reply(f"Still broken.\n{padded}\n> old text")
    assert new_text.endswith("Bob wrote:")
