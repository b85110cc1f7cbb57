"""The recovery report's figures and formats, from recoveries and events built in memory."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from worker.core.report import (
    NO_RECOVERIES,
    CadenceJudge,
    DeadlineTally,
    build_report,
    median,
    percentile,
    promises_kept,
    sla_judge,
    to_csv,
    to_json,
    to_table,
)
from worker.domain.events import EventKind, RecoveryEvent
from worker.domain.followup import CREATED, DONE, ON_HOLD, Followup
from worker.domain.recovery import GAVE_UP, OPEN, Recovery
from worker.settings import SlaSettings
from worker.wiring import calendars_from, policies_from

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def recovery(rid: int, source: str, severity: str, opened: datetime) -> Recovery:
    return Recovery(
        id=rid,
        source_key=f"{source}:{rid}",
        source_kind=source,
        idempotency_key=f"rw-{rid}",
        client="c@example.com",
        owner="alice",
        severity=severity,
        summary="s",
        jira_key=f"SUP-{rid}",
        state=OPEN,
        opened_at=opened,
        resolved_at=None,
        reopen_count=0,
    )


def event(rid: int, kind: EventKind, at: datetime, **detail: str) -> RecoveryEvent:
    return RecoveryEvent(rid, kind, at, f"{rid}:{kind}:{at.isoformat()}", detail)


def followup(rid: int, state: str, due: date, done_at: datetime | None = None) -> Followup:
    return Followup(
        recovery_id=rid,
        label=f"rw-fu-{rid}",
        round=0,
        jira_key=f"SUP-{100 + rid}",
        state=state,
        resolved_at=T0,
        due=due,
        root_cause_gaps=(),
        created_at=T0,
        updated_at=T0,
        done_at=done_at,
        overdue_alerted_at=None,
    )


def scenario() -> tuple[list[Recovery], dict[int, list[RecoveryEvent]], list[Followup]]:
    h = timedelta(hours=1)
    recoveries = [
        recovery(1, "mail", "sev1", T0),
        recovery(2, "mail", "sev2", T0 + h),
        recovery(3, "jira", "sev2", T0 + 2 * h),
        recovery(4, "jira", "sev3", T0 - timedelta(days=30)),
        recovery(5, "mail", "sev3", T0 + 3 * h),
    ]
    r4 = recoveries[3].opened_at
    events = {
        1: [
            event(1, EventKind.OPENED, T0),
            event(1, EventKind.CLIENT_UPDATE, T0 + 0.5 * h),
            event(1, EventKind.PROMISE, T0 + 0.5 * h, due=(T0 + 4.5 * h).isoformat()),
            event(1, EventKind.CLIENT_UPDATE, T0 + 4 * h),
            event(1, EventKind.RESOLVED, T0 + 24 * h),
        ],
        2: [
            event(2, EventKind.OPENED, T0 + h),
            event(2, EventKind.CLIENT_UPDATE, T0 + 3 * h),
            event(2, EventKind.PROMISE, T0 + 3 * h, due=(T0 + 27 * h).isoformat()),
            event(2, EventKind.RESOLVED, T0 + 73 * h),
            event(2, EventKind.REOPENED, T0 + 97 * h),
        ],
        3: [event(3, EventKind.OPENED, T0 + 2 * h), event(3, EventKind.CLIENT_UPDATE, T0 + 6 * h)],
        4: [event(4, EventKind.OPENED, r4), event(4, EventKind.CLIENT_UPDATE, r4 + 24 * h)],
        5: [event(5, EventKind.OPENED, T0 + 3 * h)],
    }
    followups = [
        followup(1, DONE, date(2026, 4, 2), done_at=datetime(2026, 3, 19, tzinfo=UTC)),
        followup(2, ON_HOLD, date(2026, 4, 4)),
    ]
    return recoveries, events, followups


def test_median_and_percentile() -> None:
    """Median averages the middle pair; the 90th percentile is the nearest rank."""
    values = [timedelta(minutes=m) for m in (40, 10, 30, 20)]
    assert median(values) == timedelta(minutes=25)
    assert median(values[:3]) == timedelta(minutes=30)
    assert percentile(values, 0.9) == timedelta(minutes=40)
    ten = [timedelta(minutes=m) for m in range(1, 11)]
    assert percentile(ten, 0.9) == timedelta(minutes=9)
    assert median([]) is None
    assert percentile([], 0.9) is None


def test_promises_kept_counts_only_what_came_due() -> None:
    """A kept promise is met, a broken one missed, one still ahead not counted."""
    h = timedelta(hours=1)
    r = recovery(1, "mail", "sev2", T0)
    evs = [
        event(1, EventKind.PROMISE, T0, due=(T0 + h).isoformat()),
        event(1, EventKind.CLIENT_UPDATE, T0 + 0.5 * h),
        event(1, EventKind.PROMISE, T0 + 0.5 * h, due=(T0 + 2 * h).isoformat()),
        event(1, EventKind.PROMISE, T0 + 0.5 * h, due=(T0 + 10 * h).isoformat()),
        event(1, EventKind.PROMISE, T0, due="not a time"),
    ]
    tally = promises_kept(r, evs, T0 + 5 * h)
    assert (tally.met, tally.missed) == (1, 1)
    assert tally.share_met == 0.5


def test_sla_deadlines_met_and_missed() -> None:
    """First contact and update deadlines from the SLA engine; the resolution target aside."""
    h = timedelta(hours=1)
    judge = _judge()
    sev1 = recovery(1, "mail", "sev1", T0)  # 24x7: first contact 1h, an update every 4h
    evs = [
        event(1, EventKind.OPENED, T0),
        event(1, EventKind.CLIENT_UPDATE, T0 + 0.5 * h),  # first contact in time
        event(1, EventKind.CLIENT_UPDATE, T0 + 6 * h),  # due at 4h30: late
        event(1, EventKind.RESOLVED, T0 + 8 * h),  # meets the update due at 10h
    ]
    tally = judge(sev1, evs, T0 + 48 * h)
    assert (tally.met, tally.missed) == (2, 1)
    assert judge(sev1, evs[:1], T0 + 0.5 * h) == DeadlineTally(0, 0)  # nothing due yet
    assert judge(sev1, evs[:1], T0 + 2 * h) == DeadlineTally(0, 1)  # first contact breached


def test_sla_deadlines_follow_the_business_calendar() -> None:
    """A sev3 opened on Friday evening is not late on Saturday: business hours count."""
    friday = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    sev3 = recovery(3, "mail", "sev3", friday)
    evs = [event(3, EventKind.OPENED, friday)]
    judge = _judge()
    assert judge(sev3, evs, friday + timedelta(days=1)) == DeadlineTally(0, 0)
    assert judge(sev3, evs, friday + timedelta(days=4)) == DeadlineTally(0, 1)


def _judge() -> CadenceJudge:
    sla = SlaSettings()
    return sla_judge(policies_from(sla), calendars_from(sla))


def test_report_over_all_recoveries() -> None:
    """Every figure of the report on a known set of recoveries."""
    report = build_report(*scenario(), NOW)
    assert report.recoveries == 5
    assert report.opened == {
        ("jira", "sev2"): 1,
        ("jira", "sev3"): 1,
        ("mail", "sev1"): 1,
        ("mail", "sev2"): 1,
        ("mail", "sev3"): 1,
    }
    fc = report.first_contact
    assert (fc.count, fc.pending) == (4, 1)
    assert (fc.median, fc.p90) == (timedelta(hours=3), timedelta(hours=24))
    res = report.resolution
    assert (res.count, res.pending) == (2, 3)
    assert (res.median, res.p90) == (timedelta(hours=48), timedelta(hours=72))
    assert (report.cadence.met, report.cadence.missed, report.breaches) == (1, 1, 1)
    f = report.followups
    assert (f.done, f.done_on_time, f.on_hold, f.overdue, f.waiting) == (1, 1, 1, 0, 0)
    assert (report.reopened, report.reopens) == (1, 1)


def test_since_limits_the_recoveries() -> None:
    """Only recoveries opened since the date count, in every figure."""
    report = build_report(*scenario(), NOW, since=datetime(2026, 3, 1, tzinfo=UTC))
    assert report.recoveries == 4
    assert ("jira", "sev3") not in report.opened
    assert (report.first_contact.median, report.first_contact.p90) == (
        timedelta(hours=2),
        timedelta(hours=4),
    )


def test_followups_overdue_and_late() -> None:
    """A follow-up done after its due date is not on time; one past due and open is overdue."""
    recoveries, events, _ = scenario()
    followups = [
        followup(1, DONE, date(2026, 3, 10), done_at=datetime(2026, 3, 11, tzinfo=UTC)),
        followup(2, CREATED, date(2026, 3, 19)),
        followup(3, CREATED, date(2026, 3, 20)),
    ]
    f = build_report(recoveries, events, followups, NOW).followups
    assert (f.done, f.done_on_time, f.overdue, f.waiting) == (1, 0, 1, 1)


def test_reopen_count_without_events_still_counts() -> None:
    """A recovery whose reopen is known only from its counter counts as reopened."""
    reopened = replace(recovery(1, "mail", "sev2", T0), reopen_count=2)
    report = build_report([reopened], {}, [], NOW)
    assert (report.reopened, report.reopens) == (1, 2)


def test_a_recovery_given_up_is_counted_apart() -> None:
    """Never in Jira, it has no clocks: it would read as 'not contacted yet' forever."""
    kept = recovery(1, "mail", "sev2", T0)
    refused = replace(recovery(2, "mail", "sev1", T0), state=GAVE_UP, jira_key=None)
    report = build_report([kept, refused], {}, [], NOW)
    assert (report.recoveries, report.given_up) == (1, 1)
    assert report.opened == {("mail", "sev2"): 1}
    assert "Given up (no ticket):  1" in to_table(report)


def test_json_parses_back() -> None:
    """The JSON format holds the figures, durations in seconds."""
    data = json.loads(to_json(build_report(*scenario(), NOW)))
    assert data["recoveries"] == 5
    assert {"source": "mail", "severity": "sev1", "count": 1} in data["opened"]
    assert data["time_to_first_contact"]["median_seconds"] == 3 * 3600
    assert data["time_to_first_contact"]["p90_seconds"] == 24 * 3600
    assert data["cadence"]["share_met"] == 0.5
    assert data["followups"]["done_on_time"] == 1
    assert data["reopened"] == {"recoveries": 1, "reopens": 1}
    assert "message" not in data


def test_csv_parses_back() -> None:
    """The CSV format is one row per measure: section, measure, value."""
    text = to_csv(build_report(*scenario(), NOW))
    table = {(r["section"], r["measure"]): r["value"] for r in csv.DictReader(io.StringIO(text))}
    assert table[("recoveries", "total")] == "5"
    assert table[("opened", "mail/sev2")] == "1"
    assert table[("time_to_resolution", "median_seconds")] == str(48 * 3600)
    assert table[("cadence", "share_met")] == "0.5000"
    assert table[("breaches", "total")] == "1"
    assert table[("followups", "done_on_time")] == "1"


def test_table_reads_well() -> None:
    """The table names each figure with its value."""
    text = to_table(build_report(*scenario(), NOW, since=datetime(2026, 3, 1, tzinfo=UTC)))
    assert text.startswith("Recovery report, since 2026-03-01")
    assert "Recoveries opened: 4" in text
    assert "Time to first contact  median 2h, 90th percentile 4h" in text
    assert "Cadence kept:          50% (1 met, 1 missed)" in text
    assert "Follow-ups done:       1 (1 on time)" in text
    assert "Recoveries reopened:   1 (1 reopens)" in text


def test_empty_report_says_so() -> None:
    """No recoveries: a clear message in the table and the JSON, zeros in the CSV."""
    report = build_report([], {}, [], NOW)
    assert NO_RECOVERIES in to_table(report)
    assert json.loads(to_json(report))["message"] == NO_RECOVERIES
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert rows[0] == {"section": "recoveries", "measure": "total", "value": "0"}
