"""The command line: help texts, exit codes, the checklist."""

from __future__ import annotations

import pytest

from worker.cli import build_parser, main


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    assert action.choices is not None
    return sorted(action.choices)


def test_top_level_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """`recovery-worker --help` explains itself and names each subcommand."""
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "complaint" in out
    for name in subcommands():
        assert name in out


@pytest.mark.parametrize("name", subcommands())
def test_each_subcommand_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Every subcommand's --help prints a description and exits 0."""
    with pytest.raises(SystemExit) as info:
        main([name, "--help"])
    assert info.value.code == 0
    assert len(capsys.readouterr().out.splitlines()) > 3


def test_check_on_defaults_is_not_ready(capsys: pytest.CaptureFixture[str]) -> None:
    """With nothing to read from and nowhere to write to, the verdict says so and exits 1."""
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "state store: sqlite, schema version" in out
    assert "verdict: NOT READY (3 failed: complaint sources, recoveries, owners)" in out
    assert "Jira" in out


def test_check_fails_when_a_configured_service_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A configured Jira that cannot be reached makes the verdict NOT READY and exit 1."""
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__URL", "http://127.0.0.1:9")
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__CONNECT_TIMEOUT", "1s")
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "[FAILED ] Jira" in out
    assert "NOT READY" in out


def test_run_once_on_defaults_exits_0() -> None:
    """`run --once` with embedded defaults creates the store and exits cleanly."""
    assert main(["run", "--once"]) == 0
