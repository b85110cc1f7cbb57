"""Opening recoveries and posting replies, on the fake tracker: exactly once across crashes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from tests.support.builders import add_recovery, add_reply, make_services
from worker.clock import FrozenClock
from worker.domain.document import Document
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.issue import NewIssue
from worker.domain.recovery import GAVE_UP, OPEN, PENDING
from worker.errors import (
    Interrupted,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServerUnavailable,
)
from worker.settings import JiraSettings
from worker.steps import Services
from worker.steps.priorities import raise_priorities_once
from worker.steps.recoveries import MAX_ATTEMPTS, open_recoveries_once
from worker.steps.replies import post_replies_once, reply_marker
from worker.store import Store, events, ledger, recoveries, replies
from worker.supervisor import Step, Supervisor
from worker.tracker.fake import FakeTracker


class Crash(BaseException):
    """The process dies here: nothing after it runs, nothing catches it."""


@pytest.fixture
def services(store: Store, clock: FrozenClock, tracker: FakeTracker) -> Services:
    """Tickets of acme.example's clients go to alice."""
    jira = JiraSettings(url="http://jira.invalid", owners={"acme.example": "alice"})
    return make_services(store, clock, tracker, jira=jira)


def no_sleep(_: float) -> None:
    pass


def test_opens_parent_and_three_subtasks(services: Services, tracker: FakeTracker) -> None:
    """A pending recovery becomes a ticket with KNOW, HAVE, DO in two calls, marked open."""
    rid = add_recovery(services)
    with capture_logs() as logs:
        assert open_recoveries_once(services) == 1
    parent = tracker.issues["SUP-1"]
    assert parent.assignee == "alice"
    assert parent.priority == "High"
    stages = [tracker.issues[k].summary.split(":")[0] for k in parent.subtasks]
    assert stages == ["KNOW", "HAVE", "DO"]
    assert (tracker.calls["create_issue"], tracker.calls["create_issues"]) == (1, 1)
    with services.store.transaction() as conn:
        rec = recoveries.get(conn, rid)
        assert rec is not None
        assert (rec.state, rec.jira_key) == ("open", "SUP-1")
        opened = events.for_recovery(conn, rid)
    assert [e.kind for e in opened] == [EventKind.OPENED]
    assert opened[0].at == services.clock.now() - timedelta(minutes=5)
    assert any(e["event"] == "recovery.opened" and e["jira_key"] == "SUP-1" for e in logs)
    assert open_recoveries_once(services) == 0
    assert len(tracker.issues) == 4


def test_opening_keeps_the_owner_chosen_for_the_ticket(
    store: Store, clock: FrozenClock, tracker: FakeTracker
) -> None:
    """A mail names no owner: the one the ticket is assigned (by client domain, else the
    default) is kept with the recovery, for the comments of the steps after it."""
    jira = JiraSettings(
        url="http://jira.invalid", owners={"acme.example": "alice"}, default_owner="bob"
    )
    services = make_services(store, clock, tracker, jira=jira)
    by_domain = add_recovery(services)
    by_default = add_recovery(
        services,
        "mail:<m2@other.example>",
        client="joe@other.example",
        source_ref="<m2@other.example>",
    )
    assert open_recoveries_once(services) == 2
    with services.store.transaction() as conn:
        opened = [recoveries.get(conn, rid) for rid in (by_domain, by_default)]
    assert [(r.owner, tracker.issues[r.jira_key].assignee) for r in opened if r and r.jira_key] == [
        ("alice", "alice"),
        ("bob", "bob"),
    ]


def test_crash_after_create_before_ledger_adopts_the_ticket(
    services: Services, tracker: FakeTracker
) -> None:
    """Killed between Jira's answer and the ledger write: the restart finds it, creates no twin."""
    add_recovery(services)
    tracker.fail("create_issue", Crash(), after=True)
    with pytest.raises(Crash):
        open_recoveries_once(services)
    assert len(tracker.issues) == 1
    with capture_logs() as logs:
        assert open_recoveries_once(services) == 1
    assert len(tracker.issues) == 4
    assert tracker.calls["create_issue"] == 1
    assert any(e["event"] == "recovery.adopted" for e in logs)


def test_crash_after_subtasks_before_ledger_creates_none_twice(
    services: Services, tracker: FakeTracker
) -> None:
    """Killed after the bulk create: the restart finds the subtasks by label."""
    add_recovery(services)
    tracker.fail("create_issues", Crash(), after=True)
    with pytest.raises(Crash):
        open_recoveries_once(services)
    assert open_recoveries_once(services) == 1
    assert len(tracker.issues) == 4
    assert tracker.calls["create_issues"] == 1


def test_unknown_outcome_is_looked_for_on_the_next_pass(
    services: Services, tracker: FakeTracker
) -> None:
    """A create whose answer was lost defers the recovery; the next pass adopts what exists."""
    rid = add_recovery(services)
    tracker.fail("create_issue", OutcomeUnknown("read timed out"), after=True)
    with pytest.raises(OutcomeUnknown):
        open_recoveries_once(services)
    with services.store.transaction() as conn:
        assert ledger.get(conn, f"create:{rid}").state == ledger.INTENT  # type: ignore[union-attr]
    assert open_recoveries_once(services) == 1
    assert len(tracker.issues) == 4


def test_a_create_that_made_nothing_is_looked_for_once_then_made(
    services: Services, tracker: FakeTracker
) -> None:
    """A throttled create: one look for a ticket (none), no waiting, then the create, once."""
    add_recovery(services)
    tracker.fail("create_issue", RateLimited("slow down", retry_after=1))
    waits: list[float] = []
    with pytest.raises(RateLimited):
        open_recoveries_once(services)
    assert open_recoveries_once(services) == 1
    assert tracker.calls["find_by_label"] == 1
    assert waits == []
    assert len(tracker.issues) == 4


def test_a_recovery_waiting_for_search_does_not_hold_up_the_others(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """Within the search lag of a lost create no second one is sent, but the others open."""
    add_recovery(services, "mail:<a@x>")
    tracker.fail("create_issue", OutcomeUnknown("read timed out"))
    with pytest.raises(OutcomeUnknown):
        open_recoveries_once(services)
    add_recovery(services, "mail:<b@x>")
    clock.advance(timedelta(seconds=10))
    with capture_logs() as logs:
        assert open_recoveries_once(services) == 1  # b, not a
    assert [e["recovery_id"] for e in logs if e["event"] == "recovery.search_lagging"] == [1]
    assert tracker.calls["create_issue"] == 2  # a's first, then b's: a's is not sent again
    assert len(tracker.issues) == 4  # b's ticket and subtasks
    clock.advance(services.settings.jira.visibility_window)
    assert open_recoveries_once(services) == 1
    assert tracker.calls["create_issue"] == 3


def test_a_refused_recovery_does_not_block_the_others(
    services: Services, tracker: FakeTracker
) -> None:
    """A permanent refusal is recorded; the next recovery still opens."""
    first = add_recovery(services, "mail:<a@x>")
    add_recovery(services, "mail:<b@x>")
    tracker.fail("create_issue", RequestRejected("priority is not valid"))
    assert open_recoveries_once(services) == 1
    with services.store.transaction() as conn:
        assert ledger.get(conn, f"create:{first}").state == ledger.FAILED  # type: ignore[union-attr]


def test_jira_signal_is_linked_to_its_source(services: Services, tracker: FakeTracker) -> None:
    """A recovery from a Jira issue relates to that issue and keeps its assignee."""
    source = tracker.create_issue(
        NewIssue("OPS", "Task", "Client says the export is broken", Document(), assignee="bob")
    )
    add_recovery(services, f"jira:{source.key}", source_kind="jira", source_ref=source.key,
                 owner="bob")  # fmt: skip
    tracker.calls.clear()
    assert open_recoveries_once(services) == 1
    assert tracker.links == [("Relates", "SUP-1", source.key)]
    assert tracker.issues["SUP-1"].assignee == "bob"
    # The subtask type is discovered once per process; the recovery itself costs three calls.
    assert sum(n for call, n in tracker.calls.items() if call != "subtask_issue_type") == 3


def test_reply_becomes_one_comment(services: Services, tracker: FakeTracker) -> None:
    """A reply is one comment with author, time, text and attachments, posted once."""
    rid = add_recovery(services)
    open_recoveries_once(services)
    add_reply(services, rid)
    tracker.calls.clear()
    assert post_replies_once(services) == 1
    assert sum(tracker.calls.values()) == 1
    (comment,) = tracker.comment_log["SUP-1"]
    assert "Jane Roe <jane@acme.example>" in comment.body
    assert "2026-03-02 10:00 UTC" in comment.body
    assert "> Still broken {code}!" in comment.body
    assert "error.png (200.0 KB)" in comment.body
    assert post_replies_once(services) == 0


def test_reply_waits_for_its_ticket(services: Services, tracker: FakeTracker) -> None:
    """A reply to a recovery not yet in Jira is left for a later pass."""
    rid = add_recovery(services)
    add_reply(services, rid)
    assert post_replies_once(services) == 0
    open_recoveries_once(services)
    assert post_replies_once(services) == 1


def test_replies_waiting_for_a_ticket_do_not_hold_up_the_others(
    services: Services, tracker: FakeTracker
) -> None:
    """Replies to a recovery given up (never to have a ticket) leave the line to the rest."""
    stuck = add_recovery(services, "mail:<stuck@x>")
    add_reply(services, stuck, "imap:INBOX:1")
    add_reply(services, stuck, "imap:INBOX:2")
    tracker.fail("create_issue", RequestRejected("owner is not assignable"), times=MAX_ATTEMPTS)
    for _ in range(MAX_ATTEMPTS + 1):
        open_recoveries_once(services)
    rid = add_recovery(services, "mail:<open@x>")
    open_recoveries_once(services)
    add_reply(services, rid, "imap:INBOX:3")
    assert post_replies_once(services, limit=2) == 1
    assert [c.body.count("ref: rw-reply-") for c in tracker.comment_log["SUP-1"]] == [1]


def test_reply_with_a_lost_answer_is_found_by_its_marker(
    services: Services, tracker: FakeTracker
) -> None:
    """A comment whose answer was lost is recognised by its marker, not posted twice."""
    rid = add_recovery(services)
    open_recoveries_once(services)
    add_reply(services, rid)
    tracker.fail("add_comment", Crash(), after=True)
    with pytest.raises(Crash):
        post_replies_once(services)
    assert post_replies_once(services) == 1
    (comment,) = tracker.comment_log["SUP-1"]
    assert reply_marker("imap:INBOX:7") in comment.body
    with services.store.transaction() as conn:
        assert replies.unposted(conn) == []


def raise_to(services: Services, rid: int, severity: str, source: str) -> None:
    with services.store.transaction() as conn:
        assert recoveries.raise_severity(conn, rid, severity)
        events.record(
            conn,
            RecoveryEvent(rid, EventKind.SEVERITY_RAISED, services.clock.now(), source,
                                 {"to": severity}),
            services.clock.now(),
        )  # fmt: skip


def test_raised_severity_reaches_the_ticket_priority(
    services: Services, tracker: FakeTracker
) -> None:
    """A severity raised after opening sets the ticket's priority, once per raise."""
    rid = add_recovery(services, severity="sev3")
    open_recoveries_once(services)
    assert tracker.issues["SUP-1"].priority == "Medium"
    raise_to(services, rid, "sev1", "mail:reply-1")
    assert raise_priorities_once(services) == 1
    assert tracker.issues["SUP-1"].priority == "Highest"
    assert raise_priorities_once(services) == 0


def test_raise_before_the_ticket_exists_waits_for_it(
    services: Services, tracker: FakeTracker
) -> None:
    """A raise on a recovery still pending is handled after the ticket is opened."""
    rid = add_recovery(services, severity="sev3")
    raise_to(services, rid, "sev2", "mail:reply-1")
    assert raise_priorities_once(services) == 0
    open_recoveries_once(services)
    assert tracker.issues["SUP-1"].priority == "High"
    assert raise_priorities_once(services) == 1


def test_a_raise_is_not_held_up_by_a_refused_create(
    services: Services, tracker: FakeTracker
) -> None:
    """A recovery Jira refused does not stop the raises after it; its ticket takes the raise."""
    refused = add_recovery(services, "mail:<a@x>", severity="sev3")
    opened = add_recovery(services, "mail:<b@x>", severity="sev3")
    tracker.fail("create_issue", RequestRejected("priority is not valid"))
    assert open_recoveries_once(services) == 1
    raise_to(services, refused, "sev1", "mail:reply-a")
    raise_to(services, opened, "sev2", "mail:reply-b")
    assert raise_priorities_once(services) == 1
    assert tracker.issues["SUP-1"].priority == "High"
    assert open_recoveries_once(services) == 1
    assert tracker.issues["SUP-5"].priority == "Highest"


def test_refused_recoveries_are_given_up_and_make_way(
    services: Services, tracker: FakeTracker
) -> None:
    """After MAX_ATTEMPTS refusals a recovery is given up: logged, and no longer taken in turn."""
    refused = [add_recovery(services, f"mail:<bad{n}@x>") for n in range(3)]
    tracker.fail("create_issue", RequestRejected("owner is not assignable"), times=3 * MAX_ATTEMPTS)
    with capture_logs() as logs:
        for _ in range(MAX_ATTEMPTS + 1):
            assert open_recoveries_once(services, limit=3) == 0
    assert [e["recovery_id"] for e in logs if e["event"] == "recovery.given_up"] == refused
    with services.store.transaction() as conn:
        assert {recoveries.get(conn, rid).state for rid in refused} == {GAVE_UP}  # type: ignore[union-attr]
        assert recoveries.pending(conn) == []
    good = add_recovery(services, "mail:<good@x>", severity="sev1")
    assert open_recoveries_once(services, limit=3) == 1
    with services.store.transaction() as conn:
        assert recoveries.get(conn, good).state == OPEN  # type: ignore[union-attr]
    assert tracker.calls["create_issue"] == 3 * MAX_ATTEMPTS + 1


def test_a_throttled_create_made_nothing_to_wait_for(
    services: Services, tracker: FakeTracker
) -> None:
    """Only a lost answer makes the next pass wait for search; a 429 is simply tried again."""
    add_recovery(services)
    tracker.fail("create_issue", RateLimited("slow down", retry_after=1))
    with pytest.raises(RateLimited):
        open_recoveries_once(services)
    assert open_recoveries_once(services) == 1
    assert tracker.calls["create_issue"] == 2


def test_only_refusals_count_towards_giving_up(services: Services, tracker: FakeTracker) -> None:
    """Passes that met a Jira outage are no refusals: one refusal after them gives nothing up."""
    rid = add_recovery(services)
    tracker.fail("create_issue", ServerUnavailable("HTTP 503"), times=MAX_ATTEMPTS + 1)
    for _ in range(MAX_ATTEMPTS + 1):
        with pytest.raises(ServerUnavailable):
            open_recoveries_once(services)
    tracker.fail("create_issue", RequestRejected("owner is not assignable"))
    assert open_recoveries_once(services) == 0
    assert open_recoveries_once(services) == 1
    with services.store.transaction() as conn:
        assert recoveries.get(conn, rid).state == OPEN  # type: ignore[union-attr]


def test_subtasks_refused_every_time_do_not_keep_the_recovery_from_opening(
    services: Services, tracker: FakeTracker
) -> None:
    """The ticket exists: after MAX_ATTEMPTS refusals it opens without its subtasks."""
    rid = add_recovery(services)
    tracker.fail("create_issues", RequestRejected("no such issue type"), times=MAX_ATTEMPTS)
    with capture_logs() as logs:
        for _ in range(MAX_ATTEMPTS):
            assert open_recoveries_once(services) == 0
        assert open_recoveries_once(services) == 1
    assert [e["event"] for e in logs].count("recovery.subtasks_given_up") == 1
    assert tracker.calls["create_issue"] == 1
    with services.store.transaction() as conn:
        assert recoveries.get(conn, rid).jira_key == "SUP-1"  # type: ignore[union-attr]


def fail_second_call(tracker: FakeTracker, method: str, error: Exception) -> None:
    """The first call of ``method`` goes through; the second raises ``error``."""
    inner = getattr(tracker, method)
    calls: list[object] = []

    def second_fails(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) == 2:
            raise error
        return inner(*args, **kwargs)

    setattr(tracker, method, second_fails)


def test_a_throttled_open_is_raised_to_the_supervisor_after_saving_progress(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """Jira's Retry-After reaches the supervisor; the recovery opened before it stays open."""
    first = add_recovery(services, "mail:<a@x>")
    add_recovery(services, "mail:<b@x>")
    fail_second_call(tracker, "create_issue", RateLimited("slow down", retry_after=300))
    step = Step("open_recoveries", lambda: open_recoveries_once(services),
                timedelta(seconds=5))  # fmt: skip
    with capture_logs() as logs:
        assert Supervisor([step], clock).run_step(step) is False
    assert step.next_run is not None
    assert step.next_run - clock.now() >= timedelta(seconds=300)
    assert [e["event"] for e in logs if e["event"].startswith("recovery.")] == [
        "recovery.opened",
        "recovery.open_deferred",
    ]
    with services.store.transaction() as conn:
        assert recoveries.get(conn, first).state == OPEN  # type: ignore[union-attr]


def test_a_flicker_after_progress_ends_the_pass_without_failing_the_step(
    services: Services, tracker: FakeTracker
) -> None:
    """A 503 with no Retry-After after one recovery opened: the pass ends; before any, it fails."""
    add_recovery(services, "mail:<a@x>")
    add_recovery(services, "mail:<b@x>")
    fail_second_call(tracker, "create_issue", ServerUnavailable("HTTP 503"))
    assert open_recoveries_once(services) == 1
    tracker.fail("create_issue", ServerUnavailable("HTTP 503"))
    with pytest.raises(ServerUnavailable):
        open_recoveries_once(services)
    assert open_recoveries_once(services) == 1


def two_replies_on_an_open_recovery(services: Services) -> None:
    """A recovery open in Jira with two client replies waiting: imap:INBOX:7, then :8."""
    rid = add_recovery(services)
    open_recoveries_once(services)
    add_reply(services, rid, "imap:INBOX:7")
    add_reply(services, rid, "imap:INBOX:8")


def test_a_throttled_reply_is_raised_after_saving_the_ones_posted(
    services: Services, tracker: FakeTracker
) -> None:
    """The reply posted before the 429 is recorded; the error carries Jira's Retry-After."""
    two_replies_on_an_open_recovery(services)
    fail_second_call(tracker, "add_comment", RateLimited("slow down", retry_after=300))
    with pytest.raises(RateLimited) as raised:
        post_replies_once(services)
    assert raised.value.retry_after == 300
    with services.store.transaction() as conn:
        assert [r.message_key for r in replies.unposted(conn)] == ["imap:INBOX:8"]


def test_a_throttled_raise_is_raised_after_saving_the_ones_made(
    services: Services, tracker: FakeTracker
) -> None:
    """A raise made before the 429 is not made again; the error carries Jira's Retry-After."""
    rid = add_recovery(services, severity="sev3")
    open_recoveries_once(services)
    raise_to(services, rid, "sev2", "mail:reply-1")
    raise_to(services, rid, "sev1", "mail:reply-2")
    fail_second_call(tracker, "set_priority", RateLimited("slow down", retry_after=300))
    with pytest.raises(RateLimited) as raised:
        raise_priorities_once(services)
    assert raised.value.retry_after == 300
    assert raise_priorities_once(services) == 1
    assert tracker.calls["set_priority"] == 2  # the first raise once, then the second


def stop_after_first_call(services: Services, tracker: FakeTracker, method: str) -> None:
    """The first call of ``method`` goes through, and a SIGTERM arrives while it runs."""
    inner = getattr(tracker, method)

    def then_stop(*args: object, **kwargs: object) -> object:
        result = inner(*args, **kwargs)
        services.stopping.set()
        return result

    setattr(tracker, method, then_stop)


def test_a_stop_request_ends_the_open_pass_after_the_recovery_in_hand(
    services: Services, tracker: FakeTracker
) -> None:
    """The recovery in hand opens with its subtasks; the next waits for the restart."""
    first = add_recovery(services, "mail:<a@x>")
    second = add_recovery(services, "mail:<b@x>")
    stop_after_first_call(services, tracker, "create_issue")
    assert open_recoveries_once(services) == 1
    assert tracker.calls["create_issues"] == 1
    with services.store.transaction() as conn:
        assert recoveries.get(conn, first).state == OPEN  # type: ignore[union-attr]
        assert recoveries.get(conn, second).state == PENDING  # type: ignore[union-attr]


def test_a_stop_request_ends_the_reply_pass_after_the_comment_in_hand(
    services: Services, tracker: FakeTracker
) -> None:
    """One reply posted and recorded; the other stays unposted for the restart."""
    two_replies_on_an_open_recovery(services)
    stop_after_first_call(services, tracker, "add_comment")
    assert post_replies_once(services) == 1
    with services.store.transaction() as conn:
        assert [r.message_key for r in replies.unposted(conn)] == ["imap:INBOX:8"]


def test_a_stop_during_a_retry_wait_is_no_failure_of_the_pass(
    services: Services, tracker: FakeTracker
) -> None:
    """Interrupted goes straight to the supervisor: no deferred warning, no error counted."""
    add_recovery(services)
    tracker.fail("create_issue", Interrupted("the worker is stopping"))
    with capture_logs() as logs, pytest.raises(Interrupted):
        open_recoveries_once(services)
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == []
    errors = services.metrics.registry.get_sample_value(
        "recovery_worker_errors_total", {"step": "open_recoveries", "kind": "Interrupted"}
    )
    assert errors is None


def test_the_steps_pause_is_cut_by_a_stop_request(services: Services) -> None:
    """Waiting between lookups for a lost create ends in Interrupted once a stop is asked."""
    services.pause(0.001)
    services.stopping.set()
    with pytest.raises(Interrupted):
        services.pause(30)


# --- a client writing again and again ---------------------------------------------------


def test_a_reply_flood_is_a_bounded_number_of_comments(
    services: Services, tracker: FakeTracker, clock: FrozenClock
) -> None:
    """60 replies in a row: at most max_reply_comments comments an hour, the last a digest;
    every reply is kept in the store and counted posted."""
    rid = add_recovery(services)
    open_recoveries_once(services)
    for n in range(60):
        add_reply(services, rid, f"imap:INBOX:{100 + n}")
    cap = services.settings.jira.max_reply_comments
    while post_replies_once(services):
        pass
    comments = tracker.comment_log["SUP-1"]
    assert len(comments) == cap
    assert "56 more mails in this thread" in comments[-1].body
    assert "... and 31 more." in comments[-1].body
    with services.store.transaction() as conn:
        assert replies.unposted(conn) == []
    # The next reply waits for the window, then gets its comment.
    add_reply(services, rid, "imap:INBOX:999")
    assert post_replies_once(services) == 0
    clock.advance(services.settings.jira.reply_comment_window)
    assert post_replies_once(services) == 1
    assert len(tracker.comment_log["SUP-1"]) == cap + 1


def test_a_digest_lost_before_its_replies_are_marked_is_not_sent_again(
    services: Services, tracker: FakeTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = add_recovery(services)
    open_recoveries_once(services)
    for n in range(10):
        add_reply(services, rid, f"imap:INBOX:{100 + n}")

    def crash(*args: object, **kwargs: object) -> None:
        raise Crash

    real = replies.mark_posted
    marked = 0

    def mark_then_crash(*args: object, **kwargs: object) -> None:
        nonlocal marked
        marked += 1
        if marked == 5:  # the first mark of the digest's replies
            crash()
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(replies, "mark_posted", mark_then_crash)
    with pytest.raises(Crash):
        post_replies_once(services)
    monkeypatch.setattr(replies, "mark_posted", real)
    for _ in range(3):
        post_replies_once(services)
    bodies = [c.body for c in tracker.comment_log["SUP-1"]]
    assert sum("more mails in this thread" in b for b in bodies) == 1
    assert len(bodies) == services.settings.jira.max_reply_comments
    with services.store.transaction() as conn:
        assert replies.unposted(conn) == []
