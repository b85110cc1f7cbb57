"""Keep the cadence: sweep the SLA clocks and send the alerts that are due.

``sweep_clocks_once`` works from the store alone: it evaluates only the
recoveries with new events or a threshold (warning, deadline, reminder) due,
plans their alerts in the ledger, delivers them on every channel, and touches
Jira only where something changed (the breach label, the due date).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from worker.alerts.base import Channel, alert_payload
from worker.core.alerting import Alert, AlertKind, Subject, due_alerts, next_check
from worker.core.sla import ClockState, evaluate
from worker.domain.events import RecoveryEvent
from worker.domain.recovery import OPEN, RESOLVED
from worker.errors import Interrupted, PermanentError, TransientError
from worker.logs import get_logger
from worker.steps import Services, failed
from worker.store import alerts as ledger
from worker.store import cursors, events
from worker.wiring import SlaSetup, channels_from, sla_setup

log = get_logger()

#: Recoveries the sweep looks at: open ones, and resolved ones (a reopen must be noticed).
SWEPT_STATES = (OPEN, RESOLVED)
#: When a Jira update of the sweep failed: look again this soon.
JIRA_RETRY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class _Evaluation:
    alerts: list[tuple[Alert, list[str]]]
    row: ledger.ClockRow


def sweep_clocks_once(services: Services, channels: Sequence[Channel] | None = None) -> int:
    """Evaluate what is due, plan and deliver alerts; the number of deliveries made."""
    with services.metrics.sweep_seconds.time():
        return _sweep(services, channels)


def _sweep(services: Services, channels: Sequence[Channel] | None) -> int:
    setup = sla_setup(services.settings)
    chosen = list(channels) if channels is not None else channels_from(services)
    names = [c.name for c in chosen]
    now = services.clock.now()
    with services.store.transaction() as conn:
        for lost in ledger.interrupted(conn):
            log.warning("alert.outcome_unknown", channel=lost.channel, deadline_id=lost.deadline_id)
        due = ledger.due_for_evaluation(conn, now, SWEPT_STATES)
        ids = [d.recovery_id for d in due]
        history = events.for_recoveries(conn, ids)
        sent = ledger.sent_keys(conn, ids)
        rows: list[ledger.ClockRow] = []
        for item in due:
            found = _evaluate_one(
                services,
                setup=setup,
                item=item,
                history=history.get(item.recovery_id, []),
                sent=sent.get(item.recovery_id, set()),
                channels=names,
                now=now,
            )
            for alert, wanted in found.alerts:
                new = ledger.plan(
                    conn,
                    recovery_id=item.recovery_id,
                    deadline_id=alert.deadline_id,
                    alert_key=alert.key,
                    channels=wanted,
                    payload=alert_payload(alert),
                    now=now,
                )
                if new:
                    services.metrics.alerts.labels(
                        kind=str(alert.kind), severity=item.severity
                    ).inc()
            rows.append(found.row)
        ledger.save_clocks(conn, rows, now)
    # Alerts first: the Jira updates below wait for their budget, an alert never does.
    delivered = services.alert_outbox.deliver(chosen, now, step="sweep_clocks")
    _update_jira(services, now)
    _update_metrics(services, now)
    return delivered


def _evaluate_one(
    services: Services,
    *,
    setup: SlaSetup,
    item: ledger.Due,
    history: list[RecoveryEvent],
    sent: set[tuple[str, str]],
    channels: list[str],
    now: datetime,
) -> _Evaluation:
    """The recovery's clocks: the alerts due (each with its channels), its row, its Jira update."""
    policy, calendar = setup.calendar_of(item.severity)
    clocks = evaluate(history, policy, calendar, now, setup.warn_at)
    subject = Subject(item.recovery_id, item.severity, item.jira_key, item.owner, item.summary)
    labelled = item.breach_labelled
    alerts: list[tuple[Alert, list[str]]] = []
    for alert in due_alerts(subject, clocks, sent, setup.rules, now):
        # Reminders stay out of Jira, so the ticket is not flooded: no delivery is planned
        # there, rather than one counted as sent that wrote nothing.
        wanted = [c for c in channels if not (alert.kind is AlertKind.REMINDER and c == "jira")]
        alerts.append((alert, wanted))
        if alert.kind is AlertKind.BREACH and "jira" in channels:
            labelled = True  # the Jira channel puts the label on with the comment
    first = clocks.first_contact
    seen = item.first_contact_seen
    if not seen and first is not None and first.met_at is not None:
        elapsed = (first.met_at - first.started_at).total_seconds()
        services.metrics.first_contact_seconds.observe(max(0.0, elapsed))
        seen = True
    breached = any(c.state is ClockState.BREACHED for c in clocks)
    resolution = clocks.resolution
    is_open = resolution is None or resolution.state is not ClockState.MET
    deadline = clocks.next_deadline
    due_date = deadline.astimezone(calendar.zone).date() if deadline else None
    remove, show = False, None
    if item.jira_key and services.tracker is not None:
        remove = item.breach_labelled and not breached
        show = due_date if due_date is not None and due_date != item.jira_due else None
    newest = max((e.id or 0 for e in history), default=0)
    row = ledger.ClockRow(
        recovery_id=item.recovery_id,
        severity=item.severity,
        state=str(clocks.state) if is_open else str(ClockState.MET),
        is_open=is_open,
        next_deadline=deadline,
        next_check=next_check(clocks, setup.rules, now),
        events_seen=newest,
        # Stays set until Jira confirms the label is gone.
        breach_labelled=labelled,
        jira_due=item.jira_due,
        first_contact_seen=seen,
        jira_want_due=show,
        jira_unlabel=remove,
    )
    return _Evaluation(alerts, row)


def _update_jira(services: Services, now: datetime) -> None:
    """Show the next deadlines as due dates and take breach labels off clocks met again.

    At the pace ``jira.update_calls_per_minute`` allows and Retry-After asks, the nearest
    deadline first: after a first start with thousands of recoveries the rest wait in the
    store for later sweeps, and no sweep is held up by them.
    """
    tracker = services.tracker
    if tracker is None:
        return
    budget = services.budget("jira.updates", services.settings.jira.update_calls_per_minute)
    allowed = budget.available(now)
    if allowed < 1:
        return
    with services.store.transaction() as conn:
        owed = ledger.jira_updates_owed(conn, allowed)
    label = services.settings.alerts.breach_label
    field = services.settings.sla.due_field
    done: list[ledger.JiraUpdate] = []
    given_up: list[ledger.JiraUpdate] = []
    for item in owed:
        if services.stopping.is_set():
            break  # left owed for the next start
        budget.spend(now, int(item.remove_label) + int(item.due is not None))
        try:
            if item.remove_label:
                tracker.remove_labels(item.key, [label])
            if item.due is not None:
                tracker.set_due(item.key, item.due, field)
        except Interrupted:
            break  # left owed, as above
        except (TransientError, PermanentError) as exc:
            failed(
                services,
                "sweep_clocks",
                "sla.jira_update_failed",
                exc,
                recovery_id=item.recovery_id,
                jira_key=item.key,
            )
            if isinstance(exc, TransientError):
                # Jira is busy or away: the rest waits with this one, as long as it asked.
                budget.hold(now, max(JIRA_RETRY.total_seconds(), exc.retry_after or 0))
                break
            given_up.append(item)  # refused as it is: tried again when the deadline moves
            continue
        done.append(item)
    # Recorded together: both updates are idempotent, so a crash before this only repeats them.
    with services.store.transaction() as conn:
        for item in done:
            ledger.jira_updated(
                conn, item.recovery_id, due=item.due, label_removed=item.remove_label
            )
        for item in given_up:
            ledger.jira_updated(conn, item.recovery_id, due=None, label_removed=False)


def _update_metrics(services: Services, now: datetime) -> None:
    metrics = services.metrics
    with services.store.transaction() as conn:
        counts = ledger.state_counts(conn)
        nearest = ledger.nearest_deadline(conn)
        jira_polled = cursors.jira_polled_at(conn, cursors.RECOVERY_SYNC)
        inbox_polled = cursors.inbox_polled_at(conn)
    metrics.open_recoveries.clear()
    for severity, state, count in counts:
        metrics.open_recoveries.labels(severity=severity, clock_state=state).set(count)
    metrics.next_deadline_seconds.set((nearest - now).total_seconds() if nearest else 0.0)
    if jira_polled is not None:
        metrics.poll_lag_seconds.labels(source="jira").set((now - jira_polled).total_seconds())
    if inbox_polled is not None:
        metrics.poll_lag_seconds.labels(source="inbox").set((now - inbox_polled).total_seconds())
