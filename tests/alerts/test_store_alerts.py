"""The alert ledger and the clock state in the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.support.builders import open_recovery
from worker.domain.events import EventKind, RecoveryEvent
from worker.store import Store, events
from worker.store import alerts as ledger

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_each_alert_is_planned_once_per_channel(store: Store) -> None:
    """Planning the same alert twice adds nothing; a new channel gets its own row."""
    rid = open_recovery(store, now=T0).id
    with store.transaction() as conn:

        def plan(channels: list[str]) -> int:
            return ledger.plan(
                conn,
                recovery_id=rid,
                deadline_id="1:first_contact:0",
                alert_key="breach",
                channels=channels,
                payload={"a": 1},
                now=T0,
            )

        assert plan(["log", "jira"]) == 2
        assert plan(["log", "jira"]) == 0
        assert plan(["log", "slack"]) == 1
        assert ledger.sent_keys(conn, [rid]) == {rid: {("1:first_contact:0", "breach")}}
        assert len(ledger.to_deliver(conn, T0)) == 3


def test_delivery_states_retry_and_crash(store: Store) -> None:
    """Failed deliveries come back at their retry time; one left sending is never resent."""
    rid = open_recovery(store, now=T0).id
    with store.transaction() as conn:
        ledger.plan(
            conn,
            recovery_id=rid,
            deadline_id="d",
            alert_key="breach",
            channels=["a", "b", "c"],
            payload={"text": "x"},
            now=T0,
        )
        a, b, c = ledger.to_deliver(conn, T0)
        assert ledger.claim(conn, a.id, ledger.PENDING)
        ledger.mark_sent(conn, a.id, "10001", T0)
        assert ledger.claim(conn, b.id, ledger.PENDING)
        ledger.mark_failed(conn, b.id, "503", T0 + timedelta(minutes=1))
        assert ledger.claim(conn, c.id, ledger.PENDING)  # the process dies here
    with store.transaction() as conn:
        assert [d.channel for d in ledger.interrupted(conn)] == ["c"]
        assert ledger.to_deliver(conn, T0) == []
        retry = ledger.to_deliver(conn, T0 + timedelta(minutes=1))
        assert [(d.channel, d.attempts, d.last_error) for d in retry] == [("b", 1, "503")]
        ledger.mark_failed(conn, b.id, "503 again", None)
        assert ledger.to_deliver(conn, T0 + timedelta(days=1)) == []
        assert ledger.comment_ids(conn, rid) == set()


def test_only_one_worker_claims_a_delivery(store: Store) -> None:
    """Two workers read the same pending delivery: the conditional claim lets one send it."""
    rid = open_recovery(store, now=T0).id
    with store.transaction() as conn:
        ledger.plan(conn, recovery_id=rid, deadline_id="d", alert_key="breach",
                    channels=["slack"], payload={"text": "x"}, now=T0)  # fmt: skip
        (seen_by_one,) = ledger.to_deliver(conn, T0)
        (seen_by_other,) = ledger.to_deliver(conn, T0)
    with store.transaction() as conn:
        assert ledger.claim(conn, seen_by_one.id, seen_by_one.state)
    with store.transaction() as conn:
        assert not ledger.claim(conn, seen_by_other.id, seen_by_other.state)
        assert ledger.to_deliver(conn, T0) == []


def test_clock_state_selects_only_what_needs_evaluating(store: Store) -> None:
    """New recoveries, new events, changed severity or a passed check; nothing else."""
    first = open_recovery(store, n=1, now=T0).id
    second = open_recovery(store, n=2, now=T0).id
    with store.transaction() as conn:
        due = ledger.due_for_evaluation(conn, T0, ["open"])
        assert [d.recovery_id for d in due] == [first, second]
        assert not due[0].known
        for rid, check in ((first, T0 + timedelta(hours=1)), (second, T0 + timedelta(hours=3))):
            ledger.save_clock(
                conn,
                ledger.ClockRow(
                    recovery_id=rid,
                    severity="sev1",
                    state="ok",
                    is_open=True,
                    next_deadline=check,
                    next_check=check,
                    events_seen=rid,  # the OPENED event ids are 1 and 2
                    breach_labelled=False,
                    jira_due=date(2026, 3, 2),
                    first_contact_seen=False,
                ),
                T0,
            )
        assert ledger.due_for_evaluation(conn, T0, ["open"]) == []
        assert [
            d.recovery_id
            for d in ledger.due_for_evaluation(conn, T0 + timedelta(hours=1), ["open"])
        ] == [first]
        events.record(conn, RecoveryEvent(second, EventKind.CLIENT_UPDATE, T0, "u"), T0)
        assert [d.recovery_id for d in ledger.due_for_evaluation(conn, T0, ["open"])] == [second]
        assert ledger.state_counts(conn) == [("sev1", "ok", 2)]
        assert ledger.nearest_deadline(conn) == T0 + timedelta(hours=1)


def test_jira_status_is_remembered(store: Store) -> None:
    """The sync's last seen status survives, before and after the first sweep."""
    rid = open_recovery(store, now=T0).id
    with store.transaction() as conn:
        assert ledger.jira_status(conn, rid) == (None, None)
        ledger.save_jira_status(
            conn, rid, severity="sev1", status="Waiting for customer", done=False, now=T0
        )
        assert ledger.jira_status(conn, rid) == ("Waiting for customer", False)
        ledger.save_jira_status(conn, rid, severity="sev1", status="Done", done=True, now=T0)
        assert ledger.jira_status(conn, rid) == ("Done", True)
