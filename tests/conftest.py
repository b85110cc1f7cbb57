"""Fixtures shared by every test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from tests.sandbox.conftest import checked_sandbox
from tests.support import data
from tests.support.dovecot import Dovecot, start_dovecot
from worker.clock import FrozenClock
from worker.sandbox import RunningSandbox
from worker.store import Store
from worker.tracker.fake import FakeTracker

REPO = Path(__file__).resolve().parents[1]
#: What may not be redistributed lives beside the repository, or in the folder that
#: RECOVERY_WORKER_SHARED names (e.g. a path that does not exist, to try a fresh clone).
SHARED = data.SHARED
IN_CI = os.environ.get("CI") == "true"
#: Fixtures that start a real server (Dovecot, the Jira sandbox, the worker's rig).
SERVER_FIXTURES = frozenset({"dovecot", "oauth_dovecot", "sandbox", "make_rig", "start_jira"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses a server fixture is an integration test (`make test-fast` skips those).

    Tests that start a server themselves carry the marker in their own module.
    """
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run every test in its own directory with no RECOVERY_WORKER_* variables leaking in.

    The default store lives in the platform's state folder: each test gets its own, so no
    test reads or writes the store of the machine's user, nor another test's.
    """
    for name in list(os.environ):
        if name.startswith("RECOVERY_WORKER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Each test starts from structlog's defaults, so a stream from one test never leaks."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot on free ports, stopped after the test."""
    server = start_dovecot()
    yield server
    server.cleanup()


@pytest.fixture
def clock() -> FrozenClock:
    """Monday 2 March 2026, 09:00 UTC, until a test moves it."""
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(f"sqlite:///{tmp_path / 'state.db'}")
    db.migrate()
    yield db
    db.close()


@pytest.fixture
def tracker(clock: FrozenClock) -> FakeTracker:
    """The in-memory tracker, on the test's clock."""
    return FakeTracker(clock)


@pytest.fixture(params=["cloud", "datacenter"])
def sandbox(request: pytest.FixtureRequest, clock: FrozenClock) -> Iterator[RunningSandbox]:
    """A Jira sandbox of each dialect on the test's clock, held to Atlassian's specs."""
    with checked_sandbox(request.param, clock=clock) as running:
        yield running
