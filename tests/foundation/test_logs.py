"""Logs: JSON lines off a terminal, stable event names, secrets never printed."""

from __future__ import annotations

import base64
import io
import json
import logging
from pathlib import Path

import pytest
import structlog

from tests.sandbox.conftest import checked_sandbox
from tests.support.dovecot import start_dovecot
from worker.cli import main
from worker.logs import REDACTED, configure_logging, get_logger, register_secrets
from worker.sandbox import Dialect

SECRET = "pa55-w0rd-never-logged"


@pytest.fixture
def log_stream() -> io.StringIO:
    stream = io.StringIO()
    register_secrets([SECRET])
    configure_logging("debug", "auto", stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def test_json_lines_when_not_a_terminal(log_stream: io.StringIO) -> None:
    """Off a terminal every event is one JSON object with its name, level and time."""
    get_logger(message_id="<m1@x>").info("inbox.message.received", uid=7)
    [event] = lines(log_stream)
    assert event["event"] == "inbox.message.received"
    assert event["message_id"] == "<m1@x>"
    assert event["level"] == "info"
    assert "timestamp" in event


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stdout does in an interactive shell."""

    def isatty(self) -> bool:
        return True


def test_readable_console_lines_on_a_terminal() -> None:
    """On a terminal an event is one readable line with its name and fields, not JSON."""
    stream = Terminal()
    configure_logging("info", "auto", stream=stream)
    get_logger().info("recovery.opened", key="SUP-1")
    (line,) = stream.getvalue().splitlines()
    assert not line.lstrip().startswith("{")
    assert "recovery.opened" in line
    assert "SUP-1" in line


def test_secret_values_are_redacted_everywhere(log_stream: io.StringIO) -> None:
    """A secret is removed from messages, nested values, secret-named keys and tracebacks."""
    log = get_logger()
    log.info("jira.request", url=f"https://x/?token={SECRET}", nested={"a": [SECRET]})
    log.info("imap.login", password="whatever-the-value")
    try:
        raise RuntimeError(f"login failed for secret {SECRET}")
    except RuntimeError:
        log.exception("imap.login.failed")
    logging.getLogger("urllib3").warning("header Authorization: Bearer %s", SECRET)
    output = log_stream.getvalue()
    assert SECRET not in output
    assert output.count(REDACTED) >= 4
    assert "whatever-the-value" not in output


def test_no_secret_in_any_line_of_a_failing_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A whole CLI run that fails on a configured service prints no configured secret."""
    monkeypatch.setenv("RECOVERY_WORKER_IMAP__PASSWORD", "imap-secret-value-1")
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__API_TOKEN", "jira-secret-value-2")
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("RECOVERY_WORKER_IMAP__HOST", "127.0.0.1")
    monkeypatch.setenv("RECOVERY_WORKER_IMAP__PORT", "9")
    monkeypatch.setenv("RECOVERY_WORKER_IMAP__TIMEOUT", "1s")
    monkeypatch.setenv("RECOVERY_WORKER_JIRA__CONNECT_TIMEOUT", "1s")
    monkeypatch.setenv("RECOVERY_WORKER_LOG__FORMAT", "json")
    for argv in (["check"], ["run", "--once"]):
        main(argv)
    captured = capsys.readouterr()
    everything = captured.out + captured.err
    assert everything
    assert "imap-secret-value-1" not in everything
    assert "jira-secret-value-2" not in everything


@pytest.mark.integration
@pytest.mark.slow  # Dovecot delays every refused login by two seconds
@pytest.mark.parametrize("dialect", ["cloud", "datacenter"])
def test_no_secret_when_real_servers_refuse_the_credentials(
    dialect: Dialect, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dovecot and the sandbox refusing wrong credentials, logged at debug: no secret in any form.

    Debug is where HTTP and IMAP libraries get talkative; Basic auth and SASL PLAIN
    carry the secret base64-encoded, so those forms are looked for too.
    """
    wrong_password, wrong_token = "imap-wrong-0d3a9c", "jira-wrong-6be21f"
    dovecot = start_dovecot()
    try:
        with checked_sandbox(dialect) as sandbox:
            for name, value in {
                "IMAP__HOST": dovecot.host,
                "IMAP__PORT": str(dovecot.imap_port),
                "IMAP__SECURITY": "plain",
                "IMAP__USERNAME": dovecot.user,
                "IMAP__PASSWORD": wrong_password,
                "IMAP__TIMEOUT": "5s",
                "JIRA__URL": sandbox.url,
                "JIRA__EMAIL": sandbox.credentials.get("email", ""),
                "JIRA__API_TOKEN" if dialect == "cloud" else "JIRA__PAT": wrong_token,
                "LOG__LEVEL": "debug",
                "LOG__FORMAT": "json",
            }.items():
                monkeypatch.setenv(f"RECOVERY_WORKER_{name}", value)
            codes = [main(["check"]), main(["run", "--once"])]
    finally:
        dovecot.cleanup()
    captured = capsys.readouterr()
    everything = captured.out + captured.err
    assert codes[0] == 1
    assert "AuthenticationFailed" in everything
    forms = [wrong_password, wrong_token]
    for user, secret in [(dovecot.user, wrong_password), ("", wrong_token)]:
        forms.append(base64.b64encode(secret.encode()).decode())
        forms.append(base64.b64encode(f"\0{user}\0{secret}".encode()).decode())
    email = sandbox.credentials.get("email", "")
    forms.append(base64.b64encode(f"{email}:{wrong_token}".encode()).decode())
    assert [form for form in forms if form in everything] == []


def test_capture_logs_helper_sees_event_names() -> None:
    """Tests can capture events by name with structlog's own helper."""
    with structlog.testing.capture_logs() as captured:
        get_logger(ticket="SUP-1").warning("sla.breached", late_s=60)
    assert captured == [
        {"event": "sla.breached", "ticket": "SUP-1", "late_s": 60, "log_level": "warning"}
    ]
