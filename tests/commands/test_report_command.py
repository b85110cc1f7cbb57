"""`recovery-worker report` on a seeded state store, in each format."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from worker.cli import main
from worker.clock import FrozenClock
from worker.commands.report import load_report, parse_since
from worker.core.report import to_table
from worker.domain.events import EventKind, RecoveryEvent
from worker.store import Store, events, recoveries
from worker.store import followups as fstore
from worker.store.schema import alerts_sent

H = timedelta(hours=1)


def seed(store: Store, start: datetime) -> None:
    """Three recoveries: one contacted, resolved and followed up; one reopened; one untouched."""
    with store.transaction() as conn:
        made = []
        for number, (source, severity) in enumerate(
            (("mail", "sev1"), ("jira", "sev2"), ("mail", "sev3"))
        ):
            opened = start + number * H
            r = recoveries.create_pending(
                conn,
                source_key=f"{source}:{number}",
                source_kind=source,
                client="c@example.com",
                owner="alice",
                severity=severity,
                summary="s",
                now=opened,
            )
            recoveries.mark_open(conn, r.id, f"SUP-{number + 1}")
            events.record(conn, RecoveryEvent(r.id, EventKind.OPENED, opened, f"o{r.id}"), opened)
            made.append(r)

        def add(rid: int, kind: EventKind, at: datetime, **detail: str) -> None:
            events.record(conn, RecoveryEvent(rid, kind, at, f"{rid}-{kind}-{at}", detail), at)

        first, second, _ = made
        add(first.id, EventKind.CLIENT_UPDATE, start + 0.5 * H)
        add(first.id, EventKind.PROMISE, start + 0.5 * H, due=(start + 2 * H).isoformat())
        add(first.id, EventKind.CLIENT_UPDATE, start + 1.5 * H)
        add(first.id, EventKind.RESOLVED, start + 10 * H)
        add(second.id, EventKind.CLIENT_UPDATE, start + 3 * H)
        add(second.id, EventKind.RESOLVED, start + 25 * H)
        add(second.id, EventKind.REOPENED, start + 30 * H)
        fstore.plan(
            conn,
            first.id,
            label="rw-fu-1",
            round_=0,
            resolved_at=start + 10 * H,
            due=(start + timedelta(days=30)).date(),
            gaps=[],
            now=start + 10 * H,
        )
        fstore.mark_created(conn, first.id, "SUP-9", start + 10 * H)
        fstore.mark_done(conn, first.id, start + timedelta(days=20), start + timedelta(days=20))


def test_report_from_the_store(store: Store, clock: FrozenClock) -> None:
    """The figures come from the store's recoveries, events and follow-ups."""
    seed(store, clock.now())
    report = load_report(store, clock.now() + timedelta(days=40))
    assert report.recoveries == 3
    assert report.opened == {("jira", "sev2"): 1, ("mail", "sev1"): 1, ("mail", "sev3"): 1}
    assert report.first_contact.count == 2
    assert report.first_contact.median == timedelta(minutes=75)  # 30m and 2h
    assert report.first_contact.pending == 1
    assert report.resolution.median == timedelta(hours=17)  # 10h and 24h
    # sev1: first contact and the promised update met, the next update late (met at 19:00,
    # due 14:30); sev2: both met, the update after the reopen breached; sev3: never contacted.
    assert (report.cadence.met, report.cadence.missed) == (4, 3)
    assert report.breaches == 0  # no breach alert was raised
    assert (report.followups.done, report.followups.done_on_time) == (1, 1)
    assert (report.reopened, report.reopens) == (1, 1)


def test_breaches_are_the_breach_alerts_raised(store: Store, clock: FrozenClock) -> None:
    """One breach per deadline, whatever the number of channels it went to; warnings aside."""
    seed(store, clock.now())
    now = clock.now()
    with store.transaction() as conn:
        for deadline, key, channel in (
            ("1:next_update:2", "breach", "jira"),
            ("1:next_update:2", "breach", "webhook"),
            ("1:next_update:2", "warning", "jira"),
            ("1:first_contact:0", "reminder:1", "jira"),
        ):
            conn.execute(
                insert(alerts_sent).values(
                    deadline_id=deadline,
                    alert_key=key,
                    channel=channel,
                    recovery_id=1,
                    state="sent",
                    created_at=now,
                )
            )
    assert load_report(store, now + timedelta(days=40)).breaches == 1


def test_since_in_the_store(store: Store, clock: FrozenClock) -> None:
    """--since keeps the recoveries opened from then on."""
    seed(store, clock.now())
    report = load_report(store, clock.now() + timedelta(days=1), clock.now() + 1.5 * H)
    assert report.recoveries == 1
    assert report.opened == {("mail", "sev3"): 1}


@pytest.fixture
def seeded_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'report.db'}"
    store = Store(url)
    store.migrate()
    seed(store, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    store.close()
    monkeypatch.setenv("RECOVERY_WORKER_STORE__URL", url)
    return url


def test_cli_json(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--format json prints one JSON document."""
    assert main(["report", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recoveries"] == 3
    assert data["time_to_first_contact"]["median_seconds"] == 75 * 60
    assert data["followups"]["done_on_time"] == 1


def test_cli_csv_with_since(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--format csv with --since as a date."""
    assert main(["report", "--format", "csv", "--since", "2026-03-02T10:30:00+00:00"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    values = {(r["section"], r["measure"]): r["value"] for r in rows}
    assert values[("recoveries", "total")] == "1"
    assert values[("opened", "mail/sev3")] == "1"


def test_cli_table(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The default format is the table."""
    assert main(["report", "--since", "2026-03-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Recovery report, since 2026-03-01")
    assert "Recoveries opened: 3" in out


def test_cli_on_a_missing_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No store yet: "no recoveries yet", exit 0, and no database file created."""
    db = tmp_path / "absent" / "state.db"
    monkeypatch.setenv("RECOVERY_WORKER_STORE__URL", f"sqlite:///{db}")
    assert main(["report"]) == 0
    assert "no recoveries yet" in capsys.readouterr().out
    assert not db.exists()
    assert main(["report", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["recoveries"] == 0


def test_cli_on_an_empty_store(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A migrated store without recoveries says so too, naming the store it read."""
    monkeypatch.setenv("RECOVERY_WORKER_STORE__URL", store.url)
    assert main(["report"]) == 0
    path = store.url.removeprefix("sqlite:///")
    assert f"no recoveries yet in {path}." in capsys.readouterr().out


def test_bad_since_is_a_usage_error(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An unreadable --since exits 2 and says what it takes."""
    assert main(["report", "--since", "last tuesday"]) == 2
    assert "--since takes a date" in capsys.readouterr().err


def test_parse_since_forms() -> None:
    """A date is midnight UTC; a naive time is UTC; a span counts back from now."""
    now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    assert parse_since("2026-03-01", now) == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_since("2026-03-01T08:00", now) == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert parse_since("30d", now) == now - timedelta(days=30)
    assert parse_since(None, now) is None


def test_report_reads_no_jira(store: Store, clock: FrozenClock) -> None:
    """The report is computed with nothing but the store (no tracker exists here)."""
    seed(store, clock.now())
    text = to_table(load_report(store, clock.now() + timedelta(days=2)))
    assert "Follow-ups done:       1 (1 on time)" in text
    assert date(2026, 3, 2).isoformat() not in text.splitlines()[0]  # all time, not since


def test_every_format_names_the_store_it_read(
    seeded_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table's header, a JSON field and a CSV row say which store the figures come from."""
    path = seeded_url.removeprefix("sqlite:///")
    assert main(["report"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == f"Store: {path}"
    assert main(["report", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["store"] == path
    assert main(["report", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == {"section": "store", "measure": "location", "value": path}


def test_the_default_store_is_named_and_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no store.url the report reads the state directory's file, wherever it is run."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    db = tmp_path / "state" / "recovery-worker" / "recovery-worker.db"
    assert main(["report"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1] == f"Store: {db} (not created yet)"
    assert f"no recoveries yet in {db}." in out
    assert not db.parent.exists()
