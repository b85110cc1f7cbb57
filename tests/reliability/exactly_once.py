"""The exactly-once scenario: many complaints and thread replies, counted in Jira at the end."""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.reliability.harness import Rig, complaint, issue_text, recovery_issues, rich_text
from tests.reliability.harness import subtasks_of as subtasks

CASE = re.compile(r"\bcase (C\d{4})\b")
REPLY = re.compile(r"\breply (R\d{4})\b")


@dataclass
class Mailbag:
    """The complaints and replies of one scenario, delivered in batches from a thread."""

    complaints: int
    replies: int
    seed: int
    raws: list[bytes] = field(default_factory=list)
    delivered: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        ids: dict[int, str] = {}
        ordered: list[tuple[float, bytes]] = []
        for n in range(self.complaints):
            raw, mid = complaint(f"C{n:04d}")
            ids[n] = mid
            ordered.append((n, raw))
        rng = random.Random(self.seed)
        replied = rng.sample(range(self.complaints), self.replies)
        # A reply goes after its complaint, somewhere in the rest of the stream: complaint n
        # sorts at n, its reply at a random point after it.
        for r, n in enumerate(sorted(replied)):
            raw, _ = complaint(
                f"C{n:04d}",
                subject=f"Re: Outage again, case C{n:04d}",
                body=f"Any news? I am still waiting on case C{n:04d}, reply R{r:04d}.",
                in_reply_to=ids[n],
            )
            ordered.append((rng.uniform(n + 0.01, self.complaints), raw))
        self.raws = [raw for _, raw in sorted(ordered, key=lambda item: item[0])]
        self.expected_replies = {f"R{r:04d}" for r in range(self.replies)}
        self.expected_cases = {f"C{n:04d}" for n in range(self.complaints)}

    def deliver(
        self,
        rig: Rig,
        batches: int,
        pause: threading.Event,
        *,
        hold_at: int | None = None,
        gate: threading.Event | None = None,
    ) -> threading.Thread:
        """Append the mails in `batches`, waiting on `pause` between them, in a thread.

        With `hold_at` and `gate`, the batches past `hold_at` mails wait for `gate`: the
        burst is still arriving whenever the test acts before it opens the gate.
        """
        size = -(-len(self.raws) // batches)

        def run() -> None:
            for start in range(0, len(self.raws), size):
                if gate is not None and hold_at is not None and start >= hold_at:
                    gate.wait()
                chunk = self.raws[start : start + size]
                rig.dovecot.append_many(chunk)
                self.delivered += len(chunk)
                pause.wait(1.0)  # mail keeps arriving over the run, not all at once
            self.done.set()

        thread = threading.Thread(target=run, name="mail-feeder", daemon=True)
        thread.start()
        return thread


@dataclass
class Tally:
    """What Jira holds: recoveries per case, their subtasks, comments per reply."""

    recoveries: Counter[str]
    subtasks: Counter[int]  # number of subtasks -> recoveries having that many
    comments: Counter[str]
    unexpected: list[str]

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.recoveries.values() if n > 1) + sum(
            n - 1 for n in self.comments.values() if n > 1
        )

    def lost(self, bag: Mailbag) -> int:
        return len(bag.expected_cases - set(self.recoveries)) + len(
            bag.expected_replies - set(self.comments)
        )

    def describe(self, bag: Mailbag) -> str:
        """What is missing or odd, for a failure message."""
        missing_cases = sorted(bag.expected_cases - set(self.recoveries))
        missing_replies = sorted(bag.expected_replies - set(self.comments))
        return (
            f"missing recoveries {missing_cases[:10]} ({len(missing_cases)}), "
            f"missing replies {missing_replies[:10]} ({len(missing_replies)}), "
            f"subtask counts {dict(self.subtasks)}, unexpected {self.unexpected[:10]}"
        )

    def complete(self, bag: Mailbag) -> bool:
        return (
            set(self.recoveries) >= bag.expected_cases
            and set(self.comments) >= bag.expected_replies
            and set(self.subtasks) == {3}
        )


def tally(rig: Rig) -> Tally:
    """Count in the sandbox: recovery tickets by the case they name, comments by reply."""
    recoveries: Counter[str] = Counter()
    sizes: Counter[int] = Counter()
    comments: Counter[str] = Counter()
    unexpected: list[str] = []
    for issue in recovery_issues(rig.sandbox):
        if "recovery" not in issue["labels"]:
            continue
        found = set(CASE.findall(issue["summary"] or "")) or set(CASE.findall(issue_text(issue)))
        if len(found) != 1:
            unexpected.append(issue["key"])
            continue
        recoveries[found.pop()] += 1
        sizes[len(subtasks(rig.sandbox, issue))] += 1
        for comment in rig.sandbox.state.comments(issue["key"]):
            for reply in set(REPLY.findall(rich_text(comment.get("body")))):
                comments[reply] += 1
    return Tally(recoveries, sizes, comments, unexpected)


def alert_duplicates(rig: Rig) -> tuple[int, int]:
    """Webhook deliveries, and how many repeated an alert already delivered for a deadline."""
    seen: Counter[tuple[Any, ...]] = Counter()
    for delivery in rig.webhook.received():
        body = delivery.json()
        seen[(body["recovery"]["id"], body["deadline_id"], body["kind"], body["breaches"])] += 1
    return sum(seen.values()), sum(n - 1 for n in seen.values() if n > 1)


def in_hand(rig: Rig) -> str:
    """The worker's unfinished work, for a failure message."""
    queries = {
        "pending recoveries": "SELECT COUNT(*) FROM recoveries WHERE state = 'pending'",
        "unposted replies": "SELECT COUNT(*) FROM replies WHERE comment_id IS NULL",
        "open intents": "SELECT COUNT(*) FROM actions WHERE state = 'intent'",
        "alerts": "SELECT state, COUNT(*) FROM alerts_sent GROUP BY state",
        "decisions": "SELECT decision, reason, COUNT(*) FROM messages GROUP BY decision, reason",
    }
    text = ", ".join(f"{name} {rig.store_rows(q)}" for name, q in queries.items())
    senders = rig.store_rows(
        "SELECT sender FROM messages WHERE reason NOT IN ('complaint', ?) LIMIT 3",
        "reply in a recovery's thread",
    )
    for (sender,) in senders:
        rows = rig.store_rows(
            "SELECT id, uid, message_id, decision, reason, recovery_id FROM messages"
            " WHERE sender = ?",
            sender,
        )
        text += f"\n{sender}: {rows}"
    return text


def settled(rig: Rig) -> bool:
    """The worker has nothing in hand: no pending recovery, reply or unfinished intent."""
    pending = rig.store_rows("SELECT COUNT(*) FROM recoveries WHERE state = 'pending'")
    unposted = rig.store_rows("SELECT COUNT(*) FROM replies WHERE comment_id IS NULL")
    intents = rig.store_rows("SELECT COUNT(*) FROM actions WHERE state = 'intent'")
    alerts = rig.store_rows(
        "SELECT COUNT(*) FROM alerts_sent WHERE state IN ('pending', 'sending')"
    )
    return all(rows and rows[0][0] == 0 for rows in (pending, unposted, intents, alerts))
