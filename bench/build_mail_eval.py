"""Rebuild ``bench/data/mail_eval/mails.jsonl``: a labelled mail set for *evaluation only*.

Never train on this set or tune rules against it: it measures the worker, nothing more.

Each output line is one JSON object::

    {"id": "<source>-<n>", "kind": ..., "complaint": bool, "source": ..., "origin": ..., "raw": ...}

``raw`` is a whole RFC 5322 message as text; ``origin`` names the file (or CSV row) it came from.

Sources, each given on the command line so that the build is reproducible:

* ``--bitext-csv`` (repeatable): CSV files of the Bitext customer-support training set
  (CDLA-Sharing-1.0), columns ``instruction``, ``intent`` and ``tags``. The two versions used are
  ``data/train/Bitext_Sample_Customer_Support_Training_Dataset.csv`` at commits ``8b6ca3d9`` and
  ``bc499b9e`` of github.com/bitext/customer-support-llm-chatbot-training-dataset, for example::

      git --git-dir=REPO show \\
          8b6ca3d9:data/train/Bitext_Sample_Customer_Support_Training_Dataset.csv > v2.csv

  Only the user utterance is kept (never the generated answer); it is wrapped as a plain mail.
* ``--sisimai``: the root of sisimai/set-of-emails (BSD-2); ``maildir/bsd`` is read.
* ``--mail-corpora``: a folder holding ``reply-parsing/``, ``mimekit/``, ``enmime/``,
  ``ruby-mail-gem/`` and ``cpython-email/`` as laid out in ``shared/corpora/mail``. Only the files
  listed (and labelled by reading) below are taken from it.

The selection is deterministic: rows and files are ordered by the SHA-256 of their content.

Usage::

    python bench/build_mail_eval.py --bitext-csv a.csv --bitext-csv b.csv \\
        --sisimai ../shared/corpora/mail/bounces/sisimai-set-of-emails \\
        --mail-corpora ../shared/corpora/mail --out bench/data/mail_eval/mails.jsonl

This module is no benchmark: ``python -m bench`` skips it (``RUN_WITH_ALL = False``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import html
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr
from pathlib import Path

RUN_WITH_ALL = False

MAX_MAIL_BYTES = 200_000

# --- Bitext ---------------------------------------------------------------------------------
COMPLAINT_INTENTS = ("complaint",)
PROBLEM_INTENTS = ("payment_issue", "registration_problems")
REQUEST_INTENTS = (
    "cancel_order",
    "change_order",
    "change_shipping_address",
    "check_cancellation_fee",
    "check_invoice",
    "check_payment_methods",
    "check_refund_policy",
    "contact_customer_service",
    "create_account",
    "delete_account",
    "delivery_options",
    "delivery_period",
    "edit_account",
    "get_invoice",
    "newsletter_subscription",
    "place_order",
    "recover_password",
    "set_up_shipping_address",
    "switch_account",
    "track_order",
)
# Left out on purpose, because their label is not clear-cut under this set's definitions:
# get_refund / track_refund (money owed: may read as dissatisfaction), contact_human_agent
# ("I don't understand you"), review (feedback of either sign).
MAX_COMPLAINTS = 300
PROBLEMS_PER_INTENT = 120
MAX_REQUESTS = 300
# Neutral subjects, shared by every kind so that the subject says nothing about the label.
NEUTRAL_SUBJECTS = (
    "Question",
    "Support request",
    "Hello",
    "Help",
    "My account",
    "Customer inquiry",
    "Message",
    "Contact",
)
DATE_BASE = datetime(2024, 1, 1, tzinfo=UTC)

# --- sisimai --------------------------------------------------------------------------------
SISIMAI_TOTAL = 200
SISIMAI_BOUNCES_PER_SERVER = 2

# --- hand-labelled files under --mail-corpora (path -> kind) --------------------------------
_RP = "reply-parsing/"
_GH = _RP + "github-email_reply_parser/test/emails/"
_ZA = _RP + "zapier-email-reply-parser/test/emails/"
_TA = _RP + "mailgun-talon/tests/fixtures/"
_MK = "mimekit/UnitTests/TestData/messages/"
_EN = "enmime/"
_RB = "ruby-mail-gem/spec/fixtures/emails/"
_PY = "cpython-email/"

SOURCE_OF_PREFIX = {
    _GH: "github-email-reply-parser",
    _ZA: "zapier-email-reply-parser",
    _TA: "talon",
    "mimekit/": "mimekit",
    _EN: "enmime",
    _RB: "ruby-mail",
    _PY: "cpython-email",
}

PERSON_REPLIES = [
    *(
        _GH + name
        for name in (
            "correct_sig.txt",
            "email_1_1.txt",
            "email_1_2.txt",
            "email_1_3.txt",
            "email_1_4.txt",
            "email_1_5.txt",
            "email_1_6.txt",
            "email_1_7.txt",
            "email_1_8.txt",
            "email_2_1.txt",
            "email_2_2.txt",
            "email_2_3.txt",
            "email_BlackBerry.txt",
            "email_bullets.txt",
            "email_iPhone.txt",
            "email_multi_word_sent_from_my_mobile_device.txt",
            "email_one_is_not_on.txt",
            "email_sent_from_my_not_signature.txt",
            "email_sig_delimiter_in_middle_of_line.txt",
            "greedy_on.txt",
            "pathological.txt",
        )
    ),
    *(
        _ZA + name
        for name in (
            "email_2_3.txt",
            "email_gmail.txt",
            "email_headers_no_delimiter.txt",
            "email_partial_quote_header.txt",
        )
    ),
    *(
        _TA + "standard_replies/" + name
        for name in (
            "android.eml",
            "aol.eml",
            "apple_mail.eml",
            "apple_mail_2.eml",
            "comcast.eml",
            "gmail.eml",
            "hotmail.eml",
            "iphone.eml",
            "outlook.eml",
            "sparrow.eml",
            "thunderbird.eml",
            "yahoo.eml",
        )
    ),
    _TA + "reply-quotations-share-block.eml",
    *(
        _TA + "html_replies/" + name
        for name in (
            "gmail.html",
            "hotmail.html",
            "mail_ru.html",
            "ms_outlook_2003.html",
            "ms_outlook_2007.html",
            "ms_outlook_2010.html",
            "thunderbird.html",
            "windows_mail.html",
            "yandex_ru.html",
        )
    ),
    _TA + "OLK_SRC_BODY_SECTION.html",
    _TA + "reply-separated-by-hr.html",
    _TA + "signature/emails/P/unicode_msg",
    _TA + "signature/emails/stripped/camel_case_body",
    _TA + "signature/emails/stripped/jeff_body",
    _TA + "signature/emails/stripped/short_url_body",
]

LABELLED: dict[str, str] = {
    **dict.fromkeys(PERSON_REPLIES, "person"),
    # A bulk survey invitation among talon's signature fixtures.
    _TA + "signature/emails/stripped/johndoeexamplecom_body": "newsletter",
    # Newsletters and other bulk mail.
    _RB + "error_emails/bad_date_header2.eml": "newsletter",
    _RB + "error_emails/cant_parse_from.eml": "newsletter",
    _RB + "error_emails/content_transfer_encoding_7-bit.eml": "newsletter",
    _RB + "error_emails/content_transfer_encoding_with_8bits.eml": "newsletter",
    _RB + "error_emails/bad_subject.eml": "newsletter",
    _PY + "msg_02.txt": "newsletter",
    # Machine notifications.
    _EN + "testdata/mail/ctype-bug.raw": "notification",
    _EN + "testdata/mail/mime-bad-content-type.raw": "notification",
    _RB + "mime_emails/raw_email_encoded_stack_level_too_deep.eml": "notification",
    _RB + "plain_emails/raw_email_multiple_from.eml": "notification",
    _RB + "plain_emails/raw_email_quoted_with_0d0a.eml": "notification",
    _RB + "plain_emails/raw_email_trailing_dot.eml": "notification",
    _RB + "error_emails/new_line_in_to_header.eml": "notification",
    _RB + "error_emails/trademark_character_in_subject.eml": "notification",
    _RB + "error_emails/encoding_madness.eml": "notification",
    _PY + "msg_36.txt": "notification",
    _MK + "disposition-notification.txt": "notification",
    # Bounces and delay reports.
    _MK + "bounce.txt": "bounce",
    _MK + "delivery-status.txt": "bounce",
    _MK + "delivery-status2.txt": "bounce",
    _EN + "dsn/testdata/delayed_dsn.raw": "bounce",
    _EN + "dsn/testdata/dsn_with_multipart_alternative.raw": "bounce",
    _EN + "dsn/testdata/multi_recipient_dsn.raw": "bounce",
    _EN + "dsn/testdata/simple_dsn.raw": "bounce",
    _RB + "multipart_report_emails/multi_address_bounce1.eml": "bounce",
    _RB + "multipart_report_emails/multipart_report_multiple_status.eml": "bounce",
    _RB + "multipart_report_emails/report_422.eml": "bounce",
    _RB + "multipart_report_emails/report_530.eml": "bounce",
    _RB + "mime_emails/raw_email_with_mimepart_without_content_type.eml": "bounce",
    _PY + "msg_16.txt": "bounce",
    _PY + "msg_25.txt": "bounce",
    _PY + "msg_43.txt": "bounce",
    # Person-to-person mail.
    _MK + "epilogue.txt": "person",
    _MK + "japanese.txt": "person",
    _RB + "rfc2822/example01.eml": "person",
    _RB + "rfc2822/example03.eml": "person",
    _RB + "rfc2822/example06.eml": "person",
    _RB + "rfc2822/example07.eml": "person",
    _RB + "plain_emails/basic_email.eml": "person",
    _RB + "mime_emails/two_from_in_message.eml": "person",
    _RB + "mime_emails/raw_email2.eml": "person",
    _RB + "mime_emails/raw_email_with_nested_attachment.eml": "person",
    _RB + "mime_emails/raw_email_with_multipart_mixed_quoted_boundary.eml": "person",
    _RB + "error_emails/content_transfer_encoding_x_uuencode.eml": "person",
    _PY + "msg_01.txt": "person",
    _PY + "msg_07.txt": "person",
    _PY + "msg_14.txt": "person",
    _PY + "msg_32.txt": "person",
}

_TAG = re.compile(r"<[^>]*>")
_HTML_NOISE = re.compile(r"<(style|head|script)\b.*?</\1>|<!--.*?-->", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Mail:
    """One labelled mail before it gets its id."""

    kind: str
    source: str
    origin: str
    raw: str

    @property
    def complaint(self) -> bool:
        return self.kind == "complaint"


def _sha(data: str | bytes) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def _first_words(text: str, count: int = 6, limit: int = 70) -> str:
    plain = html.unescape(_TAG.sub("\n", _HTML_NOISE.sub(" ", text)))
    line = next((line for line in plain.splitlines() if line.strip()), "")
    words = line.split()
    subject = " ".join(words[:count])[:limit].rstrip(" ,;:-")
    return subject or "(no subject)"


def _header_value(value: str) -> str:
    return value if value.isascii() else Header(value, "utf-8").encode()


def wrap_text(
    body: str,
    *,
    sender: str,
    sender_name: str = "",
    subject: str,
    key: str,
    message_id: str,
    subtype: str = "plain",
) -> str:
    """Wrap a bare text as a plain RFC 5322 message; the date is derived from ``key``."""
    date = DATE_BASE + timedelta(seconds=int(key[:8], 16) % (365 * 24 * 3600))
    body = body.replace("\r\n", "\n")
    lines = [
        f"From: {formataddr((sender_name, sender), charset='utf-8')}",
        "To: support@example.com",
        f"Subject: {_header_value(subject)}",
        f"Date: {format_datetime(date)}",
        f"Message-ID: <{message_id}>",
        "MIME-Version: 1.0",
        f"Content-Type: text/{subtype}; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        body if body.endswith("\n") else body + "\n",
    ]
    return "\n".join(lines)


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _is_bare_body(relative: str) -> bool:
    """reply-parsing fixtures other than ``.eml`` files are message bodies without headers."""
    return relative.startswith(_RP) and not relative.endswith(".eml")


# --- Bitext ---------------------------------------------------------------------------------


def load_bitext(paths: Iterable[Path]) -> dict[str, tuple[str, str]]:
    """Utterance -> (intent, tags), merged over every CSV; utterances with two intents dropped."""
    rows: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                text = " ".join(row["instruction"].split())
                if text:
                    rows[text].add((row["intent"].strip(), row.get("tags", row.get("flags", ""))))
    merged: dict[str, tuple[str, str]] = {}
    for text, labels in rows.items():
        intents = {intent for intent, _ in labels}
        if len(intents) == 1:
            merged[text] = min(labels)
    return merged


def select_bitext(rows: dict[str, tuple[str, str]]) -> list[tuple[str, str, str]]:
    """Pick (text, intent, kind) triples: every complaint, and balanced samples of the rest.

    Rows tagged ``W`` (offensive language) are kept only among complaints: swearing in a routine
    request reads as frustration, which would make its ``complaint=false`` label debatable.
    """
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, (intent, _tags) in rows.items():
        by_intent[intent].append(text)
    for texts in by_intent.values():
        texts.sort(key=_sha)

    def usable(intent: str) -> list[str]:
        return [text for text in by_intent[intent] if "W" not in rows[text][1]]

    chosen: list[tuple[str, str, str]] = []
    complaints = [text for intent in COMPLAINT_INTENTS for text in by_intent[intent]]
    chosen += [(text, rows[text][0], "complaint") for text in complaints[:MAX_COMPLAINTS]]
    for intent in PROBLEM_INTENTS:
        chosen += [
            (text, intent, "problem_report") for text in usable(intent)[:PROBLEMS_PER_INTENT]
        ]
    queues = {intent: usable(intent) for intent in REQUEST_INTENTS}
    requests: list[tuple[str, str, str]] = []
    depth = 0
    while len(requests) < MAX_REQUESTS and any(len(q) > depth for q in queues.values()):
        for intent in REQUEST_INTENTS:
            if len(queues[intent]) > depth and len(requests) < MAX_REQUESTS:
                requests.append((queues[intent][depth], intent, "request"))
        depth += 1
    chosen += requests
    chosen.sort(key=lambda item: _sha(item[0]))
    return chosen


def bitext_mails(paths: Sequence[Path]) -> list[Mail]:
    mails = []
    for number, (text, intent, kind) in enumerate(select_bitext(load_bitext(paths)), start=1):
        key = _sha(text)
        pick = int(key[8:16], 16)
        if pick % 2 == 0:
            subject = _first_words(text)
        else:
            subject = NEUTRAL_SUBJECTS[(pick // 2) % len(NEUTRAL_SUBJECTS)]
        raw = wrap_text(
            text,
            sender=f"client-{number:04d}@example.net",
            subject=subject,
            key=key,
            message_id=f"bitext-{number:04d}.{key[:12]}@example.net",
        )
        mails.append(Mail(kind, "bitext", f"bitext intent={intent} sha256={key[:16]}", raw))
    return mails


# --- sisimai --------------------------------------------------------------------------------


def _sisimai_kind(name: str, text: str) -> str:
    headers = text.replace("\r\n", "\n").split("\n\n", 1)[0].lower()
    auto_replied = "\nauto-submitted: auto-replied" in "\n" + headers
    if name.startswith("rfc3834-"):
        return "autoreply"
    if name.startswith("arf-"):
        # arf-26 is Apple Mail's automatic "unsubscribe" reply, not a feedback report.
        return "autoreply" if auto_replied else "notification"
    return "bounce"


def sisimai_mails(root: Path) -> list[Mail]:
    """All auto-replies and feedback reports, then bounces spread over the sending servers."""
    files = []
    seen: set[str] = set()
    for path in sorted((root / "maildir" / "bsd").glob("*.eml")):
        data = path.read_bytes()
        digest = _sha(data)
        if len(data) > MAX_MAIL_BYTES or digest in seen:
            continue
        seen.add(digest)
        text = data.decode("utf-8", errors="replace")
        files.append((path.name, digest, text, _sisimai_kind(path.name, text)))
    chosen = [item for item in files if item[3] != "bounce"]
    bounces = sorted((item for item in files if item[3] == "bounce"), key=lambda item: item[1])
    by_server: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for item in bounces:
        by_server[re.sub(r"-\d+\.eml$", "", item[0])].append(item)
    room = SISIMAI_TOTAL - len(chosen)
    spread = [item for group in by_server.values() for item in group[:SISIMAI_BOUNCES_PER_SERVER]]
    spread.sort(key=lambda item: item[1])
    picked = spread[:room]
    taken = {item[0] for item in picked}
    picked += [item for item in bounces if item[0] not in taken][: room - len(picked)]
    chosen += picked
    chosen.sort(key=lambda item: item[0])
    return [
        Mail(kind, "sisimai", f"sisimai/set-of-emails maildir/bsd/{name}", text)
        for name, _digest, text, kind in chosen
    ]


# --- hand-labelled corpora ------------------------------------------------------------------


def _source_of(relative: str) -> str:
    for prefix, source in SOURCE_OF_PREFIX.items():
        if relative.startswith(prefix):
            return source
    raise ValueError(f"no source for {relative}")


def labelled_mails(root: Path) -> list[Mail]:
    """The files listed in ``LABELLED``; bare bodies are wrapped as a mail to support."""
    mails = []
    seen: set[str] = set()
    for relative in sorted(LABELLED):
        path = root / relative
        data = path.read_bytes()
        digest = _sha(data)
        if len(data) > MAX_MAIL_BYTES or digest in seen:
            continue
        seen.add(digest)
        text = data.decode("utf-8", errors="replace")
        source = _source_of(relative)
        origin = relative
        if _is_bare_body(relative):
            origin = f"{relative} (bare body, wrapped)"
            name = ""
            if text.startswith("From: ") and "\n" in text:
                # talon's signature fixtures open with a bare "From: Name" line.
                name, text = text[len("From: ") :].split("\n", 1)
            text = wrap_text(
                text,
                sender=f"person-{digest[:8]}@example.org",
                sender_name=name.strip(),
                subject=_first_words(text),
                key=digest,
                message_id=f"{source}.{digest[:12]}@example.org",
                subtype="html" if path.suffix == ".html" else "plain",
            )
        mails.append(Mail(LABELLED[relative], source, origin, text))
    return mails


# --- output ---------------------------------------------------------------------------------


def write_jsonl(mails: Sequence[Mail], out: Path) -> dict[tuple[str, str], int]:
    counters: dict[str, int] = defaultdict(int)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        for mail in mails:
            counters[mail.source] += 1
            record = {
                "id": f"{mail.source}-{counters[mail.source]:04d}",
                "kind": mail.kind,
                "complaint": mail.complaint,
                "source": mail.source,
                "origin": mail.origin,
                "raw": mail.raw,
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            counts[(mail.source, mail.kind)] += 1
    return counts


def build(argv: Sequence[str]) -> int:
    """Command-line entry point (deliberately not called ``main``)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--bitext-csv", type=Path, action="append", required=True)
    parser.add_argument("--sisimai", type=Path, required=True)
    parser.add_argument("--mail-corpora", type=Path, required=True)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "data" / "mail_eval" / "mails.jsonl"
    )
    args = parser.parse_args(argv)
    mails = [
        *bitext_mails(args.bitext_csv),
        *sisimai_mails(args.sisimai),
        *labelled_mails(args.mail_corpora),
    ]
    counts = write_jsonl(mails, args.out)
    for (source, kind), count in sorted(counts.items()):
        print(f"{source:28} {kind:15} {count:5}")
    print(f"total {len(mails)} mails, {args.out.stat().st_size} bytes -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(build(sys.argv[1:]))
