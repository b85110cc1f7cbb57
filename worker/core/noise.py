"""Mail that must never open a recovery: automatic replies, lists, bulk, bounces, spam, our own.

Each check looks at the whole mail (headers, sender, subject and, for bulk mail, the
footer of its text), so a newsletter without List-* headers or a bounce with an unusual
subject is still told apart from a person writing to the team.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from worker.domain.mail import ParsedMail

_LIST_HEADERS = (
    "list-id",
    "list-unsubscribe",
    "list-post",
    "list-help",
    "list-owner",
    "list-subscribe",
    "list-archive",
    # Older and other list servers' own marks (Mailman, ezmlm, Yahoo Groups, Majordomo...).
    "mailing-list",
    "x-mailing-list",
    "x-beenthere",
    "x-mailman-version",
    "x-ml-name",
    "x-egroups-return",
    "x-list",
    "x-listname",
    "x-list-id",
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
    "auto:",
    "automatic reply:",
    "automatische antwort:",
    "réponse automatique:",
    "respuesta automática:",
    "abwesenheitsnotiz:",
    "out of office",
    "out of the office",
    "undeliverable",
    "undelivered mail",
    "delivery status notification",
    "delivery notification",
    "mail delivery failed",
    "mail delivery failure",
    "mail could not be delivered",
    "message could not be delivered",
    "message not delivered",
    "returned mail",
    "delivery failure",
    "delivery has failed",
    "failure notice",
    "non-delivery",
    "warning: message delayed",
    "cron <",
    "logwatch for",
    "anacron job",
    "[fail2ban]",
    "*** security information for",
    "abuse report",
    "feedback report",
    "complaint about message from",  # the shape of Microsoft's feedback-loop (JMRP) reports
)
#: Phrases of a moderator's or a list server's request, anywhere in the subject.
_MODERATION_SUBJECTS = re.compile(
    r"(awaits|awaiting|waiting for|requires|needs) (your |the )?(moderator'?s? )?approval"
    r"|post (from .{0,80} )?requires approval|moderator request",
    re.IGNORECASE,
)
_NO_REPLY = frozenset({"noreply", "no-reply", "donotreply", "do-not-reply", "no_reply"})
#: Local parts that machines, feeds and newsletters send from, never a client.
_MACHINE_SENDERS = frozenset(
    {
        "notifications", "notification", "notify", "alerts", "alert", "newsletter",
        "newsletters", "news", "digest", "updates", "rss", "feed", "feeds", "bounce",
        "bounces", "mailer", "cron", "daemon", "root", "nagios", "monitoring", "logwatch",
        "marketing", "promo", "promotions", "offers", "deals",
    }
)  # fmt: skip
#: Distinct links in what the sender wrote from which a mail is a mass mailing: a person
#: points to a page or two, a newsletter or an offer to a dozen.
BULK_LINKS = 10
_LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)
_LINKS_READ = 20_000
_LOCAL_SEPARATORS = re.compile(r"[-_.+]")
#: Mailing-list software's own addresses: list-owner, list-bounces, list-request.
_LIST_SERVER_SUFFIXES = ("-owner", "-bounces", "-request", "-admin", "+bounces")
_REPORTS = frozenset(
    {
        "multipart/report",
        "message/delivery-status",
        "message/disposition-notification",
        "message/feedback-report",
    }
)
#: Headers only mass mailers, feed readers and cron put on their mail.
_BULK_HEADERS = (
    "x-campaign",
    "x-campaignid",
    "x-campaign-id",
    "x-mailchimp-campaign",
    "x-mc-user",
    "x-marketoid",
    "x-sfmc-stack",
    "x-newsletter",
    "x-rss-feed",
    "x-rss-id",
    "x-rss-url",
    "x-cron-env",
    "x-feedback-id",
    "x-abuse-report",
)
_BULK_MAILERS = re.compile(
    r"mailchimp|sendinblue|brevo|phplist|mailman|listserv|sympa|constant ?contact|"
    r"campaign ?monitor|hubspot|klaviyo|mailerlite|getresponse|acumbamail|rss2email|"
    r"feedburner|emarsys|salesforce marketing|exacttarget|mautic|substack|lyris|listmanager|"
    r"majordomo|ezmlm|groupmail|mailking|sendblaster|atomic mail sender|aweber|icontact|"
    r"mailjet|activecampaign|sendy|mailpoet|omnisend|convertkit|cheetahmail|responsys|pardot|"
    r"eloqua|dotdigital|moosend|verticalresponse",
    re.IGNORECASE,
)
#: What a bulk mail's footer says and a person's mail does not.
_BULK_FOOTER = re.compile(
    r"view (this|it) (e-?mail |message )?(online|in (your|a) browser)|"
    r"you (are|were) receiving this (e-?mail|message|newsletter)|you received this (e-?mail|"
    r"message) because|to stop receiving (these|this|our)|manage (your )?(e-?mail )?"
    r"(preferences|subscriptions?)|update your (e-?mail |subscription )?preferences|"
    r"you (have been|are) subscribed|sent from an unmonitored|"
    r"do not reply to this (e-?mail|message)|this is an automated (e-?mail|message)|"
    r"(if )?you (no longer|do not|don'?t) (wish|want) to receive|"
    r"remove (yourself|your (e-?mail|address|name)) from (this|our|the) (list|mailing)|"
    r"you can unsubscribe|this (e-?mail|message|newsletter) was sent to you|you opted in|"
    r"having trouble (viewing|reading|seeing) this (e-?mail|message|newsletter)|"
    r"(can'?t|cannot|unable to) (see|view|read) this (e-?mail|message|newsletter)( properly)?\?|"
    r"add (us|\S+@\S+) to your (address book|contacts|safe senders?( list)?)|"
    r"forward (this (e-?mail|newsletter) )?to a friend|"
    # The removal instructions and legal notes of unsolicited mass mail, in the sender's
    # voice ("our list"): a client who writes that they asked to be removed is no footer.
    r"be removed from (all |any of )?our( \w+)? (lists?|mailings?|database)|"
    r"if you (wish|want|would like|prefer) to be removed|"
    r"(with|type|put|write) .?remove.? (in|as) the subject|reply with .?remove\b|"
    r"(sent|mailed) in compliance with|can ?not be considered (spam|unsolicited)",
    re.IGNORECASE,
)
_UNDISCLOSED = re.compile(r"undisclosed[ -]recipients?|recipient list suppressed", re.IGNORECASE)
#: A subject the sender marks as an advertisement ("ADV:", as several laws ask of it).
_ADVERTISEMENT_SUBJECT = re.compile(r"^\s*(\[adv\]|adv\s*:)", re.IGNORECASE)
#: "Unsubscribe" is a footer's only on a line with a link or on a line of its own: a client
#: may well write that they asked to unsubscribe.
_UNSUBSCRIBE_LINE = re.compile(
    r"^.{0,40}\b(unsubscribe|opt[ -]out)\b.{0,40}$|\b(unsubscribe|opt[ -]out)\b.{0,80}"
    r"(https?://|www\.|click|here\b)|(https?://\S*unsubscribe)",
    re.IGNORECASE | re.MULTILINE,
)
#: Characters of the text's end that are searched for a bulk footer ...
_FOOTER_CHARS = 3_000
#: ... after the opening, which is never taken for a footer.
_OPENING_CHARS = 200
#: The receiving server's spam verdicts: header name and what marks the mail as spam.
_SPAM_VERDICTS = (
    ("x-spam-flag", re.compile(r"^\s*yes\b", re.IGNORECASE)),
    ("x-spam-status", re.compile(r"^\s*yes\b", re.IGNORECASE)),
    ("x-spam", re.compile(r"^\s*yes\b", re.IGNORECASE)),
    ("x-barracuda-spam-flag", re.compile(r"^\s*yes\b", re.IGNORECASE)),
    ("x-spamd-result", re.compile(r"^\s*default:\s*true\b", re.IGNORECASE)),
    ("x-ms-exchange-organization-scl", re.compile(r"^\s*(5|6|7|8|9)\b")),
)

#: The noise reason of a mail sent from one of the team's own addresses.
OWN_ADDRESS = "our own address"


#: Characters that are in the text but not seen: soft hyphen, zero-width space, word joiner,
#: byte order mark.
INVISIBLE = "\u00ad\u200b\u2060\ufeff"
#: Letters set apart one by one with them: "A\u00adp\u00adp\u00adl\u00ade". Spam does this to
#: slip its words past filters; no person types it, and hyphenation puts them between
#: syllables, not letters.
_SPLIT_WORD = re.compile(f"[A-Za-z](?:[{INVISIBLE}]+[A-Za-z]){{2,}}")
#: Words so split before a mail counts as disguised.
DISGUISED_WORDS = 5
_DISGUISE_READ = 20_000


def noise_reason(
    mail: ParsedMail,
    *,
    own_addresses: Sequence[str] = (),
    ignore_senders: Sequence[str] = (),
    skip_spam: bool = True,
) -> str | None:
    """Why this mail is noise (automatic, bulk, a loop, spam, ignored), or None for a person's."""
    return (
        _automatic(mail)
        or _from_machine(mail)
        or _bulk(mail)
        or _disguised(mail)
        or (_spam(mail) if skip_spam else None)
        or _sender_policy(mail, own_addresses, ignore_senders)
    )


def _automatic(mail: ParsedMail) -> str | None:
    """Automatic replies, delivery reports and what servers generate (RFC 3834, RFC 3464)."""
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
            return f"automatic subject ({opening.rstrip(':').strip()})"
    if _MODERATION_SUBJECTS.search(subject[:300]):
        return "list moderation request"
    if "x-failed-recipients" in headers:
        return "delivery failure (x-failed-recipients)"
    return None


def _from_machine(mail: ParsedMail) -> str | None:
    """Mail servers, list servers, feeds and no-reply senders."""
    sender = mail.sender.email
    local = sender.partition("@")[0]
    name = mail.sender.name.strip().lower()
    if local in _SYSTEM_SENDERS or (not sender and name in _SYSTEM_SENDERS):
        return f"system sender ({local or name})"
    if any(marker in local for marker in _NO_REPLY):
        return f"no-reply sender ({local})"
    if local in _MACHINE_SENDERS or _machine_words(local):
        return f"automated sender ({local})"
    if local.endswith(_LIST_SERVER_SUFFIXES):
        return f"list server ({local})"
    if name in {"cron daemon", "anacron"}:
        return f"automated sender ({name})"
    return None


def _machine_words(local: str) -> bool:
    """A local part made of a machine's words: "news-alerts", "site.updates", "rssfeeds"."""
    parts = _LOCAL_SEPARATORS.split(local)
    if len(parts) > 1 and any(part in _MACHINE_SENDERS for part in parts):
        return True
    return local.startswith("rss") or local.endswith(("feed", "feeds"))


def _bulk(mail: ParsedMail) -> str | None:
    """Newsletters and mass mail, by their mailer's headers or their footer."""
    headers = mail.headers
    for name in _BULK_HEADERS:
        if name in headers:
            return f"bulk mail ({name})"
    mailer = headers.get("x-mailer", "") + " " + headers.get("user-agent", "")
    found = _BULK_MAILERS.search(mailer[:300])
    if found:
        return f"bulk mail (sent with {found.group(0).lower()})"
    if _UNDISCLOSED.search(headers.get("to", "")[:300]):
        # A client writes to us; a mailing hides its thousand recipients behind this.
        return "bulk mail (undisclosed recipients)"
    if _ADVERTISEMENT_SUBJECT.match(mail.subject):
        return "bulk mail (advertisement subject)"
    links = len(set(_LINK.findall((mail.new_text or mail.text)[:_LINKS_READ])))
    if links >= BULK_LINKS:
        return f"bulk mail ({links} links)"
    # The opening of a mail is never its footer: a one-line "how do I unsubscribe?" is a person.
    footer = mail.text[max(_OPENING_CHARS, len(mail.text) - _FOOTER_CHARS) :]
    found = _BULK_FOOTER.search(footer) or _UNSUBSCRIBE_LINE.search(footer)
    if found:
        return f"bulk mail (footer: {' '.join(found.group(0).lower().split())[:40]})"
    return None


def _disguised(mail: ParsedMail) -> str | None:
    """Text whose words are split into letters by invisible characters."""
    found = len(_SPLIT_WORD.findall(mail.text[:_DISGUISE_READ]))
    if found >= DISGUISED_WORDS:
        return f"spam ({found} words split into letters by invisible characters)"
    return None


def _spam(mail: ParsedMail) -> str | None:
    """The receiving server's own verdict, when it marked the mail as spam."""
    for name, verdict in _SPAM_VERDICTS:
        value = mail.headers.get(name)
        if value is not None and verdict.search(value[:200]):
            return f"spam verdict ({name}: {' '.join(value.split())[:30]})"
    return None


def _sender_policy(
    mail: ParsedMail, own_addresses: Sequence[str], ignore_senders: Sequence[str]
) -> str | None:
    sender = mail.sender.email
    if sender and sender in {a.strip().lower() for a in own_addresses}:
        return OWN_ADDRESS
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
