"""Follow-up alerts through the outbox: raised once per key, planned once per channel, sent at
once, a failing channel left to the SLA sweep's retry without holding up the others."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.builders import RecordingChannel, open_recovery
from worker.clock import FrozenClock
from worker.core.alerting import AlertKind
from worker.core.sla import ClockKind
from worker.errors import ConnectionFailed
from worker.metrics import Metrics
from worker.outbox import Outbox
from worker.outbox.alerts import AlertOutbox
from worker.outbox.followup_alerts import (
    FOLLOWUP_OVERDUE,
    ROOT_CAUSE_MISSING,
    ChannelAlerts,
    FollowupAlert,
    alert_once,
    channel_alert,
    outside_channels,
)
from worker.store import Store
from worker.store import alerts as deliveries


@dataclass
class Sink:
    sent: list[FollowupAlert] = field(default_factory=list)
    error: Exception | None = None

    def send(self, alert: FollowupAlert) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(alert)


@dataclass
class Shared:
    """What the follow-up steps hand to ChannelAlerts: their services' alert outbox."""

    alert_outbox: AlertOutbox


@pytest.fixture
def recovery_id(store: Store, clock: FrozenClock) -> int:
    """Recovery SUP-1, open: the one the alerts are about."""
    return open_recovery(store, now=clock.now()).id


@pytest.fixture
def shared(store: Store, clock: FrozenClock) -> Shared:
    return Shared(AlertOutbox(store, clock, Metrics(), threading.Event(), max_attempts=3))


def overdue(recovery_id: int, clock: FrozenClock) -> FollowupAlert:
    return FollowupAlert(
        kind=FOLLOWUP_OVERDUE,
        recovery_id=recovery_id,
        recovery_key="SUP-1",
        severity="sev2",
        message="The follow-up call SUP-5 was due on 2026-03-01 and is 1 day(s) late",
        deadline_id=f"{recovery_id}:followup:0",
        deadline=clock.now() - timedelta(hours=9),
        late_by=timedelta(hours=9),
        owner="alice",
    )


def test_an_alert_is_raised_once_per_key(
    store: Store, clock: FrozenClock, recovery_id: int
) -> None:
    outbox = Outbox(store, clock, window=timedelta(seconds=90))
    sink = Sink(error=ConnectionFailed("down"))
    with pytest.raises(ConnectionFailed):
        alert_once(outbox, sink, "alert:followup-overdue:1:0", overdue(recovery_id, clock))
    sink.error = None
    for _ in range(2):
        alert_once(outbox, sink, "alert:followup-overdue:1:0", overdue(recovery_id, clock))
    assert [a.kind for a in sink.sent] == [FOLLOWUP_OVERDUE]
    assert outbox.done("alert:followup-overdue:1:0") == FOLLOWUP_OVERDUE


def test_every_channel_gets_the_alert_even_when_one_fails(
    shared: Shared, clock: FrozenClock, recovery_id: int
) -> None:
    broken = RecordingChannel("webhook", error=ConnectionFailed("down"))
    working = RecordingChannel("slack")
    ChannelAlerts([broken, working], shared).send(overdue(recovery_id, clock))
    (alert,) = working.got
    assert (alert.kind, alert.clock) == (AlertKind.BREACH, ClockKind.NEXT_UPDATE)
    with shared.alert_outbox.store.transaction() as conn:
        states = {
            d.channel: d.state
            for d in deliveries.to_deliver(conn, clock.now() + timedelta(hours=1))
        }
    assert states == {"webhook": deliveries.FAILED}  # due again for the sweep's retry


def test_an_alert_planned_before_is_not_sent_again(
    shared: Shared, clock: FrozenClock, recovery_id: int
) -> None:
    slack = RecordingChannel("slack")
    for _ in range(2):
        ChannelAlerts([slack], shared).send(overdue(recovery_id, clock))
    assert len(slack.got) == 1


def test_a_missing_root_cause_is_a_warning_and_the_steps_own_channels_are_left_out() -> None:
    alert = channel_alert(
        FollowupAlert(
            kind=ROOT_CAUSE_MISSING,
            recovery_id=1,
            recovery_key="",
            severity="sev3",
            message="SUP-1 was resolved without its root cause written down",
            deadline_id="1:root_cause:4",
            deadline=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        )
    )
    assert (alert.kind, alert.clock, alert.jira_key) == (
        AlertKind.WARNING,
        ClockKind.RESOLUTION,
        None,
    )
    channels = [RecordingChannel("log"), RecordingChannel("jira"), RecordingChannel("teams")]
    assert [c.name for c in outside_channels(channels)] == ["teams"]
