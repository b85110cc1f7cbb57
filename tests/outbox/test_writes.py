"""The outbox's exactly-once rule, once for every kind of write: look before writing again,
and never write again while what an unknown outcome made may still appear."""

from __future__ import annotations

from datetime import timedelta

import pytest

from worker.clock import FrozenClock
from worker.errors import ConnectionFailed, OutcomeUnknown, RequestRejected
from worker.outbox import Outbox, Unconfirmed, Write
from worker.store import Store, ledger

WINDOW = timedelta(seconds=90)


class Jira:
    """What the outbox writes to: results appear only when ``land`` says so."""

    def __init__(self) -> None:
        self.sent = 0
        self.visible: list[str] = []
        self.failures: list[Exception] = []
        self.in_flight: list[str] = []

    def send(self) -> str:
        self.sent += 1
        result = f"R-{self.sent}"
        if self.failures:
            error = self.failures.pop(0)
            if isinstance(error, OutcomeUnknown):
                self.in_flight.append(result)  # made, but shows only later
            raise error
        self.visible.append(result)
        return result

    def land(self) -> None:
        self.visible += self.in_flight
        self.in_flight.clear()

    def find(self) -> str | None:
        return self.visible[0] if self.visible else None


@pytest.fixture
def jira() -> Jira:
    return Jira()


@pytest.fixture
def outbox(store: Store, clock: FrozenClock) -> Outbox:
    return Outbox(store, clock, window=WINDOW)


def write(jira: Jira, **changes: object) -> Write:
    values: dict[str, object] = {"key": "comment:1", "kind": "comment", "send": jira.send,
                                 "find": jira.find}  # fmt: skip
    values.update(changes)
    return Write(**values)  # type: ignore[arg-type]


def test_a_write_is_made_once_and_then_read_from_the_ledger(outbox: Outbox, jira: Jira) -> None:
    assert outbox.make(write(jira)) == "R-1"
    assert outbox.make(write(jira)) == "R-1"
    assert jira.sent == 1


def test_a_lost_answer_is_waited_for_until_the_window_has_passed(
    outbox: Outbox, jira: Jira, clock: FrozenClock
) -> None:
    jira.failures.append(OutcomeUnknown("read timed out"))
    with pytest.raises(OutcomeUnknown):
        outbox.make(write(jira))
    clock.advance(timedelta(seconds=30))
    with pytest.raises(Unconfirmed) as waiting:
        outbox.make(write(jira))
    assert waiting.value.retry_after == 60
    assert jira.sent == 1
    jira.land()
    clock.advance(timedelta(seconds=60))
    assert outbox.make(write(jira)) == "R-1"
    assert (jira.sent, jira.visible) == (1, ["R-1"])


def test_what_never_appeared_within_the_window_is_made_again(
    outbox: Outbox, jira: Jira, clock: FrozenClock
) -> None:
    jira.failures.append(OutcomeUnknown("connection dropped"))
    with pytest.raises(OutcomeUnknown):
        outbox.make(write(jira))
    jira.in_flight.clear()  # it never arrived after all
    clock.advance(WINDOW)
    assert outbox.make(write(jira)) == "R-2"
    assert jira.sent == 2


def test_a_write_that_never_reached_jira_is_made_again_at_once(outbox: Outbox, jira: Jira) -> None:
    jira.failures.append(ConnectionFailed("refused"))
    with pytest.raises(ConnectionFailed):
        outbox.make(write(jira))
    assert outbox.make(write(jira)) == "R-2"


def test_refusals_are_counted_and_a_refused_write_tried_again(
    outbox: Outbox, jira: Jira, store: Store
) -> None:
    jira.failures += [RequestRejected("no such project"), RequestRejected("no such project")]
    for _ in range(2):
        with pytest.raises(RequestRejected):
            outbox.make(write(jira))
    assert outbox.refusals("comment:1") == 2
    assert outbox.done("comment:1") is None
    assert outbox.make(write(jira)) == "R-3"
    assert outbox.done("comment:1") == "R-3"
    with store.transaction() as conn:
        action = ledger.get(conn, "comment:1")
    assert action is not None
    assert action.state == ledger.DONE


def test_an_idempotent_write_never_waits(outbox: Outbox, jira: Jira) -> None:
    jira.failures.append(OutcomeUnknown("read timed out"))
    with pytest.raises(OutcomeUnknown):
        outbox.make(write(jira, find=lambda: None, idempotent=True))
    assert outbox.make(write(jira, find=lambda: None, idempotent=True)) == "R-2"


def test_a_write_that_never_reached_jira_is_looked_for_once_without_waiting(
    outbox: Outbox, jira: Jira
) -> None:
    searches: list[str | None] = []

    def find() -> str | None:
        searches.append(jira.find())
        return searches[-1]

    jira.failures += [ConnectionFailed("refused"), ConnectionFailed("refused")]
    for _ in range(2):
        with pytest.raises(ConnectionFailed):
            outbox.make(write(jira, find=find))
    # No time has passed: a write that made nothing is not held for the visibility window.
    assert outbox.make(write(jira, find=find)) == "R-3"
    assert searches == [None, None]  # one look per attempt after the first, never a poll


def test_a_write_whose_send_is_not_recorded_is_looked_for_first(
    outbox: Outbox, jira: Jira, store: Store
) -> None:
    # An intent without a recorded send (a crash before it, or a ledger from before sends
    # were recorded) proves nothing: what it may have made is looked for.
    jira.visible.append("R-0")
    with store.transaction() as conn:
        ledger.record_intent(conn, "comment:1", "comment", outbox.clock.now())
    assert outbox.make(write(jira)) == "R-0"
    assert jira.sent == 0
