"""Starting, stopping, persistence, the contract check itself, and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import jira
import pytest
import requests

from tests.sandbox.conftest import checked_sandbox, connect, http_auth, rich
from tests.support.jira_contract import (
    ContractViolation,
    check_query,
    check_request,
    check_response,
)
from worker.errors import ConfigurationError
from worker.sandbox import Dialect, start_sandbox
from worker.settings import JiraSettings


@pytest.mark.integration
def test_starts_and_answers(dialect: Dialect) -> None:
    """A sandbox answers as soon as start_sandbox returns (its start time: bench/sandbox.py)."""
    with start_sandbox(dialect) as sandbox:
        response = requests.get(f"{sandbox.rest_url}/serverInfo", timeout=5)
    assert response.status_code == 200


@pytest.mark.integration
def test_data_file_survives_a_restart(dialect: Dialect, tmp_path: Path) -> None:
    """Issues, comments, links and properties written to the data file are there after restart."""
    data = tmp_path / "jira.json"
    with checked_sandbox(dialect, data_file=data) as first:
        client = connect(first)
        issue = client.create_issue(project="SUP", issuetype={"name": "Task"}, summary="kept")
        other = client.create_issue(project="SUP", issuetype={"name": "Task"}, summary="other")
        client.add_comment(issue.key, rich(first, "still here"))
        client.create_issue_link("Relates", issue.key, other.key)
        client.add_issue_property(issue.key, "recovery", {"id": 3})
        client.transition_issue(issue, "41")
    with checked_sandbox(dialect, data_file=data) as second:
        client = connect(second)
        kept = client.issue(issue.key)
        assert kept.fields.summary == "kept"
        assert kept.fields.resolution is not None
        assert len(kept.fields.issuelinks) == 1
        assert second.state.comments(issue.key)[0]["body"] == rich(second, "still here")
        assert second.state.properties(issue.key) == {"recovery": {"id": 3}}
        fresh = client.create_issue(project="SUP", issuetype={"name": "Task"}, summary="next")
        assert fresh.key == "SUP-3"


@pytest.mark.integration
def test_data_file_of_the_other_dialect_is_refused(tmp_path: Path) -> None:
    """A Cloud data file cannot be served as Data Center: the rich text would be wrong."""
    data = tmp_path / "jira.json"
    with checked_sandbox("cloud", data_file=data) as sandbox:
        connect(sandbox).create_issue(project="SUP", issuetype={"name": "Task"}, summary="s")
    assert data.exists()
    with pytest.raises(ConfigurationError):
        start_sandbox("datacenter", data_file=data)


@pytest.mark.integration
def test_two_sandboxes_run_side_by_side() -> None:
    """Each sandbox has its own port and its own data."""
    with checked_sandbox("cloud") as cloud, checked_sandbox("datacenter") as datacenter:
        assert cloud.url != datacenter.url
        connect(cloud).create_issue(project="SUP", issuetype={"name": "Task"}, summary="only here")
        assert datacenter.state.issues == {}


def test_contract_rejects_a_wrong_response() -> None:
    """The OpenAPI check fails a response whose types are wrong, so it can catch the sandbox."""
    with pytest.raises(ContractViolation):
        check_response("cloud", "GET", "/rest/api/3/serverInfo", 200, {"versionNumbers": "10"})
    with pytest.raises(ContractViolation):
        check_response("cloud", "GET", "/rest/api/3/myself", 401, "Unauthorized")
    with pytest.raises(ContractViolation):
        check_response("cloud", "GET", "/rest/api/3/issue/SUP-1", 200,
                       {"key": "SUP-1", "fields": {"description": "plain text on v3"}})  # fmt: skip


def test_contract_rejects_a_wrong_request() -> None:
    """The OpenAPI check fails request bodies the spec does not allow."""
    with pytest.raises(ContractViolation):
        check_request("cloud", "POST", "/rest/api/3/issueLink", {"type": {"name": "Relates"}})
    with pytest.raises(ContractViolation):
        check_request("cloud", "POST", "/rest/api/3/search/jql", {"jql": 5})
    with pytest.raises(ContractViolation):
        check_query("cloud", "GET", "/rest/api/3/search/jql", {"startAt": ["50"]})


def test_contract_rejects_wrong_data_center_exchanges() -> None:
    """The same on the Data Center spec, kept apart: that spec is not always here."""
    with pytest.raises(ContractViolation):
        check_response("datacenter", "GET", "/rest/api/2/issue/SUP-1", 200,
                       {"key": "SUP-1", "fields": {"status": {"name": 3}}})  # fmt: skip
    with pytest.raises(ContractViolation):
        check_request("datacenter", "GET", "/rest/api/2/no/such/thing", None)


@pytest.mark.integration
def test_exchange_hook_failures_are_kept(dialect: Dialect) -> None:
    """What the exchange hook raises is listed in violations, and the call is still answered."""

    def refuse(exchange: object) -> None:
        raise ValueError("nope")

    with start_sandbox(dialect, validate=refuse) as sandbox:
        assert requests.get(f"{sandbox.rest_url}/myself", **http_auth(sandbox)).status_code == 200
        assert len(sandbox.violations) == 1
        assert "nope" in sandbox.violations[0]


@pytest.mark.integration
def test_cloud_client_needs_api_version_3() -> None:
    """Cloud serves /rest/api/3 only, so a client left on version 2 fails loudly."""
    with start_sandbox("cloud") as sandbox, pytest.raises(jira.JIRAError) as info:
        jira.JIRA(server=sandbox.url, max_retries=0, timeout=5, **sandbox.auth)
    assert info.value.status_code == 404


@pytest.mark.integration
def test_command_serves_until_terminated(tmp_path: Path) -> None:
    """`recovery-worker sandbox` prints its URL and credentials, serves, and stops on SIGTERM."""
    data = tmp_path / "demo.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "worker", "sandbox", "--dialect", "datacenter", "--data", str(data)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Jira sandbox (datacenter) at http://127.0.0.1:")
        url = first.split(" at ")[1].strip()
        pat = process.stdout.readline().split("pat: ")[1].strip()
        response = requests.get(
            f"{url}/rest/api/2/myself", headers={"Authorization": f"Bearer {pat}"}, timeout=5
        )
        assert response.json()["name"] == "support"
    finally:
        process.terminate()
        code = process.wait(timeout=10)
    assert code == 0


@pytest.mark.integration
def test_a_crash_in_a_handler_is_a_500_and_a_violation(dialect: Dialect) -> None:
    """A request that trips an error inside the sandbox answers 500 and is listed as a violation."""

    class BrokenClock:
        def now(self) -> datetime:
            raise RuntimeError("clock unplugged")

    with start_sandbox(dialect, clock=BrokenClock()) as sandbox:
        response = requests.get(f"{sandbox.rest_url}/serverInfo", **http_auth(sandbox))
        assert response.status_code == 500
        assert response.json()["errorMessages"]
        assert "clock unplugged" in sandbox.violations[0]


@pytest.mark.integration
def test_credentials_fit_the_jira_settings(dialect: Dialect) -> None:
    """The credentials are named like the [jira] settings, so they configure the worker directly."""
    with start_sandbox(dialect) as sandbox:
        settings = JiraSettings(url=sandbox.url, dialect=dialect, **sandbox.credentials)
    if dialect == "cloud":
        token = settings.resolved_api_token()
        assert token is not None
        assert (settings.email, token.get_secret_value()) == sandbox.auth["basic_auth"]
    else:
        pat = settings.resolved_pat()
        assert pat is not None
        assert pat.get_secret_value() == sandbox.auth["token_auth"]
