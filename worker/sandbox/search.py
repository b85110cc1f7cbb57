"""Search over the sandbox's issues: JQL fields, ordering, page tokens, and Cloud's indexing lag."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from worker.clock import Clock
from worker.sandbox import jql
from worker.sandbox.state import (
    CATEGORIES,
    ISSUE_TYPES,
    PRIORITIES,
    PROJECTS,
    RESOLUTIONS,
    SandboxState,
    status_by_id,
    user_by_account,
)


def _lookup(name: str) -> Callable[[Any], Any]:
    return lambda issue: issue[name]


_KEY = jql.FieldSpec("key", lambda i: (i["key"], i["id"]))
JQL_FIELDS: dict[str, jql.FieldSpec] = {
    "project": jql.FieldSpec("match", _lookup("project")),
    "labels": jql.FieldSpec("list", _lookup("labels")),
    "status": jql.FieldSpec("match", _lookup("status")),
    "statuscategory": jql.FieldSpec("match", _lookup("category")),
    "priority": jql.FieldSpec("match", _lookup("priority")),
    "issuetype": jql.FieldSpec("match", _lookup("issuetype")),
    "type": jql.FieldSpec("match", _lookup("issuetype")),
    "resolution": jql.FieldSpec(
        "match", _lookup("resolution"), empty_names=frozenset({"unresolved"})
    ),
    "assignee": jql.FieldSpec("match", _lookup("assignee")),
    "reporter": jql.FieldSpec("match", _lookup("reporter")),
    "parent": jql.FieldSpec("match", _lookup("parent")),
    "key": _KEY,
    "issuekey": _KEY,
    "id": _KEY,
    "created": jql.FieldSpec("date", _lookup("created")),
    "createddate": jql.FieldSpec("date", _lookup("created")),
    "updated": jql.FieldSpec("date", _lookup("updated")),
    "updateddate": jql.FieldSpec("date", _lookup("updated")),
    "resolved": jql.FieldSpec("date", _lookup("resolutiondate")),
    "resolutiondate": jql.FieldSpec("date", _lookup("resolutiondate")),
    "due": jql.FieldSpec("date", _lookup("due")),
    "duedate": jql.FieldSpec("date", _lookup("due")),
    "text": jql.FieldSpec("text", _lookup("text")),
    "summary": jql.FieldSpec("text", _lookup("summary")),
    "description": jql.FieldSpec("text", _lookup("description")),
    "comment": jql.FieldSpec("text", _lookup("comment")),
}

SORTABLE = {
    "created", "updated", "key", "issuekey", "priority", "status", "duedate",
    "resolutiondate", "resolved", "summary", "id",
}  # fmt: skip


class SearchIndex:
    """What search sees of the issues; new issues may be held back, as Cloud's index does."""

    def __init__(self, state: SandboxState, clock: Clock, plain: Callable[[Any], str]) -> None:
        self.state = state
        self.clock = clock
        self.plain = plain
        # Issues not yet visible to search: id -> (visible from, searches left).
        self.unindexed: dict[str, tuple[datetime, int]] = {}

    def hold_back(self, issue_id: str, until: datetime, searches: int) -> None:
        """Keep an issue out of results until `until` and for `searches` more searches."""
        with self.state.lock:
            self.unindexed[issue_id] = (until, searches)

    def query(
        self, query_text: str, reconcile: set[str], *, consume_lag: bool
    ) -> list[dict[str, Any]]:
        """The issues matching a JQL string, ordered; raise JqlError for what is not supported."""
        now = self.clock.now()
        query = jql.parse(query_text)
        fields = JQL_FIELDS
        jql.check(query.where, fields, now)
        for name, _ in query.order_by:
            if name not in SORTABLE:
                raise jql.JqlError(f"Not able to sort using field '{name}'.")
        with self.state.lock:
            issues = list(self.state.issues.values())
            matched = [
                i
                for i in issues
                if self.visible(i, reconcile, now, consume_lag)
                and jql.evaluate(query.where, self.flatten(i), fields, now)
            ]
        # Newest first when the query names no order; ties keep the newest first too.
        matched.sort(key=lambda i: int(i["id"]), reverse=True)
        for name, descending in reversed(query.order_by or (("created", True),)):
            matched.sort(key=lambda i, n=name: sort_key(i, n), reverse=descending)  # type: ignore[misc]
        return matched

    def visible(
        self, issue: dict[str, Any], reconcile: set[str], now: datetime, consume: bool
    ) -> bool:
        pending = self.unindexed.get(issue["id"])
        if pending is None or issue["id"] in reconcile:
            return True
        visible_from, calls_left = pending
        if now >= visible_from and calls_left <= 0:
            del self.unindexed[issue["id"]]
            return True
        if consume and calls_left > 0:
            self.unindexed[issue["id"]] = (visible_from, calls_left - 1)
        return False

    def flatten(self, issue: dict[str, Any]) -> dict[str, Any]:
        """The issue as JQL sees it: every name or id a clause may compare against."""
        status = status_by_id(issue["status"])
        category = CATEGORIES[status.category]
        issue_type = next(t for t in ISSUE_TYPES if t.id == issue["issuetype"])
        project = next(p for p in PROJECTS if p.key == issue["project"])
        resolution = next((r for r in RESOLUTIONS if r[0] == issue["resolution"]), None)
        description = self.plain(issue["description"])
        comments = " ".join(self.plain(c["body"]) for c in issue["comments"])
        parent = self.state.issues.get(issue["parent"] or "")

        def person(account_id: str | None) -> tuple[str, ...] | None:
            user = user_by_account(account_id)
            return None if user is None else (user.account_id, user.name, user.email)

        return {
            "project": (project.key, project.id, project.name),
            "labels": issue["labels"],
            "status": (status.name, status.id),
            "category": (category["name"], category["key"], str(category["id"])),
            "priority": (dict(PRIORITIES)[issue["priority"]], issue["priority"]),
            "issuetype": (issue_type.name, issue_type.id),
            "resolution": resolution and (resolution[1], resolution[0]),
            "assignee": person(issue["assignee"]),
            "reporter": person(issue["reporter"]),
            "parent": parent and (parent["key"], parent["id"]),
            "key": issue["key"],
            "id": issue["id"],
            "created": issue["created"],
            "updated": issue["updated"],
            "resolutiondate": issue["resolutiondate"],
            "due": datetime.combine(date.fromisoformat(issue["duedate"]), datetime.min.time(), UTC)
            if issue["duedate"]
            else None,
            "summary": issue["summary"],
            "description": description,
            "comment": comments,
            "text": " ".join((issue["summary"], description, comments)),
        }


def make_token(offset: int, query_text: str) -> str:
    """An opaque nextPageToken: the offset, bound to the query it pages through."""
    raw = json.dumps({"o": offset, "q": _hash_text(query_text)})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def read_token(token: str, query_text: str) -> int:
    """The offset in a token from `make_token`; ValueError if it is not one for this query."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["q"] != _hash_text(query_text):
            raise ValueError("token for another query")
        return int(data["o"])
    except (KeyError, TypeError) as exc:
        raise ValueError("not a page token of this sandbox") from exc


def _hash_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sort_key(issue: dict[str, Any], name: str) -> Any:
    if name in ("key", "issuekey", "id"):
        project, _, number = issue["key"].partition("-")
        return (project, int(number))
    if name in ("resolved", "resolutiondate", "duedate"):
        value = issue["resolutiondate" if name != "duedate" else "duedate"]
        return (value is None, str(value))
    if name == "status":
        return status_by_id(issue["status"]).name
    if name == "priority":
        return -int(issue["priority"])  # descending puts Highest first, as in Jira
    return issue[name]
