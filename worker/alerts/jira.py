"""Alerts as Jira comments mentioning the assignee; the breach label; escalation raises priority."""

from __future__ import annotations

from worker.core.alerting import Alert, AlertKind
from worker.errors import NotFound
from worker.tracker import Tracker
from worker.tracker.document import Document, Inline, Mention, Paragraph, Text


class JiraChannel:
    """Comments on the recovery ticket; reminders stay out of Jira so the ticket is not flooded."""

    name = "jira"

    def __init__(
        self,
        tracker: Tracker,
        *,
        breach_label: str,
        manager: str = "",
        escalation_priority: str | None = None,
    ) -> None:
        self._tracker = tracker
        self._breach_label = breach_label
        self._manager = manager
        self._escalation_priority = escalation_priority

    def send(self, alert: Alert) -> str:
        key = alert.jira_key
        if key is None:
            raise NotFound(f"recovery {alert.recovery_id} has no Jira issue")
        if alert.kind is AlertKind.REMINDER:
            return ""
        parts: list[Inline] = []
        if alert.subject.owner:
            parts += [Mention(alert.subject.owner), Text(" ")]
        if alert.kind is AlertKind.ESCALATION and self._manager:
            parts += [Mention(self._manager), Text(" ")]
        parts.append(Text(alert.text, strong=alert.kind is not AlertKind.WARNING))
        if alert.kind is AlertKind.BREACH and self._breach_label:
            self._tracker.add_labels(key, [self._breach_label])
        if alert.kind is AlertKind.ESCALATION and self._escalation_priority:
            self._tracker.set_priority(key, self._escalation_priority)
        comment = self._tracker.add_comment(key, Document((Paragraph(tuple(parts)),)))
        return comment.id
