"""The current schema, in portable SQLAlchemy Core (SQLite now, PostgreSQL next)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC time")
        value = value.astimezone(UTC)
        # SQLite has no time zone type: store naive UTC, re-attach UTC on the way out.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

#: Per mail source (``imap:INBOX``, ``maildir:/path``): where reading stopped.
source_cursors = Table(
    "source_cursors",
    metadata,
    Column("source", String(512), primary_key=True),
    Column("uidvalidity", BigInteger, nullable=True),
    Column("last_uid", BigInteger, nullable=False, default=0),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Every message ever seen, with its one recorded decision.
messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(512), nullable=False, unique=True),
    Column("message_id", String(998), nullable=True, index=True),
    Column("source", String(512), nullable=False),
    Column("uid", BigInteger, nullable=True),
    Column("sender", String(320), nullable=False, default=""),
    Column("subject", Text, nullable=False, default=""),
    Column("received_at", UtcDateTime, nullable=True),
    Column("decision", String(32), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("score", Float, nullable=True),
    Column("severity", String(8), nullable=True),
    Column("reasons", Text, nullable=False, default="[]"),
    Column("recovery_id", Integer, ForeignKey("recoveries.id"), nullable=True, index=True),
    Column("decided_at", UtcDateTime, nullable=False),
)
Index("ix_messages_sender_decided", messages.c.sender, messages.c.decided_at)

#: One row per complaint: the recovery and where it lives in Jira.
recoveries = Table(
    "recoveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # 'mail:<thread root key>' or 'jira:<issue key>': one recovery per complaint source.
    Column("source_key", String(600), nullable=False, unique=True),
    Column("source_kind", String(16), nullable=False),
    # Written into Jira as a label before the create, so a lost answer can be found again.
    Column("idempotency_key", String(64), nullable=False, unique=True),
    Column("client", String(320), nullable=False, default=""),
    Column("owner", String(255), nullable=False, default=""),
    Column("severity", String(8), nullable=False),
    Column("summary", Text, nullable=False, default=""),
    Column("jira_key", String(64), nullable=True, unique=True),
    Column("state", String(16), nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("reopen_count", Integer, nullable=False, default=0),
    Column("jira_updated_at", UtcDateTime, nullable=True),
    # What the ticket's description is written from, kept so a retried create writes the same.
    Column("source_ref", String(998), nullable=False, default=""),  # Message-ID or issue key
    Column("source_at", UtcDateTime, nullable=True),  # when the client wrote / the signal fired
    Column("excerpt", Text, nullable=False, default=""),
    Column("reasons", Text, nullable=False, default="[]"),
)

#: Thread replies waiting to become (or already posted as) comments on their recovery.
replies = Table(
    "replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_key", String(512), nullable=False, unique=True),
    Column("recovery_id", Integer, ForeignKey("recoveries.id"), nullable=False, index=True),
    Column("author", String(320), nullable=False, default=""),
    Column("author_name", String(320), nullable=False, default=""),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("text", Text, nullable=False, default=""),
    Column("attachments", Text, nullable=False, default="[]"),  # [{filename, content_type, size}]
    Column("comment_id", String(64), nullable=True),  # set once the comment exists in Jira
    Column("created_at", UtcDateTime, nullable=False),
)

#: What happened to a recovery, in order: the input of its SLA clocks and of follow-up planning.
recovery_events = Table(
    "recovery_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recovery_id", Integer, ForeignKey("recoveries.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    # Where it came from ('mail:<key>', 'jira:<key>#comment-<id>', ...): the same fact twice is one.
    Column("dedupe_key", String(700), nullable=False, unique=True),
    Column("detail", Text, nullable=False, default="{}"),
    Column("recorded_at", UtcDateTime, nullable=False),
)
Index("ix_recovery_events_recovery_at", recovery_events.c.recovery_id, recovery_events.c.at)

#: The exactly-once ledger: an intent before every outside write, completed after it.
actions = Table(
    "actions",
    metadata,
    Column("key", String(700), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("recovery_id", Integer, ForeignKey("recoveries.id"), nullable=True, index=True),
    Column("state", String(16), nullable=False),  # intent | done | failed
    Column("result", Text, nullable=False, default=""),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Incremental Jira polling: per query, the newest update time handled.
jira_cursors = Table(
    "jira_cursors",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("watermark", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Jira changes already handled, so the overlapping poll window does not repeat them.
jira_seen = Table(
    "jira_seen",
    metadata,
    Column("issue_key", String(64), nullable=False),
    Column("change", String(255), nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
    UniqueConstraint("issue_key", "change", name="uq_jira_seen"),
)

#: One positive-touchpoint task per recovery, from planned to done.
followups = Table(
    "followups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recovery_id", Integer, ForeignKey("recoveries.id"), nullable=False, unique=True),
    # Written into Jira as a label before the create; a new round after a cancel gets a new one.
    Column("label", String(64), nullable=False),
    Column("round", Integer, nullable=False, default=0),
    Column("jira_key", String(64), nullable=True),
    Column("state", String(16), nullable=False),  # planned | created | on_hold | cancelled | done
    Column("resolved_at", UtcDateTime, nullable=False),
    Column("due", Date, nullable=False),
    Column("root_cause_gaps", Text, nullable=False, default="[]"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("done_at", UtcDateTime, nullable=True),
    Column("overdue_alerted_at", UtcDateTime, nullable=True),
    Column("checked_at", UtcDateTime, nullable=True),  # last read of the task from Jira
)

#: Consumers of recovery events: per consumer, the last event id handled.
consumers = Table(
    "consumers",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("last_event_id", Integer, nullable=False, default=0),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: Each alert once per (deadline, alert, channel): an intent before sending, completed after.
alerts_sent = Table(
    "alerts_sent",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deadline_id", String(128), nullable=False),
    Column("alert_key", String(64), nullable=False),  # warning | breach | reminder:<n> | escalation
    Column("channel", String(32), nullable=False),
    Column("recovery_id", Integer, ForeignKey("recoveries.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # pending | sending | sent | failed | unknown
    Column("payload", Text, nullable=False, default="{}"),  # the alert, to send it again as it was
    Column("result", Text, nullable=False, default=""),  # e.g. the Jira comment id
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    UniqueConstraint("deadline_id", "alert_key", "channel", name="uq_alerts_sent"),
)
Index("ix_alerts_sent_state", alerts_sent.c.state, alerts_sent.c.next_attempt_at)

#: Each recovery's clocks as last evaluated: what the sweep and the metrics read.
clock_state = Table(
    "clock_state",
    metadata,
    Column("recovery_id", Integer, ForeignKey("recoveries.id"), primary_key=True),
    Column("severity", String(8), nullable=False),
    Column("state", String(16), nullable=False),  # the most urgent clock's state
    Column("is_open", Integer, nullable=False, default=1),
    Column("next_deadline", UtcDateTime, nullable=True),
    # When the state or a due alert may next change without a new event.
    Column("next_check", UtcDateTime, nullable=True, index=True),
    Column("events_seen", Integer, nullable=False, default=0),  # newest event id evaluated
    Column("breach_labelled", Integer, nullable=False, default=0),
    Column("jira_due", Date, nullable=True),  # the deadline date last shown in Jira
    Column("jira_status", String(255), nullable=True),  # last status seen by the Jira sync
    Column("jira_done", Integer, nullable=True),
    Column("first_contact_seen", Integer, nullable=False, default=0),
    Column("updated_at", UtcDateTime, nullable=False),
    # A Jira update the sweep owes (the due date to show, the breach label to take off),
    # made at the Jira budget's pace, most urgent deadline first.
    Column("jira_pending", Integer, nullable=False, default=0),
    Column("jira_want_due", Date, nullable=True),
    Column("jira_unlabel", Integer, nullable=False, default=0),
)
# The nearest deadline over open recoveries is read from the front of this index.
Index("ix_clock_state_open_deadline", clock_state.c.is_open, clock_state.c.next_deadline)
Index("ix_clock_state_jira_pending", clock_state.c.jira_pending, clock_state.c.next_deadline)

#: Open recoveries per severity and clock state, kept as evaluations change them, so the
#: metrics never count over every recovery.
clock_counts = Table(
    "clock_counts",
    metadata,
    Column("severity", String(8), primary_key=True),
    Column("state", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
)
