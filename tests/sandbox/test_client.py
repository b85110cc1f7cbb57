"""The sandbox through the real jira client, in both dialects."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jira
import pytest
import requests

from tests.sandbox.conftest import connect, http_auth, rich
from tests.support.jira_contract import ContractRecorder
from worker.clock import FrozenClock
from worker.sandbox import RunningSandbox


def test_server_info_tells_the_dialect(client: jira.JIRA, sandbox: RunningSandbox) -> None:
    """serverInfo says Cloud for the Cloud dialect and a Data Center version for the other."""
    info = client.server_info()
    if sandbox.dialect == "cloud":
        assert info["deploymentType"] == "Cloud"
        assert client._is_cloud
    else:
        assert info["deploymentType"] == "Server"
        assert tuple(info["versionNumbers"]) >= (8, 4, 0)
        assert not client._is_cloud


def test_myself_identifies_users_the_dialect_way(
    client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """Cloud users carry an accountId and no name; Data Center users a name."""
    me = client.myself()
    if sandbox.dialect == "cloud":
        assert me["accountId"]
        assert "name" not in me
    else:
        assert me["name"] == "support"
        assert "accountId" not in me


def test_create_issue_returns_it_with_defaults(
    make_issue: Callable[..., jira.Issue], sandbox: RunningSandbox, clock: FrozenClock
) -> None:
    """A new issue is open, of medium priority, created and updated at the sandbox clock's now."""
    issue = make_issue(description=rich(sandbox, "It broke *again*"), labels=["complaint"])
    assert issue.key == "SUP-1"
    assert issue.fields.status.name == "To Do"
    assert issue.fields.status.statusCategory.key == "new"
    assert issue.fields.priority.name == "Medium"
    assert issue.fields.labels == ["complaint"]
    assert issue.fields.resolution is None
    assert issue.fields.created == "2026-03-02T09:00:00.000+0000"
    assert sandbox.state.issues["SUP-1"]["description"] == rich(sandbox, "It broke *again*")


def test_rich_text_must_match_the_dialect(client: jira.JIRA, sandbox: RunningSandbox) -> None:
    """Cloud refuses a plain-string description; Data Center refuses an ADF document."""
    wrong = {"type": "doc", "version": 1, "content": []} if sandbox.dialect == "datacenter" else "x"
    with pytest.raises(jira.JIRAError) as info:
        client.create_issue(
            fields={"project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": "s",
                    "description": wrong}
        )  # fmt: skip
    assert info.value.status_code == 400
    assert "description" in error_body(info.value)["errors"]
    assert sandbox.state.issues == {}


def test_missing_fields_answer_jira_error_collection(
    client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """A create without summary or a valid project lists each problem under its field."""
    with pytest.raises(jira.JIRAError) as info:
        client.create_issue(fields={"project": {"key": "NOPE"}, "issuetype": {"id": "10001"}})
    body = error_body(info.value)
    assert body["errorMessages"] == []
    assert set(body["errors"]) == {"project", "summary"}


def test_subtask_needs_a_parent_and_shows_under_it(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA
) -> None:
    """A sub-task without parent is refused; with one it appears in the parent's subtasks."""
    parent = make_issue()
    with pytest.raises(jira.JIRAError) as info:
        make_issue("KNOW", issuetype={"name": "Sub-task"})
    assert "parent" in error_body(info.value)["errors"]
    child = make_issue("KNOW", issuetype={"name": "Sub-task"}, parent={"key": parent.key})
    assert child.fields.parent.key == parent.key
    assert [s.key for s in client.issue(parent.key).fields.subtasks] == [child.key]


def test_bulk_create_reports_per_item_errors(client: jira.JIRA, sandbox: RunningSandbox) -> None:
    """Bulk create makes the valid issues and reports the others by their position."""
    good = {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "summary": "ok"}
    bad = {"project": {"key": "SUP"}, "issuetype": {"name": "Task"}, "labels": ["has space"]}
    results = client.create_issues([good, bad, good], prefetch=False)
    assert [r["status"] for r in results] == ["Success", "Error", "Success"]
    assert set(results[1]["error"]) == {"summary", "labels"}
    assert sorted(sandbox.state.issues) == ["SUP-1", "SUP-2"]


def test_bulk_create_all_failing_answers_400(sandbox: RunningSandbox) -> None:
    """When no issue of a bulk create is valid, Jira answers 400 with the same body shape."""
    response = requests.post(
        f"{sandbox.rest_url}/issue/bulk",
        json={"issueUpdates": [{"fields": {"summary": "no project"}}]},
        **http_auth(sandbox),
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["failedElementNumber"] == 0


def test_bulk_create_refuses_more_than_fifty(sandbox: RunningSandbox) -> None:
    """More than 50 issues in one bulk create are refused as a whole."""
    item = {"fields": {"project": {"key": "SUP"}, "issuetype": {"id": "10001"}, "summary": "s"}}
    response = requests.post(
        f"{sandbox.rest_url}/issue/bulk", json={"issueUpdates": [item] * 51}, **http_auth(sandbox)
    )
    assert response.status_code == 400
    assert sandbox.state.issues == {}


def test_edit_sets_fields_and_adds_or_removes_labels(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, clock: FrozenClock
) -> None:
    """PUT /issue sets fields and applies label operations, and moves `updated`."""
    issue = make_issue(labels=["complaint", "email"])
    clock.advance(timedelta(minutes=5))
    issue.update(
        fields={"summary": "Export fails on large files", "priority": {"name": "Highest"},
                "duedate": "2026-03-09"},
        update={"labels": [{"add": "recovery"}, {"remove": "email"}]},
    )  # fmt: skip
    fresh = client.issue(issue.key)
    assert fresh.fields.summary == "Export fails on large files"
    assert fresh.fields.priority.name == "Highest"
    assert fresh.fields.duedate == "2026-03-09"
    assert fresh.fields.labels == ["complaint", "recovery"]
    assert fresh.fields.updated == "2026-03-02T09:05:00.000+0000"


def test_edit_refuses_unknown_fields(make_issue: Callable[..., jira.Issue]) -> None:
    """A field that is not on the screen is an error, not silently dropped."""
    issue = make_issue()
    with pytest.raises(jira.JIRAError) as info:
        issue.update(fields={"customfield_99999": "x"})
    assert "customfield_99999" in error_body(info.value)["errors"]


def test_comments_keep_their_body_and_author(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """A comment comes back with the body as sent and the authenticated user as author."""
    issue = make_issue()
    client.add_comment(issue.key, rich(sandbox, "We are on it."))
    comments = client.comments(issue.key)
    assert len(comments) == 1
    assert comments[0].raw["body"] == rich(sandbox, "We are on it.")
    assert comments[0].author.displayName == "Support Desk"
    assert sandbox.state.comments(issue.key)[0]["body"] == rich(sandbox, "We are on it.")


def test_transitions_move_status_and_resolution(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, clock: FrozenClock
) -> None:
    """Done sets resolution and resolution date; reopening clears both."""
    issue = make_issue()
    names = {t["name"]: t["id"] for t in client.transitions(issue)}
    assert {"Start progress", "Wait for customer", "Done"} <= set(names)
    client.transition_issue(issue, names["Wait for customer"])
    waiting = client.issue(issue.key).fields.status
    assert (waiting.name, waiting.statusCategory.key) == ("Waiting for customer", "indeterminate")
    clock.advance(timedelta(hours=2))
    client.transition_issue(issue, "Done", fields={"resolution": {"name": "Won't Do"}})
    done = client.issue(issue.key).fields
    assert done.status.statusCategory.key == "done"
    assert done.resolution is not None
    assert done.resolution.name == "Won't Do"
    assert done.resolutiondate == "2026-03-02T11:00:00.000+0000"
    client.transition_issue(issue, "To Do")
    reopened = client.issue(issue.key).fields
    assert reopened.resolution is None
    assert reopened.resolutiondate is None


def test_unavailable_transition_is_refused(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA
) -> None:
    """A transition to the status the issue is already in is not offered and not accepted."""
    issue = make_issue()
    with pytest.raises(jira.JIRAError) as info:
        client.transition_issue(issue, "11")
    assert info.value.status_code == 400


def test_links_show_on_both_issues(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA
) -> None:
    """A Relates link appears on both ends, each pointing at the other."""
    first, second = make_issue("complaint"), make_issue("recovery")
    response = client.create_issue_link("Relates", first.key, second.key)
    assert response.status_code == 201
    outward = client.issue(second.key).fields.issuelinks
    inward = client.issue(first.key).fields.issuelinks
    assert outward[0].type.name == "Relates"
    assert outward[0].inwardIssue.key == first.key
    assert inward[0].outwardIssue.key == second.key


def test_issue_properties_round_trip(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """A property holds any JSON value, lists by key, and is gone after delete."""
    issue = make_issue()
    value = {"recovery": "r-17", "touchpoints": [1, 2], "note": 'naïve "quoted"'}
    client.add_issue_property(issue.key, "recovery-worker", value)
    assert client.issue_property(issue.key, "recovery-worker").raw["value"] == value
    assert [p.key for p in client.issue_properties(issue.key)] == ["recovery-worker"]
    assert sandbox.state.properties(issue.key) == {"recovery-worker": value}
    response = requests.delete(
        f"{sandbox.rest_url}/issue/{issue.key}/properties/recovery-worker", **http_auth(sandbox)
    )
    assert response.status_code == 204
    assert sandbox.state.properties(issue.key) == {}


def test_project_and_createmeta_list_the_subtask_type(
    client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """The project and createmeta both offer Task, Bug and a sub-task type."""
    project = client.project("SUP")
    assert {t.name for t in project.issueTypes} == {"Task", "Bug", "Sub-task"}
    response = requests.get(
        f"{sandbox.rest_url}/issue/createmeta/SUP/issuetypes", **http_auth(sandbox)
    )
    page = response.json()
    types = page["issueTypes"] if sandbox.dialect == "cloud" else page["values"]
    assert [t["name"] for t in types if t["subtask"]] == ["Sub-task"]
    if sandbox.dialect == "datacenter":
        assert [t.name for t in client.project_issue_types("SUP")] == ["Task", "Bug", "Sub-task"]


def test_priorities_statuses_and_users_are_seeded(
    client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """Five priorities from Highest to Lowest, a waiting status, and a few users."""
    assert [p.name for p in client.priorities()] == ["Highest", "High", "Medium", "Low", "Lowest"]
    assert "Waiting for customer" in {s.name for s in client.statuses()}
    query = {"query": "alice"} if sandbox.dialect == "cloud" else {"username": "alice"}
    users = requests.get(
        f"{sandbox.rest_url}/user/search", params=query, **http_auth(sandbox)
    ).json()
    assert [u["displayName"] for u in users] == ["Alice Martin"]


def test_assignee_by_account_or_name(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """Cloud assigns by accountId, Data Center by name; the other form is refused."""
    alice = requests.get(
        f"{sandbox.rest_url}/user/search",
        params={"query": "alice"} if sandbox.dialect == "cloud" else {"username": "alice"},
        **http_auth(sandbox),
    ).json()[0]
    right = {"accountId": alice["accountId"]} if sandbox.dialect == "cloud" else {"name": "alice"}
    wrong = {"name": "alice"} if sandbox.dialect == "cloud" else {"accountId": "x"}
    assignee = make_issue(assignee=right).fields.assignee
    assert assignee is not None
    assert assignee.displayName == "Alice Martin"
    with pytest.raises(jira.JIRAError):
        make_issue(assignee=wrong)


@pytest.mark.parametrize("use_post", [False, True])
def test_search_returns_every_match_once(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, sandbox: RunningSandbox,
    use_post: bool,
) -> None:  # fmt: skip
    """Search through the client (GET or POST, each dialect's endpoint) finds each match once."""
    for number in range(7):
        make_issue(f"issue {number}", labels=["complaint"] if number % 2 == 0 else [])
    sandbox.reset_calls()
    query = "labels = complaint ORDER BY key ASC"
    if sandbox.dialect == "cloud":
        found = client.enhanced_search_issues(query, maxResults=0, use_post=use_post)
        endpoint = "/rest/api/3/search/jql"
    else:
        found = client.search_issues(query, maxResults=False, use_post=use_post)
        endpoint = "/rest/api/2/search"
    assert [i.key for i in found] == ["SUP-1", "SUP-3", "SUP-5", "SUP-7"]
    assert sandbox.calls[f"{'POST' if use_post else 'GET'} {endpoint}"] == 1


@pytest.mark.parametrize("dialect", ["datacenter"])
def test_datacenter_search_pages_by_start_at(
    make_issue: Callable[..., jira.Issue], sandbox: RunningSandbox
) -> None:
    """Data Center pages with startAt and tells the total on every page."""
    for number in range(5):
        make_issue(f"issue {number}")
    keys = []
    for start in (0, 2, 4):
        params: dict[str, Any] = {"jql": "project = SUP ORDER BY key", "startAt": start,
                                  "maxResults": 2}  # fmt: skip
        page = requests.get(f"{sandbox.rest_url}/search", params=params, **http_auth(sandbox))
        body = page.json()
        assert (body["startAt"], body["total"]) == (start, 5)
        keys += [i["key"] for i in body["issues"]]
    assert keys == [f"SUP-{n}" for n in range(1, 6)]


@pytest.mark.parametrize("dialect", ["cloud"])
@pytest.mark.parametrize("use_post", [False, True])
def test_cloud_search_through_every_client_method(
    make_issue: Callable[..., jira.Issue],
    client: jira.JIRA,
    sandbox: RunningSandbox,
    use_post: bool,
) -> None:
    """On Cloud, search_issues and enhanced_search_issues (GET or POST) all use /search/jql."""
    issue = make_issue(labels=["complaint"])
    sandbox.reset_calls()
    via_search = client.search_issues("labels = complaint", use_post=use_post)
    via_enhanced = client.enhanced_search_issues("labels = complaint", use_post=use_post)
    assert [i.key for i in via_search] == [i.key for i in via_enhanced] == [issue.key]
    method = "POST" if use_post else "GET"
    assert sandbox.calls[f"{method} /rest/api/3/search/jql"] == 2
    assert sandbox.calls["GET /rest/api/3/search"] == 0


@pytest.mark.parametrize("dialect", ["cloud"])
def test_cloud_search_token_pages(
    make_issue: Callable[..., jira.Issue], sandbox: RunningSandbox
) -> None:
    """Small pages chain through nextPageToken until isLast, with no total."""
    for number in range(5):
        make_issue(f"issue {number}")
    keys, token, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"jql": "project = SUP ORDER BY key", "maxResults": 2}
        if token:
            params["nextPageToken"] = token
        page = requests.get(
            f"{sandbox.rest_url}/search/jql", params=params, **http_auth(sandbox)
        ).json()
        assert "total" not in page
        keys += [i["key"] for i in page["issues"]]
        pages += 1
        token = page.get("nextPageToken")
        if page["isLast"]:
            break
    assert keys == [f"SUP-{n}" for n in range(1, 6)]
    assert pages == 3


@pytest.mark.parametrize("dialect", ["cloud"])
def test_cloud_old_search_is_gone(sandbox: RunningSandbox) -> None:
    """Cloud answers the removed /rest/api/3/search with 410, like Jira Cloud today."""
    response = requests.get(f"{sandbox.rest_url}/search", params={"jql": "project = SUP"},
                            **http_auth(sandbox))  # fmt: skip
    assert response.status_code == 410
    assert "search/jql" in response.json()["errorMessages"][0]


@pytest.mark.parametrize("dialect", ["datacenter"])
def test_datacenter_has_no_search_jql(sandbox: RunningSandbox) -> None:
    """Data Center has no /search/jql, and no /rest/api/3 either."""
    assert requests.get(f"{sandbox.rest_url}/search/jql", **http_auth(sandbox)).status_code == 404
    assert requests.get(f"{sandbox.url}/rest/api/3/myself", **http_auth(sandbox)).status_code == 404


def test_wrong_credentials_answer_401(sandbox: RunningSandbox) -> None:
    """A wrong token gets Jira's 401 error collection, and nothing is created."""
    wrong = {"basic_auth": ("support@example.test", "wrong")} if sandbox.dialect == "cloud" \
        else {"token_auth": "wrong"}  # fmt: skip
    with pytest.raises(jira.JIRAError) as info:
        connect(sandbox, **wrong).myself()
    assert info.value.status_code == 401
    assert error_body(info.value)["errorMessages"]


def test_missing_credentials_answer_401(sandbox: RunningSandbox) -> None:
    """Without credentials only serverInfo answers."""
    assert requests.get(f"{sandbox.rest_url}/serverInfo", timeout=5).status_code == 200
    response = requests.post(f"{sandbox.rest_url}/issue", json={"fields": {}}, timeout=5)
    assert response.status_code == 401
    assert sandbox.state.issues == {}


def test_missing_issue_answers_404(client: jira.JIRA) -> None:
    """An unknown key is a 404 with Jira's message."""
    with pytest.raises(jira.JIRAError) as info:
        client.issue("SUP-404")
    assert info.value.status_code == 404


def test_calls_are_counted_per_endpoint(
    make_issue: Callable[..., jira.Issue], sandbox: RunningSandbox
) -> None:
    """Calls are counted by method and path template, and can be reset."""
    sandbox.reset_calls()
    make_issue()
    make_issue()
    version = "3" if sandbox.dialect == "cloud" else "2"
    assert sandbox.calls[f"POST /rest/api/{version}/issue"] == 2
    assert sandbox.calls[f"GET /rest/api/{version}/issue/{{issueIdOrKey}}"] == 2
    sandbox.reset_calls()
    assert sum(sandbox.calls.values()) == 0


def test_invalid_json_body_is_a_400(sandbox: RunningSandbox) -> None:
    """A body that is not JSON is refused with Jira's error shape."""
    response = requests.post(f"{sandbox.rest_url}/issue", data=b"{nope", **http_auth(sandbox))
    assert response.status_code == 400
    assert json.loads(response.text)["errorMessages"]


def error_body(error: jira.JIRAError) -> Any:
    """The JSON body of the response behind a client error."""
    assert error.response is not None
    return error.response.json()


def test_create_can_set_issue_properties(sandbox: RunningSandbox) -> None:
    """Properties sent with a create are stored on the new issue; malformed ones are a 400."""
    fields = {"project": {"key": "SUP"}, "issuetype": {"id": "10001"}, "summary": "s"}
    body = {"fields": fields, "properties": [{"key": "recovery", "value": {"thread": "<a@b>"}}]}
    created = requests.post(f"{sandbox.rest_url}/issue", json=body, **http_auth(sandbox))
    assert created.status_code == 201
    assert sandbox.state.properties(created.json()["key"]) == {"recovery": {"thread": "<a@b>"}}
    refused = requests.post(
        f"{sandbox.rest_url}/issue",
        json={"fields": fields, "properties": [{"value": 1}]},
        **http_auth(sandbox),
    )
    assert refused.status_code == 400
    assert len(sandbox.state.issues) == 1


@pytest.mark.parametrize("dialect", ["cloud"])
def test_cloud_page_token_is_bound_to_its_query(
    make_issue: Callable[..., jira.Issue], sandbox: RunningSandbox
) -> None:
    """A nextPageToken used with another query, or made up, is refused with a 400."""
    for number in range(3):
        make_issue(f"issue {number}")
    url = f"{sandbox.rest_url}/search/jql"
    first_page: dict[str, Any] = {"jql": "project = SUP", "maxResults": 1}
    first = requests.get(url, params=first_page, **http_auth(sandbox))
    token = first.json()["nextPageToken"]
    for jql_text, page_token in (("project = OPS", token), ("project = SUP", "made-up")):
        params = {"jql": jql_text, "nextPageToken": page_token}
        response = requests.get(url, params=params, **http_auth(sandbox))
        assert response.status_code == 400


def test_changelog_records_reopen_and_priority_raise(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, sandbox: RunningSandbox,
    clock: FrozenClock,
) -> None:  # fmt: skip
    """Status, resolution and priority changes appear in the changelog, oldest first."""
    issue = make_issue(priority={"name": "Low"})
    client.transition_issue(issue, "41")
    clock.advance(timedelta(days=2))
    client.transition_issue(issue, "11")
    issue.update(fields={"priority": {"name": "Highest"}})
    histories = client.issue(issue.key, expand="changelog").changelog.histories
    changes = [[(i.field, i.fromString, i.toString) for i in h.items] for h in histories]
    assert changes == [
        [("status", "To Do", "Done"), ("resolution", None, "Done")],
        [("status", "Done", "To Do"), ("resolution", "Done", None)],
        [("priority", "Low", "Highest")],
    ]
    assert histories[1].created == "2026-03-04T09:00:00.000+0000"
    if sandbox.dialect == "cloud":
        page = requests.get(
            f"{sandbox.rest_url}/issue/{issue.key}/changelog", **http_auth(sandbox)
        ).json()
        assert [v["id"] for v in page["values"]] == [h.id for h in histories]


def test_every_exchange_goes_through_the_contract(
    sandbox: RunningSandbox, contract: ContractRecorder
) -> None:
    """The fixture's contract sees each Jira call the sandbox answers."""
    before = contract.checked
    for _ in range(3):
        requests.get(f"{sandbox.rest_url}/myself", **http_auth(sandbox))
    requests.post(f"{sandbox.rest_url}/issue", json={"fields": {}}, **http_auth(sandbox))
    assert contract.checked - before == 4
    assert contract.failures == []


def test_property_keys_are_url_decoded(
    make_issue: Callable[..., jira.Issue], sandbox: RunningSandbox
) -> None:
    """A property key sent percent-encoded is stored decoded, as Jira does."""
    issue = make_issue()
    url = f"{sandbox.rest_url}/issue/{issue.key}/properties/recovery%20state"
    assert requests.put(url, json=[1], **http_auth(sandbox)).status_code == 201
    assert sandbox.state.properties(issue.key) == {"recovery state": [1]}


def test_createmeta_fields_say_what_is_required(client: jira.JIRA, sandbox: RunningSandbox) -> None:
    """A sub-task type requires a parent; every type requires summary; priorities are offered."""

    def fields_of(type_id: str) -> dict[str, Any]:
        url = f"{sandbox.rest_url}/issue/createmeta/SUP/issuetypes/{type_id}"
        page = requests.get(url, **http_auth(sandbox)).json()
        return {f["fieldId"]: f for f in page["fields" if sandbox.dialect == "cloud" else "values"]}

    task, subtask = fields_of("10001"), fields_of("10003")
    assert task["summary"]["required"]
    assert "parent" not in task
    assert subtask["parent"]["required"]
    assert next(p["name"] for p in task["priority"]["allowedValues"]) == "Highest"
    if sandbox.dialect == "datacenter":
        fields = client.project_issue_fields("SUP", "10003")
        assert "parent" in {f.fieldId for f in fields}
