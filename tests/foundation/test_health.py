"""The health endpoints over real HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest

from worker.clock import FrozenClock
from worker.health import MAX_CONNECTIONS, READ_TIMEOUT, HealthServer, HealthState
from worker.metrics import Metrics
from worker.supervisor import LoopStatus


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def served(clock: FrozenClock) -> Iterator[tuple[str, LoopStatus, list[bool]]]:
    status = LoopStatus()
    store_up = [True]
    state = HealthState(
        status,
        clock,
        stale_after=timedelta(minutes=5),
        store_ok=lambda: store_up[0],
        dependencies={"imap": ("inbox.imap",), "jira": ("jira.watch", "jira.open")},
    )
    metrics = Metrics()
    metrics.messages.labels(decision="recovery").inc()
    server = HealthServer(state, metrics, "127.0.0.1", 0)
    server.start()
    yield f"http://127.0.0.1:{server.port}", status, store_up
    server.stop()


def test_healthz_follows_loop_progress(
    served: tuple[str, LoopStatus, list[bool]], clock: FrozenClock
) -> None:
    """Alive only while the loop has made progress within the staleness window."""
    url, status, _ = served
    assert get(url + "/healthz")[0] == 503
    status.progressed(clock.now())
    assert get(url + "/healthz")[0] == 200
    clock.advance(timedelta(minutes=6))
    code, body = get(url + "/healthz")
    assert code == 503
    assert json.loads(body)["last_progress_age_s"] == 360.0


def test_readyz_needs_store_and_every_dependency(
    served: tuple[str, LoopStatus, list[bool]], clock: FrozenClock
) -> None:
    """Ready only when the store answers and IMAP and Jira were last reached."""
    url, status, store_up = served
    code, body = get(url + "/readyz")
    assert code == 503
    assert json.loads(body)["imap"] == "not contacted yet"
    status.step_ok("inbox.imap", clock.now())
    status.step_ok("jira.open", clock.now())
    assert get(url + "/readyz")[0] == 200
    status.step_failed("jira.open", "ConnectionFailed")
    assert json.loads(get(url + "/readyz")[1])["jira"] == "ConnectionFailed"
    status.step_ok("jira.open", clock.now())
    store_up[0] = False
    assert get(url + "/readyz")[0] == 503


def test_readyz_is_not_fooled_by_a_step_with_nothing_to_do(
    served: tuple[str, LoopStatus, list[bool]], clock: FrozenClock
) -> None:
    """One Jira step failing makes Jira not ready, though another succeeded after it."""
    url, status, _ = served
    status.step_ok("inbox.imap", clock.now())
    status.step_failed("jira.watch", "ConnectionFailed")
    status.step_ok("jira.open", clock.now())
    code, body = get(url + "/readyz")
    assert code == 503
    assert json.loads(body) == {
        "ok": False,
        "store": "ok",
        "imap": "ok",
        "jira": "ConnectionFailed",
    }
    status.step_ok("jira.watch", clock.now())
    assert get(url + "/readyz")[0] == 200


def test_metrics_are_exposed(served: tuple[str, LoopStatus, list[bool]]) -> None:
    """/metrics serves the Prometheus text format with the worker's metrics."""
    url, _, _ = served
    code, body = get(url + "/metrics")
    assert code == 200
    assert 'recovery_worker_messages_total{decision="recovery"} 1.0' in body
    assert get(url + "/nope")[0] == 404


def test_readyz_fails_while_the_store_refuses_to_record(
    served: tuple[str, LoopStatus, list[bool]], clock: FrozenClock
) -> None:
    """A store that answers SELECT 1 but cannot record (full, corrupt) is not ready."""
    url, status, _ = served
    status.step_ok("inbox.imap", clock.now())
    status.step_ok("jira.open", clock.now())
    status.step_failed("sla.sweep", "StoreError")
    code, body = get(url + "/readyz")
    assert (code, json.loads(body)["store"]) == (503, "cannot record (sla.sweep)")
    status.step_ok("sla.sweep", clock.now())
    assert get(url + "/readyz")[0] == 200


def test_idle_connections_neither_pile_up_threads_nor_lock_probes_out(
    served: tuple[str, LoopStatus, list[bool]],
) -> None:
    url, _, _ = served
    port = int(url.rsplit(":", 1)[1])
    before = threading.active_count()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(MAX_CONNECTIONS * 4)]
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and threading.active_count() < before + MAX_CONNECTIONS:
            time.sleep(0.01)
        assert threading.active_count() <= before + MAX_CONNECTIONS
        # Once the idle ones time out, a probe gets through again.
        deadline = time.monotonic() + READ_TIMEOUT * 3
        while True:
            try:
                if get(url + "/healthz")[0] in (200, 503):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "a probe never got through"
            time.sleep(0.1)
    finally:
        for connection in idle:
            connection.close()
