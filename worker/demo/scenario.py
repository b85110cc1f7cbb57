"""One recovery's whole life, scripted: the demo runs it, the end-to-end test asserts on it.

A Monday morning at a support desk. Four mails arrive; one is an angry client.
The worker opens the recovery; the client writes again; nobody answers in time,
so a warning and then a breach alert go out; the owner calls the client and logs
the update, promising the next one; the team writes down the root cause and
resolves the recovery; the worker plans the follow-up call a month later. With
``reopen``, the client then writes that it is down again, and the worker reopens the
recovery and puts the follow-up on hold.

Time is a :class:`FrozenClock` that the scenario moves forward in five-minute
ticks from wherever the clock stands, running one round of every step at each
tick: an hour and a half of the desk's morning takes about a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from importlib import resources

from worker.app import Worker
from worker.clock import FrozenClock
from worker.demo.team import TeamDesk
from worker.domain.document import Heading, document, paragraph
from worker.domain.events import EventKind
from worker.store import events, recoveries
from worker.tracker import Issue, StatusCategory, Tracker
from worker.tracker.jql import all_of, eq

TICK = timedelta(minutes=5)
_DATE_HEADER = re.compile(rb"^Date:[^\r\n]*", re.MULTILINE)

FIRST_MAILS = (
    "01-angry-client.eml",
    "02-polite-question.eml",
    "03-out-of-office.eml",
    "05-newsletter.eml",
)
THREAD_REPLY = "04-thread-follow-up.eml"
DOWN_AGAIN = "06-down-again.eml"

#: Hands a sample mail to the inbox under test: a Maildir for the demo, Dovecot in the tests.
Deliver = Callable[[str, bytes], object]
Say = Callable[[str], None]


def sample_mail(name: str, sent_at: datetime) -> bytes:
    """A sample mail, dated ``sent_at`` so its deadlines fall in the scenario's morning."""
    raw = resources.files("worker.demo").joinpath("mails", name).read_bytes()
    header, _, body = raw.partition(b"\n\n")
    dated = _DATE_HEADER.sub(b"Date: " + format_datetime(sent_at).encode("ascii"), header, count=1)
    return dated + b"\n\n" + body


@dataclass
class Lifecycle:
    """What the scenario made, for the closing summary and the end-to-end assertions."""

    recovery_key: str = ""
    subtask_keys: list[str] = field(default_factory=list)
    followup_key: str = ""
    #: The next update the owner promised, as the worker read it from the comment.
    promised: datetime | None = None
    reopened: bool = False
    rounds: int = 0


class Scenario:
    """Drives a built worker, the team and the clock through the lifecycle."""

    def __init__(
        self,
        worker: Worker,
        clock: FrozenClock,
        team: TeamDesk,
        deliver: Deliver,
        say: Say = lambda _line: None,
        *,
        reopen: bool = False,
    ) -> None:
        self.worker = worker
        self.clock = clock
        self.start = clock.now()
        self.team = team
        self.deliver = deliver
        self.say = say
        self.reopen = reopen
        self.result = Lifecycle()

    @property
    def tracker(self) -> Tracker:
        tracker = self.worker.services.tracker
        assert tracker is not None, "the scenario needs Jira"
        return tracker

    def round(self) -> None:
        self.worker.supervisor.run_once()
        self.result.rounds += 1

    def run_until(self, moment: datetime) -> None:
        """Move the clock to ``moment`` tick by tick, one round of the steps at each tick."""
        while self.clock.now() + TICK <= moment:
            self.clock.advance(TICK)
            self.round()
        if self.clock.now() < moment:
            self.clock.set(moment)
            self.round()

    def scene(self, title: str) -> None:
        self.say("")
        self.say(f"── {self.clock.now():%a %H:%M} · {title}")

    def run(self) -> Lifecycle:
        self.scene("four mails arrive in the support inbox")
        for name in FIRST_MAILS:
            self.deliver(name, sample_mail(name, self.start - timedelta(minutes=3)))
        self.round()
        parent = self._recovery()
        self.result.recovery_key = parent.key
        self.result.subtask_keys = list(parent.subtasks)
        for key in parent.subtasks:
            self.say(f"   subtask {key}: {self.tracker.get_issue(key).summary}")

        self.run_until(self.start + timedelta(minutes=25))
        self.scene("the client writes again in the same thread")
        self.deliver(THREAD_REPLY, sample_mail(THREAD_REPLY, self.clock.now()))
        self.round()

        self.scene("nobody has called the client back yet; the clock runs")
        self.run_until(self.start + timedelta(hours=1, minutes=10))

        self.scene("the owner calls the client and logs the update in Jira")
        self.team.comment(
            parent.key,
            document(
                paragraph(
                    "[client] Called Dana: apologised, explained the outage, agreed a fix plan. "
                    f"Next update by {self.clock.now() + timedelta(hours=3):%H}:00."
                )
            ),
        )
        self.run_until(self.start + timedelta(hours=1, minutes=20))
        self.result.promised = self._promised(parent.key)
        if self.result.promised is not None:
            due = self.result.promised.astimezone(self.clock.now().tzinfo)
            self.say(f"   the time read from that promise: next update by {due:%H:%M}")

        self.scene("the team writes down the root cause and resolves the recovery")
        have = self._subtask("HAVE")
        self.team.describe(
            have.key,
            document(
                Heading("Root cause"),
                paragraph("But-for cause: the portal's certificate expired at 07:58."),
                paragraph("Systemic cause: certificate renewals depend on one person's calendar."),
                paragraph("Fix: certificate renewed; portal back at 09:40."),
                paragraph("Remediation: automatic renewal with an alert 30 days before expiry."),
            ),
        )
        self.team.move(parent.key, "Done")
        self.run_until(self.start + timedelta(hours=1, minutes=30))
        self.result.followup_key = self._followup_key(parent.key)
        followup = self.tracker.get_issue(self.result.followup_key)
        self.say(f"   follow-up {followup.key}: {followup.summary}; due {followup.due}")
        if not self.reopen:
            return self.result

        self.run_until(self.start + timedelta(hours=1, minutes=35))
        self.scene("the client writes again: the portal is down again")
        self.deliver(DOWN_AGAIN, sample_mail(DOWN_AGAIN, self.clock.now()))
        self.run_until(self.start + timedelta(hours=1, minutes=45))
        reopened = self.tracker.get_issue(parent.key)
        self.result.reopened = reopened.status_category is not StatusCategory.DONE
        if self.result.reopened:
            self.say(f"   {parent.key} is {reopened.status} again")
        else:
            self.say(f"   {parent.key} is still {reopened.status}: the reopen did not go through")
        return self.result

    def _recovery(self) -> Issue:
        label = self.worker.settings.jira.labels[0]
        found = list(self.tracker.search(all_of(eq("labels", label), "parent IS EMPTY")))
        if len(found) != 1:
            raise RuntimeError(f"expected one recovery in Jira, found {len(found)}")
        return self.tracker.get_issue(found[0].key)

    def _promised(self, recovery_key: str) -> datetime | None:
        """The latest next update promised on the recovery, as the store recorded it."""
        with self.worker.store.transaction() as conn:
            recovery = recoveries.by_jira_key(conn, recovery_key)
            history = events.for_recovery(conn, recovery.id) if recovery is not None else []
        promises = [e for e in history if e.kind is EventKind.PROMISE and "due" in e.detail]
        return datetime.fromisoformat(str(promises[-1].detail["due"])) if promises else None

    def _subtask(self, stage: str) -> Issue:
        for key in self.result.subtask_keys:
            issue = self.tracker.get_issue(key)
            if issue.summary.upper().startswith(stage):
                return issue
        raise RuntimeError(f"the recovery has no {stage} subtask")

    def _followup_key(self, recovery_key: str) -> str:
        for issue in self.tracker.search(eq("labels", self.worker.settings.followup.labels[0])):
            return issue.key
        raise RuntimeError(f"no follow-up task was created for {recovery_key}")
