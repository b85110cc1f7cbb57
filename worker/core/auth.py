"""Whether the receiving server vouched for a mail's sender (Authentication-Results, RFC 8601)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from worker.domain.mail import ParsedMail

_PASS = re.compile(r"\b(dkim|dmarc|spf)\s*=\s*pass\b", re.IGNORECASE)


def authenticated(mail: ParsedMail, trusted_servers: Sequence[str] = ()) -> bool:
    """DKIM, DMARC or SPF passed, by the receiving server's own Authentication-Results.

    Only the topmost header counts: it is the one the receiving server added, while a sender
    can write any header of its own further down. With ``trusted_servers``, its authserv-id
    (the first token) must be one of them as well.
    """
    value = mail.headers.get("authentication-results", "")[:4_000]
    if not value.strip():
        return False
    server = value.split(";", 1)[0].strip().split()[0].lower() if value.strip() else ""
    if trusted_servers and server not in {s.strip().lower() for s in trusted_servers}:
        return False
    return bool(_PASS.search(value.split(";", 1)[1] if ";" in value else ""))
