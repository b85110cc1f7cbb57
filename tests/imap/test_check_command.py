"""`recovery-worker check` against a real Dovecot: login, folders, and a wrong password."""

from __future__ import annotations

import pytest

from tests.support.dovecot import Dovecot
from worker.cli import main


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
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A reachable mailbox is an ok line naming the folder, and the verdict is ready."""
    point_at(monkeypatch, dovecot, dovecot.password)

    assert main(["check"]) == 0

    out = capsys.readouterr().out
    assert "[  ok   ] IMAP inbox:" in out
    assert "INBOX" in out
    assert "verdict: ready" in out


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
