"""Mail that must never open a recovery: automatic replies, lists, bounces, our own mail."""

from __future__ import annotations

from collections.abc import Sequence

from worker.mail.model import ParsedMail

_LIST_HEADERS = (
    "list-id",
    "list-unsubscribe",
    "list-post",
    "list-help",
    "list-owner",
    "list-subscribe",
    "list-archive",
)
_NOISY_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_SYSTEM_SENDERS = frozenset(
    {"mailer-daemon", "postmaster", "post_master", "mail delivery subsystem"}
)
#: Subject openings that mail servers and out-of-office rules put on what they generate.
_AUTOMATIC_SUBJECTS = (
    "auto reply:",
    "autoreply:",
    "auto-reply:",
    "automatic reply:",
    "out of office",
    "undeliverable:",
    "undelivered mail returned to sender",
    "delivery status notification",
    "mail delivery failed",
    "returned mail:",
    "delivery failure",
    "failure notice",
)
_NO_REPLY = frozenset({"noreply", "no-reply", "donotreply", "do-not-reply", "no_reply"})
_REPORTS = frozenset(
    {"multipart/report", "message/delivery-status", "message/disposition-notification"}
)


def noise_reason(
    mail: ParsedMail, *, own_addresses: Sequence[str] = (), ignore_senders: Sequence[str] = ()
) -> str | None:
    """Why this mail is noise (automatic, bulk, a loop, ignored), or None for a person's mail."""
    headers = mail.headers
    auto = headers.get("auto-submitted", "").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto[:40]}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _NOISY_PRECEDENCE:
        return f"precedence: {precedence}"
    for name in _LIST_HEADERS:
        if name in headers:
            return f"mailing list ({name})"
    for name in ("x-autoreply", "x-autorespond"):
        if name in headers:
            return f"automatic reply ({name})"
    suppress = headers.get("x-auto-response-suppress", "").strip().lower()
    if suppress and suppress != "none":
        return f"automatic message (x-auto-response-suppress: {suppress[:40]})"
    if headers.get("return-path", "").replace(" ", "") == "<>":
        return "null return path"
    if mail.content_type in _REPORTS:
        return f"delivery report ({mail.content_type})"
    subject = mail.subject.strip().lower()
    for opening in _AUTOMATIC_SUBJECTS:
        if subject.startswith(opening):
            return f"automatic subject ({opening.rstrip(':')})"
    if "x-failed-recipients" in headers:
        return "delivery failure (x-failed-recipients)"
    sender = mail.sender.email
    local = sender.partition("@")[0]
    name = mail.sender.name.strip().lower()
    if local in _SYSTEM_SENDERS or (not sender and name in _SYSTEM_SENDERS):
        return f"system sender ({local or name})"
    if local in _NO_REPLY:
        return f"no-reply sender ({local})"
    if sender and sender in {a.strip().lower() for a in own_addresses}:
        return "our own address"
    for pattern in ignore_senders:
        if sender_matches(sender, pattern):
            return f"ignored sender ({pattern})"
    return None


def sender_matches(sender: str, pattern: str) -> bool:
    """``a@b.example`` matches itself; ``@b.example`` its domain; ``*.b.example`` subdomains too."""
    sender = sender.strip().lower()
    pattern = pattern.strip().lower()
    if not sender or not pattern:
        return False
    domain = sender.rpartition("@")[2]
    if pattern.startswith("@"):
        pattern = pattern[1:]
        if not pattern.startswith("*."):
            return domain == pattern
    if pattern.startswith("*."):
        base = pattern[2:]
        return domain == base or domain.endswith("." + base)
    if "@" in pattern:
        return sender == pattern
    return domain == pattern
