"""The learned complaint scorer: word and word-pair weights, read sentence by sentence.

Pure: the weights come in as a mapping (``load_model`` reads the shipped file) and a
text goes out as a ``ModelVerdict``. Each sentence of what the client wrote is scored
on its own (a logistic model over its words and word pairs); the mail's verdict is its
most complaining sentence, so a long calm mail is not a complaint by the sum of many
faintly sad words, and the reason can quote the sentence and the phrases that drove it.
Training rebuilds the file from licensed public data: ``training/complaint_model.py``.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from worker.errors import ConfigurationError

#: Format of the weights file this module reads; the training script writes the same.
FORMAT = "recovery-worker/complaint-model/1"
#: Sentences of one mail that are scored; a complaint says so early.
MAX_SENTENCES = 60
#: Characters of one sentence that are read.
MAX_SENTENCE = 600
#: Phrases quoted in a reason.
QUOTED_PHRASES = 3
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
#: Curly quotes and backticks written for an apostrophe; the detector reads text the same way.
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NUMBER = re.compile(r"^\d+$")
_NEGATORS = frozenset({"not", "no", "never", "nothing", "without", "hardly", "nor", "cannot"})
#: Words after a negator that it turns around.
NEGATED_WORDS = 3


def _negates(word: str) -> bool:
    return word in _NEGATORS or word.endswith("n't")


def tokens(sentence: str) -> list[str]:
    """Lower-case words; every number is one token, "0"; the NEGATED_WORDS words after a
    negator are marked ("not disappointed" reads "not not_disappointed")."""
    found = []
    negated = 0
    for word in _TOKEN.findall(sentence.lower().translate(APOSTROPHES)):
        if _negates(word):
            found.append(word)
            negated = NEGATED_WORDS
            continue
        token = "0" if _NUMBER.match(word) else word
        found.append(f"not_{token}" if negated else token)
        negated = max(0, negated - 1)
    return found


def features(sentence: str) -> list[str]:
    """The words and adjacent word pairs of a sentence, each once, in order of appearance."""
    words = tokens(sentence)
    seen = dict.fromkeys([*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))])
    return list(seen)


def readable(feature: str) -> str:
    """A feature as a person reads it: "not not_happy" and "not_happy" are "not happy"."""
    words: list[str] = []
    negated = False
    for word in feature.split():
        was_negated, negated = negated, word.startswith("not_")
        if negated and not was_negated and not (words and _negates(words[-1])):
            words.append("not")
        words.append(word.removeprefix("not_"))
    return " ".join(words)


def sentences(text: str) -> list[str]:
    """The text cut at sentence ends and line breaks, blank pieces dropped."""
    found = []
    for match in _SENTENCES.finditer(text):
        piece = match.group(0).strip()
        if any(c.isalnum() for c in piece):
            found.append(piece[:MAX_SENTENCE])
            if len(found) >= MAX_SENTENCES:
                break
    return found


@dataclass(frozen=True, slots=True)
class ModelVerdict:
    """How likely a text is a complaint, and what in it says so."""

    probability: float
    sentence: str = ""
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComplaintModel:
    """A logistic model over sentence features; ``source`` names the file it came from."""

    bias: float
    weights: Mapping[str, float]
    source: str = "complaint-model (built in)"

    def sentence_logit(self, sentence: str) -> tuple[float, list[str]]:
        feats = features(sentence)
        weights = self.weights
        logit = self.bias + sum(weights.get(f, 0.0) for f in feats)
        return logit, feats

    def judge(self, text: str, *, skip: Callable[[str], bool] | None = None) -> ModelVerdict:
        """The verdict of the text's most complaining sentence, leaving out those ``skip``
        names (a sentence about someone else, a condition)."""
        best: tuple[float, str, list[str]] | None = None
        for sentence in sentences(text):
            if skip is not None and skip(sentence):
                continue
            logit, feats = self.sentence_logit(sentence)
            if best is None or logit > best[0]:
                best = (logit, sentence, feats)
        if best is None:
            return ModelVerdict(_sigmoid(self.bias))
        logit, sentence, feats = best
        drivers = sorted(
            (f for f in feats if self.weights.get(f, 0.0) > 0),
            key=lambda f: (-self.weights[f], f),
        )
        shown = list(dict.fromkeys(readable(f) for f in drivers))
        return ModelVerdict(_sigmoid(logit), sentence, tuple(shown[:QUOTED_PHRASES]))


def _sigmoid(x: float) -> float:
    if x < -60:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def default_model_path() -> Path:
    return Path(str(resources.files("worker") / "defaults" / "complaint_model.json"))


def load_model(path: Path | None = None) -> ComplaintModel:
    """The model from a weights file, or the one shipped with the worker."""
    where = path or default_model_path()
    source = str(path) if path else "complaint-model (built in)"
    try:
        data = json.loads(Path(where).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"cannot read complaint model {where}: {exc}") from None
    return parse_model(data, source)


def parse_model(data: object, source: str) -> ComplaintModel:
    """A model from the decoded file; a wrong shape raises ConfigurationError."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigurationError(f"{source}: not a complaint model (format {FORMAT!r} expected)")
    bias, weights = data.get("bias"), data.get("weights")
    if isinstance(bias, bool) or not isinstance(bias, int | float):
        raise ConfigurationError(f"{source}: bias must be a number")
    if not isinstance(weights, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in weights.values()
    ):
        raise ConfigurationError(f"{source}: weights must map phrases to numbers")
    return ComplaintModel(float(bias), {str(k): float(v) for k, v in weights.items()}, source)
