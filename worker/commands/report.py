"""``recovery-worker report``: how well the team recovers, read from the state store alone."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import UTC, datetime, timedelta

from worker.clock import Clock, SystemClock
from worker.commands import add_config_option
from worker.core.alerting import AlertKind
from worker.core.report import (
    NO_RECOVERIES,
    Report,
    as_dict,
    build_report,
    sla_judge,
    to_csv,
    to_json,
    to_table,
)
from worker.settings import Settings, load_settings, parse_duration
from worker.store import Store, events, files, recoveries, reports
from worker.store import followups as followup_store
from worker.store.db import LATEST_VERSION
from worker.wiring import sla_setup

BREACH = str(AlertKind.BREACH)

FORMATS = {"table": to_table, "json": to_json, "csv": to_csv}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="how well the team recovers: contact, cadence, resolution, follow-ups",
        description=(
            "Summarise the recoveries in the state store: how many were opened by source and "
            "severity, time to first contact and to resolution (median and 90th percentile), "
            "the share of deadlines met, breaches, follow-ups done on time, and reopens. "
            "Reads the store only; Jira is not called."
        ),
    )
    add_config_option(parser)
    parser.add_argument(
        "--since",
        metavar="DATE",
        default=None,
        help="only recoveries opened since DATE: 2026-03-01, an ISO time, or a span such as 30d",
    )
    parser.add_argument(
        "--format", choices=tuple(FORMATS), default="table", help="output format (table)"
    )
    parser.set_defaults(handler=handle)


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """A date (midnight UTC), an ISO time (UTC when it names no zone), or a span back from now."""
    if value is None:
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            span = parse_duration(text)
        except ValueError:
            raise ValueError(
                f"--since takes a date (2026-03-01), an ISO time or a span such as 30d: {text!r}"
            ) from None
        if not isinstance(span, timedelta):
            raise ValueError(f"--since: not a date or a span: {text!r}") from None
        return now - span
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def load_report(
    store: Store, now: datetime, since: datetime | None = None, settings: Settings | None = None
) -> Report:
    """Read what the report needs from the store and compute it, deadlines per the SLA policies."""
    setup = sla_setup(settings or Settings())
    if store.version() == 0:
        return build_report([], {}, [], now, since=since)
    if store.version() < LATEST_VERSION:
        store.migrate()
    with store.transaction() as conn:
        ids = reports.recovery_ids(conn, since)
        chosen = [r for r in (recoveries.get(conn, i) for i in ids) if r is not None]
        by_recovery = events.for_recoveries(conn, ids)
        followups = followup_store.every(conn)
        breaches = reports.breach_counts(conn, BREACH)
    return build_report(
        chosen,
        by_recovery,
        followups,
        now,
        since=since,
        cadence=sla_judge(setup.policies, setup.calendars, setup.warn_at),
        breaches=breaches,
    )


def _missing_sqlite_file(url: str) -> bool:
    """A SQLite store that does not exist yet: report nothing rather than create it."""
    path = files.sqlite_file(url)
    return path is not None and not path.exists()


def render(report: Report, fmt: str, store: str, *, created: bool = True) -> str:
    """The report in a format, naming the store it was read from."""
    if fmt == "json":
        return json.dumps({"store": store, **as_dict(report)}, indent=2)
    if fmt == "csv":
        head, _, rest = to_csv(report).partition("\n")
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(("store", "location", store))
        return f"{head}\n{buffer.getvalue()}{rest}"
    head, _, rest = to_table(report).partition("\n")
    if report.recoveries == 0:
        rest = rest.replace(f"{NO_RECOVERIES}.", f"{NO_RECOVERIES} in {store}.", 1)
    return f"{head}\nStore: {store}{'' if created else ' (not created yet)'}\n{rest}"


def handle(args: argparse.Namespace, clock: Clock | None = None) -> int:
    settings = load_settings(args.config)
    now = (clock or SystemClock()).now()
    try:
        since = parse_since(args.since, now)
    except ValueError as exc:
        print(f"recovery-worker report: {exc}", file=sys.stderr)
        return 2
    location = settings.store.location()
    if _missing_sqlite_file(settings.store.url):
        empty = build_report([], {}, [], now, since=since)
        sys.stdout.write(render(empty, args.format, location, created=False))
        return 0
    store = Store(settings.store.url)
    try:
        report = load_report(store, now, since, settings)
    finally:
        store.close()
    sys.stdout.write(render(report, args.format, location))
    return 0
