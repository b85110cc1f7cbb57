"""Every inbox message ends in exactly one recorded decision, and only then moves on.

For each message, one store transaction records the decision, what it implies
(a pending recovery, a thread reply, a client event) and the folder's cursor;
only after it commits may the source mark the message handled. A crash anywhere
leaves the message to be read again, and the dedupe by message key makes the
second reading harmless. The inbox steps (IMAP, Maildir) hand their batches here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from worker.core.decision import (
    DecisionPolicy,
    arrival_time,
    decide,
    is_team_mail,
    sent_time,
    thread_recovery,
)
from worker.core.detection import Detector
from worker.core.noise import OWN_ADDRESS
from worker.core.promises import find_promise
from worker.domain.decision import QUARANTINED, RECOVERY, SKIPPED, THREAD, Decision
from worker.domain.mail import Incoming, ParsedMail
from worker.errors import MessageUnparseable, StoreError
from worker.logs import get_logger
from worker.mail.parse import content_key, parse_message
from worker.steps import Services
from worker.store import Connection, cursors, messages
from worker.store.cursors import Cursor
from worker.store.db import is_store_error, is_store_fault
from worker.store.intake import StoreContext, join_thread, open_pending, quarantine
from worker.wiring import detector_for, policy_for, sla_setup

log = get_logger()

#: One message to decide, with the cursor to save once its decision is recorded.
Item = tuple[Incoming, Cursor | None]
#: A parsed message, or why it could not be parsed.
Parsed = ParsedMail | MessageUnparseable


def handle_message(
    services: Services,
    incoming: Incoming,
    *,
    cursor: Cursor | None = None,
    detector: Detector | None = None,
    policy: DecisionPolicy | None = None,
) -> Decision:
    """Decide one message and record it (with ``cursor`` saved) in one transaction."""
    return handle_batch(services, [(incoming, cursor)], detector=detector, policy=policy)[0]


def handle_batch(
    services: Services,
    items: Sequence[Item],
    *,
    detector: Detector | None = None,
    policy: DecisionPolicy | None = None,
) -> list[Decision]:
    """Decide messages in order and record them, each with its cursor, in one transaction.

    One commit for the batch keeps a backlog fast; a cursor still never passes a message
    whose decision is not committed with it. When the batch fails, its messages are tried
    one transaction each, so one bad message cannot hold back those before it; one that
    still cannot be recorded, for a reason other than the store, is quarantined.
    """
    if not items:
        return []
    recorder = _Recorder(services, detector, policy)
    parsed = [(incoming, cursor, recorder.parse(incoming)) for incoming, cursor in items]
    if len(parsed) > 1:
        # One transaction commits the whole batch, so only each source's last cursor is saved.
        last = {cursor.source: i for i, (_, cursor, _) in enumerate(parsed) if cursor is not None}
        try:
            with services.store.transaction() as conn:
                decisions = [
                    recorder.record(
                        conn,
                        incoming,
                        cursor if cursor is not None and last[cursor.source] == i else None,
                        mail,
                    )
                    for i, (incoming, cursor, mail) in enumerate(parsed)
                ]
        except Exception:
            log.warning("intake.batch_retried_singly", size=len(parsed))
        else:
            for decision in decisions:
                _report(services, decision)
            return decisions
    decisions = []
    for item in parsed:
        decisions.append(recorder.record_alone(*item))
        _report(services, decisions[-1])
    return decisions


class _Recorder:
    """Decides and records the messages of one batch under the same rules."""

    def __init__(
        self, services: Services, detector: Detector | None, policy: DecisionPolicy | None
    ) -> None:
        detection = services.settings.detection
        self.services = services
        self.detector = detector or detector_for(detection)
        self.policy = policy or policy_for(detection)
        self.reopen_on_complaint = services.settings.jira.reopen_on_complaint

    def parse(self, incoming: Incoming) -> Parsed:
        max_text = self.services.settings.imap.max_text_bytes
        try:
            return parse_message(
                incoming.raw, attachments=incoming.attachments, max_text_bytes=max_text
            )
        except MessageUnparseable as exc:
            return exc

    def promise_of(self, text: str, severity: str, at: datetime) -> datetime | None:
        calendar = sla_setup(self.services.settings).calendar_of(severity)[1]
        return find_promise(text, at, calendar)

    def record_alone(self, incoming: Incoming, cursor: Cursor | None, mail: Parsed) -> Decision:
        store = self.services.store
        try:
            with store.transaction() as conn:
                return self.record(conn, incoming, cursor, mail)
        except Exception as exc:
            if is_store_fault(exc):
                # The store, not the mail: the intake stops with the cursor where it is and
                # the step fails (so /readyz says so) until the store records again.
                raise StoreError(f"the store cannot record decisions: {_brief(exc)}") from exc
            # Whatever in the mail made recording fail would fail the same way on every
            # poll and hold back the folder behind it for good.
            reason = f"unrecordable: {type(exc).__name__}: {str(exc)[:200]}"
            now = self.services.clock.now()
            parsed = mail if isinstance(mail, ParsedMail) else None
            with store.transaction() as conn:
                decision = quarantine(
                    conn, incoming, _key(incoming, mail), reason, now, mail=parsed
                )
                if cursor is not None:
                    cursors.save(conn, cursor, now)
            return decision

    def record(
        self, conn: Connection, incoming: Incoming, cursor: Cursor | None, mail: Parsed
    ) -> Decision:
        now = self.services.clock.now()
        if isinstance(mail, MessageUnparseable):
            decision = quarantine(conn, incoming, _key(incoming, mail), f"unparseable: {mail}", now)
        else:
            decision = self._decide_and_record(conn, incoming, mail, now)
        if cursor is not None:
            cursors.save(conn, cursor, now)
        return decision

    def _decide_and_record(
        self, conn: Connection, incoming: Incoming, mail: ParsedMail, now: datetime
    ) -> Decision:
        try:
            context = StoreContext(conn)
            team = incoming.sent or is_team_mail(mail, self.policy)
            if team:
                # In the inbox, the team's own mail is a Bcc of what it sent the client.
                outside = "" if incoming.sent else OWN_ADDRESS
                decision = _decide_sent(mail, context, outside=outside)
            else:
                received = incoming.received
                decision = decide(mail, self.detector, context, now, self.policy, received=received)
        except Exception as exc:
            if is_store_error(exc):
                raise  # the store, not the mail: retried with the cursor where it is
            # A mail that trips the rules must not hold back every mail behind it.
            reason = f"undecidable: {type(exc).__name__}: {str(exc)[:200]}"
            return quarantine(conn, incoming, mail.key, reason, now, mail=mail)
        decision = replace(
            decision,
            key=mail.key,
            message_id=mail.message_id,
            source=incoming.source,
            uid=incoming.uid,
            sender=mail.sender.email,
            subject=mail.subject,
            # The time decisions count floods on, so later mails measure against the same one.
            received_at=arrival_time(mail, incoming.received, now),
        )
        if decision.duplicate:
            return decision
        at = sent_time(mail, incoming.received, now)
        if decision.decision == RECOVERY:
            decision = open_pending(conn, mail, decision, source_at=at, now=now)
        if decision.decision == THREAD and decision.recovery_id is not None:
            join_thread(
                conn,
                mail,
                decision,
                recovery_id=decision.recovery_id,
                team=team,
                at=at,
                promise_of=self.promise_of,
                reopen_on_complaint=self.reopen_on_complaint,
                now=now,
            )
        messages.record(conn, decision, now)
        return decision


def _key(incoming: Incoming, mail: Parsed) -> str:
    return mail.key if isinstance(mail, ParsedMail) else content_key(incoming.raw)


def _decide_sent(mail: ParsedMail, context: StoreContext, *, outside: str = "") -> Decision:
    """A mail the team sent: an update to the client when it is in a recovery's thread."""
    if context.is_recorded(mail.key):
        return Decision(SKIPPED, "duplicate: this message is already decided", duplicate=True)
    recovery_id, _ = thread_recovery(mail, context)
    if recovery_id is None:
        return Decision(SKIPPED, outside or "sent mail outside any recovery's thread")
    return Decision(THREAD, "team update to the client", recovery_id=recovery_id)


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def _report(services: Services, decision: Decision) -> None:
    """Metrics and the log line, once the decision is committed."""
    services.metrics.messages.labels(decision=decision.decision).inc()
    if decision.decision == QUARANTINED:
        services.metrics.quarantined.inc()
        log.warning(
            "message.quarantined",
            source=decision.source,
            uid=decision.uid,
            key=decision.key,
            reason=decision.reason,
        )
        return
    log.info(
        "message.decided",
        source=decision.source,
        uid=decision.uid,
        key=decision.key,
        decision=decision.decision,
        reason=decision.reason,
        score=decision.score,
        severity=decision.severity,
        recovery_id=decision.recovery_id,
    )
