"""Alerts as Jira comments mentioning the assignee; the breach label; escalation raises priority.

Each comment carries a marker naming its alert, so a comment whose answer was
lost is found on the ticket instead of being written twice: right after the lost
answer, and again before any later attempt at the same alert.
"""

from __future__ import annotations

from worker.alerts.base import CommentsOnce, marker
from worker.core.alerting import Alert, AlertKind
from worker.domain.document import Document, Inline, Mention, Paragraph, Text, paragraph
from worker.errors import NotFound, OutcomeUnknown
from worker.tracker import Tracker
from worker.tracker.base import find_marked_comment


def alert_marker(alert: Alert) -> str:
    """A token written into the alert's comment, the same for every attempt at it."""
    return marker("alert", f"{alert.deadline_id}#{alert.key}")


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
        outbox: CommentsOnce | None = None,
    ) -> None:
        self._tracker = tracker
        #: Where the comment is made exactly once (the outbox); without one, a lost answer is
        #: looked for once, right after it.
        self._outbox = outbox
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
        token = alert_marker(alert)
        text = Document((Paragraph(tuple(parts)),))
        if self._outbox is not None:
            return self._outbox.comment_once(
                f"alert:{token}",
                self._tracker,
                key,
                text,
                kind="alert_comment",
                token=token,
                recovery_id=alert.recovery_id,
            )
        try:
            return self._tracker.add_comment(
                key, Document((*text.blocks, paragraph(f"ref: {token}")))
            ).id
        except OutcomeUnknown:
            made = find_marked_comment(self._tracker, key, token)
            if made is None:
                raise
            return made

    def find_sent(self, alert: Alert) -> str | None:
        """The comment an earlier attempt at this alert left on the ticket, if any."""
        if alert.jira_key is None or alert.kind is AlertKind.REMINDER:
            return None
        return find_marked_comment(self._tracker, alert.jira_key, alert_marker(alert))
