"""The assembled worker: settings in, steps wired, one round from a mail to a recovery in Jira."""

from __future__ import annotations

import shutil
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from worker.app import build_worker
from worker.clock import FrozenClock
from worker.domain.events import EventKind
from worker.domain.issue import StatusCategory
from worker.domain.recovery import OPEN
from worker.health import HealthState
from worker.retry import RetryPolicy
from worker.sandbox import RunningSandbox
from worker.sandbox.state import status_by_id
from worker.settings import Settings
from worker.store import events, recoveries
from worker.tracker.jira import JiraTracker

pytestmark = pytest.mark.integration

MAILS = Path(__file__).resolve().parents[2] / "worker" / "demo" / "mails"


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


def test_a_complaint_after_resolution_reopens_the_recovery(
    sandbox: RunningSandbox, tmp_path: Path, clock: FrozenClock
) -> None:
    """Resolved in Jira, then the client complains again in the thread: one round later the
    ticket is open again, the watcher has read the reopen and the follow-up is on hold."""
    deliver(tmp_path, "01-angry-client.eml")
    worker = build_worker(settings_for(sandbox, tmp_path), clock)
    try:
        assert worker.supervisor.run_once()
        (parent,) = [i for i in sandbox.state.issues.values() if not i.get("parent")]
        clock.advance(timedelta(hours=4))
        tracker = worker.services.tracker
        assert tracker is not None
        tracker.transition(parent["key"], StatusCategory.DONE)
        assert worker.supervisor.run_once()
        (followup,) = [
            i for i in sandbox.state.issues.values() if "recovery-followup" in i["labels"]
        ]

        clock.advance(timedelta(days=2))
        new = tmp_path / "inbox" / "new"
        (new / "reply.eml").write_bytes(
            (
                "From: Dana Whitfield <dana.whitfield@northwind-legal.example>\r\n"
                "To: Support <support@acme-services.example>\r\n"
                "Subject: Re: Third outage this month - this is unacceptable\r\n"
                f"Date: {format_datetime(clock.now())}\r\n"
                "Message-ID: <demo-angry-0002@northwind-legal.example>\r\n"
                "In-Reply-To: <demo-angry-0001@northwind-legal.example>\r\n\r\n"
                "The portal is down again. This is unacceptable, it was not fixed at all.\r\n"
            ).encode()
        )
        assert worker.supervisor.run_once()
        assert status_by_id(sandbox.state.issues[parent["key"]]["status"]).category == "new"
        assert "followup-on-hold" in sandbox.state.issues[followup["key"]]["labels"]
        with worker.store.transaction() as conn:
            recovery = recoveries.by_jira_key(conn, parent["key"])
            assert recovery is not None
            assert recovery.state == OPEN
            kinds = [e.kind for e in events.for_recovery(conn, recovery.id)]
        assert kinds.count(EventKind.REOPEN_ASKED) == 1
        assert kinds.count(EventKind.REOPENED) == 1
    finally:
        worker.close()


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
        # A Maildir that is not being read makes the worker not ready, as Jira down does.
        assert set(with_jira.dependencies) == {"jira", "maildir"}
        assert with_jira.dependencies["maildir"] == ("inbox.maildir",)
        assert "jira.open_recoveries" in with_jira.dependencies["jira"]
        assert "jira.watch_signals" in with_jira.dependencies["jira"]
    finally:
        without.close()
        with_jira.close()


def test_readiness_follows_jira_reached_by_any_of_its_steps(
    sandbox: RunningSandbox, tmp_path: Path, clock: FrozenClock
) -> None:
    """Jira is ready after a round that reached it, and not while its search answers 503.

    With nothing to open, the step opening recoveries never calls Jira and succeeds;
    a sibling step's failing search must still make Jira not ready.
    """
    settings = settings_for(sandbox, tmp_path)
    tracker = JiraTracker.from_settings(settings.jira, clock=clock, retry=RetryPolicy(attempts=1))
    worker = build_worker(settings, clock, tracker=tracker)
    state = HealthState(
        worker.supervisor.status,
        clock,
        stale_after=settings.health.stale_after,
        store_ok=worker.store.ping,
        dependencies=worker.dependencies,
    )
    try:
        assert state.ready()[1]["jira"] == "not contacted yet"
        assert worker.supervisor.run_once()
        assert state.ready() == (True, {"store": "ok", "jira": "ok", "maildir": "ok"})

        search = "POST /rest/api/3/search/jql" if sandbox.dialect == "cloud" else None
        sandbox.faults.server_error(503, search or "GET /rest/api/2/search", times=None)
        assert not worker.supervisor.run_once()
        ready, checks = state.ready()
        assert not ready
        assert checks["jira"] == "ServerUnavailable"
        assert worker.supervisor.status.last_success.keys() >= {"jira.open_recoveries"}

        sandbox.faults.clear()
        for step in worker.supervisor.steps:
            step.next_run = None
        assert worker.supervisor.run_once()
        assert state.ready()[0]
    finally:
        worker.close()
