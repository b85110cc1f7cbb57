"""`recovery-worker check`: NOT READY whenever `run` could do no useful work, and why.

Everything here runs without outside servers: a Maildir for the inbox, the built-in
Jira sandbox for Jira, and closed or misbehaving local ports for the failures.
(tests/imap/test_check_command.py checks the IMAP line against a real Dovecot.)
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from worker.cli import main
from worker.commands.check import FAILED, OK, check_sources
from worker.sandbox import RunningSandbox, start_sandbox
from worker.settings import JiraSettings, MaildirSettings, Settings
from worker.store.db import LATEST_VERSION

CHECKLIST_LINE = ("[  ok   ] ", "[FAILED ] ", "[skipped] ", "verdict: ")


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default store lands in the test's own state directory, never in the real one."""
    state = tmp_path / "state-home"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with start_sandbox("datacenter") as running:
        yield running


def setenv(monkeypatch: pytest.MonkeyPatch, **settings: str) -> None:
    """RECOVERY_WORKER_ variables from ``SECTION__KEY=value`` pairs."""
    for name, value in settings.items():
        monkeypatch.setenv(f"RECOVERY_WORKER_{name.upper()}", value)


def maildir(root: Path) -> Path:
    for part in ("new", "cur", "tmp"):
        (root / part).mkdir(parents=True, exist_ok=True)
    return root


def configure_a_working_set_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sandbox: RunningSandbox
) -> None:
    """A Maildir inbox, the sandbox as Jira, and an owner: what `run` needs to do its job."""
    setenv(
        monkeypatch,
        maildir__path=str(maildir(tmp_path / "inbox")),
        jira__url=sandbox.url,
        jira__pat=sandbox.credentials["pat"],
        jira__default_owner="jane.lead",
    )


def use_rules_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str) -> Path:
    """A rules file of the test's own, named in the settings."""
    rules = tmp_path / "rules.toml"
    rules.write_text(content, encoding="utf-8")
    setenv(monkeypatch, detection__signals_file=str(rules))
    return rules


def checklist(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """stdout and stderr; every line on stdout is an item of the checklist or the verdict."""
    captured = capsys.readouterr()
    for line in captured.out.splitlines():
        assert line.startswith(CHECKLIST_LINE), f"not a checklist line: {line!r}"
    return captured.out, captured.err


def test_a_working_set_up_is_ready(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox: RunningSandbox,
) -> None:
    configure_a_working_set_up(monkeypatch, tmp_path, sandbox)
    assert main(["check"]) == 0
    out, err = checklist(capsys)
    assert "[  ok   ] Jira: login: logged in as " in out
    assert "[  ok   ] rules: signals.toml (built in): " in out
    assert " rules, model complaint-model (built in)" in out
    assert f"[  ok   ] complaint sources: Maildir {tmp_path / 'inbox'}" in out
    assert "[  ok   ] recoveries: Jira project SUP, issue type Task" in out
    assert "[  ok   ] owners: jane.lead for every client" in out
    assert out.splitlines()[-1] == "verdict: ready (IMAP inbox not configured)"
    assert err == ""


def test_nothing_configured_is_not_ready_and_says_what_is_missing(
    state_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No inbox, no Jira, no owner: three failed items, each naming the settings to set."""
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert "[FAILED ] complaint sources: nothing to read complaints from: set imap.host or " in out
    assert "[FAILED ] recoveries: nowhere to open recoveries: set jira.url" in out
    assert "[FAILED ] owners: no owner for new recoveries: set jira.default_owner" in out
    assert out.splitlines()[-1] == (
        "verdict: NOT READY (3 failed: complaint sources, recoveries, owners)"
    )


def test_the_store_line_names_the_default_file_and_its_folder_is_created(
    state_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check"])
    out, _ = checklist(capsys)
    db = state_home / "recovery-worker" / "recovery-worker.db"
    assert f"[  ok   ] state store: sqlite, schema version {LATEST_VERSION}, in {db}" in out
    assert db.is_file()


def test_a_store_that_cannot_be_created_fails_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    setenv(monkeypatch, store__url=f"sqlite:///{blocker / 'state.db'}")
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert f"[FAILED ] state store: {blocker / 'state.db'}: cannot create the folder" in out


def test_a_file_that_is_not_a_database_fails_the_store_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stray = tmp_path / "notes.db"
    stray.write_text("meeting notes, not a database " * 20, encoding="utf-8")
    setenv(monkeypatch, store__url=f"sqlite:///{stray}")
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert f"[FAILED ] state store: {stray}: not a usable store: file is not a database" in out


def test_a_missing_rules_file_is_not_ready(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox: RunningSandbox,
) -> None:
    configure_a_working_set_up(monkeypatch, tmp_path, sandbox)
    setenv(monkeypatch, detection__signals_file=str(tmp_path / "absent.toml"))
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert f"[FAILED ] rules: cannot read rules file {tmp_path / 'absent.toml'}" in out
    assert out.splitlines()[-1] == "verdict: NOT READY (1 failed: rules)"


def test_a_rules_file_with_an_unknown_key_is_not_ready(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox: RunningSandbox,
) -> None:
    rules = use_rules_file(monkeypatch, tmp_path, "[thresholds]\ncomplaint = 2\nsev3 = 1\n")
    configure_a_working_set_up(monkeypatch, tmp_path, sandbox)
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert f"[FAILED ] rules: {rules} [thresholds]: unknown keys sev3" in out


def test_a_rule_without_words_to_look_for_is_named(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox: RunningSandbox,
) -> None:
    rules = use_rules_file(
        monkeypatch,
        tmp_path,
        "[[rules]]\nname = 'shouting'\nweight = 1\npattern = '[A-Z]{5,}'\n"
        "[[rules]]\nname = 'refund'\nweight = 1\nphrases = ['refund']\n",
    )
    configure_a_working_set_up(monkeypatch, tmp_path, sandbox)
    assert main(["check"]) == 0
    out, _ = checklist(capsys)
    assert f"[  ok   ] rules: {rules}: 2 rules, " in out
    assert "; tried in full on every mail (no words to look for): shouting\n" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "playbook: cannot read playbook file"),
        ("[know]\nsummary = 'K'\nchecklist = ['a']\n", "the [have] section is missing"),
        ("[knwo]\nsummary = 'K'\n", "unknown sections knwo (did you mean [know]?)"),
    ],
)
def test_a_missing_or_invalid_playbook_file_is_not_ready(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox: RunningSandbox,
    content: str | None,
    expected: str,
) -> None:
    playbook = tmp_path / "playbook.toml"
    if content is not None:
        playbook.write_text(content, encoding="utf-8")
    configure_a_working_set_up(monkeypatch, tmp_path, sandbox)
    setenv(monkeypatch, jira__playbook_file=str(playbook))
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert "[FAILED ] Jira: playbook: " in out
    assert expected in out
    assert out.splitlines()[-1] == "verdict: NOT READY (1 failed: Jira)"


def test_no_owner_for_new_recoveries_is_not_ready(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox: RunningSandbox,
) -> None:
    configure_a_working_set_up(monkeypatch, tmp_path, sandbox)
    monkeypatch.delenv("RECOVERY_WORKER_JIRA__DEFAULT_OWNER")
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert "[FAILED ] owners: no owner for new recoveries" in out
    assert out.splitlines()[-1] == "verdict: NOT READY (1 failed: owners)"


def test_owners_by_domain_alone_are_enough_but_the_rest_is_named(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sandbox: RunningSandbox,
) -> None:
    configure_a_working_set_up(monkeypatch, tmp_path, sandbox)
    monkeypatch.delenv("RECOVERY_WORKER_JIRA__DEFAULT_OWNER")
    setenv(monkeypatch, jira__owners='{"acme.example": "sam"}')
    assert main(["check"]) == 0
    out, _ = checklist(capsys)
    assert "[  ok   ] owners: 1 client domain(s); mail from any other domain gets no owner" in out


def test_an_empty_project_is_nowhere_to_open_recoveries(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    setenv(monkeypatch, jira__url="http://127.0.0.1:9", jira__project="", jira__pat="p")
    setenv(monkeypatch, jira__connect_timeout="1s")
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert "[FAILED ] recoveries: jira.project is empty" in out


def test_missing_jira_credentials_fail_the_jira_line_without_a_call(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    setenv(monkeypatch, jira__url="http://127.0.0.1:9")
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert "[FAILED ] Jira: ConfigurationError: Jira needs jira.email + jira.api_token" in out


def test_an_unreadable_secret_file_is_a_failed_item_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    setenv(monkeypatch, jira__url="http://127.0.0.1:9")
    setenv(monkeypatch, jira__api_token_file=str(tmp_path / "absent"), jira__email="a@b.example")
    assert main(["check"]) == 1
    out, _ = checklist(capsys)
    assert f"[FAILED ] Jira: cannot read secret file {tmp_path / 'absent'}" in out


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("jira__url", "jira.url"),
        ("alerts__webhook_url", "alerts.webhook_url"),
        ("alerts__slack_webhook_url", "alerts.slack_webhook_url"),
        ("alerts__teams_webhook_url", "alerts.teams_webhook_url"),
    ],
)
def test_a_url_that_is_not_a_url_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], name: str, key: str
) -> None:
    """Exit 2 before any checklist line, naming the key and its environment variable."""
    setenv(monkeypatch, **{name: "not-a-url"})
    assert main(["check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{key}: Value error, not a URL" in captured.err
    assert f"RECOVERY_WORKER_{name.upper()}" in captured.err


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_failed_imap_connection_prints_no_log_line_and_no_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refusal is the IMAP item's detail; no log line lands in the checklist or anywhere."""
    setenv(
        monkeypatch,
        imap__host="127.0.0.1",
        imap__port=str(free_port()),
        imap__password="pw-4f1c",
        imap__timeout="2s",
        log__level="debug",
        log__format="json",
    )
    assert main(["check"]) == 1
    out, err = checklist(capsys)
    assert "[FAILED ] IMAP inbox: ConnectionFailed: " in out
    assert "imap.connect.failed" not in out + err
    assert "retry" not in (out + err).lower()


class Unavailable(http.server.BaseHTTPRequestHandler):
    """A Jira that answers every request with 503, counting them."""

    calls: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.calls.append(self.path)
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_unavailable_jira_is_asked_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """check does not retry: one request, a failed Jira line, and no retry log line."""
    Unavailable.calls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        setenv(monkeypatch, jira__url=f"http://127.0.0.1:{server.server_port}", jira__pat="p")
        assert main(["check"]) == 1
    finally:
        server.shutdown()
        server.server_close()
    out, err = checklist(capsys)
    assert "[FAILED ] Jira: ServerUnavailable" in out
    assert len(Unavailable.calls) == 1
    assert "retry" not in (out + err).lower()


def test_jira_signals_alone_are_something_to_read(tmp_path: Path) -> None:
    """Watching Jira projects is a source of complaints too; without jira.url it is not."""
    watching = JiraSettings(url="https://acme.atlassian.net", watch_projects=["OPS", "WEB"])
    outcome = check_sources(Settings(jira=watching))
    assert (outcome.status, outcome.detail) == (OK, "Jira projects OPS, WEB")
    assert check_sources(Settings(jira=JiraSettings(watch_projects=["OPS"]))).status == FAILED
    inbox = Settings(maildir=MaildirSettings(path=tmp_path))
    assert check_sources(inbox).detail == f"Maildir {tmp_path}"
