"""Fixtures for the sandbox tests: a sandbox per dialect, checked against the OpenAPI contract."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jira
import pytest

from tests.support.jira_contract import ContractRecorder, require_specs
from worker.clock import FrozenClock
from worker.sandbox import Dialect, RunningSandbox, start_sandbox

DIALECTS: tuple[Dialect, ...] = ("cloud", "datacenter")


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> Dialect:
    value: Dialect = request.param
    return value


@pytest.fixture
def contract() -> ContractRecorder:
    return ContractRecorder()


@pytest.fixture
def sandbox(
    dialect: Dialect, clock: FrozenClock, contract: ContractRecorder
) -> Iterator[RunningSandbox]:
    """A sandbox on the test's frozen clock; every exchange must match Atlassian's spec."""
    require_specs(dialect)
    with start_sandbox(dialect, clock=clock, validate=contract) as running:
        yield running
    assert running.violations == []


@contextmanager
def checked_sandbox(dialect: Dialect, **options: Any) -> Iterator[RunningSandbox]:
    """A sandbox started by the test itself, held to the same contract as the fixture's."""
    require_specs(dialect)
    with start_sandbox(dialect, validate=ContractRecorder(), **options) as running:
        yield running
    assert running.violations == []


@pytest.fixture
def client(sandbox: RunningSandbox) -> jira.JIRA:
    """The real jira client, without its hidden retries, pointed at the sandbox."""
    return connect(sandbox)


def connect(sandbox: RunningSandbox, **overrides: Any) -> jira.JIRA:
    kwargs: dict[str, Any] = {
        "server": sandbox.url,
        "options": sandbox.options,
        "max_retries": 0,
        "timeout": 5,
        **sandbox.auth,
    }
    kwargs.update(overrides)
    return jira.JIRA(**kwargs)


def rich(sandbox: RunningSandbox, text: str) -> Any:
    """Rich text as the dialect wants it: ADF on Cloud, wiki markup on Data Center."""
    if sandbox.dialect == "datacenter":
        return text
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


@pytest.fixture
def make_issue(client: jira.JIRA, sandbox: RunningSandbox) -> Callable[..., jira.Issue]:
    def make(summary: str = "Export failed for the third time", **fields: Any) -> jira.Issue:
        values: dict[str, Any] = {
            "project": {"key": "SUP"},
            "issuetype": {"name": "Task"},
            "summary": summary,
        }
        values.update(fields)
        return client.create_issue(fields=values)

    return make


def search_keys(client: jira.JIRA, sandbox: RunningSandbox, query: str) -> list[str]:
    """Keys matching a JQL query, through the search each dialect offers."""
    if sandbox.dialect == "cloud":
        found = client.enhanced_search_issues(query, maxResults=0, fields="key")
    else:
        found = client.search_issues(query, maxResults=0, fields="key")
    return [issue.key for issue in found]


def http_auth(sandbox: RunningSandbox) -> dict[str, Any]:
    """`requests` keyword arguments carrying the sandbox's credentials and a timeout."""
    if sandbox.dialect == "cloud":
        creds = sandbox.credentials
        return {"auth": (creds["email"], creds["api_token"]), "timeout": 5}
    return {"headers": {"Authorization": f"Bearer {sandbox.credentials['pat']}"}, "timeout": 5}
