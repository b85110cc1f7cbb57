"""The harness itself: a worker process configured against the rig starts, answers, and stops."""

from __future__ import annotations

import tomllib
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.reliability.figures import Figures
from tests.reliability.harness import Deadline, Rig, to_toml, wait_until

pytestmark = pytest.mark.integration


def test_toml_is_read_back_as_written() -> None:
    """The config writer's output parses to the same values."""
    sections: dict[str, dict[str, Any]] = {
        "imap": {"host": "127.0.0.1", "port": 143, "idle": False, "folders": ["INBOX"]},
        "jira": {"owners": {"client.test": "alice"}, "password": 'a"b\\c'},
    }
    assert tomllib.loads(to_toml(sections)) == sections


def test_worker_starts_serves_health_and_stops_on_sigterm(
    make_rig: Callable[..., Rig], figures: Figures, request: pytest.FixtureRequest
) -> None:
    """The worker runs from the rig's TOML file, answers /healthz, and exits 0 on SIGTERM."""
    deadline = Deadline(60)
    rig = make_rig()
    rig.worker.start_and_wait()
    body = wait_until(
        lambda: urllib.request.urlopen(rig.health_url + "/healthz", timeout=2).read(),
        10,
        "/healthz answers",
        ignoring=(OSError,),
    )
    assert body
    assert rig.worker.cpu_seconds() > 0
    rig.worker.kill()
    rig.worker.start_and_wait()
    code, seconds = rig.worker.terminate()
    assert code == 0
    assert seconds < 10
    deadline.check("stop")
    figures.count(runs=rig.worker.runs, kills=rig.worker.kills, terminations=1)
