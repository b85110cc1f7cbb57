"""HTTP endpoints for probes and scraping: /healthz, /readyz, /metrics."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from worker.clock import Clock
from worker.metrics import Metrics
from worker.supervisor import LoopStatus

#: Step failures that are the store's, not the outside system's.
STORE_FAULTS = frozenset({"StoreError"})


class HealthState:
    """Answers the two probe questions from the loop's status and the store."""

    def __init__(
        self,
        status: LoopStatus,
        clock: Clock,
        *,
        stale_after: timedelta,
        store_ok: Callable[[], bool],
        dependencies: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.status = status
        self.clock = clock
        self.stale_after = stale_after
        self.store_ok = store_ok
        # Each outside system and the steps that talk to it.
        self.dependencies = dict(dependencies or {})

    def alive(self) -> tuple[bool, dict[str, object]]:
        with self.status.lock:
            last = self.status.last_progress
        if last is None:
            return False, {"reason": "the loop has not run yet"}
        age = (self.clock.now() - last).total_seconds()
        ok = age <= self.stale_after.total_seconds()
        return ok, {"last_progress_age_s": round(age, 1)}

    def ready(self) -> tuple[bool, dict[str, object]]:
        """Ready when decisions are being recorded and no step of any outside system is failing.

        A system is ok once one of its steps succeeded and while none of them is
        failing: a step with nothing to do may succeed without calling out, so one
        success must not hide a sibling step that found the system down.
        """
        checks: dict[str, object] = {"store": "ok" if self.store_ok() else "failed"}
        with self.status.lock:
            # A store that answers a query may still refuse to record (full, corrupt):
            # a step that failed for that is the store's failure, whatever it talks to.
            refused = [
                s for s, reason in self.status.last_failure.items() if reason in STORE_FAULTS
            ]
            if refused:
                checks["store"] = f"cannot record ({refused[0]})"
            for system, steps in self.dependencies.items():
                failing = [
                    self.status.last_failure[s] for s in steps if s in self.status.last_failure
                ]
                if failing:
                    checks[system] = failing[0]
                elif any(s in self.status.last_success for s in steps):
                    checks[system] = "ok"
                else:
                    checks[system] = "not contacted yet"
        return all(v == "ok" for v in checks.values()), checks


#: Connections served at once; more are closed at once. Probes and a scraper need few.
MAX_CONNECTIONS = 16
#: Seconds a connection may take to send its request: an idle one must not hold a thread.
READ_TIMEOUT = 5.0


class _BoundedServer(ThreadingHTTPServer):
    """A threaded server with a cap on the connections it serves at once."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class HealthServer:
    """A small threaded HTTP server; started with the worker, stopped with it."""

    def __init__(self, state: HealthState, metrics: Metrics, host: str, port: int) -> None:
        self.state = state
        self.metrics = metrics
        self._server = _BoundedServer((host, port), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            timeout = READ_TIMEOUT

            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._probe(*server.state.alive())
                elif self.path == "/readyz":
                    self._probe(*server.state.ready())
                elif self.path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(server.metrics.registry))
                else:
                    self._send(404, "text/plain", b"not found\n")

            def _probe(self, ok: bool, detail: dict[str, object]) -> None:
                body = json.dumps({"ok": ok, **detail}).encode()
                self._send(200 if ok else 503, "application/json", body)

            def _send(self, code: int, content_type: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                # Probes hit this every few seconds; they are not worth a log line.
                return

        return Handler
