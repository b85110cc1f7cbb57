"""Opening recoveries against the Jira sandbox with the real client, in both dialects.

Crash points are simulated in-process (an exception after Jira answered, before the ledger
write) and for real (a child process killed with SIGKILL at that point); faults come from
the sandbox. Every test ends by counting the issues in the sandbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from tests.conftest import REPO
from tests.support.builders import add_recovery, add_reply, sandbox_services
from tests.tracker.conftest import no_sleep_retry
from worker.clock import FrozenClock
from worker.domain.document import Document
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import NewIssue
from worker.domain.mail import AttachmentInfo
from worker.domain.recovery import OPEN
from worker.errors import OutcomeUnknown
from worker.sandbox import RunningSandbox
from worker.steps import Services
from worker.steps.priorities import raise_priorities_once
from worker.steps.recoveries import open_recoveries_once
from worker.steps.replies import post_replies_once, reply_marker
from worker.store import Store, events, recoveries, replies
from worker.tracker import markup
from worker.tracker.jira import JiraTracker

HOSTILE_SUMMARY = 'Export "broken" {code}x{code} [~admin] || AND labels = x \\ OR'
HOSTILE_EXCERPT = (
    "h1. Not a heading\n{noformat}\n* not a bullet\n[~admin] ||a||b|| !img.png!\n"
    "bq. quoted? \\\\ break & stuff -struck- {color:red}red{color}"
)


#: The log file a client's reply carries.
LOG = AttachmentInfo("log.txt", "text/plain", 512)


class Crash(BaseException):
    """The process dies here."""


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def services(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock, waits: list[float]
) -> Services:
    """Services on the sandbox, the adapter's waits recorded in ``waits``."""
    return sandbox_services(sandbox, store, clock, waits=waits)


def issues_in(sandbox: RunningSandbox) -> dict[str, dict[str, Any]]:
    return dict(sandbox.state.issues)


def assert_one_complete_recovery(sandbox: RunningSandbox) -> None:
    issues = issues_in(sandbox)
    parents = [i for i in issues.values() if not i["parent"]]
    assert len(parents) == 1, sorted(issues)
    children = [i for i in issues.values() if i["parent"] == parents[0]["key"]]
    assert len(children) == 3
    assert len(issues) == 4


def no_sleep(_: float) -> None:
    pass


def crash_after(services: Services, method: str, error: BaseException) -> None:
    """Make the tracker's ``method`` do its work, then fail as if the answer was lost."""
    tracker = services.tracker
    inner: Callable[..., Any] = getattr(tracker, method)

    def crashing(*args: Any, **kwargs: Any) -> Any:
        inner(*args, **kwargs)
        setattr(tracker, method, inner)
        raise error

    setattr(tracker, method, crashing)


def test_happy_path_in_three_calls(services: Services, sandbox: RunningSandbox) -> None:
    """A recovery opens with a parent and three subtasks in two calls once the type is known."""
    services.tracker.subtask_issue_type("SUP")  # type: ignore[union-attr]
    add_recovery(services, severity="sev1")
    sandbox.reset_calls()
    assert open_recoveries_once(services) == 1
    assert sum(sandbox.calls.values()) == 2
    assert_one_complete_recovery(sandbox)
    parent = issues_in(sandbox)["SUP-1"]
    assert parent["priority"] == "1"  # Highest, from sev1
    assert any(label.startswith("rw-") for label in parent["labels"])


def test_hostile_text_arrives_escaped(services: Services, sandbox: RunningSandbox) -> None:
    """Client text in summary and description arrives as text: escaped wiki, or ADF text."""
    add_recovery(services, summary=HOSTILE_SUMMARY, excerpt=HOSTILE_EXCERPT,
                 client="x'); DROP <evil@acme.example>")  # fmt: skip
    assert open_recoveries_once(services) == 1
    parent = issues_in(sandbox)["SUP-1"]
    assert parent["summary"] == "Recovery: " + HOSTILE_SUMMARY
    description = parent["description"]
    if sandbox.dialect == "datacenter":
        assert "{code}" not in description.replace("\\{code\\}", "")
        assert "\\{noformat\\}" in description
        assert "[~admin]" not in description
        assert "\nh1. " not in description
        assert "h1\\. Not a heading" in description
        assert "\\|\\|a\\|\\|b\\|\\|" in description
    else:
        texts = _adf_texts(description)
        assert "h1. Not a heading" in texts
        assert "[~admin] ||a||b|| !img.png!" in texts
    issue = services.tracker.get_issue("SUP-1")  # type: ignore[union-attr]
    assert "h1. Not a heading" in issue.description
    assert "{color:red}red{color}" in issue.description


def _adf_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "text" else []
        return own + [t for child in node.get("content", []) for t in _adf_texts(child)]
    return []


def test_crash_after_create_is_adopted(services: Services, sandbox: RunningSandbox) -> None:
    """Dead between Jira's answer and the ledger: the restart finds the ticket by its label."""
    add_recovery(services)
    crash_after(services, "create_issue", Crash())
    with pytest.raises(Crash):
        open_recoveries_once(services)
    assert len(issues_in(sandbox)) == 1
    with capture_logs() as logs:
        assert open_recoveries_once(services) == 1
    assert_one_complete_recovery(sandbox)
    assert any(e["event"] == "recovery.adopted" for e in logs)


def test_crash_after_subtasks_is_adopted(services: Services, sandbox: RunningSandbox) -> None:
    """Dead after the bulk create: the restart reads the subtasks and creates none again."""
    add_recovery(services)
    crash_after(services, "create_issues", Crash())
    with pytest.raises(Crash):
        open_recoveries_once(services)
    assert len(issues_in(sandbox)) == 4
    assert open_recoveries_once(services) == 1
    assert_one_complete_recovery(sandbox)


def test_lost_create_is_found_despite_search_lag(
    services: Services, sandbox: RunningSandbox
) -> None:
    """While search has not caught up with the create, each pass looks once, then adopts it."""
    add_recovery(services)
    sandbox.faults.search_lag(calls=2)
    crash_after(services, "create_issue", Crash())
    with pytest.raises(Crash):
        open_recoveries_once(services)
    passes = [open_recoveries_once(services) for _ in range(3)]
    assert passes == [0, 0, 1]
    assert_one_complete_recovery(sandbox)


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_rate_limited_create_waits_as_told(
    services: Services, sandbox: RunningSandbox, waits: list[float], clock: FrozenClock, form: str
) -> None:
    """A 429 on the create, Retry-After in seconds or as a date, is retried after that wait."""
    version = "3" if sandbox.dialect == "cloud" else "2"
    after = 30 if form == "seconds" else clock.now() + timedelta(seconds=30)
    sandbox.faults.rate_limit(after, f"POST /rest/api/{version}/issue")
    add_recovery(services)
    assert open_recoveries_once(services) == 1
    assert waits == [30.0]
    assert_one_complete_recovery(sandbox)


def test_unavailable_bulk_is_retried(
    services: Services, sandbox: RunningSandbox, waits: list[float]
) -> None:
    """A 503 on the bulk create did nothing, so it is retried, honouring its Retry-After."""
    version = "3" if sandbox.dialect == "cloud" else "2"
    sandbox.faults.server_error(503, f"POST /rest/api/{version}/issue/bulk", retry_after=4)
    add_recovery(services)
    assert open_recoveries_once(services) == 1
    assert waits == [4.0]
    assert_one_complete_recovery(sandbox)


def test_dropped_connection_on_create_is_looked_for_then_made_once(
    services: Services, sandbox: RunningSandbox, clock: FrozenClock
) -> None:
    """A create whose connection dropped is an unknown outcome: never retried blindly."""
    version = "3" if sandbox.dialect == "cloud" else "2"
    sandbox.faults.drop_connection(f"POST /rest/api/{version}/issue")
    add_recovery(services)
    with capture_logs() as logs, pytest.raises(OutcomeUnknown):
        open_recoveries_once(services)
    deferred = [e for e in logs if e["event"] == "recovery.open_deferred"]
    assert deferred[0]["error"] == "OutcomeUnknown"
    assert issues_in(sandbox) == {}
    clock.advance(services.settings.jira.visibility_window)
    assert open_recoveries_once(services) == 1
    assert sandbox.calls[f"POST /rest/api/{version}/issue"] == 2
    assert_one_complete_recovery(sandbox)


def test_lost_create_is_not_made_again_while_search_lags(
    services: Services, sandbox: RunningSandbox, clock: FrozenClock
) -> None:
    """After a lost answer, a ticket search does not show yet is waited for, not made twice."""
    add_recovery(services)
    sandbox.faults.search_lag(seconds=10)
    crash_after(services, "create_issue", OutcomeUnknown("read timed out"))
    with pytest.raises(OutcomeUnknown):
        open_recoveries_once(services)
    clock.advance(timedelta(seconds=1))
    assert open_recoveries_once(services) == 0  # not in search yet: not made again
    assert len(issues_in(sandbox)) == 1
    clock.advance(services.settings.jira.visibility_window)
    assert open_recoveries_once(services) == 1
    assert_one_complete_recovery(sandbox)


def test_jira_source_is_linked(services: Services, sandbox: RunningSandbox) -> None:
    """A recovery from a Jira issue relates to that issue, in three calls."""
    tracker = services.tracker
    assert tracker is not None
    source = tracker.create_issue(NewIssue("OPS", "Task", "broken", Document()))
    tracker.subtask_issue_type("SUP")
    add_recovery(services, source_key=f"jira:{source.key}", source_kind="jira",
                 source_ref=source.key)  # fmt: skip
    sandbox.reset_calls()
    assert open_recoveries_once(services) == 1
    assert sum(sandbox.calls.values()) == 3
    assert [(link["inward"], link["outward"]) for link in sandbox.state.links] == [
        ("SUP-1", source.key)
    ]


def test_refused_source_link_still_opens_the_recovery(
    services: Services, sandbox: RunningSandbox
) -> None:
    """A source issue that is gone: the link failure is logged and the recovery opens, its
    replies are posted and its raises reach the ticket."""
    rid = add_recovery(services, source_key="jira:OPS-999", source_kind="jira",
                       source_ref="OPS-999", severity="sev3")  # fmt: skip
    with capture_logs() as logs:
        assert open_recoveries_once(services) == 1
    (failed,) = [e for e in logs if e["event"] == "recovery.link_failed"]
    assert (failed["jira_key"], failed["error"]) == ("SUP-1", "NotFound")
    assert sandbox.state.links == []
    with services.store.transaction() as conn:
        recovery = recoveries.get(conn, rid)
        assert recovery is not None
        assert (recovery.state, recovery.jira_key) == (OPEN, "SUP-1")
        assert [e.kind for e in events.for_recovery(conn, rid)] == [EventKind.OPENED]
        recoveries.raise_severity(conn, rid, "sev1")
        events.record(conn, RecoveryEvent(rid, EventKind.SEVERITY_RAISED, services.clock.now(),
                                          "mail:reply-9"), services.clock.now())  # fmt: skip
    add_reply(services, rid)
    assert post_replies_once(services) == 1
    assert raise_priorities_once(services) == 1
    assert len(sandbox.state.comments("SUP-1")) == 1
    assert issues_in(sandbox)["SUP-1"]["priority"] == "1"


#: A long client reply full of characters wiki markup escapes, so it grows when rendered.
PUNCTUATED = "Still broken!!! (again) [see #12] {x} *why* -- a|b ~c~ ^d^ + & \\ ?\n"


def test_long_punctuated_reply_is_one_comment_after_a_lost_answer(
    services: Services, sandbox: RunningSandbox
) -> None:
    """A reply at the stored maximum is cut to fit the comment, its marker kept, so a lost
    answer is recognised and the reply posted once."""
    rid = add_recovery(services)
    open_recoveries_once(services)
    text = (PUNCTUATED * (replies.MAX_TEXT // len(PUNCTUATED) + 1))[: replies.MAX_TEXT]
    add_reply(services, rid, "imap:INBOX:9", text=text, attachments=(LOG,))
    crash_after(services, "add_comment", OutcomeUnknown("read timed out"))
    with pytest.raises(OutcomeUnknown):
        post_replies_once(services)
    assert post_replies_once(services) == 1
    (comment,) = services.tracker.comments("SUP-1")  # type: ignore[union-attr]
    assert comment.body.rstrip().endswith("ref: " + reply_marker("imap:INBOX:9"))
    assert "truncated" in comment.body
    (stored,) = sandbox.state.comments("SUP-1")
    body = stored["body"]
    assert len(body if isinstance(body, str) else markup.adf_to_text(body)) <= markup.MAX_RICH_TEXT


def test_reply_is_one_comment_even_after_a_lost_answer(
    services: Services, sandbox: RunningSandbox
) -> None:
    """A thread reply becomes one comment; a lost answer is recognised by its marker."""
    rid = add_recovery(services)
    open_recoveries_once(services)
    add_reply(services, rid, text="Still {code}broken", attachments=(LOG,))
    crash_after(services, "add_comment", Crash())
    with pytest.raises(Crash):
        post_replies_once(services)
    sandbox.reset_calls()
    assert post_replies_once(services) == 1
    (comment,) = sandbox.state.comments("SUP-1")
    assert sum(sandbox.calls.values()) == 1  # read the comments, found the marker
    if sandbox.dialect == "datacenter":
        assert "Still \\{code\\}broken" in comment["body"]
        assert "log.txt \\(512 bytes\\)" in comment["body"]
    else:
        assert "Still {code}broken" in _adf_texts(comment["body"])


# --- a real kill -------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from worker.clock import SystemClock
    from worker.metrics import Metrics
    from worker.settings import JiraSettings, Settings
    from worker.steps import Services
    from worker.steps.recoveries import open_recoveries_once
    from worker.store import Store
    from worker.tracker.jira import JiraTracker

    url, db, point, *creds = sys.argv[1:]
    credentials = dict(c.split("=", 1) for c in creds)
    settings = Settings(jira=JiraSettings(url=url, **credentials))
    tracker = JiraTracker.from_settings(settings.jira)
    inner = getattr(tracker, point)

    def then_die(*args, **kwargs):
        inner(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    setattr(tracker, point, then_die)
    store = Store(db)
    services = Services(settings, SystemClock(), store, Metrics(), tracker)
    open_recoveries_once(services)
    """
)


@pytest.mark.parametrize("point", ["create_issue", "create_issues"])
def test_sigkill_at_each_crash_point_creates_nothing_twice(
    services: Services, sandbox: RunningSandbox, store: Store, point: str
) -> None:
    """A worker killed with SIGKILL right after Jira answered: the restart completes the
    recovery with exactly one ticket and three subtasks."""
    add_recovery(services)
    creds = [f"{k}={v}" for k, v in sandbox.credentials.items()]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, sandbox.url, store.url, point, *creds],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    before = len(issues_in(sandbox))
    assert before == (1 if point == "create_issue" else 4)
    assert open_recoveries_once(services) == 1
    assert_one_complete_recovery(sandbox)


# --- answers lost before the write lands -----------------------------------------------

#: The client gives up on an answer after this long ...
IMPATIENT = 0.3
#: ... while the sandbox takes this long before it writes and answers.
LATE = 1.0


def impatient_services(sandbox: RunningSandbox, store: Store, clock: FrozenClock) -> Services:
    """Services whose Jira calls give up before a slow write lands."""
    tracker = JiraTracker.connect(
        sandbox.url,
        timeouts=(2.0, IMPATIENT),
        retry=no_sleep_retry(clock),
        clock=clock,
        **sandbox.credentials,
    )
    return sandbox_services(sandbox, store, clock, tracker=tracker)


def landed(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Return once the slow write has landed in the sandbox."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the slow write never landed"
        time.sleep(0.02)


def test_a_reply_whose_answer_is_lost_before_it_lands_is_one_comment(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock
) -> None:
    """The retry comes before the comment exists: it waits for Jira instead of writing twice."""
    services = impatient_services(sandbox, store, clock)
    rid = add_recovery(services)
    assert open_recoveries_once(services) == 1
    add_reply(services, rid)
    version = "3" if sandbox.dialect == "cloud" else "2"
    sandbox.faults.latency(LATE, f"POST /rest/api/{version}/issue/{{issueIdOrKey}}/comment")
    with pytest.raises(OutcomeUnknown):
        post_replies_once(services)
    assert post_replies_once(services) == 0  # not there yet: not written again
    landed(lambda: len(sandbox.state.comments("SUP-1")) == 1)
    clock.advance(services.settings.jira.visibility_window)
    assert post_replies_once(services) == 1
    assert len(sandbox.state.comments("SUP-1")) == 1


def test_subtasks_whose_answer_is_lost_before_they_land_are_made_once(
    sandbox: RunningSandbox, store: Store, clock: FrozenClock
) -> None:
    services = impatient_services(sandbox, store, clock)
    add_recovery(services)
    version = "3" if sandbox.dialect == "cloud" else "2"
    sandbox.faults.latency(LATE, f"POST /rest/api/{version}/issue/bulk")
    with pytest.raises(OutcomeUnknown):
        open_recoveries_once(services)
    assert open_recoveries_once(services) == 0  # none there yet: none made again
    landed(lambda: len(issues_in(sandbox)) == 4)
    clock.advance(services.settings.jira.visibility_window)
    assert open_recoveries_once(services) == 1
    assert_one_complete_recovery(sandbox)
