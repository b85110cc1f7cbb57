"""A recovery: one per complaint, from the moment it is recorded to its follow-up."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Severity = Literal["sev1", "sev2", "sev3"]
SEVERITIES: tuple[Severity, ...] = ("sev1", "sev2", "sev3")

#: Recorded, not yet in Jira.
PENDING = "pending"


OPEN = "open"


RESOLVED = "resolved"


CLOSED = "closed"


#: Jira refused its ticket too many times: never opened, no longer tried.
GAVE_UP = "gave_up"


#: Longest client text kept for the ticket's description.
MAX_EXCERPT = 8_000


def idempotency_key(source_key: str) -> str:
    """A label derived from the complaint's source, so a lost create can be found in Jira."""
    return "rw-" + hashlib.sha256(source_key.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class Recovery:
    id: int
    source_key: str
    source_kind: str
    idempotency_key: str
    client: str
    owner: str
    severity: str
    summary: str
    jira_key: str | None
    state: str
    opened_at: datetime
    resolved_at: datetime | None
    reopen_count: int
    source_ref: str = ""
    source_at: datetime | None = None
    excerpt: str = ""
    reasons: tuple[str, ...] = ()
