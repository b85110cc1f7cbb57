"""``run --dry-run``: one pass of the real steps over the real inbox and Jira, writing nothing.

The pass is the service's own, with three things swapped for it:

- the store is a temporary copy of the real one, so cursors and earlier decisions count
  and the real file is never opened for writing;
- Jira is a :class:`DryRunTracker`: reads reach the real Jira, each write is noted as
  what would be done and answered with a made-up result so the pass can go on;
- every alert channel but Jira's (whose writes go through that tracker) is a
  :class:`NotedChannel` that notes the alert instead of sending it.

The inbox is read-only (IMAP EXAMINE, no keyword or move; Maildir files stay in new/).
What was decided and what would be done are printed once the pass is over.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TextIO

from worker.alerts.base import Alert, Channel
from worker.app import build_worker
from worker.clock import Clock, SystemClock
from worker.domain.decision import Decision
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
from worker.logs import configure_logging
from worker.retry import RetryPolicy
from worker.settings import Settings
from worker.steps import Services
from worker.store import Store, files, messages
from worker.tracker.base import Tracker
from worker.tracker.jira import JiraTracker
from worker.wiring import channels_from

#: Keys of the issues a dry run pretends to create; never sent to Jira.
FAKE_PROJECT = "DRYRUN"
#: How much of a summary or comment a printed line quotes.
EXCERPT = 100
_CATEGORY_NAMES = {
    StatusCategory.TODO: "To Do",
    StatusCategory.IN_PROGRESS: "In Progress",
    StatusCategory.DONE: "Done",
}


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass
class Plan:
    """What a dry run would have done, in the order the steps got there."""

    lines: list[str] = field(default_factory=list)

    def would(self, line: str) -> None:
        self.lines.append(line)


@dataclass
class _Made:
    issue: Issue
    comments: list[Comment] = field(default_factory=list)


class DryRunTracker:
    """A Tracker that reads from the real one and notes every write in a :class:`Plan`.

    Writes answer with made-up keys and ids (``DRYRUN-1``); reads of those are answered
    from what was noted, so the steps that follow in the pass see what they expect.
    """

    def __init__(
        self,
        connect: Callable[[], Tracker],
        plan: Plan,
        clock: Clock,
        *,
        recovery_label: str = "",
        followup_label: str = "",
    ) -> None:
        self._connect = connect
        self._real: Tracker | None = None
        self._plan = plan
        self._clock = clock
        self._recovery_label = recovery_label
        self._followup_label = followup_label
        self._made: dict[str, _Made] = {}
        self._comments: dict[str, list[Comment]] = {}
        self._counter = 0

    @property
    def real(self) -> Tracker:
        """The real tracker, connected on first use (as the service connects lazily)."""
        if self._real is None:
            self._real = self._connect()
        return self._real

    # --- reads ------------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        return self.real.dialect

    def check(
        self, project: str, issue_types: Sequence[str], subtask_type: str = ""
    ) -> list[CheckItem]:
        return self.real.check(project, issue_types, subtask_type)

    def subtask_issue_type(self, project: str) -> str:
        return self.real.subtask_issue_type(project)

    def get_issue(self, key: str, extra_fields: Sequence[str] = ()) -> Issue:
        made = self._made.get(key)
        return made.issue if made is not None else self.real.get_issue(key, extra_fields)

    def search(
        self,
        jql: str,
        *,
        extra_fields: Sequence[str] = (),
        limit: int | None = None,
        history: bool = False,
    ) -> Iterator[Issue]:
        return self.real.search(jql, extra_fields=extra_fields, limit=limit, history=history)

    def find_by_label(self, project: str, label: str) -> list[Issue]:
        made = [
            m.issue
            for m in self._made.values()
            if m.issue.project == project and label in m.issue.labels
        ]
        return [*self.real.find_by_label(project, label), *made]

    def comments(self, key: str) -> list[Comment]:
        noted = self._comments.get(key, [])
        if key in self._made:
            return list(noted)
        return [*self.real.comments(key), *noted]

    # --- writes -----------------------------------------------------------------------

    def create_issue(self, issue: NewIssue) -> IssueRef:
        ref = self._make(issue)
        if issue.parent is None:
            self._plan.would(self._describe(issue))
        else:
            parent = self._name(issue.parent)
            self._plan.would(f"would create a subtask under {parent}: '{excerpt(issue.summary)}'")
        return ref

    def create_issues(self, issues: Sequence[NewIssue]) -> list[IssueRef | CreateFailed]:
        refs: list[IssueRef | CreateFailed] = []
        under: dict[str | None, list[NewIssue]] = {}
        for issue in issues:
            refs.append(self._make(issue))
            under.setdefault(issue.parent, []).append(issue)
        for parent, group in under.items():
            if parent is None:
                for issue in group:
                    self._plan.would(self._describe(issue))
                continue
            count = f"{len(group)} subtask{'s' if len(group) != 1 else ''}"
            summaries = "".join(f"\n    '{excerpt(i.summary)}'" for i in group)
            self._plan.would(f"would create {count} under {self._name(parent)}:{summaries}")
        return refs

    def add_comment(self, key: str, body: Document) -> Comment:
        self._counter += 1
        now = self._clock.now()
        text = body.plain_text()
        comment = Comment(f"dry-run-{self._counter}", key, None, text, now, now)
        self._comments.setdefault(key, []).append(comment)
        self._plan.would(f"would comment on {self._name(key)}: {excerpt(text)}")
        return comment

    def link(self, inward: str, outward: str, link_type: str = "Relates") -> None:
        self._plan.would(f"would link {self._name(inward)} and {self._name(outward)} ({link_type})")

    def add_labels(self, key: str, labels: Sequence[str]) -> None:
        def add(issue: Issue) -> Issue:
            new = tuple(label for label in labels if label not in issue.labels)
            return replace(issue, labels=(*issue.labels, *new))

        self._update(key, add)
        self._plan.would(f"would add {_labels(labels)} to {self._name(key)}")

    def remove_labels(self, key: str, labels: Sequence[str]) -> None:
        self._update(
            key, lambda i: replace(i, labels=tuple(x for x in i.labels if x not in labels))
        )
        self._plan.would(f"would remove {_labels(labels)} from {self._name(key)}")

    def set_priority(self, key: str, priority: str) -> None:
        self._update(key, lambda i: replace(i, priority=priority))
        self._plan.would(f"would set the priority of {self._name(key)} to {priority}")

    def set_due(self, key: str, due: date, field_id: str = "duedate") -> None:
        self._update(key, lambda i: replace(i, due=due))
        where = "" if field_id == "duedate" else f" (field {field_id})"
        self._plan.would(f"would set the due date of {self._name(key)} to {due}{where}")

    def transition(self, key: str, to: StatusCategory | str) -> bool:
        if isinstance(to, StatusCategory):
            status = _CATEGORY_NAMES[to]
            self._update(key, lambda i: replace(i, status=status, status_category=to))
        else:
            status = to
        self._plan.would(f"would move {self._name(key)} to {status}")
        return True

    # --- what was noted -----------------------------------------------------------------

    def _make(self, new: NewIssue) -> IssueRef:
        self._counter += 1
        key = f"{FAKE_PROJECT}-{self._counter}"
        now = self._clock.now()
        issue = Issue(
            key=key,
            id=f"dry-run-{self._counter}",
            project=new.project,
            issue_type=new.issue_type,
            summary=new.summary,
            status=_CATEGORY_NAMES[StatusCategory.TODO],
            status_category=StatusCategory.TODO,
            created_at=now,
            updated_at=now,
            labels=tuple(new.labels),
            priority=new.priority,
            assignee=new.assignee,
            parent=new.parent,
            due=new.due,
            description=new.description.plain_text(),
        )
        self._made[key] = _Made(issue)
        parent = self._made.get(new.parent or "")
        if parent is not None:
            parent.issue = replace(parent.issue, subtasks=(*parent.issue.subtasks, key))
        return IssueRef(key, issue.id)

    def _update(self, key: str, change: Callable[[Issue], Issue]) -> None:
        """Change a made-up issue as the write would; a real one stays as Jira has it."""
        made = self._made.get(key)
        if made is not None:
            made.issue = change(made.issue)

    def _kind(self, labels: Sequence[str]) -> str:
        if self._recovery_label and self._recovery_label in labels:
            return "recovery"
        if self._followup_label and self._followup_label in labels:
            return "follow-up task"
        return ""

    def _name(self, key: str) -> str:
        """A key as a person reads it: the real key, or what a made-up one stands for."""
        made = self._made.get(key)
        if made is None:
            return key
        kind = self._kind(made.issue.labels)
        return f"the new {kind}" if kind else f"the new issue '{excerpt(made.issue.summary, 60)}'"

    def _describe(self, issue: NewIssue) -> str:
        kind = self._kind(issue.labels)
        details = [issue.issue_type]
        if issue.priority:
            details.append(f"priority {issue.priority}")
        details.append(f"assigned to {issue.assignee}" if issue.assignee else "unassigned")
        if issue.due:
            details.append(f"due {issue.due}")
        what = (
            "would open a recovery"
            if kind == "recovery"
            else f"would create {'the follow-up task' if kind else 'an issue'}"
        )
        return f"{what} in {issue.project}: '{excerpt(issue.summary)}' ({', '.join(details)})"


def _labels(labels: Sequence[str]) -> str:
    return ("the label " if len(labels) == 1 else "the labels ") + ", ".join(labels)


class NotedChannel:
    """An alert channel that notes the alert it would have sent on channel ``name``."""

    def __init__(self, name: str, plan: Plan) -> None:
        self._name = name
        self._plan = plan

    @property
    def name(self) -> str:
        return self._name

    def send(self, alert: Alert) -> str:
        subject = alert.jira_key or f"recovery {alert.recovery_id}"
        self._plan.would(
            f"would send the {alert.kind} alert on {subject} to {self._name}: {excerpt(alert.text)}"
        )
        return ""


def noted_channels(plan: Plan) -> Callable[[Services], Sequence[Channel]]:
    """The configured channels, each but Jira's replaced by one that notes its alerts.

    Jira's stays: its comment and label go through the dry-run tracker, which notes them.
    """

    def build(services: Services) -> Sequence[Channel]:
        return [
            channel if channel.name == "jira" else NotedChannel(channel.name, plan)
            for channel in channels_from(services)
        ]

    return build


# --- the store ----------------------------------------------------------------------------


def _last_decision(store: Store) -> int:
    with store.transaction() as conn:
        return messages.last_id(conn)


def _decided_since(store: Store, after: int) -> list[Decision]:
    with store.transaction() as conn:
        return messages.decided_since(conn, after)


# --- the command --------------------------------------------------------------------------


def run_dry(settings: Settings, out: TextIO | None = None, clock: Clock | None = None) -> int:
    """One pass over the real inbox and Jira, writing nothing; 0 when every step succeeded.

    Logs go to stderr, so that ``out`` (stdout) holds the decisions and the plan alone.
    """
    out = out or sys.stdout
    clock = clock or SystemClock()
    configure_logging(settings.log.level, settings.log.format, stream=sys.stderr)
    plan = Plan()
    with tempfile.TemporaryDirectory(prefix="recovery-worker-dry-run-") as folder:
        copy = Path(folder) / "store.db"
        real = files.copy_sqlite(settings.store.url, copy)
        dry = settings.model_copy(
            update={"store": settings.store.model_copy(update={"url": f"sqlite:///{copy}"})}
        )
        tracker: DryRunTracker | None = None
        if settings.jira.url:
            tracker = DryRunTracker(
                lambda: JiraTracker.from_settings(
                    settings.jira, clock=clock, retry=RetryPolicy(clock=clock)
                ),
                plan,
                clock,
                recovery_label=settings.jira.labels[0] if settings.jira.labels else "",
                followup_label=settings.followup.labels[0] if settings.followup.labels else "",
            )
        where = (
            f"a copy of {real}"
            if real is not None
            else f"an empty store, as {settings.store.location()} does not exist yet"
        )
        print(
            "Dry run: one pass over the inbox and Jira. Nothing is written to Jira, the inbox,\n"
            f"the alert channels or the store: the pass runs on {where}.",
            file=out,
            flush=True,
        )
        worker = build_worker(
            dry, clock, tracker=tracker, readonly_inbox=True, channels=noted_channels(plan)
        )
        try:
            before = _last_decision(worker.store)
            ok = worker.supervisor.run_once()
            decided = _decided_since(worker.store, before)
        finally:
            worker.close()
    _print(out, decided, plan, ok, inbox=bool(settings.imap.host or settings.maildir.path))
    return 0 if ok else 1


def _print(out: TextIO, decided: list[Decision], plan: Plan, ok: bool, *, inbox: bool) -> None:
    print(f"\nMail read: {len(decided)}" if inbox else "\nNo inbox is configured.", file=out)
    for mail in decided:
        print(f"  <{mail.key}> from {mail.sender or '?'}: '{excerpt(mail.subject, 70)}'", file=out)
        verdict = f"{mail.decision} ({mail.reason})" if mail.reason else mail.decision
        if mail.severity:
            verdict += f", {mail.severity}"
            if mail.score is not None:
                verdict += f", score {mail.score:g}"
        print(f"      {verdict}", file=out)
        for number, reason in enumerate(mail.reasons):
            print(f"      {'why: ' if number == 0 else '     '}{reason}", file=out)
    print(f"\nWhat it would do: {len(plan.lines) or 'nothing'}", file=out)
    for line in plan.lines:
        print(f"  {line}", file=out)
    if not ok:
        print(
            "\nSome steps failed: their log lines (on stderr) say why; the plan above may be "
            "incomplete.",
            file=out,
        )
    print("\nNothing was written.", file=out, flush=True)
