"""JQL: the parser on its own, and queries through the sandbox's search in both dialects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jira
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from tests.sandbox.conftest import http_auth, rich, search_keys
from worker.clock import FrozenClock
from worker.sandbox import RunningSandbox
from worker.sandbox.jql import BoolOp, Clause, JqlError, Not, parse, parse_moment

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_parse_precedence_and_parentheses() -> None:
    """AND binds tighter than OR; parentheses and NOT group as written."""
    query = parse('project = SUP AND (labels = a OR NOT status = Done) OR key = "SUP-1"')
    assert isinstance(query.where, BoolOp)
    assert query.where.operator == "or"
    first = query.where.parts[0]
    assert isinstance(first, BoolOp)
    assert first.operator == "and"
    inner = first.parts[1]
    assert isinstance(inner, BoolOp)
    assert isinstance(inner.parts[1], Not)


def test_parse_quoted_strings_with_escapes() -> None:
    """Double and single quotes both work, and backslash escapes quotes and backslashes."""
    jql_text = r"""text ~ "say \"hi\" \\ now" AND summary ~ 'it\'s'"""
    assert parse(jql_text).where == BoolOp(
        "and", (Clause("text", "~", ('say "hi" \\ now',)), Clause("summary", "~", ("it's",)))
    )


def test_parse_in_lists_empty_and_order_by() -> None:
    """IN lists, IS EMPTY and a multi-field ORDER BY parse into clauses and sort keys."""
    query = parse("status NOT IN (Done, 'Waiting for customer') AND labels IS EMPTY "
                  "ORDER BY priority DESC, created ASC")  # fmt: skip
    assert query.where == BoolOp(
        "and",
        (
            Clause("status", "not in", ("Done", "Waiting for customer")),
            Clause("labels", "is", (None,)),
        ),
    )
    assert query.order_by == (("priority", True), ("created", False))


@pytest.mark.parametrize(
    "query",
    [
        "project = SUP AND",
        "project SUP",
        'summary ~ "unterminated',
        "assignee = currentUser()",
        "updated > startOfDay()",
        "project = SUP ORDER created",
        "(project = SUP",
        "project IN (SUP OPS)",
        "labels = a b",
        "project = SUP & labels = a",
    ],
)
def test_parse_rejects_malformed_or_unsupported(query: str) -> None:
    """Malformed JQL and functions the sandbox does not implement are errors, not guesses."""
    with pytest.raises(JqlError):
        parse(query)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-5m", NOW - timedelta(minutes=5)),
        ("-1d", NOW - timedelta(days=1)),
        ("-2w", NOW - timedelta(weeks=2)),
        ("3h", NOW + timedelta(hours=3)),
        ("2026-01-02", datetime(2026, 1, 2, tzinfo=UTC)),
        ("2026-01-02 10:00", datetime(2026, 1, 2, 10, 0, tzinfo=UTC)),
        ("2026/01/02 10:00", datetime(2026, 1, 2, 10, 0, tzinfo=UTC)),
    ],
)
def test_parse_moment(value: str, expected: datetime) -> None:
    """Relative periods count from now; absolute dates are read in UTC."""
    assert parse_moment(value, NOW) == expected


def test_parse_moment_rejects_other_formats() -> None:
    """A date JQL would not understand is an error."""
    with pytest.raises(JqlError):
        parse_moment("yesterday", NOW)


@pytest.fixture
def seeded(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, clock: FrozenClock,
    sandbox: RunningSandbox,
) -> dict[str, str]:  # fmt: skip
    """Four issues an hour apart, with different labels, priorities, statuses and texts."""
    keys = {}
    keys["angry"] = make_issue(
        "Invoice export crashed", labels=["complaint"], priority={"name": "Highest"}
    ).key
    clock.advance(timedelta(hours=1))
    keys["polite"] = make_issue('Question about "quoted" exports', labels=["question"]).key
    clock.advance(timedelta(hours=1))
    keys["ops"] = make_issue(
        "Disk almost full", project={"key": "OPS"}, priority={"name": "Low"}
    ).key
    clock.advance(timedelta(hours=1))
    keys["waiting"] = make_issue("Refund for March", labels=["complaint", "billing"]).key
    client.transition_issue(keys["waiting"], "31")
    client.add_comment(keys["polite"], rich(sandbox, "The client mentions a chargeback"))
    return keys


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("project = SUP", ["waiting", "polite", "angry"]),
        ("project in (OPS) OR labels = question", ["ops", "polite"]),
        ("labels = complaint AND NOT labels = billing", ["angry"]),
        ("labels is EMPTY", ["ops"]),
        ("labels != complaint", ["polite"]),
        ("labels not in (question) OR labels is EMPTY", ["waiting", "ops", "angry"]),
        ("resolution = Unresolved AND project = OPS", ["ops"]),
        ('status = "Waiting for customer"', ["waiting"]),
        ("statusCategory = indeterminate", ["waiting"]),
        ('statusCategory != "Done"', ["waiting", "ops", "polite", "angry"]),
        ("priority in (Highest, High)", ["angry"]),
        ("created >= -90m", ["waiting", "ops"]),
        ("updated < -2h", ["angry"]),
        ('created >= "2026-03-02 10:00" AND created < "2026-03-02 11:00"', ["polite"]),
        ('text ~ "chargeback"', ["polite"]),
        ('summary ~ "export*"', ["polite", "angry"]),
        ('text ~ "\\"quoted\\""', ["polite"]),
        ("key = SUP-1 OR issuekey in (OPS-1)", ["ops", "angry"]),
        ("project = SUP ORDER BY created ASC", ["angry", "polite", "waiting"]),
        ("project = SUP ORDER BY priority DESC, key ASC", ["angry", "polite", "waiting"]),
    ],
)
def test_search_matches(
    query: str, expected: list[str], seeded: dict[str, str], client: jira.JIRA,
    sandbox: RunningSandbox,
) -> None:  # fmt: skip
    """Each supported clause selects exactly the issues it names, in the asked order."""
    assert search_keys(client, sandbox, query) == [seeded[name] for name in expected]


def test_parent_clause_finds_subtasks(
    make_issue: Callable[..., jira.Issue], client: jira.JIRA, sandbox: RunningSandbox
) -> None:
    """parent = KEY lists the sub-tasks of that issue."""
    parent = make_issue()
    child = make_issue("KNOW", issuetype={"name": "Sub-task"}, parent={"key": parent.key})
    make_issue("unrelated")
    assert search_keys(client, sandbox, f"parent = {parent.key}") == [child.key]


@pytest.mark.parametrize(
    "query",
    [
        "assignee = currentUser()",
        "cf[10010] = x",
        "sprint = 5",
        "labels ~ complaint",
        "project = SUP ORDER BY rank",
        "updated > someday",
        "project = SUP AND",
    ],
)
def test_unsupported_jql_is_a_400(query: str, sandbox: RunningSandbox) -> None:
    """Unsupported JQL answers Jira's 400 error collection, never a silent result."""
    path = "search/jql" if sandbox.dialect == "cloud" else "search"
    response = requests.get(
        f"{sandbox.rest_url}/{path}", params={"jql": query}, **http_auth(sandbox)
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {}
    assert body["errorMessages"]


@pytest.mark.parametrize("dialect", ["cloud"])
def test_cloud_refuses_unbounded_search(sandbox: RunningSandbox) -> None:
    """Cloud's /search/jql wants a restriction; an empty or ORDER BY-only query is a 400."""
    for query in ("", "ORDER BY created"):
        response = requests.get(
            f"{sandbox.rest_url}/search/jql", params={"jql": query}, **http_auth(sandbox)
        )
        assert response.status_code == 400


def _quote(value: str) -> str:
    """Quote a JQL string the way a careful client does."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@given(
    values=st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=30), min_size=1,
                    max_size=4),
    negate=st.booleans(),
)  # fmt: skip
def test_quoted_values_come_back_unchanged(values: list[str], negate: bool) -> None:
    """Any text quoted and escaped by a client parses back to exactly that text."""
    listed = ", ".join(_quote(v) for v in values)
    query = f"summary ~ {_quote(values[0])} AND labels {'NOT IN' if negate else 'IN'} ({listed})"
    where = parse(query).where
    assert where == BoolOp(
        "and",
        (
            Clause("summary", "~", (values[0],)),
            Clause("labels", "not in" if negate else "in", tuple(values)),
        ),
    )
