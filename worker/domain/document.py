"""Rich text the core writes, independent of Jira's markup.

The core builds a :class:`Document`; the Jira adapter renders it as wiki markup
(Data Center) or Atlassian Document Format (Cloud), escaping every piece of
text on the way. Nothing here knows either markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Text:
    """A run of plain text; ``strong`` renders it bold."""

    text: str
    strong: bool = False


@dataclass(frozen=True, slots=True)
class Mention:
    """A mention of a Jira user, by the dialect's id (accountId on Cloud, name on Data Center)."""

    user: str


Inline = Text | Mention


@dataclass(frozen=True, slots=True)
class Paragraph:
    parts: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int = 3


@dataclass(frozen=True, slots=True)
class BulletList:
    """Items, each a sequence of inline parts; ``checklist`` renders them as things to tick off."""

    items: tuple[tuple[Inline, ...], ...]
    checklist: bool = False


@dataclass(frozen=True, slots=True)
class Quote:
    """Outside text kept as written (a client's mail): line breaks survive, markup does not."""

    text: str


Block = Paragraph | Heading | BulletList | Quote


@dataclass(frozen=True, slots=True)
class Document:
    blocks: tuple[Block, ...] = ()

    def plain_text(self) -> str:
        """The document as plain text, for logs, tests and the fake tracker."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Heading):
                lines.append(block.text)
            elif isinstance(block, Paragraph):
                lines.append(_inline_text(block.parts))
            elif isinstance(block, BulletList):
                lines.extend("- " + _inline_text(item) for item in block.items)
            else:
                lines.extend("> " + line for line in block.text.splitlines() or [""])
        return "\n".join(lines)


def _inline_text(parts: Iterable[Inline]) -> str:
    return "".join(p.text if isinstance(p, Text) else f"@{p.user}" for p in parts)


def paragraph(*parts: Inline | str) -> Paragraph:
    """A paragraph from text and mentions; bare strings become plain text."""
    return Paragraph(tuple(Text(p) if isinstance(p, str) else p for p in parts))


def bullets(items: Iterable[str], *, checklist: bool = False) -> BulletList:
    return BulletList(tuple((Text(item),) for item in items), checklist=checklist)


def document(*blocks: Block) -> Document:
    return Document(tuple(blocks))


def utf16_units(text: str) -> int:
    """How long Jira counts ``text``: in UTF-16 code units, two for a character past U+FFFF."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def cut_to_units(text: str, limit: int, marker: str = "…") -> str:
    """``text`` itself when Jira would accept its length, else cut with ``marker`` to fit."""
    if utf16_units(text) <= limit:
        return text
    budget = limit - utf16_units(marker)
    kept = []
    for char in text:
        budget -= 2 if ord(char) > 0xFFFF else 1
        if budget < 0:
            break
        kept.append(char)
    return "".join(kept) + marker
