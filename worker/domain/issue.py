"""Jira issues as the worker sees them: what it creates, what it reads back, what changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from worker.domain.document import Document


class Dialect(StrEnum):
    CLOUD = "cloud"
    DATACENTER = "datacenter"


class StatusCategory(StrEnum):
    """Jira's three status categories, by their stable keys."""

    TODO = "new"
    IN_PROGRESS = "indeterminate"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class IssueRef:
    key: str
    id: str


@dataclass(frozen=True, slots=True)
class NewIssue:
    """An issue to create; ``parent`` makes it a subtask of that issue."""

    project: str
    issue_type: str
    summary: str
    description: Document
    labels: tuple[str, ...] = ()
    priority: str | None = None
    assignee: str | None = None
    parent: str | None = None
    due: date | None = None


@dataclass(frozen=True, slots=True)
class CreateFailed:
    """One item of a bulk create that Jira refused, with Jira's reasons."""

    index: int
    errors: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One change from an issue's history (status, priority, labels, ...), as display strings."""

    field: str
    from_string: str | None
    to_string: str | None
    at: datetime
    author: str | None = None


@dataclass(frozen=True, slots=True)
class Issue:
    """What the worker reads back about an issue; rich text is flattened to plain text."""

    key: str
    id: str
    project: str
    issue_type: str
    summary: str
    status: str
    status_category: StatusCategory
    created_at: datetime
    updated_at: datetime
    resolution: str | None = None
    resolved_at: datetime | None = None
    labels: tuple[str, ...] = ()
    priority: str | None = None
    assignee: str | None = None
    reporter: str | None = None
    parent: str | None = None
    subtasks: tuple[str, ...] = ()
    due: date | None = None
    description: str = ""
    #: Extra fields asked for by id (a root-cause custom field, say), as plain text.
    extra: Mapping[str, str] = field(default_factory=dict)
    #: The issue's changes, oldest first; filled only when a search asks for them.
    history: tuple[FieldChange, ...] = ()


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment; ``public`` is False for an internal note, None where Jira has no such notion."""

    id: str
    issue_key: str
    author: str | None
    body: str
    created_at: datetime
    updated_at: datetime
    public: bool | None = None
    visibility: str | None = None


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One line of ``recovery-worker check``: what was checked, whether it holds, how to fix it."""

    name: str
    ok: bool
    detail: str = ""
