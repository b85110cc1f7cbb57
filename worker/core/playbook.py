"""The recovery ticket and its Know-Have-Do subtasks, planned from a recovery (pure).

The playbook's wording is configuration (``worker/defaults/playbook.toml``, a copy
in ``config/``); this module parses it and turns a recorded recovery into the
issues to create. Nothing here talks to Jira or reads the clock.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from worker.core.options import Options, TicketOptions
from worker.domain.document import (
    Block,
    BulletList,
    Document,
    Heading,
    Mention,
    Paragraph,
    Quote,
    Text,
    bullets,
    cut_to_units,
    paragraph,
)
from worker.domain.issue import NewIssue
from worker.domain.recovery import Recovery
from worker.errors import ConfigurationError

#: The three subtasks, in the order they are created.
STAGES = ("know", "have", "do")
#: The keys of each subtask's section.
STAGE_KEYS = ("summary", "purpose", "checklist")
#: Jira's limit on a summary.
MAX_SUMMARY = 255


@dataclass(frozen=True, slots=True)
class Stage:
    """One subtask of the playbook."""

    name: str
    summary: str
    purpose: str
    checklist: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Playbook:
    stages: tuple[Stage, ...]


@dataclass(frozen=True, slots=True)
class RecoveryPlan:
    """The parent issue and its subtasks; subtasks get their parent once it exists."""

    parent: NewIssue
    subtasks: tuple[NewIssue, ...]

    def subtasks_of(self, parent_key: str) -> list[NewIssue]:
        return [replace(s, parent=parent_key) for s in self.subtasks]


def parse_playbook(text: str, source: str = "playbook") -> Playbook:
    """A playbook from its TOML text; ConfigurationError names what is missing."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source} is not valid TOML: {exc}") from None
    # Unknown names first: a misspelled [knwo] is named, not reported as a missing [know].
    unknown = sorted(set(data) - set(STAGES))
    if unknown:
        close = [difflib.get_close_matches(key, STAGES, n=1) for key in unknown]
        hints = [
            f"{key} (did you mean [{near[0]}]?)" if near else key
            for key, near in zip(unknown, close, strict=True)
        ]
        raise ConfigurationError(
            f"{source}: unknown sections {', '.join(hints)}; a playbook holds [know], [have], [do]"
        )
    stages = []
    for name in STAGES:
        section = data.get(name)
        if not isinstance(section, dict):
            raise ConfigurationError(f"{source}: the [{name}] section is missing")
        extra = sorted(set(section) - set(STAGE_KEYS))
        if extra:
            raise ConfigurationError(
                f"{source}: [{name}] has unknown keys {', '.join(extra)} "
                f"(known: {', '.join(STAGE_KEYS)})"
            )
        summary = section.get("summary")
        purpose = section.get("purpose", "")
        checklist = section.get("checklist")
        if not isinstance(summary, str) or not summary.strip():
            raise ConfigurationError(f"{source}: [{name}] needs a summary")
        if not isinstance(purpose, str):
            raise ConfigurationError(f"{source}: [{name}] purpose must be text")
        if (
            not isinstance(checklist, list)
            or not checklist
            or not all(isinstance(item, str) and item.strip() for item in checklist)
        ):
            raise ConfigurationError(f"{source}: [{name}] needs a checklist of text items")
        stages.append(Stage(name, summary.strip(), purpose.strip(), tuple(checklist)))
    return Playbook(tuple(stages))


def duration_text(span: timedelta) -> str:
    """A duration in words: ``1 hour``, ``4 hours``, ``1 day 2 hours``, ``30 minutes``."""
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if n
    ]
    return " ".join(parts) or "no time"


def promised_cadence(severity: str, settings: Options) -> str:
    """The update rhythm promised to the client for this severity, from the SLA policy."""
    policy = next((p for sev, p in settings.sla.policies.items() if sev == severity), None)
    if policy is None:
        return "updates at the rhythm agreed with the client"
    clock = "around the clock" if policy.calendar == "24x7" else f"in {policy.calendar} hours"
    return (
        f"a first answer within {duration_text(policy.first_contact)}, then an update every "
        f"{duration_text(policy.update_every)} until it is resolved, resolution within "
        f"{duration_text(policy.resolution)} (counted {clock})"
    )


def client_domain(client: str) -> str:
    """The mail domain of a client address (``Jane <jane@Acme.example>`` → ``acme.example``)."""
    address = client.rsplit("<", 1)[-1].rstrip(">").strip()
    return address.rpartition("@")[2].lower() if "@" in address else ""


def point_of_contact(recovery: Recovery, jira: TicketOptions) -> str | None:
    """Who owns the recovery: the source's assignee, else the client domain's owner, else the
    default owner; None leaves the ticket unassigned."""
    if recovery.owner:
        return recovery.owner
    domain = client_domain(recovery.client)
    owners = {k.lower().lstrip("@"): v for k, v in jira.owners.items()}
    while domain:
        if domain in owners:
            return owners[domain]
        domain = domain.partition(".")[2] if "." in domain else ""
    return jira.default_owner or None


def priority_for(jira: TicketOptions, severity: str) -> str | None:
    """The Jira priority configured for a severity, if any."""
    return next((name for sev, name in jira.priorities.items() if sev == severity), None)


def _summary(text: str, prefix: str = "") -> str:
    flat = " ".join(text.split()) or "Client complaint"
    full = f"{prefix}{flat}"
    return cut_to_units(full, MAX_SUMMARY)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "unknown time"


def describe(recovery: Recovery, settings: Options, owner: str | None) -> Document:
    """The recovery ticket's description: client, source, severity, reasons, cadence."""
    blocks: list[Block] = [
        Heading("Complaint"),
        Paragraph((Text("Client: "), Text(recovery.client or "unknown", strong=True))),
        Paragraph((Text("Severity: "), Text(recovery.severity, strong=True))),
    ]
    if owner:
        blocks.append(Paragraph((Text("Point of contact: "), Mention(owner))))
    if recovery.source_kind == "jira":
        issue = recovery.source_ref or recovery.source_key.removeprefix("jira:")
        blocks.append(
            paragraph(f"Source: Jira issue {issue}, signalled at {_when(recovery.source_at)}.")
        )
    else:
        blocks.append(
            paragraph(
                f"Source: email from {recovery.client or 'an unknown sender'} "
                f"sent {_when(recovery.source_at)}"
                + (f" (Message-ID {recovery.source_ref})." if recovery.source_ref else ".")
            )
        )
    if recovery.excerpt:
        blocks.append(Quote(recovery.excerpt))
    if recovery.reasons:
        blocks += [Heading("Why this counts as a complaint"), bullets(recovery.reasons)]
    blocks += [
        Heading("Promised cadence"),
        paragraph(f"The client is owed {promised_cadence(recovery.severity, settings)}."),
        paragraph("Work through the KNOW, HAVE and DO subtasks below."),
    ]
    return Document(tuple(blocks))


def stage_document(stage: Stage, recovery: Recovery) -> Document:
    blocks: list[Block] = []
    if stage.purpose:
        blocks.append(paragraph(stage.purpose))
    blocks.append(BulletList(tuple((Text(item),) for item in stage.checklist), checklist=True))
    client = recovery.client or "the client"
    blocks.append(paragraph(f"Recovery for {client} ({recovery.severity})."))
    return Document(tuple(blocks))


def stage_label(idempotency_key: str, stage: str) -> str:
    """The label that finds one subtask of a recovery again."""
    return f"{idempotency_key}-{stage}"


def plan_recovery(
    recovery: Recovery,
    settings: Options,
    now: datetime,
    *,
    playbook: Playbook,
    subtask_type: str = "Sub-task",
) -> RecoveryPlan:
    """The recovery ticket and its three subtasks, ready to create."""
    jira = settings.jira
    owner = point_of_contact(recovery, jira)
    labels = _labels(jira.labels, recovery.idempotency_key)
    parent = NewIssue(
        project=jira.project,
        issue_type=jira.issue_type,
        summary=_summary(recovery.summary, "Recovery: "),
        description=describe(recovery, settings, owner),
        labels=labels,
        priority=priority_for(jira, recovery.severity),
        assignee=owner,
    )
    subtasks = tuple(
        NewIssue(
            project=jira.project,
            issue_type=subtask_type,
            summary=_summary(recovery.summary, f"{stage.summary} — "),
            description=stage_document(stage, recovery),
            labels=_labels(jira.labels, stage_label(recovery.idempotency_key, stage.name)),
            priority=parent.priority,
            assignee=owner,
        )
        for stage in playbook.stages
    )
    return RecoveryPlan(parent, subtasks)


def _labels(configured: Sequence[str], key: str) -> tuple[str, ...]:
    # Jira labels cannot hold spaces.
    cleaned = ["-".join(label.split()) for label in configured if label.strip()]
    return tuple(dict.fromkeys([*cleaned, key]))
