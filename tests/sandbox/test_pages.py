"""The sandbox's read-only page of its issues, fetched over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable

import jira
import pytest
import requests

from tests.sandbox.conftest import rich
from worker.sandbox import RunningSandbox
from worker.sandbox.state import USERS

HOSTILE = "<script>alert('x')</script> & \"quoted\""


def _article(page: str, key: str) -> str:
    """The page from one issue's article on."""
    start = page.index(f'<article class="issue" id="{key}">')
    return page[start:]


@pytest.fixture
def made(
    client: jira.JIRA, sandbox: RunningSandbox, make_issue: Callable[..., jira.Issue]
) -> dict[str, str]:
    """A parent with hostile text, a label and a due date; a subtask; comments on both."""
    parent = make_issue(
        f"Recovery: {HOSTILE}",
        labels=["recovery", "sla-breached"],
        duedate="2026-03-04",
        description=rich(sandbox, "Client wrote: <img src=x onerror=alert(1)>"),
    )
    subtask = make_issue(
        "KNOW: the client <b>bold</b>",
        issuetype={"name": "Sub-task"},
        parent={"key": parent.key},
        labels=["recovery-know"],
        duedate="2026-03-05",
    )
    client.add_comment(parent.key, rich(sandbox, "Called the client </div><script>x()</script>"))
    client.add_comment(subtask.key, rich(sandbox, "Timeline written down"))
    other = make_issue("Follow-up call", labels=["recovery-followup"])
    client.create_issue_link("Relates", parent.key, other.key)
    return {"parent": parent.key, "subtask": subtask.key, "other": other.key}


@pytest.mark.parametrize("path", ["/", "/issues"])
def test_the_page_lists_issues_with_subtasks_comments_labels_and_due_dates_escaped(
    sandbox: RunningSandbox, made: dict[str, str], path: str
) -> None:
    """Without credentials the page answers HTML: every issue, its parts, no live markup."""
    response = requests.get(sandbox.url + path, timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    # Nothing the issues hold is markup on the page.
    assert "<script>" not in page
    assert "<img" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;/div&gt;&lt;script&gt;x()&lt;/script&gt;" in page

    parent = _article(page, made["parent"])
    subtasks = parent[parent.index('<section class="subtasks">') :]
    # The subtask is shown inside its parent, with its own label, due date and comment.
    assert f'id="{made["subtask"]}"' in subtasks
    assert "KNOW: the client &lt;b&gt;bold&lt;/b&gt;" in subtasks
    assert '<span class="label">recovery-know</span>' in subtasks
    assert "2026-03-05" in subtasks
    assert "Timeline written down" in subtasks
    # The parent's own fields and comment.
    head = parent[: parent.index('<section class="subtasks">')]
    assert '<span class="label">recovery</span><span class="label">sla-breached</span>' in head
    assert "<dt>Due</dt><dd>2026-03-04</dd>" in head
    assert "<dt>Status</dt><dd>To Do</dd>" in head
    assert f'relates to <a href="#{made["other"]}">{made["other"]}</a>' in head
    assert "Comments (1)" in parent
    assert USERS[0].display_name in parent
    # Top-level issues newest first; the subtask is not listed on its own.
    tops = re.findall(r'<h2><a class="key" href="#([A-Z]+-\d+)">', page)
    assert tops == [made["other"], made["parent"]]
    assert page.count(f'id="{made["subtask"]}"') == 1


def test_an_empty_sandbox_says_so(sandbox: RunningSandbox) -> None:
    response = requests.get(sandbox.url + "/", timeout=5)

    assert response.status_code == 200
    assert "No issues yet." in response.text
    assert "0 issues" in response.text


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_the_page_refuses_writes_and_the_api_keeps_its_auth(
    sandbox: RunningSandbox, made: dict[str, str], method: str
) -> None:
    """A write to the page is a 405 that changes nothing; the API still wants credentials."""
    before = requests.get(sandbox.url + "/issues", timeout=5).text
    calls = sandbox.calls

    refused = requests.request(
        method, sandbox.url + "/issues", json={"fields": {"summary": "injected"}}, timeout=5
    )

    assert refused.status_code == 405
    assert refused.headers["Allow"] == "GET"
    assert requests.get(sandbox.url + "/issues", timeout=5).text == before
    assert sandbox.calls == calls  # the page is not part of the Jira API
    anonymous = requests.get(f"{sandbox.rest_url}/issue/{made['parent']}", timeout=5)
    assert anonymous.status_code == 401
