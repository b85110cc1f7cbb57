"""The learned scorer: its features, its sentence-by-sentence verdict, its file and its place
beside the rules. The sentences are written for these tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from worker.core.detection import Detector, LearnedScore, load_signals, parse_signals
from worker.core.learned import (
    FORMAT,
    MAX_SENTENCES,
    ComplaintModel,
    default_model_path,
    features,
    load_model,
    parse_model,
    readable,
    sentences,
    tokens,
)
from worker.errors import ConfigurationError

RULES = """
[thresholds]
complaint = 2.0
sev2 = 6.0
sev1 = 10.0

[[rules]]
name = "problem-report"
weight = 0.5
phrases = ["problem"]
"""
#: A toy model: "charged twice" and "still waiting" are complaints, "thanks" is not.
TOY = {
    "format": FORMAT,
    "bias": -2.0,
    "weights": {"charged twice": 4.0, "still waiting": 3.5, "twice": 0.5, "thanks": -3.0},
}


def toy_model() -> ComplaintModel:
    return parse_model(TOY, "toy")


def toy_detector(tmp_path: Path, model_table: str) -> Detector:
    (tmp_path / "toy-model.json").write_text(json.dumps(TOY), encoding="utf-8")
    rules = tmp_path / "signals.toml"
    rules.write_text(RULES + model_table, encoding="utf-8")
    return Detector(load_signals(rules))


def test_words_are_lower_case_with_apostrophes_kept_and_numbers_folded() -> None:
    assert tokens("Order #4411: it's 3 DAYS late") == ["order", "0", "it's", "0", "days", "late"]


def test_the_words_after_a_negator_are_marked() -> None:
    assert tokens("I am not disappointed at all, really") == [
        "i", "am", "not", "not_disappointed", "not_at", "not_all", "really",
    ]  # fmt: skip
    assert tokens("I DON\u2019T get it") == ["i", "don't", "not_get", "not_it"]


def test_features_are_words_and_word_pairs_each_once() -> None:
    assert features("late late again") == ["late", "again", "late late", "late again"]


@pytest.mark.parametrize(
    ("feature", "shown"),
    [
        ("not not_happy", "not happy"),
        ("not_happy", "not happy"),
        ("not_at not_all", "not at all"),
        ("don't not_work", "don't work"),
        ("charged twice", "charged twice"),
    ],
)
def test_a_phrase_is_shown_as_a_person_reads_it(feature: str, shown: str) -> None:
    assert readable(feature) == shown


def test_a_text_is_cut_at_sentence_ends_and_lines_and_capped() -> None:
    assert sentences("Hello there. Where is it?!\n\n...\nThanks") == [
        "Hello there.",
        "Where is it?!",
        "Thanks",
    ]
    assert len(sentences("Again. " * (MAX_SENTENCES * 2))) == MAX_SENTENCES


def test_the_verdict_is_the_most_complaining_sentence_with_its_phrases() -> None:
    verdict = toy_model().judge("Thanks for the quick answer.\nI was charged twice for May.")
    assert verdict.sentence == "I was charged twice for May."
    assert verdict.probability > 0.9
    assert verdict.phrases == ("charged twice", "twice")


def test_a_calm_text_scores_low_and_an_empty_one_scores_the_bias() -> None:
    model = toy_model()
    assert model.judge("Thanks, that works.").probability < 0.01
    assert model.judge("").phrases == ()
    assert model.judge("").probability == pytest.approx(0.1192, abs=1e-3)


def test_sentences_the_caller_skips_are_not_read() -> None:
    model = toy_model()
    verdict = model.judge(
        "She was charged twice. Still waiting for news.", skip=lambda s: "She" in s
    )
    assert verdict.sentence == "Still waiting for news."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bias": 0, "weights": {}}, "not a complaint model"),
        ({**TOY, "format": "other/1"}, "not a complaint model"),
        ({**TOY, "bias": "high"}, "bias must be a number"),
        ({**TOY, "bias": True}, "bias must be a number"),
        ({**TOY, "weights": {"late": "much"}}, "weights must map phrases to numbers"),
        ({**TOY, "weights": ["late"]}, "weights must map phrases to numbers"),
        ([], "not a complaint model"),
    ],
)
def test_a_wrong_model_file_is_refused_with_its_name(data: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=f"toy.json: {message}"):
        parse_model(data, "toy.json")


def test_an_unreadable_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"cannot read complaint model .*missing\.json"):
        load_model(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"broken\.json"):
        load_model(broken)


def test_points_grow_from_the_threshold_to_the_weight() -> None:
    score = LearnedScore(toy_model(), threshold=0.6, weight=3.0)
    assert score.points(0.59) == 0.0
    assert score.points(0.6) == 0.0
    assert score.points(0.8) == pytest.approx(1.5)
    assert score.points(1.0) == pytest.approx(3.0)


def test_the_model_adds_its_points_and_names_the_sentence_and_phrases(tmp_path: Path) -> None:
    detector = toy_detector(tmp_path, '[model]\nfile = "toy-model.json"\nweight = 3.0\n')
    result = detector.assess_text("Hello. I was charged twice for the March invoice.")
    assert result.is_complaint
    (reason,) = result.reasons
    assert reason.startswith("model +2.")
    assert '"I was charged twice for the March invoice."' in reason
    assert '"charged twice", "twice"' in reason


@pytest.mark.parametrize(
    "text",
    [
        "Was I charged twice?",
        "If I am charged twice, who do I call.",
        "My colleague was charged twice by her bank.",
    ],
)
def test_the_model_does_not_read_questions_conditions_or_other_people(
    tmp_path: Path, text: str
) -> None:
    detector = toy_detector(tmp_path, '[model]\nfile = "toy-model.json"\nweight = 3.0\n')
    result = detector.assess_text(text)
    assert not result.is_complaint, result.reasons
    assert not any(r.startswith("model") for r in result.reasons)


def test_the_model_and_the_sentiment_words_are_not_counted_twice(tmp_path: Path) -> None:
    sentiment = "[sentiment]\nthreshold = 1.0\nscale = 1.0\nmax = 5.0\nwords = { awful = -1.5 }\n"
    model = '[model]\nfile = "toy-model.json"\nweight = 3.0\n'
    detector = toy_detector(tmp_path, sentiment + model)
    result = detector.assess_text("Awful: I was charged twice.")
    named = {r.split()[0]: r for r in result.reasons}
    assert named["model"].startswith("model +")
    assert named["sentiment"].startswith("sentiment not counted (balance -1.5; model counts)")
    probability = toy_model().judge("Awful: I was charged twice.").probability
    assert result.score == pytest.approx(3.0 * (probability - 0.5) / 0.5, abs=0.01)


def test_a_model_can_be_switched_off(tmp_path: Path) -> None:
    detector = toy_detector(tmp_path, '[model]\nenabled = false\nfile = "toy-model.json"\n')
    assert detector.signals.learned is None
    assert not detector.assess_text("I was charged twice.").reasons


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[model]\nweigth = 2.0\n", "unknown keys weigth"),
        ("[model]\nthreshold = 1.5\n", "threshold must be a probability"),
        ("[model]\nenabled = 'yes'\n", "enabled must be true or false"),
        ("[model]\nfile = 3\n", "file must be a path"),
        ("[model]\nfile = 'nowhere.json'\n", "cannot read complaint model"),
        ("model = 2\n", "must be a table"),
    ],
)
def test_a_wrong_model_table_is_refused(tmp_path: Path, table: str, message: str) -> None:
    rules = tmp_path / "signals.toml"
    rules.write_text(table + RULES, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message):
        load_signals(rules)


def test_the_shipped_rules_use_the_shipped_model() -> None:
    signals = load_signals()
    assert signals.learned is not None
    assert signals.learned.model.source == "complaint-model (built in)"
    again = load_signals().learned
    assert again is not None
    assert again.model is signals.learned.model  # read once per process
    assert parse_signals(RULES).learned is None


def test_the_shipped_model_file_is_small_and_well_formed() -> None:
    path = default_model_path()
    assert path.stat().st_size < 1_000_000
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == FORMAT
    assert 1_000 <= len(data["weights"]) <= 50_000


@pytest.mark.parametrize(
    "text",
    [
        "I was charged twice for the same order and nobody has refunded me.",
        "The money I sent last week never arrived and I am still waiting.",
        "The room was dirty and the staff ignored our requests.",
    ],
)
def test_the_shipped_model_reads_stated_harm_as_a_complaint(text: str) -> None:
    assert load_model().judge(text).probability >= 0.5


@pytest.mark.parametrize(
    "text",
    [
        "Could you tell me how to change the billing address on my account?",
        "Please book a table for two at seven tomorrow.",
        "Thanks a lot, the new plan works great for our team.",
    ],
)
def test_the_shipped_model_reads_routine_requests_and_thanks_as_calm(text: str) -> None:
    assert load_model().judge(text).probability < 0.5


def test_the_model_says_whether_not_how_bad(tmp_path: Path) -> None:
    """Its points count toward a complaint; the severity is read from the rest of the score."""
    detector = toy_detector(tmp_path, '[model]\nfile = "toy-model.json"\nweight = 8.0\n')
    result = detector.assess_text("I was charged twice for May.")
    assert result.score >= 6.0  # the rules file's sev2
    assert result.severity == "sev3"
    sentiment = "[sentiment]\nthreshold = 1.0\nscale = 1.0\nmax = 7.0\nwords = { awful = -6.5 }\n"
    model = '[model]\nfile = "toy-model.json"\nweight = 8.0\n'
    detector = toy_detector(tmp_path, sentiment + model)
    result = detector.assess_text("Awful, I was charged twice for May.")
    assert result.reasons[-1].startswith("model +6.8")  # counted; the sentiment's 6.5 is not
    assert result.severity == "sev2"  # the sentiment's 6.5 still says how bad
