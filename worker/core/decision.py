"""One decision per message: recovery, thread, not_complaint, skipped or quarantined.

Pure: what the store knows comes in through a DecisionContext and the time as
``now``. The order matters and is the product's rule: a message already decided
is skipped; noise never opens anything; a message in a known thread joins its
recovery; a sender's flood joins their recent recovery; everything else is
scored by the detector. A flood or repeat contact never opens a recovery by
itself: it weighs on a mail with complaint evidence of its own. Both count when
mails arrived, not when they are decided: a backlog read after downtime is not a
flood.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from worker.core.auth import authenticated
from worker.core.detection import Assessment, Detector
from worker.core.noise import OWN_ADDRESS, noise_reason
from worker.domain.decision import (
    NOT_COMPLAINT,
    RECOVERY,
    SKIPPED,
    THREAD,
    Decision,
)
from worker.domain.mail import ParsedMail

#: A Jira issue key in a subject: "[SUP-12]", "SUP-12:", "re: SUP-12".
_JIRA_KEY = re.compile(r"(?<![A-Za-z0-9_-])([A-Z][A-Z0-9_]{1,9}-[1-9][0-9]{0,8})(?![A-Za-z0-9_-])")
#: How far ahead of our clock a Date header may be and still be believed (senders' clocks drift).
DATE_SKEW = timedelta(minutes=15)
#: How long before its arrival at the server a mail's Date is still believed.
MAX_TRANSIT = timedelta(days=2)
#: How old a Date is still believed when the arrival is not known (Maildir, files).
MAX_DATE_AGE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class DecisionPolicy:
    """The settings decisions depend on (from DetectionSettings)."""

    own_addresses: Sequence[str] = ()
    ignore_senders: Sequence[str] = ()
    flood_count: int = 5
    flood_window: timedelta = timedelta(minutes=10)
    #: Skip mail the receiving server marked as spam.
    skip_spam: bool = True
    #: Who may join a recovery by naming its Jira key: its client's "address" or "domain".
    key_join: str = "domain"
    #: The team's own mail in the inbox counts only with passing Authentication-Results.
    team_mail_auth: bool = True
    #: Authentication-Results of these servers only (empty: the topmost header).
    trusted_servers: Sequence[str] = ()


class DecisionContext(Protocol):
    """What the store knows that a decision needs."""

    def is_recorded(self, key: str) -> bool: ...

    def recovery_for_message_ids(self, message_ids: Sequence[str]) -> int | None: ...

    def recovery_for_jira_key(self, jira_key: str) -> int | None: ...

    def count_from(self, sender: str, since: datetime, until: datetime) -> int:
        """Earlier mails of the sender that arrived within [since, until]."""
        ...

    def latest_recovery_from(self, sender: str, since: datetime, until: datetime) -> int | None:
        """The newest recovery of the sender's mails that arrived within [since, until]."""
        ...

    def severity_of(self, recovery_id: int) -> str | None: ...

    def client_of(self, recovery_id: int) -> str | None:
        """The address of the client the recovery is for."""
        ...


def thread_root(mail: ParsedMail) -> str:
    """The first message of the mail's thread as far as its headers tell."""
    if mail.references:
        return mail.references[0]
    return mail.in_reply_to or mail.key


def jira_keys_in(subject: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_JIRA_KEY.findall(subject[:1_000])))[:5]


def thread_recovery(
    mail: ParsedMail, context: DecisionContext, policy: DecisionPolicy | None = None
) -> tuple[int | None, str]:
    """The recovery whose thread a mail is in, by its reply headers or a Jira key in its subject.

    With a policy, a Jira key joins only a recovery of the sender's own (``key_join``): anyone
    can write "[SUP-12]" in a subject. Without one (the team's own, authenticated mail), any.
    """
    ids = [i for i in (mail.in_reply_to, *reversed(mail.references)) if i]
    recovery_id = context.recovery_for_message_ids(ids) if ids else None
    if recovery_id is not None:
        return recovery_id, "reply in a recovery's thread"
    refused = []
    for key in jira_keys_in(mail.subject):
        recovery_id = context.recovery_for_jira_key(key)
        if recovery_id is None:
            continue
        if policy is None or may_join(mail.sender.email, context.client_of(recovery_id), policy):
            return recovery_id, f"subject names the recovery's issue {key}"
        refused.append(key)
    if refused:
        return None, f"subject names {', '.join(refused)}, a recovery of another client: not joined"
    return None, ""


def may_join(sender: str, client: str | None, policy: DecisionPolicy) -> bool:
    """Whether ``sender`` may join a recovery for ``client`` by naming its key."""
    sender, client = sender.strip().lower(), (client or "").strip().lower()
    if not sender or not client:
        return False
    if sender == client:
        return True
    return policy.key_join == "domain" and sender.rpartition("@")[2] == client.rpartition("@")[2]


def arrival_time(mail: ParsedMail, received: datetime | None, now: datetime) -> datetime:
    """When a mail arrived: the server's INTERNALDATE, else a plausible Date header, else now.

    A Date header is the sender's word: one further ahead than DATE_SKEW is not believed.
    """
    if received is not None:
        return received
    if mail.date is not None and mail.date <= now + DATE_SKEW:
        return mail.date
    return now


def sent_time(mail: ParsedMail, received: datetime | None, now: datetime) -> datetime:
    """When the client sent a mail, for its SLA clocks: the Date header when plausible.

    A Date further ahead than DATE_SKEW would push the deadlines out, and one from long
    before the mail arrived (a sender's clock set to 1980) would have every clock missed
    at once, so neither is believed; the server's INTERNALDATE (never later than now)
    stands in, else now. Without an INTERNALDATE, a Date up to MAX_DATE_AGE old is a
    backlog read late and is believed.
    """
    arrived = min(received, now) if received is not None else now
    oldest = arrived - (MAX_TRANSIT if received is not None else MAX_DATE_AGE)
    if mail.date is not None and oldest <= mail.date <= now + DATE_SKEW:
        return mail.date
    return arrived


def decide(
    mail: ParsedMail,
    judge: Detector | Assessment,
    context: DecisionContext,
    now: datetime,
    policy: DecisionPolicy | None = None,
    *,
    received: datetime | None = None,
) -> Decision:
    """The decision for one parsed message, decided at ``now``, arrived at ``received``."""
    policy = policy or DecisionPolicy()
    root = thread_root(mail)
    if context.is_recorded(mail.key):
        return Decision(
            SKIPPED, "duplicate: this message is already decided", thread_root=root, duplicate=True
        )
    noise = noise_reason(
        mail,
        own_addresses=policy.own_addresses,
        ignore_senders=policy.ignore_senders,
        skip_spam=policy.skip_spam,
    )
    if noise == OWN_ADDRESS and policy.team_mail_auth:
        # Only reached when the mail did not pass as the team's (see is_team_mail).
        noise = f"{OWN_ADDRESS}, but not authenticated by the receiving server"
    if noise:
        return Decision(SKIPPED, noise, thread_root=root)

    arrived = arrival_time(mail, received, now)
    since = arrived - policy.flood_window
    sender = mail.sender.email
    earlier = context.count_from(sender, since, arrived) if sender else 0
    assessment = (
        judge if isinstance(judge, Assessment) else judge.assess(mail, repeat_contacts=earlier)
    )

    def scored(kind: str, reason: str, recovery_id: int | None = None) -> Decision:
        return Decision(
            kind,
            reason,
            is_complaint=assessment.is_complaint,
            score=assessment.score,
            severity=assessment.severity,
            reasons=assessment.reasons,
            recovery_id=recovery_id,
            thread_root=root,
            jira_keys=keys,
        )

    keys = jira_keys_in(mail.subject)
    recovery_id, reason = thread_recovery(mail, context, policy)
    if recovery_id is None and reason:
        assessment = replace(assessment, reasons=(*assessment.reasons, reason))
    if recovery_id is None and sender:
        recovery_id = context.latest_recovery_from(sender, since, arrived)
        reason = f"sender's recovery from the last {_minutes(policy.flood_window)}"
        if recovery_id is not None and earlier + 1 >= policy.flood_count:
            reason = f"flood: {earlier + 1} mails within {_minutes(policy.flood_window)}"
    if recovery_id is not None:
        joined = scored(THREAD, reason, recovery_id)
        raise_to = _raise_to(assessment, context.severity_of(recovery_id))
        return replace(joined, raise_to=raise_to) if raise_to else joined
    if assessment.is_complaint:
        return scored(RECOVERY, "complaint")
    return scored(NOT_COMPLAINT, f"score {assessment.score:g} below the complaint threshold")


def is_team_mail(mail: ParsedMail, policy: DecisionPolicy) -> bool:
    """Sent from one of the team's own addresses, not automatic, and vouched for when required."""
    own = noise_reason(mail, own_addresses=policy.own_addresses) == OWN_ADDRESS
    return own and (not policy.team_mail_auth or authenticated(mail, policy.trusted_servers))


def _raise_to(assessment: Assessment, current: str | None) -> str | None:
    if not assessment.is_complaint or assessment.severity is None or current is None:
        return None
    return assessment.severity if assessment.severity < current else None


def _minutes(window: timedelta) -> str:
    minutes = window.total_seconds() / 60
    return f"{minutes:g} minutes" if minutes != 1 else "minute"


# --- contexts ------------------------------------------------------------------------


@dataclass
class _Seen:
    key: str
    message_id: str | None
    sender: str
    #: When the mail arrived, as the store's received_at (decided_at where unknown).
    arrived: datetime
    recovery_id: int | None


class MemoryContext:
    """A DecisionContext held in memory: for tests and for ``classify``.

    Every lookup is by key (a set or a dict), so deciding n mails costs n lookups, not n².
    """

    def __init__(self) -> None:
        self.seen: list[_Seen] = []
        self.jira_keys: dict[str, int] = {}
        self.severities: dict[int, str] = {}
        self.clients: dict[int, str] = {}
        self._keys: set[str] = set()
        self._recovery_of_message: dict[str, int] = {}
        #: Each sender's mails in order of arrival.
        self._by_sender: dict[str, list[_Seen]] = {}
        self._next_recovery = 1

    def is_recorded(self, key: str) -> bool:
        return key in self._keys

    def recovery_for_message_ids(self, message_ids: Sequence[str]) -> int | None:
        for message_id in message_ids:
            recovery_id = self._recovery_of_message.get(message_id)
            if recovery_id is not None:
                return recovery_id
        return None

    def recovery_for_jira_key(self, jira_key: str) -> int | None:
        return self.jira_keys.get(jira_key)

    def count_from(self, sender: str, since: datetime, until: datetime) -> int:
        return len(self._window(sender, since, until))

    def latest_recovery_from(self, sender: str, since: datetime, until: datetime) -> int | None:
        for s in reversed(self._window(sender, since, until)):
            if s.recovery_id is not None:
                return s.recovery_id
        return None

    def _window(self, sender: str, since: datetime, until: datetime) -> list[_Seen]:
        mails = self._by_sender.get(sender, [])
        start = bisect_left(mails, since, key=_arrived)
        end = bisect_right(mails, until, key=_arrived)
        return mails[start:end]

    def severity_of(self, recovery_id: int) -> str | None:
        return self.severities.get(recovery_id)

    def client_of(self, recovery_id: int) -> str | None:
        return self.clients.get(recovery_id)

    def remember(
        self,
        mail: ParsedMail,
        decision: Decision,
        at: datetime,
        *,
        received: datetime | None = None,
    ) -> int | None:
        """Record a decision made at ``at`` as the store would; returns its recovery."""
        if self.is_recorded(mail.key):
            return None
        recovery_id = decision.recovery_id
        if decision.decision == RECOVERY:
            recovery_id = self._next_recovery
            self._next_recovery += 1
            self.severities[recovery_id] = decision.severity or "sev3"
            self.clients[recovery_id] = mail.sender.email
        elif decision.raise_to and recovery_id is not None:
            self.severities[recovery_id] = decision.raise_to
        arrived = arrival_time(mail, received, at)
        seen = _Seen(mail.key, mail.message_id, mail.sender.email, arrived, recovery_id)
        self.seen.append(seen)
        self._keys.add(mail.key)
        if mail.message_id and recovery_id is not None:
            self._recovery_of_message.setdefault(mail.message_id, recovery_id)
        insort(self._by_sender.setdefault(seen.sender, []), seen, key=_arrived)
        return recovery_id


def _arrived(seen: _Seen) -> datetime:
    return seen.arrived
