"""`recovery-worker classify`: one JSON line per message, never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.support.data import MAIL, vendored
from worker.cli import main
from worker.commands import classify as classify_command
from worker.core import decision
from worker.domain.decision import Decision
from worker.domain.mail import ParsedMail

DEMO = REPO / "worker" / "demo" / "mails"
FIELDS = {
    "source",
    "message_id",
    "decision",
    "reason",
    "is_complaint",
    "score",
    "severity",
    "reasons",
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["classify", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_demo_mails(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run(capsys, str(DEMO))
    by_name = {Path(str(r["source"])).name: r for r in rows}
    assert all(set(r) == FIELDS for r in rows)
    angry = by_name["01-angry-client.eml"]
    assert angry["decision"] == "recovery"
    assert angry["is_complaint"] is True
    assert angry["message_id"] == "demo-angry-0001@northwind-legal.example"
    assert angry["reasons"]
    assert by_name["02-polite-question.eml"]["decision"] == "not_complaint"
    assert by_name["03-out-of-office.eml"]["decision"] == "skipped"
    assert by_name["04-thread-follow-up.eml"]["decision"] == "thread"
    assert by_name["05-newsletter.eml"]["decision"] == "skipped"


def test_bad_files_are_quarantined_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "empty.eml").write_bytes(b"")
    # A link to a file that is gone: named on the command line, but unreadable.
    (tmp_path / "missing.eml").symlink_to(tmp_path / "gone.eml")
    rows = run(capsys, str(tmp_path / "empty.eml"), str(tmp_path / "missing.eml"))
    assert [r["decision"] for r in rows] == ["quarantined", "quarantined"]
    assert "unparseable" in str(rows[0]["reason"])
    assert "unreadable" in str(rows[1]["reason"])


def test_a_mail_the_rules_cannot_decide_is_a_quarantined_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_decide = decision.decide

    def decide(mail: ParsedMail, *args: Any, **kwargs: Any) -> Decision:
        if mail.message_id == "demo-angry-0001@northwind-legal.example":
            raise ValueError("a rule tripped over this mail")
        return real_decide(mail, *args, **kwargs)

    monkeypatch.setattr(classify_command, "decide", decide)
    rows = run(capsys, str(DEMO))
    by_name = {Path(str(r["source"])).name: r for r in rows}
    assert len(rows) == len(list(DEMO.glob("*.eml")))
    angry = by_name["01-angry-client.eml"]
    assert angry["decision"] == "quarantined"
    assert str(angry["reason"]).startswith("undecidable: ValueError")
    assert by_name["02-polite-question.eml"]["decision"] == "not_complaint"


def test_signals_and_complaint_address_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "csv"\nweight = 9\nphrases = ["csv"]\n', encoding="utf-8")
    question = str(DEMO / "02-polite-question.eml")
    row = run(capsys, "--signals", str(rules), question)[0]
    assert row["decision"] == "recovery"
    assert row["reasons"] == ['csv +9.0 ("CSV")']
    row = run(capsys, "--complaint-address", "support@acme-services.example", question)[0]
    assert row["is_complaint"] is True


@pytest.mark.parametrize(
    ("apart", "flood"), [(timedelta(days=1), False), (timedelta(minutes=2), True)]
)
def test_a_folder_is_read_as_it_arrived(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, apart: timedelta, flood: bool
) -> None:
    """Floods and repeat contact count on the mails' dates, as in the intake, not on today."""
    first = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for n in range(5):
        at = first + n * apart
        (tmp_path / f"{n}.eml").write_bytes(
            f"From: jane@client.example\r\nTo: support@acme.example\r\nSubject: Order {n}\r\n"
            f"Message-ID: <{n}@x>\r\nDate: {at:%a, %d %b %Y %H:%M:%S +0000}\r\n\r\n"
            f"The export for order {n} is still not working.\r\n".encode()
        )
    rows = run(capsys, str(tmp_path))
    kinds = [r["decision"] for r in rows]
    if flood:
        assert rows[-1]["reason"] == "flood: 5 mails within 10 minutes"
        assert kinds == ["recovery"] + ["thread"] * 4
    else:
        assert kinds == ["recovery"] * 5


def test_a_broken_rules_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nname = "bad"\nweight = 1\npattern = "("\n', encoding="utf-8")
    assert main(["classify", "--signals", str(rules), str(DEMO)]) == 2
    assert "rule #1 'bad': pattern does not compile" in capsys.readouterr().err


def test_every_corpus_message_gets_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    files = vendored(MAIL, at_least=1000)
    rows = run(capsys, str(MAIL))
    assert len(rows) >= len(files)
    decisions = {str(r["decision"]) for r in rows}
    assert decisions <= {"recovery", "thread", "not_complaint", "skipped", "quarantined"}
    quarantined = [r for r in rows if r["decision"] == "quarantined"]
    assert len(quarantined) < 0.02 * len(rows)


def test_a_path_that_does_not_exist_is_a_usage_error_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Exit 2 before any line is printed, even when the other paths hold mail."""
    missing = tmp_path / "nosuch.eml"
    assert main(["classify", str(DEMO), str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"no such file or directory: {missing}" in captured.err


@pytest.mark.parametrize("width", [80, 120])
def test_the_table_shows_each_mail_with_its_reasons_within_the_terminal_width(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["classify", "--format", "table", str(DEMO)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["SOURCE", "DECISION", "SCORE", "SEVERITY", "REASONS"]
    assert all(len(line) <= width for line in lines), out
    assert lines[-1] == "6 mail(s): 1 recovery, 1 not_complaint, 2 skipped, 2 thread"
    # The table's row and every reason of the JSON output in it, wrapped but whole.
    assert main(["classify", str(DEMO / "01-angry-client.eml")]) == 0
    decided = json.loads(capsys.readouterr().out)
    reasons = decided["reasons"]
    angry = next(line for line in lines if " recovery " in line)
    assert angry.split()[1:5] == ["recovery", f"{decided['score']:.1f}", "sev1", "complaint"]
    column = " ".join(line[lines[0].index("REASONS") :] for line in lines[1:])
    flat = " ".join(column.split())
    assert all(" ".join(str(reason).split()) in flat for reason in reasons)
    assert "auto-submitted: auto-replied" in out


def test_the_table_counts_the_mail_no_rule_could_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    german = (
        "From: Jonas Weber <jonas@kunde.example>\r\nTo: support@example.com\r\n"
        "Subject: Portal\r\nMessage-ID: <de-1@kunde.example>\r\n\r\n"
        "Das ist das dritte Mal, dass das Portal ausfällt. Ich bin sehr enttäuscht.\r\n"
    )
    (tmp_path / "de.eml").write_bytes(german.encode("utf-8"))
    assert main(["classify", "--format", "table", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "language not read (German;" in out
    assert out.splitlines()[-1] == "1 mail(s): 1 not_complaint; 1 in another language, not read"


def test_with_text_adds_what_the_detector_read(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run(capsys, "--with-text", str(DEMO))
    by_name = {Path(str(r["source"])).name: r for r in rows}
    assert all(set(r) == {*FIELDS, "text"} for r in rows)
    angry = str(by_name["01-angry-client.eml"]["text"])
    follow_up = str(by_name["04-thread-follow-up.eml"]["text"])
    raw = (DEMO / "04-thread-follow-up.eml").read_text(encoding="utf-8")
    assert angry.splitlines()[0] in (DEMO / "01-angry-client.eml").read_text(encoding="utf-8")
    # A reply's subject repeats the thread's and is not read; quoted history is left out.
    assert "Re:" in raw
    assert not follow_up.startswith("Re:")
    assert follow_up.startswith("Half an hour later")
    assert "filing deadline" not in follow_up
    assert all(len(str(r["text"])) <= classify_command.LABEL_TEXT_CHARS for r in rows)


def test_json_stays_the_default_format(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(DEMO / "02-polite-question.eml")
    assert main(["classify", path]) == 0
    default = capsys.readouterr().out
    assert main(["classify", "--format", "json", path]) == 0
    assert capsys.readouterr().out == default
    assert set(json.loads(default)) == FIELDS
