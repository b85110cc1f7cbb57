"""`recovery-worker check` against the Jira sandbox: login, project and issue types."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sandbox.conftest import checked_sandbox
from worker.cli import main
from worker.commands.check import FAILED, OK, check_jira
from worker.sandbox import Dialect
from worker.settings import JiraSettings, Settings

pytestmark = pytest.mark.integration


def settings_for(url: str, **jira: object) -> Settings:
    return Settings(jira=JiraSettings(url=url, **jira))


@pytest.mark.parametrize("dialect", ["cloud", "datacenter"])
def test_check_passes_on_a_configured_sandbox(dialect: Dialect) -> None:
    """With the sandbox's credentials every item holds and the line names the dialect."""
    with checked_sandbox(dialect) as sandbox:
        outcome = check_jira(settings_for(sandbox.url, **sandbox.credentials))
    assert outcome.status == OK
    assert f"({dialect})" in outcome.detail
    assert "subtask type: Sub-task" in outcome.detail


@pytest.mark.parametrize("dialect", ["cloud", "datacenter"])
def test_check_names_a_missing_issue_type(dialect: Dialect) -> None:
    """An issue type the project lacks fails the item and says which types exist."""
    with checked_sandbox(dialect) as sandbox:
        outcome = check_jira(
            settings_for(sandbox.url, issue_type="Recovery", **sandbox.credentials)
        )
    assert outcome.status == FAILED
    assert "issue type Recovery" in outcome.detail
    assert "not in SUP; it has Bug, Task" in outcome.detail


@pytest.mark.parametrize("dialect", ["cloud", "datacenter"])
def test_check_refuses_a_configured_subtask_type_that_is_not_one(dialect: Dialect) -> None:
    """jira.subtask_type naming a standard type fails: Jira would refuse every subtask."""
    with checked_sandbox(dialect) as sandbox:
        outcome = check_jira(settings_for(sandbox.url, subtask_type="Task", **sandbox.credentials))
    assert outcome.status == FAILED
    assert "Task is not a subtask type of SUP; its subtask types: Sub-task" in outcome.detail


def test_check_command_with_a_wrong_token_fails_without_printing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A refused token fails the Jira line with exit 1; the token is nowhere in the output."""
    wrong = "not-the-token-5d2e"
    with checked_sandbox("datacenter") as sandbox:
        monkeypatch.setenv("RECOVERY_WORKER_JIRA__URL", sandbox.url)
        monkeypatch.setenv("RECOVERY_WORKER_JIRA__PAT", wrong)
        monkeypatch.setenv("RECOVERY_WORKER_STORE__URL", "sqlite:///state.db")
        assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert "[FAILED ] Jira: AuthenticationFailed" in captured.out
    assert wrong not in captured.out + captured.err


def test_check_skips_without_a_url() -> None:
    assert check_jira(Settings()).status == "skipped"


def test_check_reads_the_configured_playbook(tmp_path: Path) -> None:
    """A playbook file missing a section fails the Jira line and names the section."""
    broken = tmp_path / "playbook.toml"
    broken.write_text("[know]\nsummary = 'K'\nchecklist = ['a']\n", encoding="utf-8")
    with checked_sandbox("datacenter") as sandbox:
        outcome = check_jira(settings_for(sandbox.url, playbook_file=broken, **sandbox.credentials))
    assert outcome.status == FAILED
    assert "the [have] section is missing" in outcome.detail
