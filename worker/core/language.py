"""Which language a text is plainly written in, when it is not English.

The shipped rules and model read English. A mail in another language scores next to nothing,
so the decision says so rather than look like a calm English mail. Pure; a handful of the
commonest words of each language, no dictionary.
"""

from __future__ import annotations

import re

#: Frequent short words of each language; a word two of them share ("que", "mi") counts for
#: neither, and words that are also English or mail ("a", "per", "met", "com", "Mon") are
#: not listed.
_COMMON_WORDS = {
    "English": "the and to of is it you that for was on are with have this not but my we your",
    "German": "der das und ist nicht ich sie zu den mit ein eine auf für von dem wir ihr mein "
    "bitte noch schon sehr seit",
    "French": "le la les et pas je vous une des du que avec sur ce nous votre mais toujours "
    "depuis très",
    "Spanish": "el los las es que por para con mi una se lo nos está estoy pero muy desde nadie ya",
    "Italian": "il che di con mi sono ho lo gli della è vorrei questo sempre ancora",
    "Dutch": "het een niet ik je op dat voor mijn wij zijn nog heb",
    "Portuguese": "os não que uma meu é já ainda muito você obrigado está",
}
_SHARED = {
    word
    for language, words in _COMMON_WORDS.items()
    for other, more in _COMMON_WORDS.items()
    if other != language
    for word in set(words.split()) & set(more.split())
}
_WORDS = {language: frozenset(words.split()) - _SHARED for language, words in _COMMON_WORDS.items()}
_TOKEN = re.compile(r"[^\W\d_]+")
#: Words read: enough to tell, little work on a long mail.
WORDS_READ = 300
#: Distinct known words another language needs, at least, and how many times English's.
MIN_WORDS = 3
LEAD = 2


def foreign_language(text: str) -> str | None:
    """The language a text is written in when it plainly is not English, else None."""
    seen: set[str] = set()
    for n, match in enumerate(_TOKEN.finditer(text)):
        if n >= WORDS_READ:
            break
        seen.add(match.group(0).lower())
    # Distinct words, so that a run of base64 or one repeated word cannot decide.
    counts = {language: len(words & seen) for language, words in _WORDS.items()}
    english = counts.pop("English")
    language, found = max(counts.items(), key=lambda item: item[1])
    if found >= MIN_WORDS and found >= LEAD * english:
        return language
    return None
