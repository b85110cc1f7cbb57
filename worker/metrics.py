"""Prometheus metrics, one registry per worker so tests can run many side by side."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Every metric the worker exports on /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter(
            "recovery_worker_messages_total",
            "Messages decided, by decision.",
            ["decision"],
            registry=r,
        )
        self.recoveries_opened = Counter(
            "recovery_worker_recoveries_opened_total",
            "Recoveries opened, by source and severity.",
            ["source", "severity"],
            registry=r,
        )
        self.open_recoveries = Gauge(
            "recovery_worker_open_recoveries",
            "Open recoveries by severity and state of their most urgent clock.",
            ["severity", "clock_state"],
            registry=r,
        )
        self.alerts = Counter(
            "recovery_worker_alerts_total",
            "Alerts raised, by kind and severity.",
            ["kind", "severity"],
            registry=r,
        )
        self.first_contact_seconds = Histogram(
            "recovery_worker_time_to_first_contact_seconds",
            "Time from a recovery's opening to the first client update.",
            buckets=(300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 5 * 86400),
            registry=r,
        )
        self.next_deadline_seconds = Gauge(
            "recovery_worker_seconds_to_next_deadline",
            "Seconds until the nearest deadline of any open recovery (negative when late).",
            registry=r,
        )
        self.poll_lag_seconds = Gauge(
            "recovery_worker_poll_lag_seconds",
            "Seconds since the last successful poll, by source.",
            ["source"],
            registry=r,
        )
        self.errors = Counter(
            "recovery_worker_errors_total",
            "Errors, by step and kind.",
            ["step", "kind"],
            registry=r,
        )
        self.followups = Counter(
            "recovery_worker_followups_total",
            "Follow-up tasks by what happened: created, resumed, on_hold, cancelled, done.",
            ["event"],
            registry=r,
        )
        self.quarantined = Counter(
            "recovery_worker_quarantined_total", "Messages quarantined as unparseable.", registry=r
        )
        self.alert_deliveries = Counter(
            "recovery_worker_alert_deliveries_total",
            "Alert deliveries by channel and outcome (sent, failed, given_up).",
            ["channel", "outcome"],
            registry=r,
        )
        self.sweep_seconds = Histogram(
            "recovery_worker_sla_sweep_seconds",
            "Duration of one clock sweep, alert deliveries included.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
