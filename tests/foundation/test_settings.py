"""Settings: sources, precedence, validation, secrets, generated documentation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import REPO
from worker.cli import main
from worker.config_docs import example_toml, reference_markdown
from worker.errors import ConfigurationError
from worker.settings import Settings, load_settings, parse_duration


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_no_file_and_no_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With nothing configured the settings load with the documented defaults."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    settings = load_settings(None, env_file=None)
    assert settings.store.url == f"sqlite:///{tmp_path}/state/recovery-worker/recovery-worker.db"
    assert settings.imap.folders == ["INBOX"]
    assert settings.jira.priorities["sev1"] == "Highest"


def test_environment_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment variable wins over the same key in the TOML file."""
    config = write(tmp_path / "c.toml", '[jira]\nproject = "FROMFILE"\nurl = "http://file"\n')
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__PROJECT", "FROMENV")
    settings = load_settings(config, env_file=None)
    assert settings.jira.project == "FROMENV"
    assert settings.jira.url == "http://file"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    """A .env file supplies settings under the same prefix."""
    env = write(tmp_path / ".env", "RECOVERY_WORKER_IMAP__HOST=mail.example.com\n")
    assert load_settings(None, env_file=env).imap.host == "mail.example.com"


@pytest.mark.parametrize(
    ("toml", "expected_key"),
    [
        ('[jira]\nprojet = "SUP"\n', "jira.projet"),
        ('[jiraa]\nproject = "SUP"\n', "jiraa"),
        ("[imap]\nfolders = 'INBOX'\n", "imap.folders"),
    ],
)
def test_unknown_or_mistyped_keys_are_errors(tmp_path: Path, toml: str, expected_key: str) -> None:
    """A misspelled or mistyped key is reported by name, never silently ignored."""
    config = write(tmp_path / "c.toml", toml)
    with pytest.raises(ConfigurationError) as info:
        load_settings(config, env_file=None)
    assert expected_key in str(info.value)


def test_invalid_settings_exit_2_without_traceback_or_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Invalid settings end the program with exit 2, a fix hint, and no secret value."""
    monkeypatch.setenv("RECOVERY_WORKER_IMAP__PASSWORD", "s3cr3t-imap-pass")
    monkeypatch.setenv("RECOVERY_WORKER_IMAP__PORT", "s3cr3t-imap-pass")
    code = main(["check"])
    captured = capsys.readouterr()
    assert code == 2
    assert "imap.port" in captured.err
    assert "RECOVERY_WORKER_IMAP__PORT" in captured.err
    assert "Traceback" not in captured.err
    assert "s3cr3t-imap-pass" not in captured.err + captured.out


def test_environment_variable_naming_no_section_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A prefixed variable with one underscore where two belong is reported with the others."""
    monkeypatch.setenv("RECOVERY_WORKER_JIRA_URL", "https://example.atlassian.net")
    monkeypatch.setenv("RECOVERY_WORKER_IMAP__PORT", "not-a-port")
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__PROJECT", "SUP")
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err
    assert "RECOVERY_WORKER_JIRA_URL: names no section" in err
    assert "imap.port" in err
    assert "example.atlassian.net" not in err


def test_broken_toml_is_a_clear_error(tmp_path: Path) -> None:
    """A TOML syntax error names the file instead of raising a parser traceback."""
    config = write(tmp_path / "c.toml", "[jira\nurl=")
    with pytest.raises(ConfigurationError, match=r"c\.toml is not valid TOML"):
        load_settings(config, env_file=None)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    """Naming a config file that does not exist is an error, not a silent fallback."""
    with pytest.raises(ConfigurationError, match="not found"):
        load_settings(tmp_path / "absent.toml", env_file=None)


def test_secret_from_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A *_file setting reads the secret from a mounted file and hides it in reprs."""
    secret = write(tmp_path / "token", "tok-from-file\n")
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__API_TOKEN_FILE", str(secret))
    settings = load_settings(None, env_file=None)
    token = settings.jira.resolved_api_token()
    assert token is not None
    assert token.get_secret_value() == "tok-from-file"
    assert "tok-from-file" not in repr(settings)
    assert settings.secret_values() == ["tok-from-file"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("45", timedelta(seconds=45)),
        (30, timedelta(seconds=30)),
    ],
)
def test_durations(text: str | int, expected: timedelta) -> None:
    """Durations are written the way people write them."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "5 parsecs", "1h-2m", ""])
def test_bad_durations_are_rejected(text: str) -> None:
    """Anything that is not a duration is rejected with the accepted forms."""
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_idle_renewal_is_capped() -> None:
    """IDLE may not be renewed less often than every 10 minutes."""
    with pytest.raises(ValueError, match="idle_renew"):
        Settings.model_validate({"imap": {"idle_renew": "20m"}})


def test_example_file_is_generated_from_the_model() -> None:
    """config/recovery-worker.example.toml is exactly what the model generates."""
    shipped = (REPO / "config" / "recovery-worker.example.toml").read_text(encoding="utf-8")
    assert shipped == example_toml(), "run: recovery-worker config example > config/..."


def test_example_file_loads_to_the_defaults() -> None:
    """Loading the example file gives the same settings as no file at all."""
    loaded = load_settings(REPO / "config" / "recovery-worker.example.toml", env_file=None)
    assert loaded.model_dump() == load_settings(None, env_file=None).model_dump()


def test_reference_is_generated_from_the_model() -> None:
    """docs/configuration.md is exactly what the model generates."""
    shipped = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert shipped == reference_markdown(), "run: recovery-worker config reference > docs/..."


def test_every_option_is_documented() -> None:
    """Every settings field carries a description, so the docs say what it does."""
    for name, section in Settings.model_fields.items():
        model = section.annotation
        assert isinstance(model, type)
        for key, field in model.model_fields.items():
            assert field.description, f"{name}.{key} has no description"


def test_the_default_store_does_not_depend_on_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unset, the store is a file in the state directory, whichever directory a command runs in."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    urls = set()
    for where in ("a", "b"):
        (tmp_path / where).mkdir()
        monkeypatch.chdir(tmp_path / where)
        urls.add(load_settings(None, env_file=None).store.url)
    assert urls == {f"sqlite:///{state / 'recovery-worker' / 'recovery-worker.db'}"}


@pytest.mark.parametrize("xdg", [None, "", "relative/state"])
def test_without_a_usable_xdg_state_home_the_store_is_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: str | None
) -> None:
    """~/.local/state is the fallback; a relative XDG_STATE_HOME is ignored, as the spec says."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    if xdg is None:
        monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_STATE_HOME", xdg)
    settings = load_settings(None, env_file=None)
    expected = tmp_path / "home" / ".local" / "state" / "recovery-worker" / "recovery-worker.db"
    assert settings.store.url == f"sqlite:///{expected}"
    assert settings.store.location() == str(expected)


def test_a_configured_store_is_kept_and_located_for_people(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A given URL wins; its location is an absolute path, or the URL without its password."""
    monkeypatch.setenv("RECOVERY_WORKER_STORE__URL", "sqlite:///relative.db")
    settings = load_settings(None, env_file=None)
    assert settings.store.url == "sqlite:///relative.db"
    assert settings.store.location() == str(tmp_path / "relative.db")
    monkeypatch.setenv("RECOVERY_WORKER_STORE__URL", "postgresql://worker:pw-1234@db/recovery")
    location = load_settings(None, env_file=None).store.location()
    assert location == "postgresql://worker:***@db/recovery"
    monkeypatch.setenv("RECOVERY_WORKER_STORE__URL", "sqlite:///:memory:")
    assert "in-memory" in load_settings(None, env_file=None).store.location()


@pytest.mark.parametrize(
    "key",
    [
        "jira.url",
        "alerts.webhook_url",
        "alerts.slack_webhook_url",
        "alerts.teams_webhook_url",
        "imap.oauth2_token_url",
    ],
)
@pytest.mark.parametrize(
    "value", ["not-a-url", "hooks.slack.example/T1/B2", "ftp://files.example", "https:///no-host"]
)
def test_a_url_setting_that_is_not_a_url_is_an_error_naming_the_key(
    tmp_path: Path, key: str, value: str
) -> None:
    """URL settings take an http(s) address with a host; the message names the key only."""
    section, name = key.split(".")
    config = write(tmp_path / "c.toml", f'[{section}]\n{name} = "{value}"\n')
    with pytest.raises(ConfigurationError) as info:
        load_settings(config, env_file=None)
    message = str(info.value)
    assert f"{key}: Value error, not a URL" in message
    assert f"RECOVERY_WORKER_{section.upper()}__{name.upper()}" in message
    assert value not in message


@pytest.mark.parametrize(
    "value", ["https://acme.atlassian.net", "http://127.0.0.1:8080/jira/", "  https://x.example "]
)
def test_real_urls_are_accepted(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__URL", value)
    monkeypatch.setenv("RECOVERY_WORKER_ALERTS__SLACK_WEBHOOK_URL", value)
    settings = load_settings(None, env_file=None)
    assert settings.jira.url == value.strip()


def test_an_unreadable_secret_file_leaves_the_other_secrets_registered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log redactor still gets every secret that can be read."""
    monkeypatch.setenv("RECOVERY_WORKER_IMAP__PASSWORD_FILE", str(tmp_path / "absent"))
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__API_TOKEN", "tok-in-env")
    assert load_settings(None, env_file=None).secret_values() == ["tok-in-env"]
