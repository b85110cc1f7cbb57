"""What a rule's pattern needs to find in a text before it is worth trying.

Pure. Python's ``re`` tries every alternative of a pattern at every position of a text, so
a rule of sixty alternatives costs sixty tries a character. Most alternatives need a word
the text does not hold: "(charged|billed) me twice" cannot match a mail without "charged"
or "billed" in it. A ``GatedPattern`` learns, once per rule, the words each top-level
alternative needs, and at each text tries only the alternatives whose words it holds;
``NeededWords`` finds which needed words a text holds, for all rules in one pass.

The answer is exactly the full pattern's: an alternative that cannot match anywhere in a
text changes no search of it, and the alternatives left are searched one by one and their
matches merged in the order the full pattern finds them. Where the needed words cannot be
read off a pattern (a back-reference, flags written into it, a Python without
``re._parser``) the full pattern runs, as it always did.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Set
from types import ModuleType
from typing import Any

#: The most strings one requirement may list; past it a pattern's words are read in pieces.
MAX_CHOICES = 64
#: Characters from which a needed string is rare enough in ordinary text.
SELECTIVE = 5
#: Length of the pieces needed strings are filed under.
GRAM = 4
#: The only characters outside ASCII that ``re.IGNORECASE`` takes for an ASCII letter or
#: digit (tests/core/test_prefilter.py checks every code point). ``fold`` maps them to it.
_ASCII_LOOKALIKES = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}


def _sre_parser() -> ModuleType | None:
    try:
        return importlib.import_module("re._parser")
    except ImportError:  # a Python that moved it: every rule then runs in full
        return None


_PARSER = _sre_parser()
_INLINE_FLAGS = re.compile(r"\(\?[a-zA-Z]+\)")


def fold(text: str) -> str:
    """The text as needed strings are looked up in: lower case, look-alikes made ASCII."""
    return text.translate(_ASCII_LOOKALIKES).lower()


class GatedPattern:
    """A compiled pattern tried only with the alternatives whose words a text holds."""

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self._alternatives, self.needs = _analysed(regex.pattern, regex.flags)
        self._compiled: list[re.Pattern[str] | None] = [None] * len(self._alternatives)
        #: Every string some alternative needs: a text with none of them cannot match.
        self.words = frozenset().union(*self.needs)

    @property
    def gated(self) -> bool:
        """Whether texts are checked for words before the pattern runs."""
        return bool(self.needs)

    def may_match(self, found: Set[str]) -> bool:
        """Whether a text holding the needed strings ``found`` may match at all."""
        return not self.needs or not self.words.isdisjoint(found)

    def search(self, text: str, found: Set[str]) -> re.Match[str] | None:
        """``regex.search(text)``; ``found`` holds the needed strings in the text
        (``NeededWords.found_in``)."""
        return next(self.finditer(text, found), None)

    def finditer(self, text: str, found: Set[str]) -> Iterator[re.Match[str]]:
        """``regex.finditer(text)``; ``found`` as for ``search``."""
        if not self.needs:
            return self.regex.finditer(text)
        kept = [i for i, need in enumerate(self.needs) if not need.isdisjoint(found)]
        if not kept:
            return iter(())
        if len(kept) == len(self.needs):
            return self.regex.finditer(text)
        if len(kept) == 1:
            return self._alternative(kept[0]).finditer(text)
        return _merged([self._alternative(i) for i in kept], text)

    def _alternative(self, index: int) -> re.Pattern[str]:
        compiled = self._compiled[index]
        if compiled is None:  # compiled when first needed: most are needed by few mails
            compiled = re.compile(self._alternatives[index], self.regex.flags)
            self._compiled[index] = compiled
        return compiled


class NeededWords:
    """Which of the strings some patterns need a text holds, looked up by their 4-grams.

    The shipped rules need about 1,700 strings; looking for each in every mail cost more
    than the patterns it spared. Each string is filed under one of its 4-grams instead, and
    a text is checked only for the strings filed under the 4-grams it has."""

    def __init__(self, patterns: Iterable[GatedPattern]) -> None:
        strings = {w for pattern in patterns for need in pattern.needs for w in need}
        self._short = tuple(sorted(w for w in strings if len(w) < GRAM))
        long = [w for w in strings if len(w) >= GRAM]
        # Filed under its least shared 4-gram, so a 4-gram a text holds brings few to check.
        shared = Counter(g for w in long for g in set(_grams(w)))
        self._by_gram: dict[str, list[str]] = {}
        for w in sorted(long):
            gram = min(_grams(w), key=lambda g: (shared[g], g))
            self._by_gram.setdefault(gram, []).append(w)
        self._grams = frozenset(self._by_gram)

    def found_in(self, text: str) -> set[str]:
        """The needed strings that ``fold(text)`` holds."""
        folded = fold(text)
        found = {w for w in self._short if w in folded}
        for gram in self._grams.intersection(_grams(folded)):
            found.update(w for w in self._by_gram[gram] if w in folded)
        return found


def _grams(text: str) -> Iterator[str]:
    return (text[i : i + GRAM] for i in range(len(text) - GRAM + 1))


@functools.lru_cache(maxsize=1024)  # every load of the same rules reads them alike
def _analysed(pattern: str, flags: int) -> tuple[tuple[str, ...], tuple[frozenset[str], ...]]:
    """A pattern's top-level alternatives and the words each needs; no words when some
    alternative may match without a known one (the pattern then always runs in full)."""
    pieces = _top_level_alternatives(pattern, flags)
    needs = [_requirement(tree) for _, tree in pieces]
    if None in needs:
        return (), ()
    return tuple(source for source, _ in pieces), tuple(n for n in needs if n is not None)


def _merged(alternatives: list[re.Pattern[str]], text: str) -> Iterator[re.Match[str]]:
    """What ``re.compile("|".join(alternatives)).finditer(text)`` finds, without compiling
    it: the leftmost match of any alternative, the first alternative where two start at
    one place. None of them matches the empty text (each needs a word), so every search
    after a match starts where it ended."""
    upcoming = [alternative.search(text) for alternative in alternatives]
    position = 0
    while True:
        best: re.Match[str] | None = None
        for i, alternative in enumerate(alternatives):
            found = upcoming[i]
            if found is not None and found.start() < position:  # overlapped the last one
                found = upcoming[i] = alternative.search(text, position)
            if found is not None and (best is None or found.start() < best.start()):
                best = found
        if best is None:
            return
        yield best
        position = best.end()


def _top_level_alternatives(pattern: str, flags: int) -> list[tuple[str, Any]]:
    """The pattern's source split at each ``|`` outside groups and classes, each piece with
    its parse; [] when the pieces would not mean what they mean together."""
    # Flags written into the pattern belong to its first piece alone once it is split.
    if _PARSER is None or _INLINE_FLAGS.match(pattern):
        return []
    pieces = []
    for source in _split_source(pattern):
        try:
            tree = _PARSER.parse(source, flags)
        except re.error:  # a piece that refers to another piece's group
            return []
        if _refers_to_groups(tree):  # its group numbers would change
            return []
        pieces.append((source, tree))
    return pieces


def _split_source(pattern: str) -> list[str]:
    pieces, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            i += 1 + pattern.startswith("^", i + 1)  # a "]" just after "[" or "[^" is literal
            if pattern.startswith("]", i):
                i += 1
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            pieces.append(pattern[start:i])
            start = i + 1
        i += 1
    pieces.append(pattern[start:])
    return pieces


def _refers_to_groups(items: Any) -> bool:
    """Whether a parsed pattern holds a back-reference (its numbering would change)."""
    for op, av in items:
        name = str(op)
        if name.startswith("GROUPREF"):
            return True
        for child in _children(name, av):
            if _refers_to_groups(child):
                return True
    return False


def _children(name: str, av: Any) -> list[Any]:
    if name == "SUBPATTERN":
        return [av[-1]]
    if name == "BRANCH":
        return list(av[1])
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return [av[2]]
    if name in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if name == "ATOMIC_GROUP":
        return [av]
    return []


def _requirement(tree: Any) -> frozenset[str] | None:
    """Strings one of which (folded) every match of a parsed pattern holds; None if none is
    known."""
    need = _sequence_need(tree)
    return frozenset(need) if need and "" not in need else None


def _sequence_need(items: Any) -> set[str] | None:
    """The requirement of a sequence that rules out most for the least lookup."""
    found: list[set[str]] = []
    run: set[str] = {""}  # the exact texts the current run of fixed items can match
    for op, av in items:
        name = str(op)
        exact = _exact(name, av)
        if exact is not None:
            found.append(run)  # "charged" may serve better than "charged me" and "charged"
            joined = {a + b for a, b in itertools.product(run, exact)}
            run = joined if len(joined) <= MAX_CHOICES else exact
            continue
        found.append(run)
        run = {""}
        need = _item_need(name, av)
        if need:
            found.append(need)
    found.append(run)
    useful = [need for need in found if "" not in need]
    if not useful:
        return None
    # Each string costs a look through the text; past SELECTIVE characters a longer one
    # rules out little more, so the fewest strings win.
    return max(useful, key=_selectivity)


def _selectivity(need: set[str]) -> tuple[int, int, int]:
    shortest = min(map(len, need))
    return min(SELECTIVE, shortest), -len(need), shortest


def _item_need(name: str, av: Any) -> set[str] | None:
    if name == "SUBPATTERN":
        return _sequence_need(av[-1])
    if name == "ATOMIC_GROUP":
        return _sequence_need(av)
    if name == "BRANCH":
        union: set[str] = set()
        for branch in av[1]:
            need = _sequence_need(branch)
            if need is None:
                return None  # this branch may match without any known word
            union |= need
        return union
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[0] >= 1:
        return _sequence_need(av[2])
    return None


def _exact(name: str, av: Any) -> set[str] | None:
    """Every text one item can match, folded, when they are few and all ASCII."""
    if name == "LITERAL":
        char = chr(av)
        return {char.lower()} if char.isascii() else None
    if name in ("AT", "ASSERT", "ASSERT_NOT"):  # zero width: no text of its own to need
        return {""}
    if name == "IN":  # a class of plain characters, such as the "[sz]" of "authori[sz]ed"
        if not all(str(op) == "LITERAL" and chr(value).isascii() for op, value in av):
            return None
        return {chr(value).lower() for _, value in av}
    if name == "SUBPATTERN":
        return _sequence_exact(av[-1])
    if name == "BRANCH":
        union: set[str] = set()
        for branch in av[1]:
            texts = _sequence_exact(branch)
            if texts is None:
                return None
            union |= texts
        return union if len(union) <= MAX_CHOICES else None
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and av[:2] == (0, 1):
        inner = _sequence_exact(av[2])
        return None if inner is None else {"", *inner}
    return None


def _sequence_exact(items: Any) -> set[str] | None:
    texts: set[str] = {""}
    for op, av in items:
        exact = _exact(str(op), av)
        if exact is None:
            return None
        texts = {a + b for a, b in itertools.product(texts, exact)}
        if len(texts) > MAX_CHOICES:
            return None
    return texts
