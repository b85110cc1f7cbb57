"""The tracker interface the core and the steps talk to, and the values it returns.

One implementation speaks to Jira (Cloud and Data Center) over HTTP; an
in-memory fake implements the same interface for tests of the steps. Users are
named by the dialect's id: accountId on Cloud, user name on Data Center.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Protocol

from worker.domain.document import Document
from worker.domain.issue import (
    CheckItem,
    Comment,
    CreateFailed,
    Dialect,
    Issue,
    IssueRef,
    NewIssue,
    StatusCategory,
)


class Tracker(Protocol):
    """What the worker needs from an issue tracker. Errors are those of :mod:`worker.errors`."""

    @property
    def dialect(self) -> Dialect: ...

    def check(
        self, project: str, issue_types: Sequence[str], subtask_type: str = ""
    ) -> list[CheckItem]:
        """Login, project and issue types (including a subtask type), each as a checklist item.

        ``subtask_type`` is the configured one, checked to be a subtask type; empty: any.
        """
        ...

    def subtask_issue_type(self, project: str) -> str:
        """The name of the project's subtask issue type, discovered from Jira."""
        ...

    def create_issue(self, issue: NewIssue) -> IssueRef: ...

    def create_issues(self, issues: Sequence[NewIssue]) -> list[IssueRef | CreateFailed]:
        """Create several issues in as few calls as Jira allows, results in the given order."""
        ...

    def get_issue(self, key: str, extra_fields: Sequence[str] = ()) -> Issue: ...

    def search(
        self,
        jql: str,
        *,
        extra_fields: Sequence[str] = (),
        limit: int | None = None,
        history: bool = False,
    ) -> Iterator[Issue]:
        """Every issue the query matches, paging as the dialect does; ``history`` adds changes."""
        ...

    def find_by_label(self, project: str, label: str) -> list[Issue]:
        """Issues carrying ``label``, for finding what a create whose answer was lost made."""
        ...

    def add_comment(self, key: str, body: Document) -> Comment: ...

    def comments(self, key: str) -> list[Comment]: ...

    def link(self, inward: str, outward: str, link_type: str = "Relates") -> None: ...

    def add_labels(self, key: str, labels: Sequence[str]) -> None: ...

    def remove_labels(self, key: str, labels: Sequence[str]) -> None: ...

    def set_priority(self, key: str, priority: str) -> None: ...

    def set_due(self, key: str, due: date, field_id: str = "duedate") -> None:
        """Show a deadline in Jira: the due date by default, or a configured date field."""
        ...

    def transition(self, key: str, to: StatusCategory | str) -> bool:
        """Move to a status (by name) or into a category; False when no transition leads there."""
        ...


def find_marked_comment(tracker: Tracker, key: str, marker: str) -> str | None:
    """The id of the issue's comment carrying ``marker``, or None.

    The worker writes a marker into comments it must not write twice; comments are
    read by issue, not through search, so one Jira made is already listed.
    """
    return next((c.id for c in tracker.comments(key) if marker in c.body), None)
