"""Loops and floods: 1,000 automatic replies and 1,000 mails from one sender in one minute.

The intake and recovery steps are called directly, on a clock that moves with the mail's
dates, against real Dovecot (through a relay that records every command) and the sandbox.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.reliability.figures import Figures
from tests.reliability.harness import (
    ANGRY,
    CallLog,
    Deadline,
    complaint,
    recovery_issues,
    wait_until,
)
from tests.support.dovecot import USER, CountingProxy, Dovecot, plain_settings
from worker.mail.imap import ImapInbox
from worker.metrics import Metrics
from worker.sandbox import RunningSandbox
from worker.settings import JiraSettings, Settings, StoreSettings
from worker.steps import Services
from worker.steps.imap_intake import poll_imap_once
from worker.steps.recoveries import open_recoveries_once
from worker.steps.replies import post_replies_once
from worker.store import Store
from worker.tracker.jira import JiraTracker

pytestmark = pytest.mark.integration

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EACH = 2_000
MINUTE = timedelta(minutes=1)


class TickingClock:
    """A clock that moves on by a fixed step each time it is read: a minute over the flood."""

    def __init__(self, start: datetime, step: timedelta) -> None:
        self.moment = start
        self.step = step

    def now(self) -> datetime:
        self.moment += self.step
        return self.moment


AUTO_HEADERS: tuple[dict[str, str], ...] = (
    {"Auto-Submitted": "auto-replied"},
    {"X-Autoreply": "yes"},
    {"Precedence": "auto_reply"},
    {"X-Auto-Response-Suppress": "All"},
    {},  # the subject alone says it
)


def auto_replies(count: int) -> list[bytes]:
    """Automatic replies, half from one responder in a loop with us, all with angry words."""
    mails = []
    for n in range(count):
        sender = "robot@responder.test" if n % 2 else f"away{n}@client-{n}.test"
        raw, _ = complaint(
            f"A{n:04d}",
            sender=sender,
            subject=f"Automatic reply: Outage again, case A{n:04d}",
            body=f"I am out of the office. {ANGRY}",
            date=START + MINUTE * n / count,
            headers=AUTO_HEADERS[n % len(AUTO_HEADERS)],
        )
        mails.append(raw)
    return mails


def one_sender(count: int) -> list[bytes]:
    """Angry mails from a single address, all within one minute by their dates."""
    return [
        complaint(
            f"F{n:04d}",
            sender="angry@flood.test",
            subject=f"Still broken (mail {n})",
            date=START + MINUTE * n / count,
        )[0]
        for n in range(count)
    ]


@pytest.fixture
def flood_sandbox(
    start_jira: Callable[..., tuple[RunningSandbox, CallLog]],
) -> RunningSandbox:
    sandbox, _calls = start_jira("cloud")
    return sandbox


def imap_commands(sent: bytes) -> list[str]:
    """The IMAP commands a client sent: tag, command and its arguments, one per line."""
    lines = sent.decode("utf-8", errors="replace").splitlines()
    return [line for line in lines if re.match(r"^\S+ (UID )?[A-Z]+", line)]


def test_thousand_auto_replies_and_a_one_sender_flood_open_at_most_one_recovery(
    dovecot: Dovecot, flood_sandbox: RunningSandbox, tmp_path: Path, figures: Figures
) -> None:
    """2,000 mails in a minute: one recovery at most, every mail decided, nothing sent back."""
    deadline = Deadline(150)
    dovecot.append_many([m for pair in zip(auto_replies(1000), one_sender(1000), strict=True)
                         for m in pair])  # fmt: skip
    proxy = CountingProxy((dovecot.host, dovecot.imap_port))
    settings = Settings(
        store=StoreSettings(url=f"sqlite:///{tmp_path / 'state.db'}"),
        imap=plain_settings(dovecot, port=proxy.port, timeout=timedelta(seconds=10)),
        jira=JiraSettings(url=flood_sandbox.url, dialect="cloud", **flood_sandbox.credentials),
    )
    detection = settings.detection.model_copy(update={"own_addresses": [USER]})
    settings = settings.model_copy(update={"detection": detection})
    clock = TickingClock(START, MINUTE / (4 * EACH))
    store = Store(settings.store.url)
    store.migrate()
    inbox = ImapInbox(settings.imap, clock=clock)
    services = Services(settings, clock, store, Metrics(), JiraTracker.from_settings(settings.jira))
    started = time.perf_counter()
    try:
        wait_until(
            lambda: poll_imap_once(services, inbox) == 0,
            deadline.left() - 30,
            "the inbox is read to the end",
            interval=0,
        )
        while open_recoveries_once(services):
            deadline.check("opening recoveries")
        while post_replies_once(services):
            deadline.check("posting replies")
    finally:
        inbox.close()
        proxy.close()
    seconds = time.perf_counter() - started
    with store.transaction() as conn:
        decided = conn.exec_driver_sql("SELECT decision, COUNT(*) FROM messages GROUP BY 1").all()
        per_key = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM (SELECT key FROM messages GROUP BY key HAVING COUNT(*) > 1)"
        ).scalar_one()
    store.close()
    decisions = {str(d): int(n) for d, n in decided}
    tickets = [i for i in recovery_issues(flood_sandbox) if "recovery" in i["labels"]]
    commands = imap_commands(bytes(proxy.to_server))
    writes = [c for c in commands if re.search(r" (APPEND|COPY|MOVE|EXPUNGE|STORE) ", c + " ")]
    stray = [c for c in writes if not re.search(r"STORE \S+ \+FLAGS\.SILENT \(\$Recovery", c)]

    figures.note(
        "floods",
        mails=2 * 1000,
        decisions=decisions,
        recovery_tickets=len(tickets),
        comments_from_the_flood=sum(len(t["comments"]) for t in tickets),
        seconds=seconds,
        mails_per_second=2000 / seconds,
    )
    figures.count(messages=2000, duplicates=per_key)
    assert sum(decisions.values()) == 2 * 1000
    assert per_key == 0
    assert len(tickets) <= 1
    # The flood's mails into its recovery are a bounded number of comments, the rest digested.
    assert sum(len(t["comments"]) for t in tickets) <= settings.jira.max_reply_comments
    assert all("A0" not in t["summary"] for t in tickets)
    assert stray == []
    assert writes, "the relay saw no flags being set: the commands were not recorded"
    assert "smtplib" not in sys.modules
