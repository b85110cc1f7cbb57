"""The clock sweep over 1,000, 10,000 and 100,000 open recoveries: its duration and its Jira calls.

Per size: the first sweep (every clock evaluated, every missed deadline alerted), the minutes
of clock time until every deadline is shown in Jira at the configured pace, sweeps in which
nothing changed, and sweeps with 1% of the recoveries updated.

Exits 1 when a target is missed: a sweep in which nothing changed takes at most 20 ms at
100,000 open recoveries and makes no Jira call, and the first sweep calls Jira only for alerts
and at most a minute's budget of due dates.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.report import median_ms, say_missed, timed, verdict, write_section
from worker.alerts.jira import JiraChannel
from worker.clock import FrozenClock
from worker.domain.events import EventKind
from worker.domain.issue import Issue, StatusCategory
from worker.domain.recovery import OPEN, idempotency_key
from worker.metrics import Metrics
from worker.settings import Settings
from worker.steps import Services
from worker.steps.clocks import sweep_clocks_once
from worker.store import Store
from worker.store import alerts as ledger
from worker.store.schema import recoveries as recoveries_table
from worker.store.schema import recovery_events
from worker.tracker.fake import FakeTracker

START = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday, within business hours
TARGET_MS = 20.0
SIZES = (1_000, 10_000, 100_000)
#: Sweeps with nothing changed are measured after every owed due date is shown.
CATCH_UP_LIMIT = 24 * 60
SEVERITIES = ("sev1", "sev2", "sev2", "sev3", "sev3", "sev3")
ALERT_CALLS = ("add_comment", "add_labels", "set_priority")


def populate(services: Services, tracker: FakeTracker, count: int, rng: random.Random) -> None:
    """``count`` open recoveries, opened in the last three days, each updated in the last hour."""
    now = services.clock.now()
    rows, history = [], []
    for n in range(1, count + 1):
        opened = now - timedelta(minutes=rng.randint(90, 3 * 1440))
        key = f"SUP-{n}"
        rows.append(
            {
                "id": n,
                "source_key": f"bench:{n}",
                "source_kind": "mail",
                "idempotency_key": idempotency_key(f"bench:{n}"),
                "client": "client@example.com",
                "owner": "alice",
                "severity": rng.choice(SEVERITIES),
                "summary": f"Complaint {n}",
                "jira_key": key,
                "state": OPEN,
                "opened_at": opened,
                "reopen_count": 0,
                "source_ref": "",
                "excerpt": "",
                "reasons": "[]",
            }
        )
        updated = now - timedelta(minutes=rng.randint(1, 60))
        for kind, at in ((EventKind.OPENED, opened), (EventKind.CLIENT_UPDATE, updated)):
            history.append(
                {
                    "recovery_id": n,
                    "kind": str(kind),
                    "at": at,
                    "dedupe_key": f"bench:{n}:{kind}",
                    "detail": "{}",
                    "recorded_at": now,
                }
            )
    with services.store.transaction() as conn:
        conn.execute(insert(recoveries_table), rows)
        conn.execute(insert(recovery_events), history)
        # As recording the OPENED events does: each recovery is due at the first sweep.
        for n in range(1, count + 1):
            ledger.clock_due(conn, n, now)

    for row in rows:
        # Issues exist in the tracker so the sweep's Jira calls are real calls on the fake.
        tracker.issues[str(row["jira_key"])] = _issue(str(row["jira_key"]), now)


def _issue(key: str, now: datetime) -> Issue:
    return Issue(key, key, "SUP", "Task", key, "In Progress", StatusCategory.IN_PROGRESS, now, now)


def add_updates(services: Services, share: float, rng: random.Random, count: int) -> int:
    """New client updates on a share of the recoveries, as the Jira sync would record them."""
    now = services.clock.now()
    chosen = rng.sample(range(1, count + 1), max(1, int(count * share)))
    with services.store.transaction() as conn:
        conn.execute(
            insert(recovery_events),
            [
                {
                    "recovery_id": n,
                    "kind": str(EventKind.CLIENT_UPDATE),
                    "at": now,
                    "dedupe_key": f"bench:{n}:update:{now.isoformat()}",
                    "detail": "{}",
                    "recorded_at": now,
                }
                for n in chosen
            ],
        )
        for n in chosen:
            ledger.clock_due(conn, n, now)
    return len(chosen)


def measure(count: int, runs: int, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        store.migrate()
        clock = FrozenClock(START)
        tracker = FakeTracker(clock)
        services = Services(Settings(), clock, store, Metrics(), tracker)
        channels = [JiraChannel(tracker, breach_label="sla-breached")]
        populate(services, tracker, count, rng)

        def sweep() -> int:
            return sweep_clocks_once(services, channels)

        def jira_calls() -> int:
            """Calls not made by an alert (a comment, its label, an escalation's priority)."""
            return sum(n for name, n in tracker.calls.items() if name not in ALERT_CALLS)

        def alert_calls() -> int:
            return sum(tracker.calls[name] for name in ALERT_CALLS)

        before, alerts_before = jira_calls(), alert_calls()
        cold = timed(sweep, 1)
        cold_calls = jira_calls() - before
        cold_alerts = alert_calls() - alerts_before

        minutes = 0
        while owed(store) and minutes < CATCH_UP_LIMIT:
            clock.advance(timedelta(minutes=1))
            sweep()
            minutes += 1

        quiet, quiet_calls, quiet_alerts = [], [], 0
        for _ in range(runs):
            clock.advance(timedelta(seconds=15))
            before, alerts_before = jira_calls(), alert_calls()
            quiet += timed(sweep, 1)
            quiet_calls.append(jira_calls() - before)
            quiet_alerts = max(quiet_alerts, alert_calls() - alerts_before)

        busy, busy_calls, changed = [], [], 0
        for _ in range(runs):
            clock.advance(timedelta(seconds=15))
            changed = add_updates(services, 0.01, rng, count)
            before = jira_calls()
            busy += timed(sweep, 1)
            busy_calls.append(jira_calls() - before)
        store.close()
    return {
        "cold_ms": median_ms(cold),
        "cold_calls": cold_calls,
        "cold_alerts": cold_alerts,
        "quiet_alerts": quiet_alerts,
        "quiet_ms": median_ms(quiet),
        "quiet_calls": max(quiet_calls),
        "busy_ms": median_ms(busy),
        "busy_calls": max(busy_calls),
        "changed": changed,
        "catch_up_minutes": minutes,
        "budget": services.settings.jira.update_calls_per_minute,
    }


def owed(store: Store) -> bool:
    with store.transaction() as conn:
        return bool(ledger.jira_updates_owed(conn, 1))


def rows(count: int, f: dict[str, float]) -> str:
    """The size's row: first sweep, catch-up, quiet sweeps, sweeps with 1% changed."""
    return (
        f"| {count:,} | {f['cold_ms']:.0f} ms, {f['cold_calls']:.0f} due dates, "
        f"{f['cold_alerts']:.0f} alert calls | {f['catch_up_minutes']:.0f} min "
        f"| {f['quiet_ms']:.1f} ms, {f['quiet_calls']:.0f} calls "
        f"| {f['busy_ms']:.1f} ms ({f['changed']:.0f} changed) |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sla_sweep", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs alone")
    args = parser.parse_args(argv)
    measured = []
    for count in args.sizes:
        figures = measure(count, args.runs)
        measured.append((count, figures))
        print(rows(count, figures), flush=True)
    largest, top = measured[-1]
    missed = []
    if top["quiet_ms"] > TARGET_MS:
        missed.append(f"quiet sweep {top['quiet_ms']:.1f} ms > {TARGET_MS:.0f} ms at {largest:,}")
    if any(f["quiet_calls"] for _, f in measured):
        missed.append("a quiet sweep called Jira")
    if any(f["cold_calls"] > f["budget"] for _, f in measured):
        missed.append("the first sweep showed more due dates than a minute's budget")
    small, first = measured[0]
    growth = (top["quiet_ms"] / first["quiet_ms"]) if first["quiet_ms"] else 0.0
    body = f"""
## SLA clock sweep

Open recoveries (sev1 to sev3, opened over the last three days, each updated in the last hour)
in a SQLite store; the Jira channel on an in-memory tracker that counts calls; Jira's pace for
due dates at the default {top["budget"]:.0f} calls a minute. Sweeps every 15 s of clock time;
medians over {args.runs} sweeps. Targets: a sweep in which nothing changed at most
{TARGET_MS:.0f} ms at {largest:,} recoveries, with no Jira call; the first sweep shows at most a
minute's budget of due dates, alerts never wait for them.

| open recoveries | first sweep | all deadlines shown after | nothing changed | 1% changed |
|---|---|---|---|---|
{chr(10).join(rows(c, f) for c, f in measured)}

A sweep in which nothing changed costs {growth:.1f}x as much at {largest:,} recoveries as at
{small:,}: it reads one range of the `next_check` index (every event, a raised severity and the
opening move a recovery's check to their moment), and the counts behind /metrics are kept as
evaluations change them. The first sweep alerts every deadline already missed (mostly sev1
resolution targets of 24 h; one comment and one label each) at once; the due dates follow at
the configured pace, nearest deadline first. Targets {verdict(missed)}

Reproduce: `python -m bench.sla_sweep` (`--sizes N ...`).
"""
    print(body.strip())
    say_missed(missed)
    if not args.no_write:
        write_section("sla_sweep", body)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
