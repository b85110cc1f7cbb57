"""`recovery-worker retry-given-up`: a refused recovery, its cause fixed, opens after all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.builders import add_recovery, add_reply, make_services
from worker.cli import main
from worker.clock import FrozenClock
from worker.domain.recovery import GAVE_UP, PENDING
from worker.errors import RequestRejected
from worker.settings import JiraSettings
from worker.steps import Services
from worker.steps.recoveries import MAX_ATTEMPTS, open_recoveries_once
from worker.steps.replies import post_replies_once
from worker.store import Store, recoveries
from worker.tracker.fake import FakeTracker


@pytest.fixture
def given_up(
    store: Store,
    clock: FrozenClock,
    tracker: FakeTracker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Services, FakeTracker, list[int]]:
    """Two recoveries Jira refused MAX_ATTEMPTS times each, the command pointed at their store."""
    services = make_services(store, clock, tracker, jira=JiraSettings(url="http://jira.invalid"))
    summary = "Export broken\x1b[2J again"
    ids = [add_recovery(services, f"mail:<m{n}@x>", summary=summary) for n in range(2)]
    tracker.fail("create_issue", RequestRejected("customfield_10042 is required"), times=10)
    for _ in range(MAX_ATTEMPTS + 1):
        open_recoveries_once(services)
    with store.transaction() as conn:
        assert [r.id for r in recoveries.given_up(conn)] == ids
    add_reply(services, ids[0], "imap:INBOX:9")  # the client writes while it is given up
    monkeypatch.setenv("RECOVERY_WORKER_STORE__URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.chdir(tmp_path)
    return services, tracker, ids


def test_requeued_recoveries_open_at_the_next_pass(
    given_up: tuple[Services, FakeTracker, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every given-up recovery is back in line and opens; a second run finds none."""
    services, _, ids = given_up
    capsys.readouterr()
    assert main(["retry-given-up"]) == 0
    out = capsys.readouterr().out
    assert [line.split(":")[0] for line in out.splitlines()] == [f"recovery {n}" for n in ids]
    assert out.count("back in line") == 2
    assert "\x1b" not in out  # the summary is client text: printed escaped
    assert open_recoveries_once(services) == 2
    assert post_replies_once(services) == 1  # the reply that came while it was given up
    assert main(["retry-given-up"]) == 0
    assert "no recovery is given up" in capsys.readouterr().out


def test_refusals_count_from_zero_again(
    given_up: tuple[Services, FakeTracker, list[int]],
) -> None:
    """A requeued recovery refused again gets its full tries before it is given up again."""
    services, fake, ids = given_up
    assert main(["retry-given-up", "--id", str(ids[0])]) == 0
    fake.fail("create_issue", RequestRejected("still required"), times=MAX_ATTEMPTS - 1)
    for _ in range(MAX_ATTEMPTS - 1):
        assert open_recoveries_once(services) == 0
    with services.store.transaction() as conn:
        assert recoveries.get(conn, ids[0]).state == PENDING  # type: ignore[union-attr]
        assert recoveries.get(conn, ids[1]).state == GAVE_UP  # type: ignore[union-attr]
    assert open_recoveries_once(services) == 1


def test_dry_run_and_unknown_ids_change_nothing(
    given_up: tuple[Services, FakeTracker, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    """--dry-run lists; an id that is not given up is reported, with exit code 1."""
    services, _, ids = given_up
    assert main(["retry-given-up", "--dry-run"]) == 0
    assert capsys.readouterr().out.count(": given up") == 2
    assert main(["retry-given-up", "--id", "999"]) == 1
    assert "recovery 999: not given up" in capsys.readouterr().err
    with services.store.transaction() as conn:
        assert [r.id for r in recoveries.given_up(conn)] == ids
