"""Separating what a sender wrote now from quoted history and signatures."""

from __future__ import annotations

import re

#: "On <date>, <name> wrote:" and its equivalents in other languages and clients.
_STARTERS = r"(?:on|am|le|el|il|op|em|w dniu|den|på|dne)\b"
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    + _STARTERS
    + r".{0,300}?(?:wrote|writes|a écrit|a ecrit|escribió|escribio|ha scritto|schreef|"
    r"escreveu|pisze|napisał|skrev|kirjoitti|napsal)\s*:?"
    r"|am\b.{0,200}?\bschrieb\b.{0,200}?:"
    r"|.{0,300}?\b(?:wrote|написал|написала)\S{0,3}\s*:"
    r")\s*$",
    re.IGNORECASE,
)
#: The first half of an attribution a client wrapped over two lines.
_ATTRIBUTION_START = re.compile(r"^\s*" + _STARTERS, re.IGNORECASE)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:original message|forwarded message|ursprüngliche nachricht|"
    r"message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht|"
    r"original meddelelse|alkuperäinen viesti|исходное сообщение)\s*-*\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_HEADER_FIELD = re.compile(
    r"^\s*\*?(from|von|de|van|от|sent|gesendet|envoyé|enviado|date|datum|to|an|à|para|aan|"
    r"cc|subject|betreff|objet|asunto|onderwerp|тема)\s*:?\*?\s*:",
    re.IGNORECASE,
)
_FROM_FIELD = re.compile(r"^\s*\*?(from|von|de|van|от)\s*:?\*?\s*:", re.IGNORECASE)
_SIG_DELIMITER = re.compile(r"^-- ?$")
_MOBILE = re.compile(
    r"^\s*(?:(?:sent|envoyé|enviado|inviato|verzonden|gesendet)\s+(?:from|with|via|de|da|von|"
    r"vanaf|depuis|desde)\s+.{1,60}"
    r"|get outlook for \w+"
    r"|von meinem .{1,40} gesendet"
    r")\s*$",
    re.IGNORECASE,
)
#: What a company's legal notice under its mails says and a client's own words rarely do.
_NOTICE_MARKS = tuple(
    re.compile(mark, re.IGNORECASE)
    for mark in (
        r"\bintended (recipient|addressee|solely for)",
        r"\breceived (this|the) (e-?mail|message|communication|transmission) in error",
        r"\bconfidential",
        r"\bprivileged\b",
        r"\b(notify|inform|advise) (the sender|us)\b",
        r"\b(prohibited|not permitted)\b",
        r"\b(copy|copying|distribut\w+|disclos\w+|dissemin\w+|forward\w*)\b.{0,40}\b(prohibited|"
        r"not permitted|must not|may not|strictly)|\bmust not (copy|use|disclose|distribute)",
        r"\b(no|any) (liability|responsibility)\b",
        r"\bvirus(es)?\b",
        r"\bauthori[sz]ed and regulated\b|\bregulated by the\b",
        r"\bviews (or opinions )?expressed\b",
    )
)
#: Lines that are a notice by themselves: a company's registration, a plea not to print.
_NOTICE_ALONE = re.compile(
    r"\bregistered (office|in england|in scotland|in ireland|in wales)\b|\bcompany "
    r"(registration )?(no|number)\b|\benvironment before printing\b",
    re.IGNORECASE,
)
#: A notice is impersonal; a client who writes about confidential data speaks as "I".
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|me|my)\b", re.IGNORECASE)
#: A heading that opens such a notice.
_NOTICE_HEADING = re.compile(
    r"^\W*(disclaimer|confidential(ity)?( notice| note| statement)?|legal notice|important "
    r"notice|privileged and confidential)\b",
    re.IGNORECASE,
)

#: Lines examined per message: enough for any reply; bounds the work on hostile input.
MAX_LINES = 20_000
#: Longest line taken for an attribution; the patterns backtrack, so longer lines are text.
MAX_ATTRIBUTION = 500


def split_reply(text: str) -> tuple[str, str]:
    """Split a body into (new text, quoted history and signature); both stripped."""
    lines = text.split("\n")[:MAX_LINES]
    cut = _history_start(lines)
    head, tail = lines[:cut], lines[cut:]
    kept: list[str] = []
    dropped: list[str] = []
    for index, line in enumerate(head):
        if line.lstrip().startswith(">") or (
            _is_attribution(line) and _next_is_quoted(head, index + 1)
        ):
            dropped.append(line)
        elif _wrapped_attribution(head, index) and _next_is_quoted(head, index + 2):
            dropped.append(line)  # attribution wrapped over two lines; its second half follows
        else:
            kept.append(line)
    kept, signature = _strip_signature(kept)
    kept, notice = _strip_legal_notice(kept)
    signature = notice + signature
    new_text = "\n".join(kept).strip()
    rest = "\n".join(signature + dropped + tail).strip()
    return new_text, rest


def _history_start(lines: list[str]) -> int:
    """Index of the first line of unprefixed quoted history, or len(lines)."""
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if _ORIGINAL.match(line):
            return index
        if _RULE.match(line) and _header_block_at(lines, index + 1):
            return index
        if _FROM_FIELD.match(line) and _header_block_at(lines, index):
            return index
        if _is_attribution(line):
            span = 1
        elif _wrapped_attribution(lines, index):
            span = 2
        else:
            continue
        if not _next_is_quoted(lines, index + span):
            return index
    return len(lines)


def _wrapped_attribution(lines: list[str], index: int) -> bool:
    line = lines[index]
    if index + 1 >= len(lines) or len(line) > 200 or not _ATTRIBUTION_START.match(line):
        return False
    return _is_attribution(line.rstrip() + " " + lines[index + 1].strip())


def _is_attribution(line: str) -> bool:
    return len(line) <= MAX_ATTRIBUTION and _ATTRIBUTION.match(line) is not None


def _header_block_at(lines: list[str], start: int) -> bool:
    """True when a From: line starts a block of at least two more header fields."""
    block = [line for line in lines[start : start + 8] if line.strip()][:5]
    if not block or not _FROM_FIELD.match(block[0]):
        return False
    return sum(1 for line in block[1:] if _HEADER_FIELD.match(line)) >= 2


def _next_is_quoted(lines: list[str], start: int) -> bool:
    for line in lines[start : start + 5]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


def _strip_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    for index, line in enumerate(lines):
        if _SIG_DELIMITER.match(line.rstrip("\r")) and index > 0:
            return lines[:index], lines[index:]
    # A mobile client's line counts only at the end and when it is short.
    last = len(lines) - 1
    while last >= 0 and not lines[last].strip():
        last -= 1
    if last >= 0:
        line = lines[last]
        if _MOBILE.match(line) and len(line.split()) <= 7 and "," not in line:
            return lines[:last], lines[last:]
    return lines, []


def _strip_legal_notice(lines: list[str]) -> tuple[list[str], list[str]]:
    """The confidentiality and legal notices a company puts under every mail.

    Only trailing paragraphs after the first are taken, and only one that reads as a notice:
    impersonal words (no "I" or "my") with a notice heading and one more mark, three marks
    ("not the intended recipient", "confidential", "notify the sender"...), or a company's
    registration details. A client's last lines about confidential data, their company number
    or a mail sent to them in error stay theirs.
    """
    ends = [i for i, line in enumerate(lines) if not line.strip()]
    cut = len(lines)
    for start in reversed([i + 1 for i in ends]):
        paragraph = " ".join(line.strip() for line in lines[start:cut]).strip()
        if not paragraph:
            cut = start
            continue
        if not _reads_as_notice(paragraph):
            break
        cut = start
    first_text = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    if cut <= first_text:
        return lines, []
    return lines[:cut], lines[cut:]


def _reads_as_notice(paragraph: str) -> bool:
    if _FIRST_PERSON.search(paragraph):
        return False
    if _NOTICE_ALONE.search(paragraph):
        return True
    marks = sum(1 for mark in _NOTICE_MARKS if mark.search(paragraph))
    return marks >= 3 or (marks >= 1 and _NOTICE_HEADING.match(paragraph) is not None)
