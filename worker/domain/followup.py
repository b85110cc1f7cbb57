"""A follow-up task: the positive touchpoint planned after a recovery is resolved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

#: The parts of a root-cause analysis.
RootCausePart = Literal["but_for_cause", "systemic_cause", "fix", "remediation"]

#: The section labels that open each part in the HAVE subtask's text, unless configured.
ROOT_CAUSE_HEADINGS: Mapping[RootCausePart, Sequence[str]] = {
    "but_for_cause": ("but-for cause", "but for cause", "direct cause"),
    "systemic_cause": ("systemic cause", "underlying cause"),
    "fix": ("fix", "the fix"),
    "remediation": ("remediation", "preventive measures"),
}

PLANNED = "planned"


CREATED = "created"


ON_HOLD = "on_hold"


CANCELLED = "cancelled"


DONE = "done"


@dataclass(frozen=True, slots=True)
class Followup:
    recovery_id: int
    label: str
    round: int
    jira_key: str | None
    state: str
    resolved_at: datetime
    due: date
    root_cause_gaps: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    done_at: datetime | None
    overdue_alerted_at: datetime | None
    checked_at: datetime | None = None
