"""Store records: cursors, decisions, recoveries, and the lookups built on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from worker.domain.decision import Decision
from worker.domain.recovery import idempotency_key
from worker.store import Store, cursors, messages, recoveries

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def decision(key: str, **overrides: object) -> Decision:
    fields: dict[str, object] = {
        "key": key,
        "message_id": key,
        "source": "imap:INBOX",
        "uid": 1,
        "sender": "client@example.com",
        "subject": "Where is my order",
        "received_at": NOW,
        "decision": "not_complaint",
    }
    fields.update(overrides)
    return Decision(**fields)  # type: ignore[arg-type]


def test_cursor_round_trip(store: Store) -> None:
    """A saved cursor reads back; an unknown source starts at zero."""
    with store.transaction() as conn:
        assert cursors.get(conn, "imap:INBOX") == cursors.Cursor("imap:INBOX", None, 0)
        cursors.save(conn, cursors.Cursor("imap:INBOX", 77, 12), NOW)
        cursors.save(conn, cursors.Cursor("imap:INBOX", 77, 13), NOW)
        assert cursors.get(conn, "imap:INBOX") == cursors.Cursor("imap:INBOX", 77, 13)


def test_a_message_has_exactly_one_decision(store: Store) -> None:
    """Recording a second decision for the same message key fails."""
    with store.transaction() as conn:
        messages.record(conn, decision("<a@x>"), NOW)
        assert messages.is_recorded(conn, "<a@x>")
    with pytest.raises(IntegrityError), store.transaction() as conn:
        messages.record(conn, decision("<a@x>", decision="recovery"), NOW)


def test_thread_and_flood_lookups(store: Store) -> None:
    """Earlier mail of a thread, and a sender's recent mail, lead to their recovery."""
    with store.transaction() as conn:
        recovery = recoveries.create_pending(
            conn,
            source_key="mail:<a@x>",
            source_kind="mail",
            client="client@example.com",
            owner="",
            severity="sev2",
            summary="Broken",
            now=NOW,
        )
        messages.record(conn, decision("<a@x>", decision="recovery", recovery_id=recovery.id), NOW)
        messages.record(conn, decision("<b@x>"), NOW + timedelta(minutes=1))
        assert messages.recovery_for_message_ids(conn, ["<zzz@x>", "<a@x>"]) == recovery.id
        assert messages.recovery_for_message_ids(conn, ["<b@x>"]) is None
        assert messages.recovery_for_message_ids(conn, []) is None
        client, window = "client@example.com", timedelta(minutes=10)
        assert messages.latest_recovery_from(conn, client, NOW - window, NOW) == recovery.id
        later = NOW + timedelta(hours=1)
        assert messages.latest_recovery_from(conn, client, later - window, later) is None
        assert messages.count_from(conn, client, NOW - window, NOW) == 2
        assert messages.count_from(conn, "other@example.com", NOW - window, NOW) == 0
        # Counted by arrival: <b@x> was decided a minute later but arrived at NOW.
        assert messages.count_from(conn, client, NOW + timedelta(minutes=1), later) == 0
        assert messages.count_from(conn, client, NOW - window, NOW - timedelta(seconds=1)) == 0
        # Arrival unknown: the decision time stands in.
        messages.record(conn, decision("<c@x>", received_at=None), later)
        assert messages.count_from(conn, client, later - window, later) == 1


def test_one_recovery_per_source(store: Store) -> None:
    """Creating a recovery for a source that has one returns the existing one."""
    with store.transaction() as conn:
        first = recoveries.create_pending(
            conn,
            source_key="jira:SUP-1",
            source_kind="jira",
            client="",
            owner="",
            severity="sev3",
            summary="x",
            now=NOW,
        )
        again = recoveries.create_pending(
            conn,
            source_key="jira:SUP-1",
            source_kind="jira",
            client="",
            owner="",
            severity="sev1",
            summary="y",
            now=NOW,
        )
        assert again == first
        assert [r.id for r in recoveries.pending(conn)] == [first.id]
        recoveries.mark_open(conn, first.id, "SUP-9")
        assert recoveries.pending(conn) == []
        assert recoveries.by_jira_key(conn, "SUP-9") == recoveries.get(conn, first.id)


def test_idempotency_key_is_stable_and_distinct() -> None:
    """The same source always gives the same label; different sources different ones."""
    assert idempotency_key("mail:<a@x>") == idempotency_key("mail:<a@x>")
    assert idempotency_key("mail:<a@x>") != idempotency_key("mail:<b@x>")
    assert idempotency_key("mail:<a@x>").startswith("rw-")


def test_severity_only_rises(store: Store) -> None:
    """A recovery's severity can be raised toward sev1 but never lowered."""
    with store.transaction() as conn:
        r = recoveries.create_pending(
            conn,
            source_key="s",
            source_kind="mail",
            client="",
            owner="",
            severity="sev2",
            summary="",
            now=NOW,
        )
        assert recoveries.raise_severity(conn, r.id, "sev3") is False
        assert recoveries.raise_severity(conn, r.id, "sev1") is True
        current = recoveries.get(conn, r.id)
        assert current is not None
        assert current.severity == "sev1"
