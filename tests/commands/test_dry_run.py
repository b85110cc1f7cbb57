"""`recovery-worker run --dry-run`: the real inbox and Jira are read, nothing is written."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.sandbox.conftest import checked_sandbox, connect
from tests.support.dovecot import Dovecot, make_message
from tests.support.webhooks import Delivery, WebhookReceiver
from worker.app import build_worker
from worker.cli import main
from worker.clock import FrozenClock, SystemClock
from worker.dryrun import run_dry
from worker.sandbox import Dialect, RunningSandbox
from worker.settings import Settings
from worker.store import Store
from worker.store.files import copy_sqlite as copy_store

MAILS = Path(__file__).resolve().parents[2] / "worker" / "demo" / "mails"
ANGRY = "This is unacceptable, the portal is still not working and nobody answers us."
#: Cloud's search is a POST that writes nothing.
READS_BY_POST = frozenset({"POST /rest/api/3/search/jql"})


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    dialect: Dialect = request.param
    with checked_sandbox(dialect) as running:
        yield running


def write_config(tmp_path: Path, *, jira: RunningSandbox | None = None, imap: str = "") -> Path:
    """A settings file: the store in a folder of its own, the Maildir, Jira or IMAP as given."""
    lines = [
        "[store]",
        f'url = "sqlite:///{tmp_path / "state" / "state.db"}"',
        "[detection]",
        'own_addresses = ["support@acme-services.example"]',
    ]
    if not imap:
        lines += ["[maildir]", f'path = "{tmp_path / "inbox"}"']
    else:
        lines += ["[imap]", imap]
    if jira is not None:
        lines += ["[jira]", f'url = "{jira.url}"', 'dialect = "auto"']
        lines += [f'{name} = "{value}"' for name, value in jira.credentials.items()]
    config = tmp_path / "settings.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def deliver(tmp_path: Path, name: str, raw: bytes | None = None) -> None:
    new = tmp_path / "inbox" / "new"
    new.mkdir(parents=True, exist_ok=True)
    if raw is None:
        shutil.copy(MAILS / name, new / name)
    else:
        (new / name).write_bytes(raw)


def listing(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a digest of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def writes(sandbox: RunningSandbox) -> list[str]:
    """The calls the sandbox answered that could have changed something."""
    return [
        name
        for name in sandbox.calls
        if name.split()[0] in ("POST", "PUT", "DELETE") and name not in READS_BY_POST
    ]


@pytest.mark.integration
def test_a_complaint_is_shown_as_the_recovery_it_would_open_and_nothing_is_written(
    sandbox: RunningSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The angry mail is decided and its recovery planned; Jira, the mail and the store stay."""
    deliver(tmp_path, "01-angry-client.eml")
    deliver(tmp_path, "05-newsletter.eml")
    inbox = listing(tmp_path / "inbox")
    config = write_config(tmp_path, jira=sandbox)

    assert main(["run", "--dry-run", "--config", str(config)]) == 0

    out = capsys.readouterr().out
    assert "<demo-angry-0001@northwind-legal.example> from dana.whitfield@" in out
    assert "recovery (complaint), sev1" in out
    assert 'why: strong-dissatisfaction +3.0 ("unacceptable")' in out
    assert "skipped (precedence: bulk)" in out
    assert (
        "would open a recovery in SUP: 'Recovery: Third outage this month - this is unacceptable'"
        in out
    )
    assert "would create 3 subtasks under the new recovery:\n    'KNOW: " in out
    assert "Nothing was written." in out
    assert "DRYRUN-" not in out  # made-up keys stay out of what people read
    # Jira was read, and not written to.
    assert sandbox.calls, "the dry run never read Jira"
    assert writes(sandbox) == []
    assert sandbox.state.issues == {}
    # The mail is still in new/; the store was never created, nor its folder.
    assert listing(tmp_path / "inbox") == inbox
    assert not (tmp_path / "state").exists()


@pytest.mark.integration
def test_the_dry_run_starts_from_the_real_store_and_leaves_its_bytes_alone(
    sandbox: RunningSandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a real pass opened SUP-1, a reply in its thread would be a comment on SUP-1 (the
    store's thread is known) and a new complaint a new recovery; the store file is the same."""
    config = write_config(tmp_path, jira=sandbox)
    deliver(tmp_path, "01-angry-client.eml")
    assert main(["run", "--once", "--config", str(config)]) == 0
    (recovery,) = [i for i in sandbox.state.issues.values() if not i.get("parent")]
    deliver(tmp_path, "04-thread-follow-up.eml")
    now = format_datetime(SystemClock().now())
    deliver(
        tmp_path,
        "other.eml",
        make_message(
            "Portal down", ANGRY, sender="lee@other.example", message_id="<o-1@x>"
        ).replace(b"Subject:", f"Date: {now}\nSubject:".encode(), 1),
    )
    capsys.readouterr()
    store = listing(tmp_path / "state")
    inbox = listing(tmp_path / "inbox")
    issues = len(sandbox.state.issues)
    comments = sandbox.state.comments(recovery["key"])
    sandbox.reset_calls()

    assert main(["run", "--dry-run", "--config", str(config)]) == 0

    out = capsys.readouterr().out
    assert "thread (reply in a recovery's thread)" in out
    assert f"would comment on {recovery['key']}: " in out
    assert out.count("would open a recovery in SUP:") == 1
    assert "'Recovery: Portal down'" in out
    assert f"the pass runs on a copy of {tmp_path / 'state' / 'state.db'}" in out
    assert writes(sandbox) == []
    assert len(sandbox.state.issues) == issues
    assert sandbox.state.comments(recovery["key"]) == comments
    assert listing(tmp_path / "state") == store  # same bytes, and no -wal or -shm left behind
    assert listing(tmp_path / "inbox") == inbox


@pytest.mark.integration
def test_the_imap_inbox_is_examined_and_no_mail_is_flagged(
    dovecot: Dovecot, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """EXAMINE, no keyword, no \\Seen: a second dry run reads the same mail again."""
    uid = dovecot.append(make_message("Outage", ANGRY, message_id="<imap-1@customer.test>"))
    before = dovecot.flags("INBOX", uid)
    imap = "\n".join(
        [
            f'host = "{dovecot.host}"',
            f"port = {dovecot.imap_port}",
            'security = "plain"',
            f'username = "{dovecot.user}"',
            f'password = "{dovecot.password}"',
        ]
    )
    config = write_config(tmp_path, imap=imap)

    for _ in range(2):
        assert main(["run", "--dry-run", "--config", str(config)]) == 0
        out = capsys.readouterr().out
        assert "Mail read: 1\n  <imap-1@customer.test>" in out
        assert "recovery (complaint)" in out

    after = dovecot.flags("INBOX", uid)
    assert after == before
    assert "\\Seen" not in after
    assert not (tmp_path / "state").exists()


@pytest.mark.integration
def test_alerts_and_the_follow_up_are_shown_and_not_sent(
    tmp_path: Path, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    """A breach due is shown on every channel and sent on none; a resolution in Jira is shown
    as the follow-up task it would create. Jira and the webhook hear nothing."""
    requests: list[Delivery] = []

    def answer(delivery: Delivery) -> int:
        requests.append(delivery)
        return 200

    receiver = WebhookReceiver(answer)
    try:
        with checked_sandbox("cloud", clock=clock) as sandbox:
            settings = Settings.model_validate(
                {
                    "store": {"url": f"sqlite:///{tmp_path / 'state' / 'state.db'}"},
                    "maildir": {"path": str(tmp_path / "inbox")},
                    "jira": {"url": sandbox.url, **sandbox.credentials},
                    "alerts": {"webhook_url": receiver.url},
                    "health": {"enabled": False},
                }
            )
            deliver(tmp_path, "01-angry-client.eml")
            worker = build_worker(settings, clock)
            try:
                assert worker.supervisor.run_once()
            finally:
                worker.close()
            (recovery,) = [i for i in sandbox.state.issues.values() if not i.get("parent")]
            key = recovery["key"]
            capsys.readouterr()
            sandbox.reset_calls()
            requests.clear()  # the real pass's own warning

            clock.advance(timedelta(hours=4))
            assert run_dry(settings, clock=clock) == 0
            out = capsys.readouterr().out
            assert f"would send the breach alert on {key} to webhook: " in out
            assert f"would send the breach alert on {key} to log: " in out
            assert f"would add the label sla-breached to {key}" in out
            assert f"would comment on {key}: " in out  # the Jira channel's alert

            connect(sandbox).transition_issue(key, "41")  # the team resolves it
            sandbox.reset_calls()
            clock.advance(timedelta(minutes=10))
            assert run_dry(settings, clock=clock) == 0
            out = capsys.readouterr().out
            assert "would create the follow-up task in SUP: 'Follow-up call: " in out
            assert f"would link {key} and the new follow-up task (Relates)" in out

            assert writes(sandbox) == []
            assert "sla-breached" not in sandbox.state.issues[key]["labels"]
            assert len(sandbox.state.issues) == 4
        assert requests == []
    finally:
        receiver.close()


def test_a_store_in_use_is_copied_with_what_its_log_holds(tmp_path: Path) -> None:
    """A store the running service holds open (its write-ahead log not yet folded in) is
    copied whole; its data is left as it was and nothing is created beside it."""
    path = tmp_path / "live" / "state.db"
    live = Store(f"sqlite:///{path}")
    live.migrate()
    try:
        with live.transaction() as conn:
            conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            conn.exec_driver_sql(
                "INSERT INTO source_cursors (source, uidvalidity, last_uid, updated_at) "
                "VALUES ('maildir:x', NULL, 7, '2026-03-02 09:00:00')"
            )
        assert (path.parent / "state.db-wal").stat().st_size > 0
        files = listing(path.parent)

        copied = copy_store(f"sqlite:///{path}", tmp_path / "copy.db")

        assert copied == path
        after = listing(path.parent)
        assert after.keys() == files.keys()
        # The -shm file is the shared index every reader takes its read lock in; the data
        # (the file and its log) is as it was.
        assert {n: d for n, d in after.items() if not n.endswith("-shm")} == {
            n: d for n, d in files.items() if not n.endswith("-shm")
        }
        with sqlite3.connect(tmp_path / "copy.db") as copy:
            rows = copy.execute("SELECT source, last_uid FROM source_cursors").fetchall()
        assert rows == [("maildir:x", 7)]
    finally:
        live.close()


def test_a_store_not_created_yet_is_not_created(tmp_path: Path) -> None:
    assert copy_store(f"sqlite:///{tmp_path / 'none' / 'state.db'}", tmp_path / "c.db") is None
    assert not (tmp_path / "none").exists()
    assert not (tmp_path / "c.db").exists()
