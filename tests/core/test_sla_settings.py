"""The [sla] settings: policies, calendars and their validation."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from worker.errors import ConfigurationError
from worker.settings import Settings, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "worker.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_follow_the_documented_policies() -> None:
    """sev1 one hour around the clock; sev2 four business hours; sev3 one business day."""
    sla = Settings().sla
    assert sla.policies["sev1"].first_contact == timedelta(hours=1)
    assert sla.policies["sev1"].calendar == "24x7"
    assert sla.policies["sev2"].first_contact == timedelta(hours=4)
    assert sla.policies["sev3"].update_every == timedelta(hours=16)
    assert sla.waiting_statuses == ["Waiting for customer", "Waiting for client"]
    assert sla.due_field == "duedate"
    assert not sla.promises_extend
    assert not sla.client_comment_public


def test_calendar_and_policy_from_toml(tmp_path: Path) -> None:
    """A calendar with split hours, holidays and extra dates is read from the file."""
    path = write(
        tmp_path,
        """
[sla.calendars.berlin]
time_zone = "Europe/Berlin"
hours = { mon = "08:00-12:00,13:00-17:00", fri = "08:00-14:00" }
holidays_country = "DE"
holidays_subdiv = "BE"
extra_dates = [2026-12-24]

[sla.policies.sev2]
first_contact = "2h"
update_every = "1d"
resolution = "5d"
calendar = "berlin"
""",
    )
    sla = load_settings(path, env_file=None).sla
    assert sla.calendars["berlin"].extra_dates == [date(2026, 12, 24)]
    assert sla.policies["sev2"].first_contact == timedelta(hours=2)
    assert sla.policies["sev1"].calendar == "24x7"  # untouched severities keep defaults


@pytest.mark.parametrize(
    "text",
    [
        '[sla.policies.sev2]\nfirst_contact = "1h"\nupdate_every = "1h"\nresolution = "1h"\n'
        'calendar = "nowhere"\n',
        '[sla.calendars.x]\ntime_zone = "Mars/Olympus"\n',
        '[sla.calendars.x]\nhours = { mon = "17:00-09:00" }\n',
        '[sla.calendars.x]\nhours = { mon = "" }\n',
        '[sla.calendars.x]\nhours = { monday = "09:00-17:00" }\n',
    ],
)
def test_inconsistent_sla_settings_are_refused(tmp_path: Path, text: str) -> None:
    """Unknown calendars, zones, reversed hours or weekday names fail at start."""
    with pytest.raises(ConfigurationError):
        load_settings(write(tmp_path, text), env_file=None)


def test_webhook_secrets_are_registered_for_redaction(tmp_path: Path) -> None:
    """Webhook URLs and the signing key never reach the logs."""
    (tmp_path / "key").write_text("s3cret-key\n", encoding="utf-8")
    path = write(
        tmp_path,
        f'[alerts]\nslack_webhook_url = "https://hooks.example/T1/B2/xyz"\n'
        f'webhook_secret_file = "{tmp_path / "key"}"\n',
    )
    secrets = load_settings(path, env_file=None).secret_values()
    assert "https://hooks.example/T1/B2/xyz" in secrets
    assert "s3cret-key" in secrets
