"""The assembled worker: settings in, steps wired, one round from a mail to a recovery in Jira."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.conftest import checked_sandbox
from worker.app import build_worker
from worker.clock import FrozenClock
from worker.sandbox import RunningSandbox
from worker.settings import Settings

pytestmark = pytest.mark.integration

MAILS = Path(__file__).resolve().parents[2] / "worker" / "demo" / "mails"


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest, clock: FrozenClock) -> Iterator[RunningSandbox]:
    with checked_sandbox(request.param, clock=clock) as running:
        yield running


def settings_for(sandbox: RunningSandbox, tmp_path: Path, **extra: Any) -> Settings:
    return Settings.model_validate(
        {
            "store": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
            "maildir": {"path": str(tmp_path / "inbox")},
            "jira": {"url": sandbox.url, "dialect": "auto", **sandbox.credentials},
            "health": {"enabled": False},
            **extra,
        }
    )


def deliver(tmp_path: Path, name: str) -> None:
    new = tmp_path / "inbox" / "new"
    new.mkdir(parents=True, exist_ok=True)
    shutil.copy(MAILS / name, new / name)


def test_one_round_turns_an_angry_mail_into_a_recovery_with_its_subtasks(
    sandbox: RunningSandbox, tmp_path: Path, clock: FrozenClock
) -> None:
    """run --once reads the Maildir, decides, and opens the ticket with three subtasks in Jira."""
    deliver(tmp_path, "01-angry-client.eml")
    deliver(tmp_path, "05-newsletter.eml")
    worker = build_worker(settings_for(sandbox, tmp_path), clock)
    try:
        assert worker.supervisor.run_once()
    finally:
        worker.close()

    issues = sandbox.state.issues
    parents = [i for i in issues.values() if not i.get("parent")]
    subtasks = [i for i in issues.values() if i.get("parent")]
    assert len(parents) == 1
    assert len(subtasks) == 3
    assert "recovery" in parents[0]["labels"]


def test_steps_follow_the_settings(
    sandbox: RunningSandbox, tmp_path: Path, clock: FrozenClock
) -> None:
    """Without Jira only the inbox and the sweep run; with it, the Jira steps join them."""
    without = build_worker(
        Settings.model_validate(
            {
                "store": {"url": f"sqlite:///{tmp_path / 'a.db'}"},
                "maildir": {"path": str(tmp_path / "inbox")},
                "health": {"enabled": False},
            }
        ),
        clock,
    )
    with_jira = build_worker(settings_for(sandbox, tmp_path), clock)
    try:
        assert [s.name for s in without.supervisor.steps] == ["inbox.maildir", "sla.sweep"]
        names = [s.name for s in with_jira.supervisor.steps]
        assert names[0] == "inbox.maildir"
        assert names[-1] == "sla.sweep"
        assert "jira.open_recoveries" in names
        assert with_jira.dependencies == ("jira.open_recoveries",)
    finally:
        without.close()
        with_jira.close()
