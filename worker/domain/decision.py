"""A decision on one message: what happens to it, why, and which message it was."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

RECOVERY = "recovery"
THREAD = "thread"
NOT_COMPLAINT = "not_complaint"
SKIPPED = "skipped"
QUARANTINED = "quarantined"
DECISIONS = (RECOVERY, THREAD, NOT_COMPLAINT, SKIPPED, QUARANTINED)


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to one message, and why; with the message's identity once recorded."""

    decision: str
    reason: str = ""
    is_complaint: bool = False
    score: float | None = None
    severity: str | None = None
    reasons: tuple[str, ...] = ()
    #: The recovery a thread message joins.
    recovery_id: int | None = None
    #: The message the thread started with: a new recovery's source is "mail:<this>".
    thread_root: str = ""
    #: A thread message angrier than its recovery raises the recovery to this severity.
    raise_to: str | None = None
    jira_keys: tuple[str, ...] = field(default_factory=tuple)
    #: Decided before: a copy, or a crash before the cursor moved. Nothing is recorded again.
    duplicate: bool = False
    # The message decided on, filled in when the decision is recorded.
    key: str = ""
    message_id: str | None = None
    source: str = ""
    uid: int | None = None
    sender: str = ""
    subject: str = ""
    #: When the message arrived (the flood window counts on it).
    received_at: datetime | None = None
