"""From settings to working parts: the core's rules and the adapters each step is given.

Read once per settings object (or per rules file), so a pass never re-parses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from worker.alerts.base import Channel
from worker.alerts.jira import JiraChannel
from worker.alerts.log import LogChannel
from worker.alerts.slack import SlackChannel
from worker.alerts.teams import TeamsChannel
from worker.alerts.webhook import WebhookChannel
from worker.core.alerting import Rules
from worker.core.calendar import WEEKDAY_NAMES, BusinessCalendar, holiday_dates, parse_hours
from worker.core.decision import DecisionPolicy
from worker.core.detection import Detector, load_signals
from worker.core.playbook import Playbook, parse_playbook
from worker.core.sla import Policy
from worker.errors import ConfigurationError
from worker.outbox.followup_alerts import ChannelAlerts, outside_channels
from worker.settings import DetectionSettings, Settings, SlaSettings
from worker.steps import Services

ALWAYS = "24x7"


@dataclass(frozen=True)
class SlaSetup:
    """Policies, calendars and rules read once from the settings."""

    policies: dict[str, Policy]
    calendars: dict[str, BusinessCalendar]
    rules: Rules
    warn_at: float

    def calendar_of(self, severity: str) -> tuple[Policy, BusinessCalendar]:
        policy = self.policies.get(severity) or self.policies["sev3"]
        return policy, self.calendars[policy.calendar]


def sla_setup(settings: Settings) -> SlaSetup:
    """The SLA engine's inputs from the settings (calendars built once per settings object)."""
    cached = _SETUPS.get(id(settings))
    if cached is not None and cached[0] is settings:
        return cached[1]
    setup = SlaSetup(
        policies=policies_from(settings.sla),
        calendars=calendars_from(settings.sla),
        rules=Rules(
            settings.alerts.remind_every,
            settings.alerts.escalate_after,
            settings.alerts.max_reminders,
        ),
        warn_at=settings.alerts.warn_at,
    )
    _SETUPS.clear()
    _SETUPS[id(settings)] = (settings, setup)
    return setup


_SETUPS: dict[int, tuple[Settings, SlaSetup]] = {}


def calendars_from(sla: SlaSettings) -> dict[str, BusinessCalendar]:
    result = {ALWAYS: BusinessCalendar.around_the_clock(zone=ZoneInfo(sla.around_the_clock_zone))}
    for name, cal in sla.calendars.items():
        hours = {WEEKDAY_NAMES.index(day): parse_hours(text) for day, text in cal.hours.items()}
        holidays = (
            holiday_dates(cal.holidays_country, cal.holidays_subdiv)
            if cal.holidays_country
            else None
        )
        try:
            result[name] = BusinessCalendar(
                name, ZoneInfo(cal.time_zone), hours, holidays=holidays, extra_dates=cal.extra_dates
            )
        except (ValueError, NotImplementedError) as exc:
            raise ConfigurationError(f"sla.calendars.{name}: {exc}") from None
    return result


def policies_from(sla: SlaSettings) -> dict[str, Policy]:
    return {
        severity: Policy(
            first_contact=p.first_contact,
            update_every=p.update_every,
            resolution=p.resolution,
            calendar=p.calendar,
            promises_extend=sla.promises_extend,
        )
        for severity, p in sla.policies.items()
    }


def channels_from(services: Services) -> list[Channel]:
    """The configured channels; the log channel is always there."""
    alerts = services.settings.alerts
    timeout = alerts.webhook_timeout
    channels: list[Channel] = [LogChannel()]
    if services.tracker is not None and alerts.jira_comment:
        channels.append(
            JiraChannel(
                services.tracker,
                breach_label=alerts.breach_label,
                manager=alerts.manager,
                escalation_priority=services.settings.jira.priorities.get("sev1"),
                outbox=services.outbox,
            )
        )
    if alerts.slack_webhook_url is not None:
        url = alerts.slack_webhook_url.get_secret_value()
        channels.append(SlackChannel(url, services.clock, timeout))
    if alerts.teams_webhook_url is not None:
        url = alerts.teams_webhook_url.get_secret_value()
        channels.append(TeamsChannel(url, services.clock, timeout))
    if alerts.webhook_url:
        secret = alerts.resolved_webhook_secret()
        key = secret.get_secret_value().encode("utf-8") if secret else None
        channels.append(WebhookChannel(alerts.webhook_url, key, services.clock, timeout))
    return channels


@cache
def _detector(signals_file: Path | None, complaint_addresses: tuple[str, ...]) -> Detector:
    return Detector(load_signals(signals_file), complaint_addresses=complaint_addresses)


def detector_for(detection: DetectionSettings) -> Detector:
    """The detector the settings describe (read once per rules file)."""
    return _detector(detection.signals_file, tuple(detection.complaint_addresses))


def policy_for(detection: DetectionSettings) -> DecisionPolicy:
    return detection.decision_policy()


DEFAULT_PLAYBOOK = Path(__file__).resolve().parent / "defaults" / "playbook.toml"


@cache
def _read_playbook(path: Path) -> Playbook:
    return parse_playbook(path.read_text(encoding="utf-8"), str(path))


def playbook_for(services: Services) -> Playbook:
    """The configured playbook, or the shipped one."""
    return _read_playbook(services.settings.jira.playbook_file or DEFAULT_PLAYBOOK)


def default_alerts(services: Services) -> ChannelAlerts:
    """The configured alert channels, less those the follow-up steps do themselves."""
    return ChannelAlerts(outside_channels(channels_from(services)), services)
