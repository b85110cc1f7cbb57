"""Fixtures of the reliability suite; after a full run, its hooks write the reliability report.

The report goes to the file that RECOVERY_WORKER_RELIABILITY_REPORT names, else into pytest's
temporary directory: a test run never rewrites a tracked file. `make reliability-report` points
it at docs/reliability.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.figures import Figures
from tests.reliability.harness import CallLog, Rig, rig
from tests.support.dovecot import Dovecot
from tests.support.jira_contract import ContractRecorder, require_specs
from worker.sandbox import Dialect, RunningSandbox, start_sandbox

HERE = Path(__file__).resolve().parent
COMMAND = "make reliability-report"
# Read at import, relative to where pytest was started: the tests run with the
# RECOVERY_WORKER_* variables removed and in directories of their own.
_ASKED = os.environ.get("RECOVERY_WORKER_RELIABILITY_REPORT")
REPORT = Path(_ASKED).resolve() if _ASKED else None

FIGURES = Figures()
_ran: set[str] = set()
_collected: set[str] = set()
_deselected: list[str] = []
_report: list[Path] = []  # where this run writes the report, once known
_written: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def _report_path(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Without RECOVERY_WORKER_RELIABILITY_REPORT, the report goes beside the tests' tmp dirs."""
    if not _report:
        _report.append(REPORT or tmp_path_factory.getbasetemp() / "reliability.md")


@pytest.fixture(scope="session")
def figures() -> Figures:
    return FIGURES


@pytest.fixture
def contract() -> ContractRecorder:
    return ContractRecorder()


@pytest.fixture
def start_jira(
    contract: ContractRecorder,
) -> Iterator[Callable[..., tuple[RunningSandbox, CallLog]]]:
    """Start a sandbox in this process, its calls timed and checked against Atlassian's specs."""
    started: list[RunningSandbox] = []

    def start(dialect: Dialect = "cloud", **options: Any) -> tuple[RunningSandbox, CallLog]:
        require_specs(dialect)
        calls = CallLog(then=contract)
        sandbox = start_sandbox(dialect, validate=calls, **options)
        started.append(sandbox)
        return sandbox, calls

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def make_rig(
    tmp_path: Path, dovecot: Dovecot, start_jira: Callable[..., tuple[RunningSandbox, CallLog]]
) -> Iterator[Callable[..., Rig]]:
    """Build the rig: the worker is set up against this test's Dovecot and a fresh sandbox."""
    stack: list[Any] = []

    def make(dialect: Dialect = "cloud", seed: int = 9, **overrides: Any) -> Rig:
        sandbox, calls = start_jira(dialect, seed=seed)
        manager = rig(tmp_path, dovecot, sandbox, calls, **overrides)
        stack.append(manager)
        return manager.__enter__()

    yield make
    for manager in reversed(stack):
        manager.__exit__(None, None, None)


# --- the report --------------------------------------------------------------------------


def _in_suite(item: pytest.Item) -> bool:
    return Path(str(item.fspath)).resolve().parent == HERE


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _collected.update(Path(str(i.fspath)).name for i in items if _in_suite(i))


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected.extend(i.nodeid for i in items if _in_suite(i))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and str(HERE.name) in report.nodeid:
        _ran.add(report.nodeid)
        name = report.nodeid.split("::")[-1]
        if name in FIGURES.tables:
            FIGURES.outcomes[name] = report.outcome


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a run of every reliability module (nothing deselected), write the report."""
    modules = {p.name for p in HERE.glob("test_*.py")}
    if not _ran or not _report or _deselected or not modules <= _collected:
        return
    FIGURES.write(_report[0], COMMAND)
    _written.append(_report[0])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show the figures of this run, and where the report went if it was written."""
    if FIGURES.tables:
        terminalreporter.write_sep("-", "reliability figures")
        terminalreporter.write_line(FIGURES.render(COMMAND).split("## Totals", 1)[1])
    for path in _written:
        terminalreporter.write_line(f"reliability report written to {path}")
