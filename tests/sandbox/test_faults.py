"""Fault injection: latency, throttling, server errors, dropped connections, search lag."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from email.utils import parsedate_to_datetime

import jira
import pytest
import requests

from tests.sandbox.conftest import checked_sandbox, connect, http_auth, search_keys
from worker.clock import FrozenClock
from worker.sandbox import Dialect, RunningSandbox

pytestmark = pytest.mark.integration


def test_rate_limit_answers_429_with_retry_after_seconds(
    client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """A 429 carries Retry-After in seconds; the next call goes through."""
    sandbox.faults.rate_limit(7, endpoint=f"GET {_rest(sandbox)}/myself")
    with pytest.raises(jira.JIRAError) as info:
        client.myself()
    assert info.value.status_code == 429
    assert info.value.response is not None
    assert info.value.response.headers["Retry-After"] == "7"
    assert client.myself()["displayName"] == "Support Desk"


def test_rate_limit_with_http_date(sandbox: RunningSandbox, clock: FrozenClock) -> None:
    """Retry-After can be an HTTP date, which clients must parse as a moment."""
    moment = clock.now() + timedelta(seconds=30)
    sandbox.faults.rate_limit(moment)
    response = requests.get(f"{sandbox.rest_url}/myself", **http_auth(sandbox))
    assert response.status_code == 429
    assert parsedate_to_datetime(response.headers["Retry-After"]) == moment


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors(status: int, sandbox: RunningSandbox) -> None:
    """A server error is answered instead of doing the work: nothing is created."""
    sandbox.faults.server_error(status, endpoint=f"POST {_rest(sandbox)}/issue")
    response = requests.post(f"{sandbox.rest_url}/issue", json=_new_issue(), **http_auth(sandbox))
    assert response.status_code == status
    assert response.json()["errorMessages"]
    assert sandbox.state.issues == {}
    again = requests.post(f"{sandbox.rest_url}/issue", json=_new_issue(), **http_auth(sandbox))
    assert again.status_code == 201


def test_dropped_connection(sandbox: RunningSandbox) -> None:
    """A dropped connection reaches the client as a connection error, and the work is not done."""
    sandbox.faults.drop_connection(endpoint=f"POST {_rest(sandbox)}/issue")
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{sandbox.rest_url}/issue", json=_new_issue(), **http_auth(sandbox))
    assert sandbox.state.issues == {}


def test_latency_trips_the_client_timeout(sandbox: RunningSandbox) -> None:
    """Injected latency longer than the client's timeout ends in a timeout."""
    sandbox.faults.latency(0.5, endpoint=f"GET {_rest(sandbox)}/myself")
    auth = {**http_auth(sandbox), "timeout": 0.1}
    with pytest.raises(requests.Timeout):
        requests.get(f"{sandbox.rest_url}/myself", **auth)
    started = time.monotonic()
    assert requests.get(f"{sandbox.rest_url}/myself", **http_auth(sandbox)).status_code == 200
    assert time.monotonic() - started < 0.5


def test_rules_run_out_after_their_times(sandbox: RunningSandbox) -> None:
    """A rule with times=2 hits twice, then the endpoint answers normally; calls are counted."""
    sandbox.faults.server_error(502, times=2)
    codes = [requests.get(f"{sandbox.rest_url}/myself", **http_auth(sandbox)).status_code
             for _ in range(3)]  # fmt: skip
    assert codes == [502, 502, 200]
    assert sandbox.calls[f"GET {_rest(sandbox)}/myself"] == 3


def test_random_faults_repeat_with_the_same_seed(dialect: Dialect) -> None:
    """Random faults at a given probability are the same sequence for the same seed."""

    def run(seed: int) -> list[int]:
        with checked_sandbox(dialect, seed=seed) as sandbox:
            sandbox.faults.server_error(503, times=None, probability=0.3)
            return [requests.get(f"{sandbox.rest_url}/myself", **http_auth(sandbox)).status_code
                    for _ in range(30)]  # fmt: skip

    first, second, other = run(7), run(7), run(8)
    assert first == second
    assert 0 < first.count(503) < 30
    assert first != other


def test_search_lag_hides_new_issues_for_some_searches(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """With a lag of two searches, a new issue shows up only on the third."""
    sandbox.faults.search_lag(calls=2)
    issue = make_issue()
    seen = [search_keys(client, sandbox, "project = SUP") for _ in range(3)]
    assert seen == [[], [], [issue.key]]


def test_search_lag_follows_the_clock(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, sandbox: RunningSandbox,
    clock: FrozenClock,
) -> None:  # fmt: skip
    """With a lag in seconds, a new issue is invisible until the sandbox clock passes it."""
    sandbox.faults.search_lag(seconds=30)
    issue = make_issue()
    assert search_keys(client, sandbox, "project = SUP") == []
    assert client.issue(issue.key).key == issue.key  # reads by key are consistent
    clock.advance(timedelta(seconds=31))
    assert search_keys(client, sandbox, "project = SUP") == [issue.key]


@pytest.mark.parametrize("dialect", ["cloud"])
def test_reconcile_issues_sees_through_the_lag(
    make_issue: Callable[..., jira.Issue], sandbox: RunningSandbox
) -> None:
    """Cloud's reconcileIssues makes the listed fresh issues visible at once."""
    sandbox.faults.search_lag(seconds=600)
    issue = make_issue()
    body = {"jql": "project = SUP", "reconcileIssues": [int(issue.id)], "fields": ["summary"]}
    found = requests.post(f"{sandbox.rest_url}/search/jql", json=body, **http_auth(sandbox)).json()
    assert [i["key"] for i in found["issues"]] == [issue.key]


def test_admin_endpoint_adds_faults_and_reports_calls(sandbox: RunningSandbox) -> None:
    """The /_sandbox/ endpoints drive faults and read call counts from outside the process."""
    added = requests.post(f"{sandbox.url}/_sandbox/faults",
                          json={"kind": "status", "status": 503}, timeout=5)  # fmt: skip
    assert added.status_code == 201
    assert requests.get(f"{sandbox.rest_url}/myself", **http_auth(sandbox)).status_code == 503
    calls = requests.get(f"{sandbox.url}/_sandbox/calls", timeout=5).json()
    assert calls == {f"GET {_rest(sandbox)}/myself": 1}
    requests.post(f"{sandbox.url}/_sandbox/faults", json={"kind": "drop", "times": None}, timeout=5)
    assert requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5).status_code == 204
    assert requests.get(f"{sandbox.rest_url}/myself", **http_auth(sandbox)).status_code == 200


def test_client_with_retries_off_sees_the_fault(sandbox: RunningSandbox) -> None:
    """With max_retries=0 the jira client makes one call per request, even on 503."""
    client = connect(sandbox)
    sandbox.reset_calls()
    sandbox.faults.server_error(503, endpoint=f"GET {_rest(sandbox)}/myself", times=None)
    with pytest.raises(jira.JIRAError):
        client.myself()
    assert sandbox.calls[f"GET {_rest(sandbox)}/myself"] == 1


def _rest(sandbox: RunningSandbox) -> str:
    return "/rest/api/3" if sandbox.dialect == "cloud" else "/rest/api/2"


def _new_issue() -> dict[str, object]:
    return {"fields": {"project": {"key": "SUP"}, "issuetype": {"id": "10001"}, "summary": "s"}}
