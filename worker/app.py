"""Wiring: builds a worker (store, adapters, steps, supervisor) from settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from worker.clock import Clock
from worker.health import HealthServer, HealthState
from worker.logs import get_logger
from worker.metrics import Metrics
from worker.settings import Settings
from worker.store import Store
from worker.supervisor import LoopStatus, Step, Supervisor

log = get_logger()


@dataclass
class Worker:
    """Everything one running worker holds."""

    settings: Settings
    clock: Clock
    store: Store
    metrics: Metrics
    supervisor: Supervisor
    dependencies: tuple[str, ...] = ()
    health_server: HealthServer | None = field(default=None)

    def start_health(self) -> HealthServer | None:
        if not self.settings.health.enabled:
            return None
        state = HealthState(
            self.supervisor.status,
            self.clock,
            stale_after=self.settings.health.stale_after,
            store_ok=self.store.ping,
            dependencies=self.dependencies,
        )
        server = HealthServer(
            state, self.metrics, self.settings.health.host, self.settings.health.port
        )
        server.start()
        self.health_server = server
        log.info("health.listening", host=self.settings.health.host, port=server.port)
        return server

    def close(self) -> None:
        if self.health_server is not None:
            self.health_server.stop()
        self.store.close()


def build_worker(settings: Settings, clock: Clock) -> Worker:
    """Open the store (migrating it) and assemble the steps the settings call for."""
    store = Store(settings.store.url)
    version = store.migrate()
    log.info("store.ready", schema_version=version, backend=store.engine.dialect.name)
    metrics = Metrics()
    steps: list[Step] = []
    dependencies: list[str] = []
    if not (settings.imap.host or settings.maildir.path):
        log.info("inbox.disabled", hint="set imap.host or maildir.path to watch an inbox")
    if not settings.jira.url:
        log.info("jira.disabled", hint="set jira.url to open recoveries in Jira")
    supervisor = Supervisor(
        steps, clock, status=LoopStatus(), max_backoff=settings.loop.max_backoff
    )
    return Worker(settings, clock, store, metrics, supervisor, tuple(dependencies))
