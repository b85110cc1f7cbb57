"""A gated pattern finds exactly what its full pattern finds, in less time."""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Iterable

import pytest

from worker.core import prefilter
from worker.core.detection import Rule, load_signals
from worker.core.prefilter import GatedPattern, NeededWords, fold

#: Words from the shipped rules and everyday mail, mixed into texts where many rules half match.
_WORDS = (  # noqa: SIM905 - a sentence of words reads better than a list of 130 strings
    "i we you me us my our the a an your it this that was were is are not never no still "
    "charged billed twice double refund order parcel account card mine lost deleted data "
    "waiting waited weeks days months 3 three hours for since again third time promised "
    "told said would will call back voicemail voicemails email emails nobody no one reply "
    "cancel cancelled leave switch lawyer court ombudsman escalate manager complaint "
    "disappointed frustrated unacceptable ridiculous joke worst terrible thanks fixed works "
    "fine sorted now down crash broken wrong item arrived damaged late report credit dispute "
    "without consent notice explanation refused rejected claim harassed calling work why "
    "how what if when can could please help need. ? ! !! ?? , don't can't isn't"
).split()


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(3, 40))]
        if rng.random() < 0.3:
            words = [w.upper() if rng.random() < 0.3 else w.capitalize() for w in words]
        texts.append(" ".join(words))
    return texts


def _spans(matches: Iterable[re.Match[str]]) -> list[tuple[int, int]]:
    return [m.span() for m in matches]


def _gated(pattern: GatedPattern, text: str) -> list[tuple[int, int]]:
    """The spans the pattern finds in the text when it alone needs words."""
    return _spans(pattern.finditer(text, NeededWords([pattern]).found_in(text)))


@pytest.fixture(scope="module")
def rules() -> tuple[Rule, ...]:
    return load_signals().rules


def test_every_shipped_rule_is_gated(rules: tuple[Rule, ...]) -> None:
    # A rule that falls back to running in full is a rule whose words could not be read:
    # worth knowing when it happens, since it costs every mail a full try.
    assert [rule.name for rule in rules if not rule.pattern.gated] == []


def test_gated_rules_find_what_the_full_patterns_find(rules: tuple[Rule, ...]) -> None:
    texts = [
        *_texts(400, seed=14),
        "I was charged twice and nobody called back after 6 voicemails.",
        "You told me you would remove it and it is still showing on my credit report.",
        "Thanks, all sorted now. My bad, I had typed the wrong address.",
        "This account is NOT MINE. I never authorised it!!",
        "",
    ]
    needed = NeededWords(rule.pattern for rule in rules)
    for text in texts:
        found = needed.found_in(text)
        for rule in rules:
            full = _spans(rule.regex.finditer(text))
            assert _spans(rule.pattern.finditer(text, found)) == full, (rule.name, text)
            first = rule.regex.search(text)
            gated = rule.pattern.search(text, found)
            assert (gated and gated.span()) == (first and first.span()), (rule.name, text)


def test_a_text_without_an_alternatives_words_leaves_it_out() -> None:
    pattern = GatedPattern(re.compile(r"\b(charged|billed) (me )?twice\b|\brefund\b", re.I))
    assert pattern.gated
    needed = NeededWords([pattern])
    assert needed.found_in("Refund, please") == {"refund"}
    assert pattern.search("Refund, please", {"refund"}) is not None
    assert needed.found_in("Invoice, please") == set()
    assert pattern.search("Invoice, please", set()) is None
    assert _gated(pattern, "They BILLED me twice; I want a refund") == [(5, 20), (31, 37)]
    # The detector skips a rule at once when none of the words it needs are there.
    for need in pattern.needs:
        assert pattern.may_match(need)
    assert not pattern.may_match(set())
    assert not pattern.may_match({"invoice"})


def test_the_order_of_alternatives_still_decides_at_one_position() -> None:
    # At one position the first alternative that matches wins, narrowed or not.
    pattern = GatedPattern(re.compile(r"never arrived|never|never arrived at all", re.I))
    assert _gated(pattern, "It never arrived at all.") == [(3, 16)]


@pytest.mark.parametrize(
    "source",
    [
        r"(a)b\1|c",  # a back-reference would point elsewhere once narrowed
        r"(?i)refund|charge",  # flags written in the pattern belong to its first piece
        r"\s\w+|refund",  # an alternative that needs no word
        r"(?:x|y)?z*",  # matches the empty text
    ],
)
def test_patterns_whose_words_cannot_be_read_run_in_full(source: str) -> None:
    regex = re.compile(source, re.I)
    pattern = GatedPattern(regex)
    assert not pattern.gated
    assert pattern.may_match(set())
    for text in ("aab", "refund", "charging", "xyz", "nothing"):
        assert _gated(pattern, text) == _spans(regex.finditer(text))


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (r"[|]x|y\)|\[z", "a |x and y) and [z"),  # "|" in a class or escaped is not a split
        (r"authori[sz]ed|ok", "AUTHORIZED"),
        (r"(?<!\bi )\blost (my|our) (bag|case)\b|nope", "you lost our case"),
        (r"(?=lost )\blost\b|found", "lost and found"),
        (r"don'?t|isn't", "DONT and isn't"),
    ],
)
def test_odd_pattern_shapes_give_the_full_patterns_matches(source: str, text: str) -> None:
    regex = re.compile(source, re.I)
    pattern = GatedPattern(regex)
    assert pattern.gated
    assert _gated(pattern, text) == _spans(regex.finditer(text))
    assert _spans(regex.finditer(text))  # each case does match


def test_fold_maps_every_character_that_ignorecase_takes_for_ascii() -> None:
    # IGNORECASE lets a few other characters match an ASCII letter (the Kelvin sign is a
    # "k"); the words a text holds are looked up in fold(text), so fold must know them all.
    everything = "".join(map(chr, range(0x80, sys.maxunicode + 1)))
    lookalikes = re.compile(r"[\x00-\x7f]", re.IGNORECASE)
    found = {}
    for match in lookalikes.finditer(everything):
        char = match.group(0)
        found[char] = [a for a in map(chr, range(0x80)) if re.fullmatch(re.escape(a), char, re.I)]
    assert all(fold(char) in [a.lower() for a in ascii] for char, ascii in found.items())
    assert set(map(ord, found)) == set(prefilter._ASCII_LOOKALIKES)


def test_kelvin_and_long_s_are_read_as_their_letters() -> None:
    regex = re.compile(r"\bkept asking\b", re.I)
    pattern = GatedPattern(regex)
    text = "\u212aept a\u017fking"
    assert regex.search(text) is not None
    assert _gated(pattern, text) == [(0, 11)]
