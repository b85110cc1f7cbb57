"""`recovery-worker check` against a real Dovecot (and the Jira sandbox): login, folders, types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.conftest import checked_sandbox
from tests.support.dovecot import Dovecot
from worker.cli import main
from worker.sandbox import Dialect, RunningSandbox, start_sandbox


@pytest.fixture(autouse=True)
def _state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default store lands in the test's own state directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))


@pytest.fixture
def jira(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSandbox]:
    """A reachable Jira and an owner for recoveries: with them, the IMAP line decides."""
    with start_sandbox("datacenter") as sandbox:
        point_jira_at(monkeypatch, sandbox)
        monkeypatch.setenv("RECOVERY_WORKER_JIRA__DEFAULT_OWNER", "jane.lead")
        yield sandbox


def point_at(monkeypatch: pytest.MonkeyPatch, server: Dovecot, password: str) -> None:
    for name, value in {
        "HOST": server.host,
        "PORT": str(server.imap_port),
        "SECURITY": "plain",
        "USERNAME": server.user,
        "PASSWORD": password,
        "TIMEOUT": "5s",
    }.items():
        monkeypatch.setenv(f"RECOVERY_WORKER_IMAP__{name}", value)


def test_check_logs_in_and_lists_the_folder(
    dovecot: Dovecot,
    jira: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A reachable mailbox is an ok line naming the folder, and the verdict is ready."""
    point_at(monkeypatch, dovecot, dovecot.password)

    assert main(["check"]) == 0

    out = capsys.readouterr().out
    assert "[  ok   ] IMAP inbox:" in out
    assert "INBOX" in out
    assert "verdict: ready" in out
    # The checklist is all there is on stdout: no log line of the connection in between.
    assert all(line.startswith(("[", "verdict: ")) for line in out.splitlines()), out


def test_check_with_a_wrong_password_fails_without_printing_it(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused login fails the checklist with exit 1; the password is nowhere in the output."""
    wrong = "not-the-password-7c1f"
    point_at(monkeypatch, dovecot, wrong)

    assert main(["check"]) == 1

    captured = capsys.readouterr()
    assert "[FAILED ] IMAP inbox:" in captured.out
    assert "NOT READY" in captured.out
    assert wrong not in captured.out + captured.err


def point_jira_at(monkeypatch: pytest.MonkeyPatch, sandbox: RunningSandbox) -> None:
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__URL", sandbox.url)
    for name, value in sandbox.credentials.items():
        monkeypatch.setenv(f"RECOVERY_WORKER_JIRA__{name.upper()}", value)


@pytest.mark.parametrize("dialect", ["cloud", "datacenter"])
def test_check_against_both_services_reaches_each(
    dialect: Dialect,
    dovecot: Dovecot,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With IMAP and Jira configured each ok line comes from a call that was answered."""
    point_at(monkeypatch, dovecot, dovecot.password)
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__DEFAULT_OWNER", "jane.lead")
    with checked_sandbox(dialect) as sandbox:
        point_jira_at(monkeypatch, sandbox)
        code = main(["check"])
        calls = sandbox.calls

    out = capsys.readouterr().out
    assert code == 0, out
    assert "[  ok   ] IMAP inbox: " + dovecot.user in out
    assert "INBOX (0 messages)" in out
    assert "[  ok   ] Jira: login: logged in as " in out
    assert "project SUP: " in out
    assert "issue type Task: available" in out
    assert "subtask type: Sub-task" in out
    assert "verdict: ready (Maildir inbox not configured)" in out
    version = "3" if dialect == "cloud" else "2"
    assert calls[f"GET /rest/api/{version}/myself"] == 1
    assert any("createmeta" in call for call in calls)


def test_check_names_a_missing_folder(
    dovecot: Dovecot,
    jira: RunningSandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A folder the mailbox lacks (here the one handled mail moves to) fails the IMAP line."""
    point_at(monkeypatch, dovecot, dovecot.password)
    monkeypatch.setenv("RECOVERY_WORKER_IMAP__MOVE_HANDLED_TO", "Handled")

    assert main(["check"]) == 1

    out = capsys.readouterr().out
    assert "[FAILED ] IMAP inbox: NotFound: folder 'Handled' does not exist" in out
    assert "NOT READY (1 failed: IMAP inbox)" in out
