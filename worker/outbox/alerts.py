"""Alert delivery, for every kind of alert: each planned delivery claimed, sent, retried, counted.

An alert is planned once per channel in the store (``worker.store.alerts``); this is where
the deliveries go out. A delivery is claimed with one conditional update before it is sent,
so two workers on one store never send it twice; a failure is retried with backoff (and any
Retry-After) up to ``alerts.max_attempts``, then given up, and counted either way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from worker.alerts.base import Channel, FindsSent, alert_from_payload, alert_payload
from worker.clock import Clock
from worker.core.alerting import Alert, AlertKind
from worker.errors import Interrupted, PermanentError, WorkerError
from worker.logs import get_logger
from worker.metrics import Metrics
from worker.retry import RetryPolicy
from worker.store import alerts as ledger
from worker.store.db import Store

log = get_logger()


@dataclass(frozen=True)
class AlertOutbox:
    """What delivering alerts needs: the store, time, metrics, a stop flag and a try budget."""

    store: Store
    clock: Clock
    metrics: Metrics
    stopping: threading.Event
    max_attempts: int

    def send_now(self, alert: Alert, channels: Sequence[Channel], *, step: str) -> int:
        """Plan ``alert`` once per channel and send it at once; how many deliveries went out.

        A channel that fails keeps its delivery pending: the SLA sweep's ``deliver`` retries
        it like any other. An alert planned before is not planned again.
        """
        now = self.clock.now()
        with self.store.transaction() as conn:
            ledger.plan(
                conn,
                recovery_id=alert.recovery_id,
                deadline_id=alert.deadline_id,
                alert_key=alert.key,
                channels=[c.name for c in channels],
                payload=alert_payload(alert),
                now=now,
            )
        return self.deliver(channels, now, step=step, only=(alert.deadline_id, alert.key))

    def deliver(
        self,
        channels: Sequence[Channel],
        now: datetime,
        *,
        step: str,
        only: tuple[str, str] | None = None,
    ) -> int:
        """Send the pending deliveries (of the one alert ``only`` names); how many went out.

        One channel failing never stops the others. ``step`` names the caller in the error
        metric.
        """
        by_name = {c.name: c for c in channels}
        policy = RetryPolicy(clock=self.clock, max_wait=600.0)
        done = 0
        while True:
            with self.store.transaction() as conn:
                pending = ledger.to_deliver(conn, now, alert=only)
            if not pending or self.stopping.is_set():
                return done
            sent = self._batch(by_name, policy, pending, now, step)
            done += sent
            if only is not None:
                return done  # one alert's deliveries: failures wait for their retry time

    def _batch(
        self,
        by_name: dict[str, Channel],
        policy: RetryPolicy,
        pending: Sequence[ledger.Delivery],
        now: datetime,
        step: str,
    ) -> int:
        done = 0
        for delivery in pending:
            if self.stopping.is_set():
                break  # the rest stay pending for the next start
            channel = by_name.get(delivery.channel)
            if channel is None:
                with self.store.transaction() as conn:
                    ledger.mark_failed(conn, delivery.id, "channel no longer configured", None)
                continue
            with self.store.transaction() as conn:
                claimed = ledger.claim(conn, delivery.id, delivery.state)
            if not claimed:
                continue  # another worker on the same store took it first
            attempt = delivery.attempts + 1
            try:
                result = _send_once(channel, delivery)
            except Interrupted as exc:
                # Stopped while waiting to retry a call that did not land: due at the next
                # start, neither given up nor left 'sending' as an alert of unknown fate.
                with self.store.transaction() as conn:
                    ledger.put_back(conn, delivery.id, f"{type(exc).__name__}: {exc}", now)
                raise
            except WorkerError as exc:
                self._failed(delivery, exc, attempt, policy=policy, now=now, step=step)
                continue
            with self.store.transaction() as conn:
                ledger.mark_sent(conn, delivery.id, result, self.clock.now())
                if delivery.channel == "jira" and delivery.alert_key == str(AlertKind.BREACH):
                    # A retried breach may have put the label back after the clock was met.
                    ledger.breach_labelled(conn, delivery.recovery_id, now)
            self.metrics.alert_deliveries.labels(channel=delivery.channel, outcome="sent").inc()
            done += 1
        return done

    def _failed(
        self,
        delivery: ledger.Delivery,
        exc: WorkerError,
        attempt: int,
        *,
        policy: RetryPolicy,
        now: datetime,
        step: str,
    ) -> None:
        give_up = isinstance(exc, PermanentError) or attempt >= self.max_attempts
        retry_at = None
        if not give_up:
            # At least a second: a retry is never due within the pass that failed.
            retry_at = now + timedelta(seconds=max(1.0, policy.wait_for(exc, attempt)))
        self.metrics.errors.labels(step=step, kind=type(exc).__name__).inc()
        outcome = "failed" if retry_at else "given_up"
        self.metrics.alert_deliveries.labels(channel=delivery.channel, outcome=outcome).inc()
        log.warning(
            "alert.delivery_failed" if retry_at else "alert.given_up",
            channel=delivery.channel,
            deadline_id=delivery.deadline_id,
            alert=delivery.alert_key,
            recovery_id=delivery.recovery_id,
            attempt=attempt,
            error=type(exc).__name__,
            detail=str(exc)[:300],
        )
        with self.store.transaction() as conn:
            ledger.mark_failed(conn, delivery.id, f"{type(exc).__name__}: {exc}", retry_at)


def _send_once(channel: Channel, delivery: ledger.Delivery) -> str:
    """Send the delivery's alert; a retry first looks for what an earlier attempt left."""
    alert = alert_from_payload(delivery.payload)
    if delivery.attempts and isinstance(channel, FindsSent):
        # An earlier attempt may have arrived with its answer lost, even when the look
        # right after it found nothing yet: look again before writing.
        found = channel.find_sent(alert)
        if found is not None:
            log.info(
                "alert.adopted",
                channel=delivery.channel,
                deadline_id=delivery.deadline_id,
                alert=delivery.alert_key,
                recovery_id=delivery.recovery_id,
                result=found,
            )
            return found
    return channel.send(alert)
