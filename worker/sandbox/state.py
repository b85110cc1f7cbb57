"""The sandbox's data: seeded reference data, issues and their parts, and the file they live in."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from worker.errors import ConfigurationError

Dialect = Literal["cloud", "datacenter"]

# Status categories as Jira numbers them.
CATEGORIES: dict[str, dict[str, Any]] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {
        "id": 4,
        "key": "indeterminate",
        "colorName": "yellow",
        "name": "In Progress",
    },
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: str


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: str  # status id


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    subtask: bool
    description: str


@dataclass(frozen=True)
class User:
    account_id: str
    name: str
    display_name: str
    email: str


@dataclass(frozen=True)
class Project:
    id: str
    key: str
    name: str
    lead: str  # account id


STATUSES = (
    Status("10000", "To Do", "new"),
    Status("3", "In Progress", "indeterminate"),
    Status("10001", "Waiting for customer", "indeterminate"),
    Status("10002", "Done", "done"),
)
TRANSITIONS = (
    Transition("11", "To Do", "10000"),
    Transition("21", "Start progress", "3"),
    Transition("31", "Wait for customer", "10001"),
    Transition("41", "Done", "10002"),
)
PRIORITIES = (("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest"))
DEFAULT_PRIORITY = "3"
RESOLUTIONS = (
    ("10000", "Done", "Work has been completed on this issue."),
    ("10001", "Won't Do", "This issue won't be actioned."),
    ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
)
ISSUE_TYPES = (
    IssueType("10001", "Task", False, "A small, distinct piece of work."),
    IssueType("10002", "Bug", False, "A problem or error."),
    IssueType("10003", "Sub-task", True, "A part of a larger task."),
)
LINK_TYPES = (
    ("10000", "Relates", "relates to", "relates to"),
    ("10001", "Blocks", "is blocked by", "blocks"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
)
USERS = (
    User("5b10ac8d82e05b22cc7d4ef5", "support", "Support Desk", "support@example.test"),
    User("5b10a2844c20165700ede21g", "alice", "Alice Martin", "alice@example.test"),
    User("5b109f2e9729b51b54dc274d", "bob", "Bob Keller", "bob@example.test"),
)
PROJECTS = (
    Project("10000", "SUP", "Support", USERS[0].account_id),
    Project("10001", "OPS", "Operations", USERS[1].account_id),
)


def status_by_id(status_id: str) -> Status:
    return next(s for s in STATUSES if s.id == status_id)


def user_by_account(account_id: str | None) -> User | None:
    return next((u for u in USERS if u.account_id == account_id), None)


@dataclass
class SandboxState:
    """Everything the sandbox remembers. Guarded by `lock`; persisted as JSON when a file is set.

    Issues are plain dicts with stable keys (see `server.new_issue`), so the file stays readable
    and tests can look inside.
    """

    dialect: Dialect
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)  # by key
    links: list[dict[str, str]] = field(default_factory=list)
    next_issue_id: int = 10000
    next_comment_id: int = 10000
    next_link_id: int = 10000
    next_history_id: int = 10000
    project_counters: dict[str, int] = field(default_factory=dict)
    path: Path | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def comments(self, key: str) -> list[dict[str, Any]]:
        """The comments of an issue, oldest first."""
        with self.lock:
            return list(self.issues[key]["comments"])

    def properties(self, key: str) -> dict[str, Any]:
        """The issue properties of an issue."""
        with self.lock:
            return dict(self.issues[key]["properties"])

    def by_id(self, issue_id: str) -> dict[str, Any] | None:
        with self.lock:
            return next((i for i in self.issues.values() if i["id"] == issue_id), None)

    def find(self, id_or_key: str) -> dict[str, Any] | None:
        """An issue by key (case-insensitive) or numeric id."""
        with self.lock:
            return self.issues.get(id_or_key.upper()) or self.by_id(id_or_key)

    def save(self) -> None:
        """Write the state to its file atomically, when it has one."""
        if self.path is None:
            return
        with self.lock:
            document = {
                "dialect": self.dialect,
                "issues": self.issues,
                "links": self.links,
                "next_issue_id": self.next_issue_id,
                "next_comment_id": self.next_comment_id,
                "next_link_id": self.next_link_id,
                "next_history_id": self.next_history_id,
                "project_counters": self.project_counters,
            }
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(json.dumps(document, default=_encode, indent=1), encoding="utf-8")
            os.replace(temporary, self.path)

    @classmethod
    def load(cls, dialect: Dialect, path: Path | None) -> SandboxState:
        """Fresh state, or the state kept in `path` when that file exists."""
        if path is None or not path.exists():
            return cls(dialect=dialect, path=path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"sandbox data file {path} is unreadable: {exc}") from exc
        if document.get("dialect") != dialect:
            raise ConfigurationError(
                f"sandbox data file {path} holds {document.get('dialect')} data, not {dialect}"
            )
        return cls(
            dialect=dialect,
            issues=document["issues"],
            links=document["links"],
            next_issue_id=document["next_issue_id"],
            next_comment_id=document["next_comment_id"],
            next_link_id=document["next_link_id"],
            next_history_id=document.get("next_history_id", 10000),
            project_counters=document["project_counters"],
            path=path,
        )


def _encode(value: object) -> object:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode(value: dict[str, Any]) -> object:
    if set(value) == {"$datetime"}:
        return datetime.fromisoformat(value["$datetime"])
    return value
