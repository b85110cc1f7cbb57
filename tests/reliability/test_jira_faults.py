"""Jira answering 30% of calls with 429, 5xx or nothing: still one recovery each, three subtasks.

The recovery step runs under the real supervisor against the sandbox over HTTP, as the worker
runs it; counts are taken in the sandbox, not in the worker's store.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.reliability.figures import Figures
from tests.reliability.harness import (
    Call,
    CallLog,
    Deadline,
    recovery_issues,
    subtasks_of,
    wait_until,
)
from tests.reliability.hostile import INJECTION_BODY, adf_problems, wiki_problems
from worker.clock import SystemClock
from worker.metrics import Metrics
from worker.sandbox import Dialect, RunningSandbox
from worker.settings import JiraSettings, Settings, StoreSettings
from worker.steps import Services
from worker.steps.recoveries import open_recoveries_once
from worker.store import Store
from worker.store import recoveries as stored
from worker.supervisor import Step, Supervisor
from worker.tracker.jira import JiraTracker

pytestmark = pytest.mark.integration

RECOVERIES = 30
RETRY_AFTER = 1
READ_TIMEOUT = 2.0
#: Creates answered after the read timeout: done in Jira, the answer lost to the worker.
LATE_CREATES = 3


def fault_everything(sandbox: RunningSandbox) -> None:
    """About 30% of calls fail: a third throttled, a third 503, a third dropped."""
    sandbox.faults.rate_limit(RETRY_AFTER, times=None, probability=0.1)
    sandbox.faults.server_error(503, times=None, probability=0.1)
    sandbox.faults.drop_connection(times=None, probability=0.1)
    create = f"POST /rest/api/{'3' if sandbox.dialect == 'cloud' else '2'}/issue"
    sandbox.faults.latency(READ_TIMEOUT + 0.5, create, times=LATE_CREATES)
    if sandbox.dialect == "cloud":
        sandbox.faults.search_lag(seconds=1, calls=1)


def retry_after_gaps(calls: list[Call]) -> list[float]:
    """For each 429, the seconds until the next call the worker made."""
    ordered = sorted(calls, key=lambda call: call.at)
    return [later.at - call.at for call, later in itertools.pairwise(ordered) if call.status == 429]


@pytest.mark.parametrize("dialect", ["cloud", "datacenter"])
def test_every_recovery_opens_once_with_three_subtasks_under_jira_faults(
    tmp_path: Path,
    start_jira: object,
    figures: Figures,
    dialect: Dialect,
    request: pytest.FixtureRequest,
) -> None:
    """Faults on 30% of calls: no recovery lost, none twice, and Retry-After is waited out."""
    deadline = Deadline(150)
    assert callable(start_jira)
    sandbox, calls = start_jira(dialect, seed=20261123)
    assert isinstance(calls, CallLog)
    settings = Settings(
        store=StoreSettings(url=f"sqlite:///{tmp_path / 'state.db'}"),
        jira=JiraSettings(
            url=sandbox.url,
            dialect=dialect,
            read_timeout=timedelta(seconds=READ_TIMEOUT),
            # Past a late create's landing (slow on a loaded machine) and the search lag.
            visibility_window=timedelta(seconds=15),
            **sandbox.credentials,
        ),
    )
    store = Store(settings.store.url)
    store.migrate()
    now = datetime.now(UTC)
    with store.transaction() as conn:
        for n in range(RECOVERIES):
            stored.create_pending(
                conn,
                source_key=f"mail:case-{n}@client.test",
                source_kind="mail",
                client=f"client{n}@client-{n}.test",
                owner="",
                severity="sev2",
                summary=f'Outage again, case {n} " OR 1=1 {{code}}',
                now=now,
                source_ref=f"case-{n}@client.test",
                source_at=now,
                excerpt=f"case {n}\n{INJECTION_BODY}",
                reasons=["angry words"],
            )
    clock = SystemClock()
    tracker = JiraTracker.from_settings(settings.jira, clock=clock)
    services = Services(settings, clock, store, Metrics(), tracker)
    interval = timedelta(seconds=0.2)

    supervisor = Supervisor(
        [Step("open_recoveries", lambda: open_recoveries_once(services), interval)],
        clock,
        max_backoff=timedelta(seconds=2),
    )
    fault_everything(sandbox)
    loop = threading.Thread(target=supervisor.run_forever, daemon=True)
    loop.start()

    def all_open() -> bool:
        with store.transaction() as conn:
            return not stored.pending(conn)

    try:
        wait_until(all_open, deadline.left() - 10, "every recovery is open in Jira", interval=0.2)
    finally:
        supervisor.request_shutdown()
        loop.join(timeout=30)
        sandbox.faults.clear()
        store.close()

    recoveries = [i for i in recovery_issues(sandbox) if "recovery" in i["labels"]]
    per_case = Counter(
        next(label for label in i["labels"] if label.startswith("rw-")) for i in recoveries
    )
    duplicates = sum(n - 1 for n in per_case.values() if n > 1)
    lost = RECOVERIES - len(per_case)
    subtask_counts = Counter(len(subtasks_of(sandbox, i)) for i in recoveries)
    log = calls.snapshot()
    gaps = retry_after_gaps(log)
    injected = len(sandbox.faults.injected)

    figures.count(faults=injected, duplicates=duplicates, lost=lost)
    figures.note(
        request.node.name,
        recoveries=RECOVERIES,
        jira_calls=len(log),
        faults_injected=injected,
        throttled_429=sum(1 for c in log if c.status == 429),
        shortest_wait_after_429_s=min(gaps, default=0.0),
        duplicates=duplicates,
        lost=lost,
        seconds=deadline.seconds - deadline.left(),
    )
    assert injected > RECOVERIES / 2
    assert sum(1 for _, fault in sandbox.faults.injected if fault.kind == "latency") == LATE_CREATES
    assert duplicates == 0
    assert lost == 0
    assert subtask_counts == {3: RECOVERIES}
    assert gaps, "no 429 was answered: the fault rules did not fire"
    assert min(gaps) >= RETRY_AFTER - 0.05
    for issue in recoveries:
        if dialect == "datacenter":
            assert wiki_problems(issue["description"]) == []
        else:
            assert adf_problems(issue["description"]) == []
    assert sandbox.violations == []
