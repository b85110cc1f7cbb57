"""The state store: migrations, transactions, aware times, the exactly-once ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, insert, inspect, select, text, update

from worker.errors import StoreError
from worker.store import Store, ledger
from worker.store import db as store_db
from worker.store.db import LATEST_VERSION
from worker.store.schema import jira_cursors, schema_version

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_fresh_store_is_created_at_the_latest_version(tmp_path: Path) -> None:
    """An empty database gets the whole schema and the latest version stamp."""
    db = Store(f"sqlite:///{tmp_path / 'sub' / 'dir' / 's.db'}")
    assert db.version() == 0
    assert db.migrate() == LATEST_VERSION
    assert db.version() == LATEST_VERSION
    assert db.migrate() == LATEST_VERSION  # idempotent
    db.close()


def columns(store: Store, table: str) -> list[str]:
    with store.engine.connect() as conn:
        return [c["name"] for c in inspect(conn).get_columns(table)]


def test_forward_migrations_apply_in_order_at_start(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store one version behind gets the next migration, and the version stamp follows."""
    applied: list[int] = []

    def add_note(conn: Connection) -> None:
        applied.append(LATEST_VERSION + 1)
        conn.execute(text("ALTER TABLE jira_cursors ADD COLUMN note TEXT"))

    monkeypatch.setitem(store_db.MIGRATIONS, LATEST_VERSION + 1, add_note)
    monkeypatch.setattr(store_db, "LATEST_VERSION", LATEST_VERSION + 1)

    assert store.migrate() == LATEST_VERSION + 1
    assert store.migrate() == LATEST_VERSION + 1
    assert applied == [LATEST_VERSION + 1]
    assert "note" in columns(store, "jira_cursors")
    assert store.version() == LATEST_VERSION + 1


def test_a_migration_failing_half_way_leaves_nothing_behind(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its DDL is rolled back with it, so the next start can run it again from the start."""

    def half(conn: Connection) -> None:
        conn.execute(text("ALTER TABLE jira_cursors ADD COLUMN note TEXT"))
        raise RuntimeError("the second step of the migration fails")

    monkeypatch.setitem(store_db.MIGRATIONS, LATEST_VERSION + 1, half)
    monkeypatch.setattr(store_db, "LATEST_VERSION", LATEST_VERSION + 1)

    with pytest.raises(RuntimeError, match="second step"):
        store.migrate()
    assert "note" not in columns(store, "jira_cursors")
    assert store.version() == LATEST_VERSION


def test_a_worker_that_lost_the_race_to_create_the_store_does_not_stamp_it_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers starting on an empty store: the second, seeing version 0 before it got the
    lock, finds the schema there once it has the lock and leaves it alone."""
    late = Store(store.url)
    monkeypatch.setattr(late, "version", lambda: 0)
    assert late.migrate() == LATEST_VERSION
    late.close()
    with store.engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalars().all() == [LATEST_VERSION]


def test_store_newer_than_the_code_is_refused(store: Store) -> None:
    """A store written by a newer worker is not touched."""
    with store.transaction() as conn:
        conn.execute(update(schema_version).values(version=LATEST_VERSION + 1))
    with pytest.raises(StoreError, match="newer than this worker"):
        store.migrate()


def test_transaction_rolls_back_on_error(store: Store) -> None:
    """A multi-step write that fails half-way leaves nothing behind."""

    def write_then_crash() -> None:
        with store.transaction() as conn:
            ledger.record_intent(conn, "create:a", "recovery.create", NOW)
            raise RuntimeError("crash between the two writes")

    with pytest.raises(RuntimeError):
        write_then_crash()
    with store.transaction() as conn:
        assert ledger.get(conn, "create:a") is None


def test_times_come_back_aware_utc(store: Store) -> None:
    """Times written in any zone come back as the same instant in UTC."""
    berlin = datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    with store.transaction() as conn:
        conn.execute(insert(jira_cursors).values(name="q", watermark=berlin, updated_at=NOW))
        value = conn.execute(select(jira_cursors.c.watermark)).scalar_one()
    assert value == berlin
    assert value.tzinfo == UTC


def test_naive_times_are_refused(store: Store) -> None:
    """A naive datetime is a bug: the store refuses it instead of guessing a zone."""
    with pytest.raises(Exception, match="naive datetime"), store.transaction() as conn:
        conn.execute(
            insert(jira_cursors).values(name="q", watermark=datetime(2026, 1, 1), updated_at=NOW)
        )


def test_ledger_intent_then_complete(store: Store) -> None:
    """An intent counts attempts until it is completed, then stays done."""
    with store.transaction() as conn:
        first = ledger.record_intent(conn, "k", "comment.add", NOW)
        again = ledger.record_intent(conn, "k", "comment.add", NOW + timedelta(seconds=5))
        assert (first.state, first.attempts) == (ledger.INTENT, 1)
        assert (again.state, again.attempts) == (ledger.INTENT, 2)
        ledger.complete(conn, "k", "10042", NOW)
        done = ledger.record_intent(conn, "k", "comment.add", NOW)
    assert (done.state, done.result, done.attempts) == (ledger.DONE, "10042", 2)


def test_ledger_failure_is_recorded_with_a_capped_reason(store: Store) -> None:
    """A permanent failure is kept with its reason, capped in size."""
    with store.transaction() as conn:
        ledger.record_intent(conn, "k", "issue.create", NOW)
        ledger.fail(conn, "k", "x" * 10_000, NOW)
        action = ledger.get(conn, "k")
    assert action is not None
    assert action.state == ledger.FAILED


def test_unopenable_store_is_a_clear_error() -> None:
    """A store URL for a missing driver is a StoreError, not an ImportError traceback."""
    with pytest.raises(StoreError, match="cannot open"):
        Store("nosuchdialect://x/y")
