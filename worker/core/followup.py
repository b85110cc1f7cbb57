"""Follow-up planning: the positive-touchpoint task after a recovery is resolved.

Pure: everything it needs (the recovery, the Jira issues read back, the
settings, the time) is passed in. Also reads the root-cause analysis out of
the HAVE subtask or custom fields, and tells which of its parts are missing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from worker.core.options import FollowupOptions, Options
from worker.domain.document import Block, Heading, Quote, bullets, document, paragraph
from worker.domain.followup import ROOT_CAUSE_HEADINGS, RootCausePart
from worker.domain.issue import Issue, NewIssue
from worker.domain.recovery import Recovery

#: The parts of a root-cause analysis, in the order a reader expects them.
ROOT_CAUSE_PARTS: tuple[RootCausePart, ...] = (
    "but_for_cause",
    "systemic_cause",
    "fix",
    "remediation",
)

#: How each part is named to people.
PART_NAMES: Mapping[RootCausePart, str] = {
    "but_for_cause": "but-for cause",
    "systemic_cause": "systemic cause",
    "fix": "fix",
    "remediation": "remediation",
}

#: Section labels that end a root-cause section without being one of its parts.
OTHER_SECTIONS = (
    "root cause analysis",
    "root-cause analysis",
    "next steps",
    "alternatives",
    "options",
)

#: Section content that says nothing yet.
PLACEHOLDERS = frozenset(
    {"tbd", "todo", "to do", "tba", "n/a", "na", "none", "none yet", "unknown", "pending", "?"}
)

MAX_SUMMARY = 200
MAX_EXCERPT = 1_500
MAX_MEASURES = 20

# Markup and list residue a flattened wiki or ADF text may still carry at a line's start.
_LEADING_NOISE = re.compile(r"^(?:h[1-6]\.\s+|[-*#•>]+\s*|\u2610\s*|\[[ xX]?\]\s*|\d+[.)]\s+)+")
_EMPHASIS = re.compile(r"[*_+]")


def followup_label(recovery: Recovery, round_: int = 0) -> str:
    """The label that finds a recovery's follow-up again after a lost create answer.

    ``round_`` counts follow-ups created again after a cancelled one.
    """
    digest = hashlib.sha256(f"{recovery.idempotency_key}:{round_}".encode()).hexdigest()[:16]
    return f"rw-fu-{digest}"


def due_date(recovery: Recovery, resolved_at: datetime, settings: FollowupOptions) -> date:
    """The follow-up's due date: the resolution day plus the days configured for the severity."""
    by_severity = {str(sev): days for sev, days in settings.due_after_days.items()}
    days = by_severity[recovery.severity]  # the settings hold every severity
    return (resolved_at + timedelta(days=days)).date()


def plan_followup(
    recovery: Recovery,
    parent: Issue,
    have: Issue | None,
    settings: Options,
    now: datetime,
    *,
    round_: int = 0,
) -> NewIssue:
    """The follow-up task for a resolved recovery, ready to create."""
    resolved_at = recovery.resolved_at or parent.resolved_at or now
    fields = {k: v for k, v in parent.extra.items() if v.strip()}
    fields.update({k: v for k, v in (have.extra if have else {}).items() if v.strip()})
    sections = root_cause(have, fields, settings.followup)
    measures = _measures(sections.get("remediation", ""))
    owner = parent.assignee or recovery.owner or None
    subject = recovery.summary or parent.summary
    summary = _cap(f"Follow-up call: {subject}".replace("\n", " "), MAX_SUMMARY)
    client = recovery.client or "the client"

    blocks: list[Block] = [
        Heading("Why this call"),
        paragraph(
            f"{parent.key} was resolved on {resolved_at.date().isoformat()}. "
            f"Call {client} back, as the same point of contact, to show that the problem "
            "is fixed for good and that the relationship matters more than the ticket."
        ),
        Heading("What the client complained about"),
        paragraph(subject or "(no summary)"),
    ]
    if recovery.excerpt:
        blocks.append(Quote(_cap(recovery.excerpt, MAX_EXCERPT)))
    blocks.append(Heading("Preventive measures to report"))
    if measures:
        blocks.append(paragraph("Tell the client what changed so that this does not happen again:"))
        blocks.append(bullets(measures))
    else:
        blocks.append(
            paragraph(
                "No remediation is written down in the HAVE subtask yet. Before the call, "
                "find out what was changed to stop this from happening again."
            )
        )
    blocks += [
        Heading("Something of value to offer"),
        paragraph(
            "Bring something that is worth the client's time, chosen for what they care about:"
        ),
        bullets(
            [
                "an improvement, a preview or advice that serves their primary goals",
                "a gesture that fits how much the problem cost them",
                "a direct line to the team for the next question",
            ],
            checklist=True,
        ),
        Heading("The client's view"),
        bullets(
            [
                "How has it been since the fix?",
                "How did they find the way we handled it?",
                "Is there anything still open for them?",
            ],
            checklist=True,
        ),
        paragraph("Write down what they said in a comment here, then resolve this task."),
    ]
    return NewIssue(
        project=parent.project or settings.jira.project,
        issue_type=settings.jira.followup_issue_type,
        summary=summary,
        description=document(*blocks),
        labels=(*settings.followup.labels, followup_label(recovery, round_)),
        assignee=owner,
        due=due_date(recovery, resolved_at, settings.followup),
    )


def root_cause_gaps(
    have: Issue | None,
    fields: Mapping[str, str],
    settings: FollowupOptions,
) -> list[str]:
    """Names of the root-cause parts that are not written down, in their usual order.

    ``fields`` holds custom field values by field id (those of the parent and the
    HAVE subtask, read with ``extra_fields``).
    """
    sections = root_cause(have, fields, settings)
    return [PART_NAMES[part] for part in ROOT_CAUSE_PARTS if not sections.get(part)]


def root_cause(
    have: Issue | None,
    fields: Mapping[str, str],
    settings: FollowupOptions,
) -> dict[RootCausePart, str]:
    """Each written root-cause part: from its configured custom field, else from the HAVE text."""
    from_text = parse_sections(have.description if have else "", settings)
    result: dict[RootCausePart, str] = {}
    for part in ROOT_CAUSE_PARTS:
        field_id = settings.root_cause_fields.get(part)
        value = _meaningful(fields.get(field_id, "")) if field_id else ""
        if not value:
            value = from_text.get(part, "")
        if value:
            result[part] = value
    return result


def parse_sections(text: str, settings: FollowupOptions) -> dict[RootCausePart, str]:
    """Labelled sections of a HAVE subtask's plain text, each with what is written under it.

    A section opens with a line starting with one of its labels ("Fix:", "h3. Fix",
    "*Systemic cause* - ...", "- But-for cause: ..."); it runs to the next label. Prompts
    (lines ending in "?") and placeholders ("TBD", "...") do not count as written.
    """
    labels = _labels(settings)
    collected: dict[RootCausePart, list[str]] = {}
    current: RootCausePart | None = None
    for raw in text.splitlines():
        line = _clean(raw)
        if not line:
            continue
        opened = _opening(line, labels)
        if opened is not None:
            current, rest = opened
            if current is not None:
                collected.setdefault(current, [])
                if rest:
                    collected[current].append(rest)
            continue
        if current is not None:
            collected[current].append(line)
    result: dict[RootCausePart, str] = {}
    for part, lines in collected.items():
        kept = [line for line in (_meaningful(x) for x in lines) if line]
        if kept:
            result[part] = "\n".join(kept)
    return result


def _labels(settings: FollowupOptions) -> list[tuple[re.Pattern[str], RootCausePart | None]]:
    """A pattern per label, longest first so "the fix" wins over "fix"."""
    pairs: list[tuple[str, RootCausePart | None]] = []
    for part in ROOT_CAUSE_PARTS:
        labels = settings.root_cause_headings.get(part) or ROOT_CAUSE_HEADINGS[part]
        pairs += [(label, part) for label in labels]
    pairs += [(label, None) for label in OTHER_SECTIONS]
    pairs.sort(key=lambda pair: len(pair[0]), reverse=True)
    return [(_label_pattern(label), part) for label, part in pairs if label.strip()]


def _label_pattern(label: str) -> re.Pattern[str]:
    # Words may be joined by spaces or hyphens; a remark in parentheses may follow; then the
    # line ends or a separator comes, so prose that starts with the word is not a label.
    words = [re.escape(word) for word in re.split(r"[\s\-\u2011]+", label.strip()) if word]
    joined = r"[\s\-\u2011]+".join(words)
    return re.compile(rf"^{joined}(?:\s*\([^)]*\))?\s*(?:$|[:\-\u2013\u2014=])", re.IGNORECASE)


def _opening(
    line: str, labels: list[tuple[re.Pattern[str], RootCausePart | None]]
) -> tuple[RootCausePart | None, str] | None:
    """The section a line opens and the text after its label, or None for an ordinary line."""
    bare = _EMPHASIS.sub("", line).strip()
    for pattern, part in labels:
        match = pattern.match(bare)
        if match:
            return part, bare[match.end() :].strip().lstrip(":-\u2013\u2014=").strip()
    return None


def _clean(raw: str) -> str:
    return _LEADING_NOISE.sub("", raw.strip()).strip()


def _meaningful(text: str) -> str:
    """The text, or "" when it is only a prompt, a placeholder or punctuation."""
    text = text.strip()
    if not text or text.endswith("?"):
        return ""
    bare = _EMPHASIS.sub("", text).strip(" .\u2026-\u2013\u2014:()[]").lower()
    if not any(ch.isalnum() for ch in bare) or bare in PLACEHOLDERS:
        return ""
    return text


def _measures(remediation: str) -> list[str]:
    """The remediation as a list of measures, one per line."""
    items = [_clean(line) for line in remediation.splitlines()]
    return [_cap(item, 500) for item in items if item][:MAX_MEASURES]


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
