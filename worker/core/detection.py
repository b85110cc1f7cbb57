"""The complaint detector: weighted, explainable rules plus a small sentiment signal.

Pure: rules come in as TOML text and a mail as a ParsedMail; no clock, no I/O
(except `load_signals`, which only reads the rules file). Each rule that fires
adds its weight to the score and names itself in the reasons.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from worker.errors import ConfigurationError
from worker.mail.model import ParsedMail
from worker.mail.noise import sender_matches

SEVERITIES = ("sev1", "sev2", "sev3")  # sev1 is the worst
#: Characters of a mail's new text that are classified; a complaint says so early.
MAX_CLASSIFIED = 20_000
_WORD = re.compile(r"[^\W\d_][\w']*|!{2,}", re.UNICODE)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


@dataclass(frozen=True, slots=True)
class Rule:
    """A phrase list or a pattern with its weight."""

    name: str
    weight: float
    regex: re.Pattern[str]
    min_severity: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """A sender or domain whose mail weighs more (a key account)."""

    name: str
    match: str
    weight: float
    min_severity: str | None = None


@dataclass(frozen=True, slots=True)
class Sentiment:
    words: Mapping[str, float]
    negators: frozenset[str]
    intensifiers: frozenset[str]
    threshold: float = 2.0
    scale: float = 0.5
    max: float = 2.5


@dataclass(frozen=True, slots=True)
class Signals:
    """Everything the detector knows, read from the rules file."""

    complaint: float
    sev2: float
    sev1: float
    rules: tuple[Rule, ...]
    accounts: tuple[Account, ...] = ()
    complaint_addresses: frozenset[str] = frozenset()
    repeat_weight: float = 1.0
    repeat_max: float = 2.0
    sentiment: Sentiment | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """The detector's verdict on one mail, with the reasons behind it."""

    is_complaint: bool
    score: float
    severity: str | None
    reasons: tuple[str, ...] = field(default_factory=tuple)


# --- loading -------------------------------------------------------------------------


def default_signals_text() -> str:
    return (resources.files("worker") / "defaults" / "signals.toml").read_text(encoding="utf-8")


def load_signals(path: Path | None = None) -> Signals:
    """The rules from a file, or the ones shipped with the worker."""
    if path is None:
        return parse_signals(default_signals_text(), "signals.toml (built in)")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read rules file {path}: {exc}") from None
    return parse_signals(text, str(path))


def parse_signals(text: str, source: str = "signals.toml") -> Signals:
    """Rules from TOML text; a mistake raises ConfigurationError naming the rule."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid TOML: {exc}") from None
    thresholds = _table(data, "thresholds", source)
    complaint = _number(thresholds, "complaint", f"{source} [thresholds]", 3.0)
    sev2 = _number(thresholds, "sev2", f"{source} [thresholds]", complaint * 2)
    sev1 = _number(thresholds, "sev1", f"{source} [thresholds]", complaint * 3)
    if not 0 < complaint <= sev2 <= sev1:
        raise ConfigurationError(f"{source} [thresholds]: need 0 < complaint <= sev2 <= sev1")
    rules = tuple(_rule(item, i, source) for i, item in enumerate(_list(data, "rules", source)))
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(f"{source}: rule names used twice: {', '.join(duplicates)}")
    accounts = tuple(
        _account(item, i, source) for i, item in enumerate(_list(data, "accounts", source))
    )
    addresses = data.get("complaint_addresses", [])
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        raise ConfigurationError(f"{source}: complaint_addresses must be a list of addresses")
    repeat = _table(data, "repeat_contact", source)
    return Signals(
        complaint=complaint,
        sev2=sev2,
        sev1=sev1,
        rules=rules,
        accounts=accounts,
        complaint_addresses=frozenset(a.strip().lower() for a in addresses),
        repeat_weight=_number(repeat, "weight", f"{source} [repeat_contact]", 1.0),
        repeat_max=_number(repeat, "max", f"{source} [repeat_contact]", 2.0),
        sentiment=_sentiment(data.get("sentiment"), source),
    )


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: [{key}] must be a table")
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigurationError(f"{where}: [[{key}]] must be a list of tables")
    return value


def _number(table: Mapping[str, Any], key: str, where: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigurationError(f"{where}: {key} must be a number, not {value!r}")
    return float(value)


def _severity(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if value not in SEVERITIES:
        raise ConfigurationError(f"{where}: min_severity must be one of {', '.join(SEVERITIES)}")
    return str(value)


def _rule(item: Mapping[str, Any], index: int, source: str) -> Rule:
    name = item.get("name")
    where = f"{source} rule #{index + 1}" + (f" {name!r}" if isinstance(name, str) else "")
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"{where}: needs a name")
    unknown = set(item) - {"name", "weight", "phrases", "pattern", "min_severity"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    if "weight" not in item:
        raise ConfigurationError(f"{where}: needs a weight")
    weight = _number(item, "weight", where, 0.0)
    phrases, pattern = item.get("phrases"), item.get("pattern")
    if (phrases is None) == (pattern is None):
        raise ConfigurationError(f"{where}: needs either phrases or pattern (one of them)")
    if phrases is not None:
        if not isinstance(phrases, list) or not phrases:
            raise ConfigurationError(f"{where}: phrases must be a non-empty list of strings")
        if not all(isinstance(p, str) and p.strip() for p in phrases):
            raise ConfigurationError(f"{where}: every phrase must be non-empty text")
        pattern = phrases_pattern(phrases)
    if not isinstance(pattern, str) or not pattern:
        raise ConfigurationError(f"{where}: pattern must be a non-empty string")
    try:
        regex = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigurationError(f"{where}: pattern does not compile: {exc}") from None
    if regex.search(""):
        raise ConfigurationError(f"{where}: pattern matches empty text, so it would always fire")
    return Rule(name.strip(), weight, regex, _severity(item.get("min_severity"), where))


def phrases_pattern(phrases: Sequence[str]) -> str:
    """Whole-word alternatives; any spacing between words; an apostrophe may be left out."""
    parts = []
    for phrase in sorted({p.strip().lower() for p in phrases}, key=len, reverse=True):
        words = [re.escape(w).replace("'", "'?") for w in phrase.translate(_APOSTROPHES).split()]
        parts.append(r"\s+".join(words))
    return r"(?<![\w'])(?:" + "|".join(parts) + r")(?![\w'])"


def _account(item: Mapping[str, Any], index: int, source: str) -> Account:
    where = f"{source} account #{index + 1}"
    match = item.get("match")
    if not isinstance(match, str) or not match.strip():
        raise ConfigurationError(f"{where}: needs match (an address, @domain or *.domain)")
    name = item.get("name", match)
    if not isinstance(name, str):
        raise ConfigurationError(f"{where}: name must be text")
    return Account(
        name=name,
        match=match.strip().lower(),
        weight=_number(item, "weight", where, 0.0),
        min_severity=_severity(item.get("min_severity"), where),
    )


def _sentiment(value: Any, source: str) -> Sentiment | None:
    if value is None:
        return None
    where = f"{source} [sentiment]"
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: must be a table")
    words = value.get("words", {})
    if not isinstance(words, dict):
        raise ConfigurationError(f"{where}: words must be a table of word = weight")
    for word, weight in words.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ConfigurationError(f"{where}: weight of {word!r} must be a number")
    lists = {}
    for key in ("negators", "intensifiers"):
        items = value.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ConfigurationError(f"{where}: {key} must be a list of words")
        lists[key] = frozenset(i.lower() for i in items)
    return Sentiment(
        words={w.lower(): float(v) for w, v in words.items()},
        negators=lists["negators"],
        intensifiers=lists["intensifiers"],
        threshold=_number(value, "threshold", where, 2.0),
        scale=_number(value, "scale", where, 0.5),
        max=_number(value, "max", where, 2.5),
    )


# --- assessing -----------------------------------------------------------------------


class Detector:
    """Scores mails against the rules; ``complaint_addresses`` adds to the file's list."""

    def __init__(self, signals: Signals, *, complaint_addresses: Sequence[str] = ()) -> None:
        self.signals = signals
        self.complaint_addresses = signals.complaint_addresses | {
            a.strip().lower() for a in complaint_addresses if a.strip()
        }

    def assess(self, mail: ParsedMail, *, repeat_contacts: int = 0) -> Assessment:
        """Score the subject and the new text (not quoted history) of one mail."""
        body = mail.new_text or mail.text
        text = f"{mail.subject}\n{body[:MAX_CLASSIFIED]}"
        return self.assess_text(
            text,
            sender=mail.sender.email,
            recipients=[a.email for a in (*mail.to, *mail.cc)],
            repeat_contacts=repeat_contacts,
        )

    def assess_text(
        self,
        text: str,
        *,
        sender: str = "",
        recipients: Sequence[str] = (),
        repeat_contacts: int = 0,
    ) -> Assessment:
        signals = self.signals
        text = text[: MAX_CLASSIFIED + 1_000].translate(_APOSTROPHES)
        score = 0.0
        reasons: list[str] = []
        floors: list[str] = []
        for rule in signals.rules:
            found = rule.regex.search(text)
            if found:
                score += rule.weight
                reasons.append(f"{rule.name} {_signed(rule.weight)} ({_quote(found.group(0))})")
                if rule.min_severity:
                    floors.append(rule.min_severity)
        if signals.sentiment is not None:
            balance = sentiment_balance(text, signals.sentiment)
            if balance <= -signals.sentiment.threshold:
                weight = min(signals.sentiment.max, -balance * signals.sentiment.scale)
                score += weight
                reasons.append(f"sentiment {_signed(weight)} (balance {balance:.1f})")
        if repeat_contacts > 0 and signals.repeat_weight:
            weight = min(signals.repeat_max, repeat_contacts * signals.repeat_weight)
            score += weight
            reasons.append(f"repeat-contact {_signed(weight)} ({repeat_contacts} earlier)")
        for account in signals.accounts:
            if sender_matches(sender, account.match):
                score += account.weight
                reasons.append(f"account {_signed(account.weight)} ({account.name})")
                if account.min_severity and score >= signals.complaint:
                    floors.append(account.min_severity)
        forced = sorted({r for r in recipients if r and r.lower() in self.complaint_addresses})
        if forced:
            reasons.append(f"complaint-address ({forced[0]})")
        score = round(score, 2)
        is_complaint = bool(forced) or score >= signals.complaint
        if not is_complaint:
            return Assessment(False, score, None, tuple(reasons))
        severity = "sev3"
        if score >= signals.sev1:
            severity = "sev1"
        elif score >= signals.sev2:
            severity = "sev2"
        severity = min([severity, *floors])  # "sev1" < "sev2": the worst wins
        return Assessment(True, score, severity, tuple(reasons))


def sentiment_balance(text: str, sentiment: Sentiment) -> float:
    """Positive minus negative weight of the words, with negation, intensity and shouting."""
    total = 0.0
    negate = 0
    boost = 1.0
    tokens = _WORD.findall(text)
    long_words = [t for t in tokens if len(t) >= 3 and not t.startswith("!")]
    # Capitals stand out only when the rest is not written in capitals too.
    emphasis = sum(1 for t in long_words if t.isupper()) < len(long_words) * 0.8
    for token in tokens:
        if token.startswith("!"):
            if total < 0:
                total -= 0.5 * min(len(token) - 1, 3)
            continue
        word = token.lower()
        if word in sentiment.negators or word.endswith("n't"):
            negate = 3
            continue
        if word in sentiment.intensifiers:
            boost = 1.5
            continue
        value = sentiment.words.get(word)
        if value is not None:
            value *= boost
            if emphasis and value < 0 and len(token) >= 3 and token.isupper():
                value *= 1.5
            if negate:
                value = -value * (0.8 if value > 0 else 0.5)
            total += value
        boost = 1.0
        negate = max(0, negate - 1)
    return total


def _signed(weight: float) -> str:
    return f"{weight:+.1f}"


def _quote(found: str) -> str:
    text = " ".join(found.split())
    return '"' + (text if len(text) <= 60 else text[:57] + "...") + '"'
