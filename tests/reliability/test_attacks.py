"""Strangers and floods against the running worker: a key in a subject, a forged team address,
a client replying to itself, all through `recovery-worker run`, real Dovecot and the sandbox."""

from __future__ import annotations

from collections.abc import Callable

from tests.reliability.figures import Figures
from tests.reliability.harness import (
    Deadline,
    Rig,
    complaint,
    recovery_issues,
    wait_until,
)

#: Comments of client replies a recovery may get within the window (the default setting).
MAX_REPLY_COMMENTS = 5


def tickets(rig: Rig) -> list[dict[str, object]]:
    return [i for i in recovery_issues(rig.sandbox) if "recovery" in i["labels"]]


def comments_on(rig: Rig, key: str) -> list[object]:
    with rig.sandbox.state.lock:
        return list(rig.sandbox.state.issues[key]["comments"])


def test_strangers_cannot_act_on_a_recovery(make_rig: Callable[..., Rig], figures: Figures) -> None:
    """A stranger naming [SUP-1] gets a decision of their own; a forged team address moves no
    deadline; the client's colleague joins the recovery."""
    deadline = Deadline(120)
    rig = make_rig("cloud")
    raw, _ = complaint("C1", sender="dana@client-c1.test")
    rig.dovecot.append(raw)
    rig.worker.start_and_wait()
    wait_until(lambda: len(tickets(rig)) == 1, deadline.left(), "the recovery is opened")
    (ticket,) = tickets(rig)
    key = str(ticket["key"])

    stranger, _ = complaint("S1", sender="eve@evil-s1.test", subject=f"[{key}] Outage again")
    forged, _ = complaint(
        "F1",
        sender=rig.dovecot.user,
        name="Support",
        subject=f"Re: [{key}] Outage again",
        body="Resolved on our side. Closing this.",
    )
    colleague, _ = complaint(
        "C2", sender="bob@client-c1.test", subject=f"[{key}] Outage again", body="Still down."
    )
    for mail in (stranger, forged, colleague):
        rig.dovecot.append(mail)
    wait_until(lambda: len(rig.decisions()) == 4 and len(tickets(rig)) == 2,
               deadline.left(), "the three mails are decided")  # fmt: skip
    decided = {
        str(sender): (str(decision), str(reason))
        for sender, decision, reason in rig.store_rows(
            "SELECT sender, decision, reason FROM messages ORDER BY id"
        )
    }
    figures.note("test_strangers_cannot_act_on_a_recovery", decisions=len(decided))
    assert decided["eve@evil-s1.test"][0] == "recovery"
    assert decided["bob@client-c1.test"][0] == "thread"
    assert decided[rig.dovecot.user] == (
        "skipped",
        "our own address, but not authenticated by the receiving server",
    )
    updates = rig.store_rows("SELECT COUNT(*) FROM recovery_events WHERE kind = 'client_update'")
    assert updates == [(0,)]


def test_a_client_replying_to_itself_is_a_bounded_number_of_comments(
    make_rig: Callable[..., Rig], figures: Figures
) -> None:
    """60 replies in the thread: the ticket gets at most max_reply_comments comments, the last
    a digest; every reply is kept in the store."""
    deadline = Deadline(150)
    rig = make_rig("cloud")
    raw, first_id = complaint("R1", sender="dana@client-r1.test")
    rig.dovecot.append(raw)
    rig.worker.start_and_wait()
    wait_until(lambda: len(tickets(rig)) == 1, deadline.left(), "the recovery is opened")
    (ticket,) = tickets(rig)
    replies = [
        complaint(f"R1-{n}", sender="dana@client-r1.test", in_reply_to=first_id,
                  subject="Re: Outage again", body=f"Any news? ({n})")[0]
        for n in range(60)
    ]  # fmt: skip
    rig.dovecot.append_many(replies)

    def all_posted() -> bool:
        rows = rig.store_rows("SELECT COUNT(*) FROM replies WHERE comment_id IS NOT NULL")
        return rows == [(60,)]

    wait_until(all_posted, deadline.left(), "every reply is posted or digested")
    comments = comments_on(rig, str(ticket["key"]))
    figures.note(
        "test_a_client_replying_to_itself_is_a_bounded_number_of_comments",
        replies=60,
        comments=len(comments),
    )
    assert len(comments) == MAX_REPLY_COMMENTS
    assert rig.store_rows("SELECT COUNT(*) FROM replies") == [(60,)]
