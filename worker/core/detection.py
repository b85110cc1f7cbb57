"""The complaint detector: weighted, explainable rules, a small sentiment signal and a
learned model beside them (``worker.core.learned``).

Pure: rules come in as TOML text and a mail as a ParsedMail; no clock, no I/O
(except `load_signals`, which only reads the rules file). Each rule that fires
adds its weight to the score and names itself in the reasons. A rule may be told
not to fire where its words are not the client's own complaint: negated ("not
disappointed"), in a question ("is the site down?"), in a condition ("if the
payment fails") or said of someone else ("my colleague is annoyed with her bank").
Repeat contact and key accounts weigh only on a mail whose text has evidence of
its own.
"""

from __future__ import annotations

import difflib
import functools
import re
import tomllib
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from worker.core.language import foreign_language
from worker.core.learned import APOSTROPHES, ComplaintModel, load_model
from worker.core.noise import INVISIBLE, sender_matches
from worker.core.prefilter import GatedPattern, NeededWords
from worker.domain.mail import ParsedMail
from worker.errors import ConfigurationError

#: Curly apostrophes straightened and invisible characters dropped: "re\u00adfund" is "refund".
_READABLE = {**APOSTROPHES, **dict.fromkeys(map(ord, INVISIBLE))}
SEVERITIES = ("sev1", "sev2", "sev3")  # sev1 is the worst
#: Characters of a mail's new text that are classified; a complaint says so early.
MAX_CLASSIFIED = 20_000
#: Words of text whose sentiment balance counts in full; longer texts are scaled down.
SENTIMENT_WORDS = 60
#: Words, runs of "!", and the few emoticons and emoji that carry a mood (":(", angry faces).
_WORD = re.compile(
    r"[^\W\d_][\w']*|!{2,}|:-?\(|:'\(|[\U0001F620-\U0001F624\U0001F92C\U0001F44E\U0001F612\U0001F644]",
    re.UNICODE,
)
#: A reply's or forward's subject repeats the thread's: it is not what the client wrote now.
_REPLY_SUBJECT = re.compile(r"^\s*(re|aw|sv|antw|vs|ref|rif|tr|wg|fw|fwd)\s*(\[\d+\])?\s*:", re.I)
#: The probability from which the learned model counts, and its points at probability 1.
MODEL_THRESHOLD = 0.5
MODEL_WEIGHT = 4.0
#: How a reason starts when the mail is in a language the rules do not read.
UNREAD_LANGUAGE = "language not read"
#: Contexts in which a rule may be told not to fire (its ``ignore_when``).
CONTEXTS = ("negated", "question", "conditional", "reported", "requested")
_NEGATORS = frozenset(
    {
        "not", "no", "never", "nothing", "nobody", "noone", "without", "hardly", "nor",
        "neither", "zero",
        "dont", "cant", "wont", "didnt", "doesnt", "isnt", "arent", "wasnt", "werent",
        "havent", "hasnt", "hadnt", "couldnt", "wouldnt", "shouldnt",
    }
)  # fmt: skip
#: A polite request opens the clause: "please close my account" asks for routine work.
_POLITE = frozenset({"please", "pls", "plz", "kindly"})
_REQUEST = re.compile(
    r"^\W*(and |so )?((could|can|would|will) you( please| kindly)?|(i|we)('d| would) like "
    r"(you )?to)\b",
    re.I,
)
#: Contexts read from the words that open the match's clause; the others need no clause.
_CLAUSE_CONTEXTS = frozenset({"negated", "requested"})
_CLAUSE_BREAK = re.compile(r"[,;:()]|\b(but|though|although|however|yet)\b", re.I)
_SENTENCE_END = ".!?\n"
#: "When I arrived, ..." tells what happened; "when the app crashes, ..." supposes.
_NARRATED = (
    r"(i|we|they|he|she|it|you|(the|my|our|your) \w+) (\w+ed|got|went|came|rang|saw|took|paid|"
    r"sent|spoke|told|gave|left|made|bought|brought|found|heard|was|were|had)\b"
)
_CONDITIONAL = re.compile(
    r"^\W*(and |so |but |also )?(if|in case|whether|unless|what if|should (it|you|the|this|"
    r"there|anything|your)|in the event|to (avoid|prevent|make sure)|i hope|hopefully|just in "
    r"case|once|whenever|when(?! " + _NARRATED + r"))\b",
    re.I,
)
_REPORTED = re.compile(
    r"^\W*(and |but |so )?(he|she|someone|somebody|people|customers|users|others|"
    r"(my|our|a|his|her|their) (friend|colleague|co-?worker|customer|client|user|neighbou?r|"
    r"wife|husband|partner|son|daughter|mum|mom|dad|mother|father|brother|sister|boss|"
    r"manager|team ?mate)s?)\b",
    re.I,
)
_GROUPS = (
    r"(customers|clients|users|people|callers|guests|passengers|members|staff|employees|"
    r"colleagues|buyers|shoppers|patients|students|tenants|visitors|subscribers|fans)\b"
)
#: An emotion word that describes a group ("angry customers", "frustrated users") is theirs.
_GROUP_AFTER = re.compile(r"\s+" + _GROUPS, re.I)
#: ... so the sentiment words and the model read the text without it.
_GROUP_FEELING = re.compile(
    r"\b(angry|frustrated|unhappy|upset|annoyed|disappointed|dissatisfied|furious|irate|"
    r"impatient|stressed|worried)\s+(?=" + _GROUPS + ")",
    re.I,
)
_ABOUT_US = re.compile(r"\b(you|your|yours|you'?re|you'?ve)\b", re.I)
_DONE_TO_WRITER = re.compile(r"\b(me|us|my|our)\b", re.I)
_WRITER = re.compile(r"\b(i|i'?m|i'?ve|i'?d|i'?ll|me|my|mine|we|we'?re|we'?ve|our|ours|us)\b", re.I)


@dataclass(frozen=True, slots=True)
class Rule:
    """A phrase list or a pattern with its weight."""

    name: str
    weight: float
    pattern: GatedPattern
    min_severity: str | None = None
    #: Contexts (of CONTEXTS) in which a match is not the client's own complaint.
    ignore_when: frozenset[str] = frozenset()

    @property
    def regex(self) -> re.Pattern[str]:
        return self.pattern.regex


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
    #: The score a mail's text must reach alone before repeat contact and accounts count.
    evidence: float = 1.0
    accounts: tuple[Account, ...] = ()
    complaint_addresses: frozenset[str] = frozenset()
    repeat_weight: float = 1.0
    repeat_max: float = 2.0
    sentiment: Sentiment | None = None
    learned: LearnedScore | None = None


@dataclass(frozen=True, slots=True)
class LearnedScore:
    """How the learned model's verdict counts: past ``threshold``, up to ``weight`` points."""

    model: ComplaintModel
    threshold: float = MODEL_THRESHOLD
    weight: float = MODEL_WEIGHT

    def points(self, probability: float) -> float:
        """``weight`` scaled by how far the probability is past the threshold."""
        if probability < self.threshold:
            return 0.0
        return self.weight * (probability - self.threshold) / (1.0 - self.threshold)


@dataclass(frozen=True, slots=True)
class Assessment:
    """The detector's verdict on one mail, with the reasons behind it."""

    is_complaint: bool
    score: float
    severity: str | None
    reasons: tuple[str, ...] = field(default_factory=tuple)


# --- loading -------------------------------------------------------------------------

#: What a rules file may hold at its top level, as each is written; then each table's keys.
TOP_LEVEL = {
    "thresholds": "[thresholds]",
    "rules": "[[rules]]",
    "accounts": "[[accounts]]",
    "complaint_addresses": "complaint_addresses",
    "repeat_contact": "[repeat_contact]",
    "sentiment": "[sentiment]",
    "model": "[model]",
}
# A key written below [thresholds] belongs to that table in TOML, and the shipped file
# lists complaint_addresses there: both places are read.
THRESHOLD_KEYS = ("complaint", "sev2", "sev1", "evidence", "complaint_addresses")
RULE_KEYS = ("name", "weight", "phrases", "pattern", "min_severity", "ignore_when")
ACCOUNT_KEYS = ("name", "match", "weight", "min_severity")
REPEAT_KEYS = ("weight", "max")
SENTIMENT_KEYS = ("words", "negators", "intensifiers", "threshold", "scale", "max")
MODEL_KEYS = ("enabled", "file", "threshold", "weight")


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
    return parse_signals(text, str(path), base=Path(path).parent)


def parse_signals(text: str, source: str = "signals.toml", *, base: Path | None = None) -> Signals:
    """Rules from TOML text; a mistake raises ConfigurationError naming the rule.

    A ``[model]`` table's ``file`` is read relative to ``base`` (the rules file's folder).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid TOML: {exc}") from None
    _refuse_unknown_tables(data, source)
    thresholds = _table(data, "thresholds", source)
    _refuse_unknown_keys(thresholds, THRESHOLD_KEYS, f"{source} [thresholds]")
    complaint = _number(thresholds, "complaint", f"{source} [thresholds]", 3.0)
    sev2 = _number(thresholds, "sev2", f"{source} [thresholds]", complaint * 2)
    sev1 = _number(thresholds, "sev1", f"{source} [thresholds]", complaint * 3)
    evidence = _number(thresholds, "evidence", f"{source} [thresholds]", complaint / 2)
    if not 0 < complaint <= sev2 <= sev1:
        raise ConfigurationError(f"{source} [thresholds]: need 0 < complaint <= sev2 <= sev1")
    if not 0 < evidence <= complaint:
        raise ConfigurationError(f"{source} [thresholds]: need 0 < evidence <= complaint")
    rules = tuple(_rule(item, i, source) for i, item in enumerate(_list(data, "rules", source)))
    names = [r.name for r in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(f"{source}: rule names used twice: {', '.join(duplicates)}")
    accounts = tuple(
        _account(item, i, source) for i, item in enumerate(_list(data, "accounts", source))
    )
    addresses = [
        *_addresses(data, source),
        *_addresses(thresholds, f"{source} [thresholds]"),
    ]
    repeat = _table(data, "repeat_contact", source)
    _refuse_unknown_keys(repeat, REPEAT_KEYS, f"{source} [repeat_contact]")
    return Signals(
        complaint=complaint,
        sev2=sev2,
        sev1=sev1,
        rules=rules,
        evidence=evidence,
        accounts=accounts,
        complaint_addresses=frozenset(a.strip().lower() for a in addresses),
        repeat_weight=_number(repeat, "weight", f"{source} [repeat_contact]", 1.0),
        repeat_max=_number(repeat, "max", f"{source} [repeat_contact]", 2.0),
        sentiment=_sentiment(data.get("sentiment"), source),
        learned=_learned(data.get("model"), source, base),
    )


def _shape(key: str, value: Any) -> str:
    """How a key reads in the file: ``[table]``, ``[[array of tables]]`` or a plain key."""
    if isinstance(value, dict):
        return f"table [{key}]"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return f"table [[{key}]]"
    return f"key {key}"


def _refuse_unknown_tables(data: Mapping[str, Any], source: str) -> None:
    """A misspelled table would leave its rules out without a word: refuse it."""
    unknown = sorted(set(data) - set(TOP_LEVEL))
    if not unknown:
        return
    described = []
    for key in unknown:
        text = _shape(key, data[key])
        close = difflib.get_close_matches(key, list(TOP_LEVEL), n=1)
        described.append(f"{text} (did you mean {TOP_LEVEL[close[0]]}?)" if close else text)
    raise ConfigurationError(
        f"{source}: unknown {', '.join(described)}; a rules file holds "
        + ", ".join(TOP_LEVEL.values())
    )


def _refuse_unknown_keys(table: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown keys {', '.join(unknown)} (known: {', '.join(known)})"
        )


def _addresses(table: Mapping[str, Any], where: str) -> list[str]:
    addresses = table.get("complaint_addresses", [])
    if not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        raise ConfigurationError(f"{where}: complaint_addresses must be a list of addresses")
    return addresses


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
    _refuse_unknown_keys(item, RULE_KEYS, where)
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
    items = pattern if isinstance(pattern, list) else []
    if isinstance(pattern, list):
        pattern = _alternatives(pattern, where)
    if not isinstance(pattern, str) or not pattern:
        raise ConfigurationError(
            f"{where}: pattern must be a non-empty string or a list of alternatives"
        )
    try:
        regex = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        _blame_item(items, where)
        raise ConfigurationError(f"{where}: pattern does not compile: {exc}") from None
    if regex.search(""):
        _blame_item(items, where)
        raise ConfigurationError(f"{where}: pattern matches empty text, so it would always fire")
    ignore_when = item.get("ignore_when", [])
    if not isinstance(ignore_when, list) or not set(ignore_when) <= set(CONTEXTS):
        raise ConfigurationError(
            f"{where}: ignore_when must be a list of {', '.join(repr(c) for c in CONTEXTS)}"
        )
    return Rule(
        name.strip(),
        weight,
        GatedPattern(regex),
        _severity(item.get("min_severity"), where),
        frozenset(ignore_when),
    )


def _alternatives(pieces: list[Any], where: str) -> str:
    """A pattern written as a list, one alternative an item: the items joined by ``|``."""
    if not pieces:
        raise ConfigurationError(f"{where}: pattern must not be an empty list")
    for n, piece in enumerate(pieces, 1):
        if not isinstance(piece, str) or not piece:
            raise ConfigurationError(f"{where}: pattern item #{n} must be non-empty text")
    return "|".join(pieces)


def _blame_item(items: list[str], where: str) -> None:
    """Name the first listed item that is wrong on its own, so an error does not point at
    a line of thousands of characters; items sound alone leave the whole to be named."""
    for n, piece in enumerate(items, 1):
        try:
            compiled = re.compile(piece, re.IGNORECASE)
        except re.error as exc:
            raise ConfigurationError(
                f"{where}: pattern item #{n} does not compile: {exc}"
            ) from None
        if compiled.search(""):
            raise ConfigurationError(
                f"{where}: pattern item #{n} matches empty text, so the rule would always fire"
            )


def phrases_pattern(phrases: Sequence[str]) -> str:
    """Whole-word alternatives; any spacing between words; an apostrophe may be left out."""
    parts = []
    for phrase in sorted({p.strip().lower() for p in phrases}, key=len, reverse=True):
        words = [re.escape(w).replace("'", "'?") for w in phrase.translate(APOSTROPHES).split()]
        parts.append(r"\s+".join(words))
    return r"(?<![\w'])(?:" + "|".join(parts) + r")(?![\w'])"


def _account(item: Mapping[str, Any], index: int, source: str) -> Account:
    where = f"{source} account #{index + 1}"
    _refuse_unknown_keys(item, ACCOUNT_KEYS, where)
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


def _optional_table(
    value: Any, key: str, known: Sequence[str], source: str
) -> tuple[Mapping[str, Any], str] | None:
    """An optional table of the rules file with the name errors give it, checked for keys."""
    if value is None:
        return None
    where = f"{source} [{key}]"
    if not isinstance(value, dict):
        raise ConfigurationError(f"{where}: must be a table")
    _refuse_unknown_keys(value, known, where)
    return value, where


def _sentiment(value: Any, source: str) -> Sentiment | None:
    table = _optional_table(value, "sentiment", SENTIMENT_KEYS, source)
    if table is None:
        return None
    value, where = table
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


def _learned(value: Any, source: str, base: Path | None) -> LearnedScore | None:
    table = _optional_table(value, "model", MODEL_KEYS, source)
    if table is None:
        return None
    value, where = table
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigurationError(f"{where}: enabled must be true or false")
    if not enabled:
        return None
    file = value.get("file", "")
    if not isinstance(file, str):
        raise ConfigurationError(f"{where}: file must be a path (empty: the built-in model)")
    threshold = _number(value, "threshold", where, MODEL_THRESHOLD)
    if not 0 < threshold < 1:
        raise ConfigurationError(f"{where}: threshold must be a probability between 0 and 1")
    path = Path(file).expanduser() if file else None
    if path is not None and not path.is_absolute() and base is not None:
        path = base / path
    return LearnedScore(
        builtin_model() if path is None else load_model(path),
        threshold=threshold,
        weight=_number(value, "weight", where, MODEL_WEIGHT),
    )


@functools.cache
def builtin_model() -> ComplaintModel:
    """The shipped model, read once per process."""
    return load_model()


# --- assessing -----------------------------------------------------------------------


def text_read(mail: ParsedMail) -> str:
    """What the detector reads of a mail: the new text (not quoted history), after the subject
    unless the subject only repeats a thread's ("Re: ...")."""
    body = (mail.new_text or mail.text)[:MAX_CLASSIFIED]
    return body if _REPLY_SUBJECT.match(mail.subject) else f"{mail.subject}\n{body}"


class Detector:
    """Scores mails against the rules; ``complaint_addresses`` adds to the file's list."""

    def __init__(self, signals: Signals, *, complaint_addresses: Sequence[str] = ()) -> None:
        self.signals = signals
        self.complaint_addresses = signals.complaint_addresses | {
            a.strip().lower() for a in complaint_addresses if a.strip()
        }
        self._needed_words = NeededWords(rule.pattern for rule in signals.rules)
        self._by_weight = sorted(signals.rules, key=lambda rule: -rule.weight)

    def assess(self, mail: ParsedMail, *, repeat_contacts: int = 0) -> Assessment:
        """Score the subject and the new text (not quoted history) of one mail."""
        return self.assess_text(
            text_read(mail),
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
        text = text[: MAX_CLASSIFIED + 1_000].translate(_READABLE)
        score, reasons, floors = self._rules(text)
        # The sentiment words and the model both read the mood of the text: the larger counts.
        mood = self._mood(text)
        beyond_severity = 0.0  # points that count toward a complaint, not its severity
        if mood:
            counted = max(mood, key=lambda m: m[0])
            score += counted[0]
            if counted[1] == "model":  # says whether, not how bad: severity reads the rest
                beyond_severity = counted[0] - max(
                    (w for w, name, _ in mood if name == "sentiment"), default=0.0
                )
            for weight, name, detail in mood:
                if (weight, name, detail) == counted:
                    reasons.append(f"{name} {_signed(weight)} ({detail})")
                else:
                    reasons.append(f"{name} not counted ({detail}; {counted[1]} counts)")
        # Who writes and how often says how bad a complaint is, never whether there is one.
        evidence = score >= signals.evidence
        if repeat_contacts > 0 and signals.repeat_weight:
            weight = min(signals.repeat_max, repeat_contacts * signals.repeat_weight)
            if evidence:
                score += weight
                reasons.append(f"repeat-contact {_signed(weight)} ({repeat_contacts} earlier)")
            else:
                reasons.append(
                    f"repeat-contact not counted ({repeat_contacts} earlier, no evidence)"
                )
        for account in signals.accounts:
            if sender_matches(sender, account.match):
                if not evidence:
                    reasons.append(f"account not counted ({account.name}, no evidence)")
                    continue
                score += account.weight
                reasons.append(f"account {_signed(account.weight)} ({account.name})")
                if account.min_severity and score >= signals.complaint:
                    floors.append(account.min_severity)
        forced = self._forced(recipients, reasons)
        reasons.extend(_language_note(text))
        score = round(score, 2)
        is_complaint = forced or score >= signals.complaint
        if not is_complaint:
            return Assessment(False, score, None, tuple(reasons))
        severity = "sev3"
        if score - beyond_severity >= signals.sev1:
            severity = "sev1"
        elif score - beyond_severity >= signals.sev2:
            severity = "sev2"
        severity = min([severity, *floors])  # "sev1" < "sev2": the worst wins
        return Assessment(True, score, severity, tuple(reasons))

    def _rules(self, text: str) -> tuple[float, list[str], list[str]]:
        """The rules' points, their reasons and the severities they set at least.

        The client's words count once: the heaviest rule that reads a stretch of them takes
        it, so one sentence read by five rules does not add up to the worst severity."""
        score = 0.0
        reasons: list[str] = []
        floors: list[str] = []
        words = self._needed_words.found_in(text)
        taken: list[tuple[int, int, str]] = []
        for rule in self._by_weight:
            if not rule.pattern.may_match(words):
                continue  # most rules, for most mails: none of the words they need
            # Signs against a complaint (weight below zero) neither take words nor lose them.
            claims = rule.weight > 0
            found, shared_with = _first_own_match(rule, text, words, taken if claims else ())
            if found:
                score += rule.weight
                reasons.append(f"{rule.name} {_signed(rule.weight)} ({_quote(found.group(0))})")
                if claims:
                    taken.append((found.start(), found.end(), rule.name))
            elif shared_with:
                reasons.append(f"{rule.name} not counted (the same words as {shared_with})")
            if (found or shared_with) and rule.min_severity:
                floors.append(rule.min_severity)  # a threat is one, whichever rule counted it
        return score, reasons, floors

    def _forced(self, recipients: Sequence[str], reasons: list[str]) -> bool:
        """Whether the mail went to an address where every mail is a complaint."""
        forced = sorted({r for r in recipients if r and r.lower() in self.complaint_addresses})
        if forced:
            reasons.append(f"complaint-address ({forced[0]})")
        return bool(forced)

    def _mood(self, text: str) -> list[tuple[float, str, str]]:
        """Points, name and detail of the sentiment and the model, where they fire."""
        signals = self.signals
        text = _GROUP_FEELING.sub("", text)
        mood = []
        if signals.sentiment is not None:
            balance = sentiment_balance(text, signals.sentiment)
            if balance <= -signals.sentiment.threshold:
                weight = min(signals.sentiment.max, -balance * signals.sentiment.scale)
                mood.append((weight, "sentiment", f"balance {balance:.1f}"))
        if signals.learned is not None:
            verdict = signals.learned.model.judge(text, skip=_not_own_sentence)
            weight = signals.learned.points(verdict.probability)
            if weight > 0:
                drivers = ", ".join(_quote(p) for p in verdict.phrases)
                detail = f"p {verdict.probability:.2f}: {_quote(verdict.sentence)}"
                mood.append((weight, "model", detail + (f" for {drivers}" if drivers else "")))
        return mood


def sentiment_balance(text: str, sentiment: Sentiment) -> float:
    """Positive minus negative weight of the words, with negation, intensity and shouting."""
    total = 0.0
    negate = 0
    boost = 1.0
    tokens = _WORD.findall(text)
    # A long mail holds more words of every kind: its balance counts as SENTIMENT_WORDS of it.
    scale = min(1.0, SENTIMENT_WORDS / max(len(tokens), 1))
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
    return total * scale


#: Matches a rule tries before it gives up finding one that is the client's own complaint.
MAX_MATCHES = 8


def _first_own_match(
    rule: Rule, text: str, words: Set[str], taken: Sequence[tuple[int, int, str]]
) -> tuple[re.Match[str] | None, str | None]:
    """The rule's first match that is the client's own complaint (not in a context the rule
    ignores) and not in words another rule has ``taken``; else no match and the name of the
    rule that took them, if one did. ``words`` are the needed strings the text holds."""
    shared_with = None
    for n, found in enumerate(rule.pattern.finditer(text, words)):
        if n >= MAX_MATCHES:
            break
        if rule.ignore_when and _ignored(rule.ignore_when, text, found.start(), found.end()):
            continue
        owner = next((name for s, e, name in taken if s < found.end() and found.start() < e), None)
        if owner is None:
            return found, None
        shared_with = shared_with or owner
    return None, shared_with


def _ignored(contexts: frozenset[str], text: str, start: int, end: int) -> bool:
    """Whether the words at text[start:end] stand in one of ``contexts``."""
    first = max(text.rfind(c, max(0, start - 400), start) for c in _SENTENCE_END) + 1
    last = min(
        (i for i in (text.find(c, end, end + 400) for c in _SENTENCE_END) if i >= 0),
        default=min(len(text), end + 400),
    )
    if contexts & _CLAUSE_CONTEXTS and _clause_says(contexts, text[first:start]):
        return True
    if "question" in contexts and last < len(text) and text[last] == "?":
        return True
    sentence = text[first:last]
    if "conditional" in contexts and _CONDITIONAL.match(sentence):
        return True
    return "reported" in contexts and (
        _GROUP_AFTER.match(text, end) is not None or _about_someone_else(sentence)
    )


def _clause_says(contexts: frozenset[str], before: str) -> bool:
    """Whether the clause up to the match is negated or a polite request, as asked."""
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end() :] if breaks else before
    words = [w.strip("'\"") for w in clause.lower().split()[-3:]]
    if "negated" in contexts and any(w in _NEGATORS or w.endswith("n't") for w in words):
        return True
    return "requested" in contexts and bool(_POLITE.intersection(words) or _REQUEST.match(clause))


def _about_someone_else(sentence: str) -> bool:
    """The sentence speaks of a third party (he, my colleague...), not of "you", and does
    nothing to the writer or what is theirs after naming them: "someone opened a card in
    my name" is the client's own harm. "They" is not a third party: in a mail to us it is
    nearly always someone at our end ("they agreed to delete it, but it is still there")."""
    subject = _REPORTED.match(sentence)
    return bool(
        subject
        and not _ABOUT_US.search(sentence)
        and not _DONE_TO_WRITER.search(sentence, subject.end())
    )


def _not_own_sentence(sentence: str) -> bool:
    """A sentence the model does not read: one that does not speak of the writer (a harm
    is done to "me" or "us"), a question ("Was the order charged twice?" asks; it does not
    say it was), a condition, or a sentence about someone else."""
    if not _WRITER.search(sentence) or sentence.rstrip().endswith("?"):
        return True
    return bool(_CONDITIONAL.match(sentence)) or _about_someone_else(sentence)


def _language_note(text: str) -> list[str]:
    """A mail the rules could not read is no calm mail: the reasons say so, for a person."""
    language = foreign_language(text)
    if language is None:
        return []
    return [f"{UNREAD_LANGUAGE} ({language}; the rules and the model read English)"]


def _signed(weight: float) -> str:
    return f"{weight:+.1f}"


def _quote(found: str) -> str:
    text = " ".join(found.split())
    return '"' + (text if len(text) <= 60 else text[:57] + "...") + '"'
