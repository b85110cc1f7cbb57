"""Rules and playbook files: every table and key is known, or the file is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from worker.cli import main
from worker.core.detection import Detector, load_signals, parse_signals
from worker.core.playbook import parse_playbook
from worker.errors import ConfigurationError

RULE = '[[rules]]\nname = "r"\nweight = 5\nphrases = ["meh"]\n'
MISSPELLED = RULE.replace("[[rules]]", "[[rule]]")
PLAYBOOK = (
    "[know]\nsummary = 'K'\nchecklist = ['a']\n"
    "[have]\nsummary = 'H'\nchecklist = ['a']\n"
    "[do]\nsummary = 'D'\nchecklist = ['a']\n"
)
DEMO = REPO / "worker" / "demo" / "mails"


def refused(text: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        parse_signals(text, "rules.toml")
    return str(info.value)


@pytest.mark.parametrize(
    "path", [REPO / "worker" / "defaults" / "signals.toml", REPO / "config" / "signals.toml"]
)
def test_the_shipped_rules_hold_only_known_tables_and_keys(path: Path) -> None:
    assert load_signals(path).rules


@pytest.mark.parametrize(
    "path", [REPO / "worker" / "defaults" / "playbook.toml", REPO / "config" / "playbook.toml"]
)
def test_the_shipped_playbooks_hold_only_known_sections_and_keys(path: Path) -> None:
    assert len(parse_playbook(path.read_text(encoding="utf-8"), str(path)).stages) == 3


def test_a_misspelled_rules_table_is_refused_with_the_file_and_the_table() -> None:
    """[[rule]] for [[rules]] would leave detection without rules: it is an error instead."""
    message = refused(MISSPELLED)
    assert message.startswith("rules.toml: unknown table [[rule]] (did you mean [[rules]]?)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[treshold]\ncomplaint = 2", "rules.toml: unknown table [treshold] (did you mean"),
        ("complaint_adresses = []", "rules.toml: unknown key complaint_adresses (did you mean"),
        ("[whatever]\nx = 1", "rules.toml: unknown table [whatever]; a rules file holds"),
        (
            "[[account]]\nmatch = '@a.example'",
            "unknown table [[account]] (did you mean [[accounts]]",
        ),
    ],
)
def test_unknown_top_level_names_are_refused(text: str, expected: str) -> None:
    assert expected in refused(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[thresholds]\ncomplaint = 2\nsev3 = 1", "rules.toml [thresholds]: unknown keys sev3"),
        ("[repeat_contact]\nwieght = 1", "rules.toml [repeat_contact]: unknown keys wieght"),
        ("[sentiment]\nthreshhold = 2", "rules.toml [sentiment]: unknown keys threshhold"),
        (
            "[[accounts]]\nmatch = '@a.example'\nweigth = 1",
            "rules.toml account #1: unknown keys weigth",
        ),
        (RULE + "phrase = ['x']", "rules.toml rule #1 'r': unknown keys phrase"),
    ],
)
def test_unknown_keys_in_each_table_are_refused(text: str, expected: str) -> None:
    """Each table names the key it does not know, and the keys it does."""
    message = refused(text)
    assert expected in message
    assert "(known: " in message


def test_sentiment_words_are_free_to_choose() -> None:
    """[sentiment.words] holds the words themselves: any name is a word, not a key."""
    signals = parse_signals("[sentiment.words]\nghastly = -3\nsplendid = 2\n")
    assert signals.sentiment is not None
    assert signals.sentiment.words == {"ghastly": -3.0, "splendid": 2.0}


def test_complaint_addresses_count_wherever_the_shipped_file_puts_them() -> None:
    """Written below [thresholds], as in the shipped file, the list belongs to that table."""
    text = "[thresholds]\ncomplaint = 2.0\ncomplaint_addresses = ['Complaints@Acme.example']\n"
    result = Detector(parse_signals(text)).assess_text(
        "hello", recipients=["complaints@acme.example"]
    )
    assert result.is_complaint
    assert "complaint_addresses must be a list" in refused("[thresholds]\ncomplaint_addresses = 3")


def test_a_missing_rules_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"cannot read rules file .*absent\.toml"):
        load_signals(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PLAYBOOK.replace("[know]", "[knwo]"), "book.toml: unknown sections knwo (did you mean"),
        (PLAYBOOK + "title = 'x'\n", "book.toml: [do] has unknown keys title"),
        (
            PLAYBOOK.replace("checklist = ['a']\n[have]", "checklst = ['a']\n[have]"),
            "book.toml: [know] has unknown keys checklst (known: summary, purpose, checklist)",
        ),
        ("intro = 'x'\n" + PLAYBOOK, "book.toml: unknown sections intro;"),
    ],
)
def test_unknown_playbook_sections_and_keys_are_refused(text: str, expected: str) -> None:
    """A misspelled section is named as such, not reported as the section that is missing."""
    with pytest.raises(ConfigurationError) as info:
        parse_playbook(text, "book.toml")
    assert expected in str(info.value)


def test_classify_stops_on_a_misspelled_rules_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(MISSPELLED, encoding="utf-8")
    assert main(["classify", "--signals", str(rules), str(DEMO)]) == 2
    captured = capsys.readouterr()
    assert f"{rules}: unknown table [[rule]]" in captured.err
    assert captured.out == ""


def test_check_stops_on_a_misspelled_rules_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(MISSPELLED, encoding="utf-8")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("RECOVERY_WORKER_DETECTION__SIGNALS_FILE", str(rules))
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert f"[FAILED ] rules: {rules}: unknown table [[rule]]" in out
    assert "verdict: NOT READY" in out


def test_run_reads_no_mail_with_a_misspelled_rules_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run stops at start (exit 2) naming the file and the table; the mail stays unread."""
    rules = tmp_path / "rules.toml"
    rules.write_text(MISSPELLED, encoding="utf-8")
    inbox = tmp_path / "inbox"
    for part in ("new", "cur", "tmp"):
        (inbox / part).mkdir(parents=True)
    mail = inbox / "new" / "1.eml"
    mail.write_bytes((DEMO / "01-angry-client.eml").read_bytes())
    for name, value in {
        "DETECTION__SIGNALS_FILE": str(rules),
        "MAILDIR__PATH": str(inbox),
        "STORE__URL": f"sqlite:///{tmp_path / 'state.db'}",
        "LOG__FORMAT": "json",
    }.items():
        monkeypatch.setenv(f"RECOVERY_WORKER_{name}", value)
    assert main(["run", "--once"]) == 2
    assert f"{rules}: unknown table [[rule]]" in capsys.readouterr().err
    assert mail.exists()
    assert not any((inbox / "cur").iterdir())
