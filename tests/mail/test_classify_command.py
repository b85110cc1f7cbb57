"""`recovery-worker classify`: one JSON line per message, never a crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SHARED
from worker.cli import main
from worker.commands import classify as classify_command
from worker.core import decision
from worker.core.decision import Decision
from worker.mail.model import ParsedMail

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
    corpus = SHARED / "corpora" / "mail"
    rows = run(capsys, str(corpus))
    files = [p for p in corpus.rglob("*") if p.is_file()]
    assert len(rows) >= len(files)
    decisions = {str(r["decision"]) for r in rows}
    assert decisions <= {"recovery", "thread", "not_complaint", "skipped", "quarantined"}
    quarantined = [r for r in rows if r["decision"] == "quarantined"]
    assert len(quarantined) < 0.02 * len(rows)
