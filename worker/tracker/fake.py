"""An in-memory Tracker for tests of the steps; the shared contract tests keep it honest.

Besides the interface it offers what tests need: ``calls`` per method, ``fail``
to make the next call of a method raise (before or after it took effect, as a
lost answer does), and direct access to ``issues``, ``comment_log`` and ``links``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date

from worker.clock import Clock, SystemClock
from worker.domain.document import Document, cut_to_units
from worker.domain.issue import (
    CheckItem,
    Comment,
    CreateFailed,
    Dialect,
    FieldChange,
    Issue,
    IssueRef,
    NewIssue,
    StatusCategory,
)
from worker.errors import NotFound, RequestRejected

PROJECTS = ("SUP", "OPS")
ISSUE_TYPES = ("Task", "Bug")
SUBTASK_TYPE = "Sub-task"
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
STATUSES = {
    "To Do": StatusCategory.TODO,
    "In Progress": StatusCategory.IN_PROGRESS,
    "Waiting for customer": StatusCategory.IN_PROGRESS,
    "Done": StatusCategory.DONE,
}
LINK_TYPES = ("Relates", "Blocks", "Duplicate")
_EQ = re.compile(r'^\(?\s*(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*\)?$')


@dataclass
class _Failure:
    error: BaseException
    after: bool  # the call takes effect, then the error is raised (a lost answer)


class FakeTracker:
    """A Tracker holding issues in a dict; users are plain names."""

    def __init__(self, clock: Clock | None = None, dialect: Dialect = Dialect.DATACENTER) -> None:
        self._clock = clock or SystemClock()
        self._dialect = dialect
        self.issues: dict[str, Issue] = {}
        self.comment_log: dict[str, list[Comment]] = {}
        self.links: list[tuple[str, str, str]] = []  # (type, inward, outward)
        self.calls: Counter[str] = Counter()
        self._failures: dict[str, list[_Failure]] = {}
        self._counters: Counter[str] = Counter()
        self._next_id = 10000

    # --- test controls -------------------------------------------------------

    def fail(
        self, method: str, error: BaseException, *, after: bool = False, times: int = 1
    ) -> None:
        """Make the next ``times`` calls of ``method`` raise ``error`` (after acting, if asked)."""
        self._failures.setdefault(method, []).extend(_Failure(error, after) for _ in range(times))

    def _enter(self, method: str) -> _Failure | None:
        self.calls[method] += 1
        pending = self._failures.get(method)
        if not pending:
            return None
        failure = pending.pop(0)
        if not failure.after:
            raise failure.error
        return failure

    @staticmethod
    def _leave(failure: _Failure | None) -> None:
        if failure is not None:
            raise failure.error

    # --- the Tracker interface ------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def check(
        self, project: str, issue_types: Sequence[str], subtask_type: str = ""
    ) -> list[CheckItem]:
        self._leave(self._enter("check"))
        items = [CheckItem("login", True, f"logged in as support ({self._dialect})")]
        if project not in PROJECTS:
            items.append(CheckItem(f"project {project}", False, "NotFound: no such project"))
            return items
        items.append(CheckItem(f"project {project}", True, f"{len(ISSUE_TYPES) + 1} issue types"))
        for name in issue_types:
            if name:
                ok = name in ISSUE_TYPES
                items.append(CheckItem(f"issue type {name}", ok, "available" if ok else "missing"))
        ok = subtask_type in ("", SUBTASK_TYPE)
        items.append(CheckItem("subtask type", ok, SUBTASK_TYPE if ok else "not a subtask type"))
        return items

    def subtask_issue_type(self, project: str) -> str:
        self._leave(self._enter("subtask_issue_type"))
        if project not in PROJECTS:
            raise NotFound(f"no project {project}")
        return SUBTASK_TYPE

    def _validate(self, issue: NewIssue) -> dict[str, str]:
        errors: dict[str, str] = {}
        if issue.project not in PROJECTS:
            errors["project"] = "Specify a valid project ID or key"
        if issue.issue_type not in (*ISSUE_TYPES, SUBTASK_TYPE):
            errors["issuetype"] = "Specify a valid issue type"
        if not issue.summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        if issue.priority is not None and issue.priority not in PRIORITIES:
            errors["priority"] = f"Priority name '{issue.priority}' is not valid"
        if issue.issue_type == SUBTASK_TYPE and issue.parent not in self.issues:
            errors["parent"] = "Issue type is a sub-task but parent issue key or id not specified."
        return errors

    def _store(self, issue: NewIssue) -> IssueRef:
        now = self._clock.now()
        self._counters[issue.project] += 1
        self._next_id += 1
        key = f"{issue.project}-{self._counters[issue.project]}"
        self.issues[key] = Issue(
            key=key,
            id=str(self._next_id),
            project=issue.project,
            issue_type=issue.issue_type,
            summary=cut_to_units(issue.summary.replace("\n", " "), 255),
            status="To Do",
            status_category=StatusCategory.TODO,
            created_at=now,
            updated_at=now,
            labels=tuple(issue.labels),
            priority=issue.priority or "Medium",
            assignee=issue.assignee,
            reporter="support",
            parent=issue.parent,
            due=issue.due,
            description=issue.description.plain_text(),
        )
        if issue.parent:
            parent = self.issues[issue.parent]
            self.issues[issue.parent] = replace(parent, subtasks=(*parent.subtasks, key))
        return IssueRef(key, str(self._next_id))

    def create_issue(self, issue: NewIssue) -> IssueRef:
        failure = self._enter("create_issue")
        errors = self._validate(issue)
        if errors:
            raise RequestRejected("Jira refused the request (400): " + "; ".join(errors.values()))
        ref = self._store(issue)
        self._leave(failure)
        return ref

    def create_issues(self, issues: Sequence[NewIssue]) -> list[IssueRef | CreateFailed]:
        failure = self._enter("create_issues")
        results: list[IssueRef | CreateFailed] = []
        for number, issue in enumerate(issues):
            errors = self._validate(issue)
            results.append(CreateFailed(number, errors) if errors else self._store(issue))
        self._leave(failure)
        return results

    def _get(self, key: str) -> Issue:
        try:
            return self.issues[key]
        except KeyError:
            raise NotFound(f"not found in Jira: Issue Does Not Exist ({key})") from None

    def get_issue(self, key: str, extra_fields: Sequence[str] = ()) -> Issue:
        self._leave(self._enter("get_issue"))
        issue = self._get(key)
        return replace(issue, extra={name: issue.extra.get(name, "") for name in extra_fields})

    def search(
        self,
        jql: str,
        *,
        extra_fields: Sequence[str] = (),
        limit: int | None = None,
        history: bool = False,
    ) -> Iterator[Issue]:
        """Understands clauses ``field = "value"`` joined by AND (what the worker builds)."""
        self._leave(self._enter("search"))
        wanted: list[tuple[str, str]] = []
        for part in jql.split(" ORDER BY ", maxsplit=1)[0].split(" AND "):
            match = _EQ.match(part.strip())
            if match is None:
                raise RequestRejected(f"the fake tracker cannot read this JQL: {part!r}")
            wanted.append((match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))))
        found = [i for i in self.issues.values() if all(_matches(i, f, v) for f, v in wanted)]
        found.sort(key=lambda i: i.updated_at, reverse=True)
        chosen = found[:limit] if limit is not None else found
        yield from (i if history else replace(i, history=()) for i in chosen)

    def find_by_label(self, project: str, label: str) -> list[Issue]:
        self._leave(self._enter("find_by_label"))
        return [i for i in self.issues.values() if i.project == project and label in i.labels]

    def add_comment(self, key: str, body: Document) -> Comment:
        failure = self._enter("add_comment")
        issue = self._get(key)
        now = self._clock.now()
        self._next_id += 1
        comment = Comment(str(self._next_id), key, "support", body.plain_text(), now, now)
        self.comment_log.setdefault(key, []).append(comment)
        self.issues[key] = replace(issue, updated_at=now)
        self._leave(failure)
        return comment

    def comments(self, key: str) -> list[Comment]:
        self._leave(self._enter("comments"))
        self._get(key)
        return list(self.comment_log.get(key, []))

    def link(self, inward: str, outward: str, link_type: str = "Relates") -> None:
        failure = self._enter("link")
        self._get(inward)
        self._get(outward)
        if link_type not in LINK_TYPES:
            raise NotFound(f"No issue link type with name '{link_type}' found.")
        self.links.append((link_type, inward, outward))
        self._leave(failure)

    def _update(self, key: str, method: str, **changes: object) -> None:
        failure = self._enter(method)
        issue = self._get(key)
        now = self._clock.now()
        history = list(issue.history)
        for name in ("status", "priority", "resolution", "assignee", "summary"):
            if name in changes and changes[name] != getattr(issue, name):
                old, new = getattr(issue, name), changes[name]
                history.append(FieldChange(name, old, None if new is None else str(new), now))
        if "labels" in changes and changes["labels"] != issue.labels:
            labels = changes["labels"]
            assert isinstance(labels, tuple)
            history.append(FieldChange("labels", " ".join(issue.labels), " ".join(labels), now))
        self.issues[key] = replace(
            issue,
            updated_at=now,
            history=tuple(history),
            **changes,  # type: ignore[arg-type]
        )
        self._leave(failure)

    def touch(self, key: str, **changes: object) -> None:
        """Change an issue as a person in Jira would (no call counted), history kept."""
        self._update(key, "_touch", **changes)
        self.calls["_touch"] -= 1

    def add_labels(self, key: str, labels: Sequence[str]) -> None:
        current = self._get(key).labels
        added = tuple(label for label in labels if label not in current)
        self._update(key, "add_labels", labels=current + added)

    def remove_labels(self, key: str, labels: Sequence[str]) -> None:
        kept = tuple(label for label in self._get(key).labels if label not in labels)
        self._update(key, "remove_labels", labels=kept)

    def set_priority(self, key: str, priority: str) -> None:
        if priority not in PRIORITIES:
            raise RequestRejected(f"Priority name '{priority}' is not valid")
        self._update(key, "set_priority", priority=priority)

    def set_due(self, key: str, due: date, field_id: str = "duedate") -> None:
        if field_id == "duedate":
            self._update(key, "set_due", due=due)
        else:
            extra = {**self._get(key).extra, field_id: due.isoformat()}
            self._update(key, "set_due", extra=extra)

    def transition(self, key: str, to: StatusCategory | str) -> bool:
        self._get(key)
        for name, category in STATUSES.items():
            if (isinstance(to, StatusCategory) and category == to) or (
                not isinstance(to, StatusCategory) and name.lower() == to.lower()
            ):
                done = category == StatusCategory.DONE
                now = self._clock.now()
                self._update(
                    key,
                    "transition",
                    status=name,
                    status_category=category,
                    resolution="Done" if done else None,
                    resolved_at=now if done else None,
                )
                return True
        self.calls["transition"] += 1
        return False


def _matches(issue: Issue, field: str, value: str) -> bool:
    field = field.lower()
    if field == "project":
        return issue.project == value
    if field == "labels":
        return value in issue.labels
    if field in ("key", "issuekey"):
        return issue.key == value
    if field == "parent":
        return issue.parent == value
    if field == "status":
        return issue.status == value
    if field == "summary":
        return issue.summary == value
    raise RequestRejected(f"the fake tracker cannot search by {field}")
