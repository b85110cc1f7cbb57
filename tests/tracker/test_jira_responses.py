"""The Jira adapter against stubbed HTTP: payloads checked against Atlassian's specs, errors mapped.

Every request body the adapter sends and every stubbed answer is validated with the same
contract the sandbox uses, so a stub cannot drift from what Jira accepts and returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import responses

from tests.support.jira_contract import check_request, check_response
from tests.tracker.conftest import no_sleep_retry
from worker.clock import FrozenClock
from worker.domain.document import Quote, document, paragraph
from worker.domain.issue import Dialect, NewIssue
from worker.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
)
from worker.tracker.jira import JiraTracker

BASE = "https://jira.example.test"
CLOUD = f"{BASE}/rest/api/3"
DC = f"{BASE}/rest/api/2"


@pytest.fixture
def stub() -> Iterator[responses.RequestsMock]:
    # Without the Data Center spec a test skips at its first check against it, not here.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def tracker(dialect: str, clock: FrozenClock, waits: list[float] | None = None) -> JiraTracker:
    cloud = dialect == "cloud"
    return JiraTracker.connect(
        BASE,
        dialect=dialect,
        email="support@example.test" if cloud else "",
        api_token="tok-123456" if cloud else "",
        pat="" if cloud else "pat-123456",
        retry=no_sleep_retry(clock, waits),
        clock=clock,
    )


def sent(call: Any) -> tuple[str, str, Any]:
    """Method, path and JSON body of a recorded request."""
    request = call.request
    body = json.loads(request.body) if request.body else None
    return request.method, urlsplit(request.url).path, body


def checked(dialect: str, call: Any) -> Any:
    """The request body, after checking request and stubbed answer against the spec."""
    method, path, body = sent(call)
    check_request(dialect, method, path, body)  # type: ignore[arg-type]
    answer = call.response.json() if call.response.content else None
    check_response(dialect, method, path, call.response.status_code, answer)  # type: ignore[arg-type]
    return body


ISSUE = NewIssue(
    project="SUP",
    issue_type="Task",
    summary="Recovery: export broken",
    description=document(paragraph("Client wrote:"), Quote("{code}boom{code}")),
    labels=("recovery", "rw-1"),
    priority="High",
    assignee="alice",
)
CREATED = {"id": "10001", "key": "SUP-1", "self": f"{CLOUD}/issue/10001"}


def test_cloud_create_sends_adf_and_account_ids(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """On Cloud the description is ADF, the assignee an accountId, all valid for the v3 spec."""
    stub.post(f"{CLOUD}/issue", json=CREATED, status=201)
    ref = tracker("cloud", clock).create_issue(ISSUE)
    assert (ref.key, ref.id) == ("SUP-1", "10001")
    body = checked("cloud", stub.calls[0])
    fields = body["fields"]
    assert fields["description"]["type"] == "doc"
    assert fields["assignee"] == {"accountId": "alice"}
    assert fields["labels"] == ["recovery", "rw-1"]
    assert stub.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_datacenter_create_sends_wiki_and_names_with_a_bearer_token(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """On Data Center the description is escaped wiki markup, the assignee a name, PAT as Bearer."""
    stub.post(f"{DC}/issue", json={**CREATED, "self": f"{DC}/issue/10001"}, status=201)
    tracker("datacenter", clock).create_issue(ISSUE)
    body = checked("datacenter", stub.calls[0])
    assert body["fields"]["description"] == (
        "Client wrote:\n\n{quote}\n\\{code\\}boom\\{code\\}\n{quote}"
    )
    assert body["fields"]["assignee"] == {"name": "alice"}
    assert stub.calls[0].request.headers["Authorization"] == "Bearer pat-123456"


def test_bulk_create_reports_each_item(stub: responses.RequestsMock, clock: FrozenClock) -> None:
    """A bulk answer with one failed element gives refs and a CreateFailed in order."""
    answer = {
        "issues": [CREATED, {"id": "10003", "key": "SUP-3", "self": f"{CLOUD}/issue/10003"}],
        "errors": [{"status": 400, "failedElementNumber": 1,
                    "elementErrors": {"errorMessages": [], "errors": {"parent": "required"}}}],
    }  # fmt: skip
    stub.post(f"{CLOUD}/issue/bulk", json=answer, status=201)
    subtask = NewIssue("SUP", "Sub-task", "KNOW", document(), parent="SUP-0")
    results = tracker("cloud", clock).create_issues([subtask, subtask, subtask])
    assert [getattr(r, "key", None) for r in results] == ["SUP-1", None, "SUP-3"]
    assert results[1].errors == {"parent": "required"}  # type: ignore[union-attr]
    body = checked("cloud", stub.calls[0])
    assert len(body["issueUpdates"]) == 3
    assert body["issueUpdates"][0]["fields"]["parent"] == {"key": "SUP-0"}


def test_bulk_create_splits_at_fifty(stub: responses.RequestsMock, clock: FrozenClock) -> None:
    """More than 50 issues go in several bulk calls, results still in order."""
    counter = iter(range(1, 200))

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        items = json.loads(request.body or "{}")["issueUpdates"]
        issues = []
        for _ in items:
            n = next(counter)
            issues.append({"id": str(10000 + n), "key": f"SUP-{n}", "self": f"{DC}/issue/{n}"})
        return 201, {}, json.dumps({"issues": issues, "errors": []})

    stub.add_callback(responses.POST, f"{DC}/issue/bulk", callback=answer)
    results = tracker("datacenter", clock).create_issues([ISSUE] * 120)
    assert [len(sent(c)[2]["issueUpdates"]) for c in stub.calls] == [50, 50, 20]
    assert [getattr(r, "key", "") for r in results][-1] == "SUP-120"


def test_rate_limit_on_a_read_waits_for_retry_after(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """A 429 with Retry-After on a read is retried after exactly that many seconds."""
    error = {"errorMessages": ["Rate limit exceeded."], "errors": {}}
    stub.get(f"{DC}/issue/SUP-1/comment", json=error, status=429, headers={"Retry-After": "12"})
    page = {"startAt": 0, "maxResults": 100, "total": 0, "comments": []}
    stub.get(f"{DC}/issue/SUP-1/comment", json=page)
    waits: list[float] = []
    assert tracker("datacenter", clock, waits).comments("SUP-1") == []
    assert waits == [12.0]
    checked("datacenter", stub.calls[0])


def test_rate_limit_that_never_ends_gives_up(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """After the attempt limit the RateLimited error reaches the caller with its wait."""
    error = {"errorMessages": ["Rate limit exceeded."], "errors": {}}
    stub.get(f"{DC}/issue/SUP-1", json=error, status=429, headers={"Retry-After": "3"})
    with pytest.raises(RateLimited) as info:
        tracker("datacenter", clock).get_issue("SUP-1")
    assert info.value.retry_after == 3.0
    assert len(stub.calls) == 5


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_error_on_a_create_is_an_unknown_outcome(
    stub: responses.RequestsMock, clock: FrozenClock, status: int
) -> None:
    """A create answered 500/502/504 may have happened: OutcomeUnknown, never retried."""
    error = {"errorMessages": ["Internal server error"], "errors": {}}
    stub.post(f"{CLOUD}/issue", json=error, status=status)
    with pytest.raises(OutcomeUnknown):
        tracker("cloud", clock).create_issue(ISSUE)
    assert len(stub.calls) == 1


def test_dropped_connection_on_a_create_is_an_unknown_outcome(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """A connection that broke after the request left: OutcomeUnknown, one attempt only."""
    stub.post(f"{CLOUD}/issue", body=requests.ConnectionError("Connection aborted."))
    with pytest.raises(OutcomeUnknown):
        tracker("cloud", clock).create_issue(ISSUE)
    assert len(stub.calls) == 1


def test_connect_timeout_is_retried_as_nothing_was_sent(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """A connection never made proves nothing was created: the create is tried again."""
    stub.post(f"{CLOUD}/issue", body=requests.ConnectTimeout("connect timed out"))
    stub.post(f"{CLOUD}/issue", json=CREATED, status=201)
    assert tracker("cloud", clock).create_issue(ISSUE).key == "SUP-1"
    assert len(stub.calls) == 2


def test_read_timeout_on_a_read_is_connection_failed(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """A read that timed out is transient and retried until the limit."""
    stub.get(f"{CLOUD}/issue/SUP-1", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(ConnectionFailed):
        tracker("cloud", clock).get_issue("SUP-1")
    assert len(stub.calls) == 5


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, RequestRejected), (401, AuthenticationFailed), (404, NotFound)],
)
def test_permanent_errors_carry_jiras_messages(
    stub: responses.RequestsMock, clock: FrozenClock, status: int, error: type[Exception]
) -> None:
    """400, 401 and 404 are permanent, not retried, and say what Jira said."""
    body = {"errorMessages": ["Jira says no"], "errors": {"summary": "too long"}}
    stub.post(f"{DC}/issue", json=body, status=status)
    with pytest.raises(error) as info:
        tracker("datacenter", clock).create_issue(ISSUE)
    assert "Jira says no" in str(info.value)
    assert len(stub.calls) == 1
    if status == 400:
        assert "summary: too long" in str(info.value)
        checked("datacenter", stub.calls[0])


def issue_json(key: str, base: str) -> dict[str, Any]:
    return {
        "id": key.split("-")[1],
        "key": key,
        "self": f"{base}/issue/{key}",
        "fields": {
            "summary": "s",
            "status": {"name": "To Do", "id": "1", "statusCategory": {"key": "new", "id": 2}},
            "created": "2026-03-02T09:00:00.000+0000",
            "updated": "2026-03-02T09:00:00.000+0000",
            "labels": ["rw-1"],
        },
    }


def test_cloud_search_pages_by_token(stub: responses.RequestsMock, clock: FrozenClock) -> None:
    """Cloud search follows nextPageToken through /search/jql until it is absent."""
    stub.get(f"{CLOUD}/field", json=[])
    first = {"issues": [issue_json("SUP-1", CLOUD)], "nextPageToken": "t2", "isLast": False}
    second = {"issues": [issue_json("SUP-2", CLOUD)], "isLast": True}
    stub.post(f"{CLOUD}/search/jql", json=first)
    stub.post(f"{CLOUD}/search/jql", json=second)
    found = tracker("cloud", clock).find_by_label("SUP", 'rw-"1')
    assert [i.key for i in found] == ["SUP-1", "SUP-2"]
    searches = [c for c in stub.calls if str(c.request.url).endswith("/search/jql")]
    bodies = [checked("cloud", c) for c in searches]
    assert bodies[0]["jql"] == '(project = "SUP") AND (labels = "rw-\\"1")'
    assert "nextPageToken" not in bodies[0]
    assert bodies[1]["nextPageToken"] == "t2"


def test_datacenter_search_pages_by_start_at(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """Data Center search pages with startAt until total is reached."""
    stub.get(f"{DC}/field", json=[])
    page = {"startAt": 0, "maxResults": 1, "total": 2, "issues": [issue_json("SUP-1", DC)]}
    stub.post(f"{DC}/search", json=page)
    stub.post(f"{DC}/search", json={**page, "startAt": 1, "issues": [issue_json("SUP-2", DC)]})
    found = list(tracker("datacenter", clock).search('project = "SUP"'))
    assert [i.key for i in found] == ["SUP-1", "SUP-2"]
    searches = [c for c in stub.calls if str(c.request.url).endswith("/search")]
    assert [checked("datacenter", c)["startAt"] for c in searches] == [0, 1]


def test_dialect_is_detected_from_server_info(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """serverInfo's deploymentType picks the dialect; API 3 is tried when API 2 is absent."""
    stub.get(f"{DC}/serverInfo", json={"errorMessages": ["Not found"], "errors": {}}, status=404)
    info = {"baseUrl": BASE, "deploymentType": "Cloud", "version": "1001.0.0",
            "versionNumbers": [1001, 0, 0]}  # fmt: skip
    stub.get(f"{CLOUD}/serverInfo", json=info)
    found = JiraTracker.connect(BASE, email="a@b.c", api_token="t-123456",
                                retry=no_sleep_retry(clock), clock=clock)  # fmt: skip
    assert found.dialect == Dialect.CLOUD


def test_subtask_type_falls_back_to_the_project_and_is_cached(
    stub: responses.RequestsMock, clock: FrozenClock
) -> None:
    """Without per-project createmeta (old Jira) the project's issue types name the subtask
    type; it is asked once per process."""
    missing = {"errorMessages": ["No resource found"], "errors": {}}
    stub.get(f"{DC}/issue/createmeta/SUP/issuetypes", json=missing, status=404)
    task = {"id": "1", "name": "Task", "subtask": False, "self": f"{DC}/issuetype/1"}
    sub = {"id": "5", "name": "Teilaufgabe", "subtask": True, "self": f"{DC}/issuetype/5"}
    stub.get(f"{DC}/project/SUP", json={"id": "10000", "key": "SUP", "name": "Support",
                                        "self": f"{DC}/project/10000",
                                        "issueTypes": [task, sub]})  # fmt: skip
    adapter = tracker("datacenter", clock)
    assert adapter.subtask_issue_type("SUP") == "Teilaufgabe"
    assert adapter.subtask_issue_type("SUP") == "Teilaufgabe"
    assert len(stub.calls) == 2
    checked("datacenter", stub.calls[1])
