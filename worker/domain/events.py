"""Recovery events: the facts the SLA clocks and follow-up planning are computed from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    OPENED = "opened"  # the complaint arrived: first contact is owed
    CLIENT_MESSAGE = "client_message"  # the client wrote again: an answer is owed
    CLIENT_UPDATE = "client_update"  # the team updated the client (public comment, sent mail)
    PROMISE = "promise"  # an update named when the next one comes (detail: {"due": iso})
    WAITING = "waiting"  # moved to a waiting-for-client status: clocks pause
    RESUMED = "resumed"  # out of the waiting status
    RESOLVED = "resolved"  # status category Done (detail: {"resolution": ...})
    REOPENED = "reopened"  # out of Done again
    REOPEN_ASKED = "reopen_asked"  # the client complained again after resolution
    SEVERITY_RAISED = "severity_raised"  # detail: {"from": "sev3", "to": "sev2"}


@dataclass(frozen=True, slots=True)
class RecoveryEvent:
    recovery_id: int
    kind: EventKind
    at: datetime
    dedupe_key: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
