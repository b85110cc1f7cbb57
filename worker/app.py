"""Wiring: builds a worker (store, adapters, steps, supervisor) from settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from worker.alerts.base import Channel
from worker.clock import Clock
from worker.errors import ConfigurationError, Interrupted, TransientError, WorkerError
from worker.health import HealthServer, HealthState
from worker.logs import get_logger
from worker.mail.imap import ImapInbox
from worker.mail.maildir import MaildirInbox
from worker.metrics import Metrics
from worker.outbox.followup_alerts import OWN_CHANNELS, AlertSink, ChannelAlerts
from worker.retry import RetryPolicy
from worker.settings import Settings
from worker.steps import Services
from worker.steps.clocks import sweep_clocks_once
from worker.steps.followup import check_followups_once, plan_followups_once
from worker.steps.imap_intake import BATCH, poll_imap_once
from worker.steps.jira_sync import sync_recoveries_once
from worker.steps.jira_watch import watch_jira_once
from worker.steps.maildir_intake import poll_maildir_once
from worker.steps.priorities import raise_priorities_once
from worker.steps.recoveries import open_recoveries_once
from worker.steps.reopen import reopen_recoveries_once
from worker.steps.replies import post_replies_once
from worker.store import Store
from worker.supervisor import LoopStatus, Step, Supervisor
from worker.tracker import Tracker
from worker.tracker.jira import JiraTracker
from worker.wiring import detector_for, playbook_for

log = get_logger()

#: The step that reads the IMAP inbox.
IMAP_STEP = "inbox.imap"
#: The step that opens recoveries in Jira.
JIRA_STEP = "jira.open_recoveries"
#: Builds the alert channels for one pass of a step, from what the steps share.
ChannelFactory = Callable[[Services], Sequence[Channel]]


@dataclass
class Worker:
    """Everything one running worker holds."""

    settings: Settings
    clock: Clock
    store: Store
    metrics: Metrics
    supervisor: Supervisor
    services: Services
    #: Each outside system ("imap", "jira") and the steps that talk to it; /readyz reads them.
    dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    imap: ImapInbox | None = None
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
        if self.imap is not None:
            self.imap.close()
        self.store.close()
        self.supervisor.finished.set()


class IdleWaiter:
    """Waits between loop rounds in IMAP IDLE, so new mail is polled at once.

    When the server is away the wait falls back to the shutdown event: the
    inbox step's own backoff decides when to try again, and a signal still ends
    the wait at once.
    """

    def __init__(
        self, inbox: ImapInbox, folder: str, step: Step, fallback: Callable[[float], object]
    ) -> None:
        self.inbox = inbox
        self.folder = folder
        self.step = step
        self.fallback = fallback

    def __call__(self, timeout: float) -> None:
        if not self.inbox.connected:
            self.fallback(timeout)
            return
        try:
            if self.inbox.wait_for_activity(self.folder, timeout):
                self.step.next_run = None  # new mail: read it in the next round
        except WorkerError as exc:
            log.info("inbox.idle.interrupted", folder=self.folder, error=type(exc).__name__)
            self.fallback(min(timeout, 1.0))


def _waking(run: Callable[[], int], followers: list[Step]) -> Callable[[], int]:
    """Run a step; when it did something, make its followers due in the same round.

    Steps run in list order, so an inbox poll that records a complaint is followed
    at once by the step that opens it in Jira, not one interval later.
    """

    def wrapped() -> int:
        done = run()
        if done:
            for step in followers:
                step.next_run = None
        return done

    return wrapped


def _tracker_step(services: Services, step: Callable[[Services], int]) -> Callable[[], int]:
    """Run a Jira step, connecting first if the tracker is not there yet.

    Connecting lazily lets the worker start (and keep reading mail) while Jira is
    down; the step fails as transient and the supervisor backs off.
    """

    def run() -> int:
        if services.tracker is None:
            services.tracker = _connect(services)
        return step(services)

    return run


def _connect(services: Services) -> Tracker:
    try:
        retry = RetryPolicy(clock=services.clock, stopping=services.stopping)
        return JiraTracker.from_settings(services.settings.jira, clock=services.clock, retry=retry)
    except (TransientError, Interrupted):
        raise
    except WorkerError as exc:
        log.error("jira.connect.failed", error=type(exc).__name__, detail=str(exc))
        raise


def _followup_alerts(services: Services, channels: ChannelFactory | None) -> AlertSink | None:
    """The follow-up steps' alerts on the channels ``channels`` builds; None: the configured."""
    if channels is None:
        return None
    chosen = [c for c in channels(services) if c.name not in OWN_CHANNELS]
    return ChannelAlerts(chosen, services)


def _read_rules(services: Services) -> None:
    """Read the rules and the playbook now, so that a mistake in either stops the start
    (exit 2) instead of failing every pass with the mail left waiting."""
    try:
        detector_for(services.settings.detection)
        playbook_for(services)
    except ConfigurationError:
        services.store.close()
        raise


def build_worker(
    settings: Settings,
    clock: Clock,
    *,
    tracker: Tracker | None = None,
    readonly_inbox: bool = False,
    channels: ChannelFactory | None = None,
) -> Worker:
    """Open the store (migrating it) and assemble the steps the settings call for.

    ``tracker`` replaces the Jira adapter the settings would build (tests, the demo).
    ``readonly_inbox`` reads the inbox without marking, moving or filing any mail, and
    ``channels`` builds the alert channels in place of the configured ones (a dry run).
    """
    store = Store(settings.store.url)
    version = store.migrate()
    log.info(
        "store.ready",
        schema_version=version,
        backend=store.engine.dialect.name,
        path=settings.store.location(),
    )
    metrics = Metrics()
    steps: list[Step] = []
    dependencies: dict[str, tuple[str, ...]] = {}
    supervisor = Supervisor(
        steps, clock, status=LoopStatus(), max_backoff=settings.loop.max_backoff
    )
    services = Services(settings, clock, store, metrics, tracker, stopping=supervisor.shutdown)
    _read_rules(services)
    # Work found by one step wakes these; their own intervals are only a safety net.
    after_intake: list[Step] = []
    after_sync: list[Step] = []

    imap: ImapInbox | None = None
    if settings.imap.host:
        imap = ImapInbox.from_settings(
            settings.imap, clock, sleep=supervisor.shutdown.wait, readonly=readonly_inbox
        )
        inbox = imap
        poll = Step(
            IMAP_STEP,
            _waking(lambda: poll_imap_once(services, inbox), after_intake),
            settings.imap.poll_interval,
            drain_at=BATCH,
        )
        steps.append(poll)
        dependencies["imap"] = (IMAP_STEP,)
        if settings.imap.idle:
            supervisor.set_waiter(
                IdleWaiter(imap, settings.imap.folders[0], poll, supervisor.shutdown.wait)
            )
    if settings.maildir.path is not None:
        maildir = MaildirInbox(settings.maildir.path, readonly=readonly_inbox)
        maildir.ensure()
        steps.append(
            Step(
                "inbox.maildir",
                _waking(lambda: poll_maildir_once(services, maildir), after_intake),
                settings.maildir.poll_interval,
                drain_at=BATCH,
            )
        )
        dependencies["maildir"] = ("inbox.maildir",)
    if not (settings.imap.host or settings.maildir.path):
        log.info("inbox.disabled", hint="set imap.host or maildir.path to watch an inbox")

    local = settings.loop.sweep_interval
    if settings.jira.url or tracker is not None:
        jira_poll = settings.jira.poll_interval
        open_step = Step(JIRA_STEP, _tracker_step(services, open_recoveries_once), local)
        replies = Step("jira.post_replies", _tracker_step(services, post_replies_once), local)
        priorities = Step(
            "jira.raise_priorities", _tracker_step(services, raise_priorities_once), local
        )
        reopen = Step(
            "jira.reopen_recoveries", _tracker_step(services, reopen_recoveries_once), local
        )
        watch = Step(
            "jira.watch_signals",
            _waking(_tracker_step(services, watch_jira_once), [open_step]),
            jira_poll,
        )
        plan = Step(
            "followup.plan",
            _tracker_step(
                services, lambda s: plan_followups_once(s, _followup_alerts(s, channels))
            ),
            local,
        )
        sync = Step(
            "jira.sync_recoveries",
            _waking(_tracker_step(services, sync_recoveries_once), after_sync),
            jira_poll,
        )
        check = Step(
            "followup.check",
            _tracker_step(
                services, lambda s: check_followups_once(s, _followup_alerts(s, channels))
            ),
            jira_poll,
        )
        jira_steps = [watch, open_step, replies, reopen, sync, plan, priorities, check]
        steps.extend(jira_steps)
        after_intake.extend([open_step, replies, reopen, priorities])
        after_sync.extend([plan, priorities])
        dependencies["jira"] = tuple(step.name for step in jira_steps)
    else:
        log.info("jira.disabled", hint="set jira.url to open recoveries in Jira")
    # The sweep works from the store alone: clocks are kept even while Jira is away.
    sweep = Step(
        "sla.sweep",
        lambda: sweep_clocks_once(services, channels(services) if channels else None),
        local,
    )
    steps.append(sweep)
    after_intake.append(sweep)
    after_sync.append(sweep)
    return Worker(settings, clock, store, metrics, supervisor, services, dependencies, imap)
