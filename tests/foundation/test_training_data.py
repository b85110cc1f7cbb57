"""The training script labels each source's rows by the source's own labels, as documented.

Tiny files in each source's format, written here; the script itself needs scikit-learn only
to fit, so its readers load without it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO
from worker.cli import main

DEMO = REPO / "worker" / "demo" / "mails"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "complaint_model", REPO / "training" / "complaint_model.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def labels(examples: object) -> list[tuple[str, bool, str]]:
    return [(e.text, e.complaint, e.split) for e in examples]  # type: ignore[attr-defined]


def test_goemotions_anger_annoyance_and_disappointment_are_complaints(
    script: ModuleType, tmp_path: Path
) -> None:
    (tmp_path / "train.tsv").write_text(
        "so annoyed with this\t3\tid1\nlovely day\t17\tid2\nscared of it\t14\tid3\n"
        "meh and mad\t2,27\tid4\n",
        encoding="utf-8",
    )
    (tmp_path / "dev.tsv").write_text("let down again\t9\tid5\n", encoding="utf-8")
    assert labels(script.goemotions(tmp_path)) == [
        ("so annoyed with this", True, "train"),
        ("lovely day", False, "train"),
        ("meh and mad", True, "train"),
        ("let down again", True, "validation"),
    ]  # fear (14) reads either way: left out


def test_banking77_money_lost_is_a_complaint_and_waiting_is_left_out(
    script: ModuleType, tmp_path: Path
) -> None:
    rows = (
        "text,category\n"
        "I was charged twice,transaction_charged_twice\n"
        "How do I top up?,topping_up_by_card\n"
        "Is my transfer still pending?,pending_transfer\n"
        "Where is my refund?,Refund_not_showing_up\n"
    )
    (tmp_path / "train.csv").write_text(rows, encoding="utf-8")
    (tmp_path / "test.csv").write_text("text,category\nMy card broke,card_not_working\n")
    assert labels(script.banking77(tmp_path)) == [
        ("I was charged twice", True, "train"),
        ("How do I top up?", False, "train"),
        ("Where is my refund?", True, "train"),
        ("My card broke", False, "validation"),
    ]


def test_clinc_requests_are_routine_but_lost_luggage(script: ModuleType, tmp_path: Path) -> None:
    data = {
        "train": [["set a timer", "timer"], ["the airline lost my bag", "lost_luggage"]],
        "oos_train": [["what is love", "oos"]],
        "val": [["book a flight", "book_flight"]],
    }
    path = tmp_path / "data_full.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert labels(script.clinc(path)) == [
        ("set a timer", False, "train"),
        ("the airline lost my bag", True, "train"),
        ("what is love", False, "train"),
        ("book a flight", False, "validation"),
    ]


def test_nlupp_requests_are_routine_and_lost_items_are_left_out(
    script: ModuleType, tmp_path: Path
) -> None:
    (tmp_path / "banking-fold3.json").write_text(
        json.dumps([{"text": "open an account", "intents": ["make_open_apply_setup_get_activate"]},
                    {"text": "my card was stolen", "intents": ["lost_stolen", "card"]}]),
        encoding="utf-8",
    )  # fmt: skip
    (tmp_path / "hotels-fold17.json").write_text(
        json.dumps([{"text": "is there parking", "intents": ["parking"]}]), encoding="utf-8"
    )
    assert labels(script.nlupp(tmp_path)) == [
        ("open an account", False, "train"),
        ("is there parking", False, "validation"),
    ]


def test_uci_negative_sentences_are_complaints(script: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "yelp_labelled.txt"
    path.write_bytes(b"Service was slow.\t0\rLoved it.\t1\r\nno label here\n")
    assert labels(script.uci([path])) == [
        ("Service was slow.", True, "validation"),
        ("Loved it.", False, "train"),
    ]


def test_a_teams_own_labelled_mail_is_read_line_by_line(script: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "mine.jsonl"
    rows = [{"text": f"mail {n}", "complaint": n % 2 == 0} for n in range(1, 6)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    found = labels(script.labelled(path))
    assert found[0] == ("mail 1", False, "train")
    assert found[4] == ("mail 5", False, "validation")
    path.write_text('{"text": "late again", "complaint": "yes"}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match="line 1: text must be text and complaint true/false"):
        list(script.labelled(path))
    path.write_text("not json\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="line 1: not"):
        list(script.labelled(path))


def test_classify_lines_with_text_are_labelled_a_part_at_a_time(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `classify --with-text` prints trains a model once a team adds its verdicts."""
    assert main(["classify", "--with-text", str(DEMO)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    read = [r for r in rows if r["decision"] in ("recovery", "not_complaint")]
    assert len(read) >= 2
    verdicts = {r["source"]: r["decision"] == "recovery" for r in read[:2]}
    path = tmp_path / "ours.jsonl"
    labelled_rows = [{**r, "complaint": verdicts.get(r["source"])} for r in rows]
    path.write_text("".join(json.dumps(r) + "\n" for r in labelled_rows), encoding="utf-8")
    found = labels(script.labelled(path))
    assert [(text, complaint) for text, complaint, _ in found] == [
        (r["text"], verdicts[r["source"]]) for r in read[:2]
    ]
    assert f"{len(rows) - 2} line(s) without a complaint label left out" in capsys.readouterr().err


def test_training_needs_a_set_with_both_kinds(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        script.main([])
    assert "give at least one set" in capsys.readouterr().err
    path = tmp_path / "mine.jsonl"
    path.write_text('{"text": "late again", "complaint": true}\n', encoding="utf-8")
    with pytest.raises(SystemExit):
        script.main(["--labelled", str(path), "--out", str(tmp_path / "model.json")])
    assert "only complaints or only other mail" in capsys.readouterr().err
    assert not (tmp_path / "model.json").exists()
