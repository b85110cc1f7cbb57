"""The complaint detector: rules, sentiment, severity, and config errors that name the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from worker.core.detection import (
    Detector,
    default_signals_text,
    load_signals,
    parse_signals,
    sentiment_balance,
)
from worker.errors import ConfigurationError
from worker.mail.parse import parse_message

DEMO = REPO / "worker" / "demo" / "mails"


def test_config_copy_matches_the_shipped_rules() -> None:
    shipped = default_signals_text()
    assert (REPO / "config" / "signals.toml").read_text(encoding="utf-8") == shipped
    assert parse_signals(shipped).rules


def test_angry_mail_is_a_severe_complaint_with_named_reasons(detector: Detector) -> None:
    result = detector.assess(parse_message((DEMO / "01-angry-client.eml").read_bytes()))
    assert result.is_complaint
    assert result.severity in ("sev1", "sev2")
    names = {reason.split()[0] for reason in result.reasons}
    assert {"strong-dissatisfaction", "threat-to-cancel", "sentiment"} <= names


def test_polite_question_is_not_a_complaint(detector: Detector) -> None:
    result = detector.assess(parse_message((DEMO / "02-polite-question.eml").read_bytes()))
    assert not result.is_complaint
    assert result.severity is None


def test_words_read_by_several_rules_count_once(detector: Detector) -> None:
    # Five rules read "never received a reply"; counted five times it scored 10.5, sev1.
    result = detector.assess_text("I never received a reply to any of my letters.")
    assert result.reasons[0] == 'no-response +2.5 ("never received a reply")'
    assert "chasing not counted (the same words as no-response)" in result.reasons
    assert (result.score, result.severity) == (2.5, "sev3")
    # Other words in the same mail still count, each once.
    both = detector.assess_text("I never received a reply. This is unacceptable.")
    counted = [r for r in both.reasons if r.split()[1].startswith("+")]
    assert counted[:2] == [
        'strong-dissatisfaction +3.0 ("unacceptable")',
        'no-response +2.5 ("never received a reply")',
    ]


def test_a_rules_floor_holds_when_a_heavier_rule_counted_its_words() -> None:
    text = (
        "[thresholds]\ncomplaint = 2\nsev2 = 6\nsev1 = 10\n"
        "[[rules]]\nname = 'angry'\nweight = 3\nphrases = ['see you in court']\n"
        "[[rules]]\nname = 'legal'\nweight = 2\nmin_severity = 'sev1'\n"
        "phrases = ['in court']\n"
    )
    result = Detector(parse_signals(text)).assess_text("We will see you in court.")
    assert result.reasons == (
        'angry +3.0 ("see you in court")',
        "legal not counted (the same words as angry)",
    )
    assert (result.score, result.severity) == (3.0, "sev1")


@pytest.mark.parametrize(
    "text",
    [
        "Thank you so much, the new dashboard is great.",
        "Could you send me the invoice for March please?",
        "Happy new year to the whole team!",
        "Not bad at all, thanks for the quick fix.",
    ],
)
def test_friendly_and_neutral_mail(detector: Detector, text: str) -> None:
    assert not detector.assess_text(text).is_complaint


@pytest.mark.parametrize(
    "text",
    [
        "This is unacceptable.",
        "I am very disappointed with your support.",
        "The portal is still not working and nobody has replied to my ticket.",
        "I have been waiting for a refund for three weeks.",
        "If this is not fixed we will cancel our subscription.",
    ],
)
def test_complaints(detector: Detector, text: str) -> None:
    assert detector.assess_text(text).is_complaint


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("What is up with the invoices this month?", "exasperation"),
        ("The agent hung up on me twice.", "exasperation"),
        ("Thanks for nothing, the backup is gone.", "sarcastic-thanks"),
        ("I love waiting forty minutes for a callback.", "sarcastic-thanks"),
        ("I have not heard back since Monday.", "chasing"),
        ("I have emailed your team five times about this.", "chasing"),
        ("Why hasn't anyone looked at the ticket?", "why-not"),
        ("Another week without invoices #fail", "complaint-hashtag"),
        ("The dashboard is down again for our whole office.", "broken-product"),
        ("The portal won't let me download the report. Unacceptable.", "broken-product"),
        ("The monitor arrived damaged and the stand came broken.", "broken-product"),
        ("We have been without internet since the upgrade.", "broken-product"),
        ("You lost our configuration during the migration.", "broken-product"),
        ("Your support staff were rude and unhelpful.", "service-criticism"),
        ("Honestly the onboarding was a joke.", "service-criticism"),
        ("We are done with this product.", "walking-away"),
        ("The technician never showed up on Tuesday.", "no-show"),
        ("Your hotline is not answering at all.", "no-show"),
        ("I am irritated that the report is late.", "disappointment"),
    ],
)
def test_complaint_language_fires_its_rule(detector: Detector, text: str, rule: str) -> None:
    result = detector.assess_text(text)
    assert any(r.startswith(rule + " ") for r in result.reasons), result.reasons
    assert result.is_complaint


def test_weak_signals_count_only_together(detector: Detector) -> None:
    # A promise or a "??" alone is everyday mail; with each other they are a complaint.
    promise = detector.assess_text("We were promised a fix by Friday.")
    punctuation = detector.assess_text("Where is the engineer??")
    both = detector.assess_text("We were promised an engineer by Friday. Where is he??")
    assert any(r.startswith("broken-promise ") for r in promise.reasons)
    assert any(r.startswith("frustrated-punctuation ") for r in punctuation.reasons)
    assert not promise.is_complaint
    assert not punctuation.is_complaint
    assert both.is_complaint


@pytest.mark.parametrize(
    "text",
    [
        "Any update on the March invoice?",
        "The migration was supposed to be simple, and it was: thanks!",
        "Could you reset my password please?",
        "We lost the match on Sunday, but the new release looks good.",
        "Why does the export use commas? Just curious.",
        "Calm down, the old report was down the hall.",
    ],
)
def test_plain_requests_stay_calm(detector: Detector, text: str) -> None:
    result = detector.assess_text(text)
    assert not result.is_complaint, result.reasons


def test_thanks_for_a_fix_counts_against_a_complaint(detector: Detector) -> None:
    before = detector.assess_text("The sync had a problem yesterday.")
    after = detector.assess_text("The sync had a problem yesterday. Thanks for fixing it.")
    assert any(r.startswith("resolved-thanks -2.0") for r in after.reasons)
    assert after.score == before.score - 2.0
    assert not detector.assess_text("Tried again today and no problems.").is_complaint


def test_walking_away_is_at_least_sev2(detector: Detector) -> None:
    assert detector.assess_text("I will cancel and go elsewhere.").severity in ("sev1", "sev2")


def test_legal_threat_sets_the_worst_severity(detector: Detector) -> None:
    result = detector.assess_text("Our lawyers will be in touch.")
    assert result.severity == "sev1"
    assert any(r.startswith("legal-threat") for r in result.reasons)


def test_threat_to_cancel_is_at_least_sev2(detector: Detector) -> None:
    assert detector.assess_text("We will not renew.").severity in ("sev1", "sev2")


def test_quoted_history_is_not_classified(detector: Detector) -> None:
    raw = (
        b"From: c@client.example\r\nSubject: Re: your request\r\n\r\n"
        b"Thanks, all good now.\r\n\r\nOn Mon, 2 Mar 2026, Me <c@client.example> wrote:\r\n"
        b"> This is unacceptable, still broken, I am furious!!!\r\n"
    )
    assert not detector.assess(parse_message(raw)).is_complaint


def test_complaint_address_always_counts() -> None:
    detector = Detector(load_signals(), complaint_addresses=["Complaints@Acme.example"])
    raw = b"From: c@x.example\r\nTo: complaints@acme.example\r\nSubject: hello\r\n\r\nhi\r\n"
    result = detector.assess(parse_message(raw))
    assert result.is_complaint
    assert result.severity == "sev3"
    assert result.reasons == ("complaint-address (complaints@acme.example)",)


def test_repeat_contact_adds_weight_up_to_its_cap(detector: Detector) -> None:
    mild = "The upload will not start."
    alone = detector.assess_text(mild)
    once = detector.assess_text(mild, repeat_contacts=1)
    many = detector.assess_text(mild, repeat_contacts=9)
    assert once.score == alone.score + 1.0
    assert many.score == alone.score + 2.0
    assert many.is_complaint
    assert many.reasons[-1] == "repeat-contact +2.0 (9 earlier)"


def test_repeat_contact_alone_is_no_complaint(detector: Detector) -> None:
    """A sender writing often about nothing in particular is not a complaint."""
    result = detector.assess_text("Any news on my ticket?", repeat_contacts=9)
    assert (result.is_complaint, result.score) == (False, 0.0)
    assert result.reasons == ("repeat-contact not counted (9 earlier, no evidence)",)


def test_key_account_weight_and_floor() -> None:
    text = default_signals_text() + (
        '\n[[accounts]]\nname = "key: Big"\nmatch = "*.big.example"\nweight = 1.0\n'
        'min_severity = "sev2"\n'
    )
    detector = Detector(parse_signals(text))
    result = detector.assess_text("The export does not work.", sender="a@eu.big.example")
    assert result.is_complaint
    assert result.severity == "sev2"
    assert "account +1.0 (key: Big)" in result.reasons
    assert not detector.assess_text("Lunch on Friday?", sender="a@eu.big.example").is_complaint


def test_sentiment_negation_intensity_and_shouting() -> None:
    sentiment = load_signals().sentiment
    assert sentiment is not None
    assert sentiment_balance("good", sentiment) > 0
    assert sentiment_balance("not good", sentiment) < 0
    assert sentiment_balance("not bad", sentiment) > 0
    assert sentiment_balance("very bad", sentiment) < sentiment_balance("bad", sentiment)
    assert sentiment_balance("this is TERRIBLE", sentiment) < sentiment_balance(
        "this is terrible", sentiment
    )
    assert sentiment_balance("terrible!!!", sentiment) < sentiment_balance("terrible", sentiment)
    # A mail written all in capitals is not shouting every word.
    assert sentiment_balance("THIS IS TERRIBLE", sentiment) == sentiment_balance(
        "this is terrible", sentiment
    )


def test_phrases_ignore_case_spacing_and_apostrophes(detector: Detector) -> None:
    for text in ("It DOESNT   work", "it doesn\u2019t work", "It doesn't\nwork"):
        assert any(r.startswith("service-failure") for r in detector.assess_text(text).reasons)
    assert not any(
        r.startswith("complaint-word") for r in detector.assess_text("complainant").reasons
    )


RULE = '[thresholds]\ncomplaint = 3\n[[rules]]\nname = "x"\nweight = 1\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not = [toml", "not valid TOML"),
        (RULE + 'pattern = "("', "rule #1 'x': pattern does not compile"),
        (RULE + 'pattern = "a|"', "rule #1 'x': pattern matches empty text"),
        (RULE + "pattern = []", "rule #1 'x': pattern must not be an empty list"),
        (RULE + "pattern = ['a', '(']", "rule #1 'x': pattern item #2 does not compile"),
        (RULE + "pattern = ['a', 'b?']", "rule #1 'x': pattern item #2 matches empty text"),
        (RULE + "pattern = ['a', 3]", "rule #1 'x': pattern item #2 must be non-empty text"),
        (RULE + "pattern = ['a', '(?i)b']", "rule #1 'x': pattern does not compile"),
        (RULE + "pattern = 3", "rule #1 'x': pattern must be a non-empty string or a list"),
        (RULE, "rule #1 'x': needs either phrases or pattern"),
        (RULE + 'pattern = "a"\nphrases = ["b"]', "needs either phrases or pattern"),
        (RULE + "phrases = []", "rule #1 'x': phrases must be a non-empty list"),
        (RULE + 'phrases = ["a"]\nmin_severity = "sev9"', "rule #1 'x': min_severity"),
        (RULE + 'phrases = ["a"]\nwieght = 2', "rule #1 'x': unknown keys wieght"),
        ('[[rules]]\nname = "y"\nphrases = ["a"]', "rule #1 'y': needs a weight"),
        ('[[rules]]\nweight = 1\nphrases = ["a"]', "rule #1: needs a name"),
        ('[[rules]]\nname = "y"\nweight = "high"\nphrases = ["a"]', "weight must be a number"),
        (RULE + 'phrases = ["a"]\n' + RULE.split("\n", 2)[2] + 'phrases = ["b"]', "used twice: x"),
        ("[thresholds]\ncomplaint = 5\nsev2 = 4", "need 0 < complaint <= sev2 <= sev1"),
        ("[[accounts]]\nweight = 1", "account #1: needs match"),
        ("[sentiment.words]\nbad = 'very'", "weight of 'bad' must be a number"),
    ],
)
def test_config_errors_name_the_rule(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace("|", r"\|")):
        parse_signals(text, "rules.toml")


def test_a_pattern_may_be_written_as_a_list_of_alternatives() -> None:
    listed = parse_signals(RULE + "pattern = ['charged twice', 'no (reply|answer)']", "a.toml")
    joined = parse_signals(RULE + "pattern = 'charged twice|no (reply|answer)'", "b.toml")
    assert listed.rules[0].regex.pattern == joined.rules[0].regex.pattern
    detector = Detector(listed)
    assert detector.assess_text("Still no answer.").reasons == ('x +1.0 ("no answer")',)


def test_load_signals_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nname = "r"\nweight = 5\nphrases = ["meh"]\n', encoding="utf-8")
    result = Detector(load_signals(path)).assess_text("meh")
    assert result.reasons == ('r +5.0 ("meh")',)
    with pytest.raises(ConfigurationError, match="cannot read rules file"):
        load_signals(tmp_path / "missing.toml")
