"""The worker's comments are internal on Service Management; mentions keep their whole name."""

from __future__ import annotations

from tests.tracker.conftest import jira_tracker
from worker.clock import FrozenClock
from worker.domain.document import Document, Mention, Paragraph, Text
from worker.domain.issue import NewIssue
from worker.sandbox import RunningSandbox
from worker.tracker import markup


def test_comments_are_kept_from_the_customer(sandbox: RunningSandbox, clock: FrozenClock) -> None:
    tracker = jira_tracker(sandbox, clock)
    created = tracker.create_issue(
        NewIssue("SUP", "Task", "Recovery: export failing", Document(()))
    )
    tracker.add_comment(created.key, Document((Paragraph((Text("SLA breached."),)),)))
    stored = sandbox.state.issues[created.key]["comments"]
    assert [c["internal"] for c in stored] == [True]
    if sandbox.dialect == "cloud":
        assert [c.public for c in tracker.comments(created.key)] == [False]


def test_a_data_center_mention_keeps_underscores_and_dashes() -> None:
    document = Document((Paragraph((Mention("anna_b-smith"), Text(" please look"))),))
    assert markup.to_wiki(document).startswith("[~anna_b-smith] please look")
    assert markup.mention_name("eve]|[~x\n") == "evex"
