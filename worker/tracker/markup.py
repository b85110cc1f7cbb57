"""Documents to Jira's rich text and back: wiki markup (Data Center) and ADF (Cloud).

Every piece of text in a Document is data: in wiki markup each character that
could start markup is escaped, and lines that would open a heading, a list or a
quote are neutralised; in ADF text is already data, so only sizes are capped.
Reading back (for comments and descriptions) flattens either form to plain text.
"""

from __future__ import annotations

import re
from typing import Any

from worker.domain.document import (
    Block,
    BulletList,
    Document,
    Heading,
    Inline,
    Mention,
    Paragraph,
    Quote,
    Text,
    cut_to_units,
    utf16_units,
)

#: Jira refuses rich-text fields longer than 32,767 UTF-16 units; keep well inside.
MAX_RICH_TEXT = 30_000
TRUNCATED = " … truncated"
CHECKBOX = "\u2610 "  # a ballot box: a thing to tick off, in either markup

# Characters that start or end wiki markup: effects, macros, links, tables, images, lists,
# emoticons. A backslash escapes each; a backslash itself and "&" become entities, since
# "\\" is a forced line break and "&...;" an entity.
_WIKI_SPECIAL = frozenset("*_-+^~?{}[]|!#()")
_LINE_START = re.compile(r"^(\s*)(h[1-6]\.|bq\.)", re.IGNORECASE)
#: The last line of a comment the worker must be able to find again, as the worker writes it.
_REFERENCE = re.compile(r"ref: rw-[a-z]+-[0-9a-f]+")


# --- capping ----------------------------------------------------------------


def cap(document: Document, limit: int = MAX_RICH_TEXT) -> Document:
    """The document with its text cut so the whole stays under ``limit`` characters.

    A closing reference line (``ref: rw-…``) is kept whole and the cut falls before it:
    it is how the worker recognises its own comment after a lost answer.
    """
    blocks = document.blocks
    if blocks and _is_reference(blocks[-1]):
        kept = _cap_blocks(blocks[:-1], limit - _block_size(blocks[-1]))
        return Document((*kept, blocks[-1]))
    return Document(_cap_blocks(blocks, limit))


def _is_reference(block: Block) -> bool:
    if not isinstance(block, Paragraph):
        return False
    return _REFERENCE.fullmatch(Document((block,)).plain_text()) is not None


def _cap_blocks(blocks: tuple[Block, ...], limit: int) -> tuple[Block, ...]:
    remaining = limit
    kept: list[Block] = []
    for block in blocks:
        size = _block_size(block)
        if size <= remaining:
            kept.append(block)
            remaining -= size
            continue
        if remaining > 200:
            kept.append(_cut(block, remaining - len(TRUNCATED)))
        else:
            kept.append(Paragraph((Text(TRUNCATED.strip()),)))
        break
    return tuple(kept)


def _inline_size(parts: tuple[Inline, ...]) -> int:
    return sum(utf16_units(p.text) if isinstance(p, Text) else len(p.user) + 4 for p in parts)


def _block_size(block: Block) -> int:
    if isinstance(block, Heading | Quote):
        return utf16_units(block.text) + 16
    if isinstance(block, Paragraph):
        return _inline_size(block.parts) + 4
    return sum(_inline_size(item) + 4 for item in block.items)


def _cut(block: Block, size: int) -> Block:
    if isinstance(block, Quote):
        return Quote(cut_to_units(block.text, size + len(TRUNCATED), TRUNCATED))
    if isinstance(block, Heading):
        return Heading(cut_to_units(block.text, size + len(TRUNCATED), TRUNCATED), block.level)
    text = Document((block,)).plain_text()
    return Paragraph((Text(cut_to_units(text, size + len(TRUNCATED), TRUNCATED)),))


# --- wiki markup (Data Center) ------------------------------------------------


def mention_name(user: str) -> str:
    """A user name as a wiki mention needs it: whole, "_" and "-" included (escaping them
    would name another user); only what would end the mention or the line is dropped."""
    return "".join(char for char in user if char not in "[]|~\r\n")


def escape_wiki(text: str) -> str:
    """Plain text as wiki markup that renders exactly that text, line breaks kept."""
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        out = []
        for char in line:
            if char == "\\":
                out.append("&#92;")
            elif char == "&":
                out.append("&amp;")
            elif char in _WIKI_SPECIAL:
                out.append("\\" + char)
            else:
                out.append(char)
        escaped = "".join(out)
        # "h1." and "bq." only act at a line start; escaping the dot stops them.
        escaped = _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\.", escaped)
        lines.append(escaped)
    return "\n".join(lines)


def _wiki_inline(parts: tuple[Inline, ...]) -> str:
    out = []
    for part in parts:
        if isinstance(part, Mention):
            out.append(f"[~{mention_name(part.user)}]")
        elif part.strong and part.text.strip():
            # Bold only holds when the asterisks touch the text: keep the spaces outside.
            core = part.text.strip()
            lead = part.text[: len(part.text) - len(part.text.lstrip())]
            trail = part.text[len(part.text.rstrip()) :]
            out.append(f"{escape_wiki(lead)}*{escape_wiki(core)}*{escape_wiki(trail)}")
        else:
            out.append(escape_wiki(part.text))
    return "".join(out)


def to_wiki(document: Document, limit: int = MAX_RICH_TEXT) -> str:
    """Wiki markup for Data Center, at most ``limit`` characters long."""
    budget = limit
    while True:
        rendered = _render_wiki(cap(document, budget))
        # Escaping lengthens text: shrink the text budget by the overshoot until it fits.
        if len(rendered) <= limit or budget <= 0:
            return rendered[:limit]
        budget -= len(rendered) - limit + 64


def _render_wiki(document: Document) -> str:
    chunks = []
    for block in document.blocks:
        if isinstance(block, Heading):
            level = min(6, max(1, block.level))
            chunks.append(f"h{level}. {escape_wiki(block.text).replace(chr(10), ' ')}")
        elif isinstance(block, Paragraph):
            chunks.append(_wiki_inline(block.parts))
        elif isinstance(block, BulletList):
            box = CHECKBOX if block.checklist else ""
            chunks.append(
                "\n".join(
                    "* " + box + _wiki_inline(item).replace("\n", " ") for item in block.items
                )
            )
        else:
            chunks.append("{quote}\n" + escape_wiki(block.text) + "\n{quote}")
    return "\n\n".join(chunks)


# --- Atlassian Document Format (Cloud) -----------------------------------------


def _adf_text(text: str, marks: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Text nodes with hard breaks for newlines; ADF refuses empty text nodes."""
    nodes: list[dict[str, Any]] = []
    for number, line in enumerate(text.replace("\r\n", "\n").split("\n")):
        if number:
            nodes.append({"type": "hardBreak"})
        if line:
            node: dict[str, Any] = {"type": "text", "text": line}
            if marks:
                node["marks"] = marks
            nodes.append(node)
    return nodes


def _adf_inline(parts: tuple[Inline, ...], prefix: str = "") -> list[dict[str, Any]]:
    nodes = _adf_text(prefix) if prefix else []
    for part in parts:
        if isinstance(part, Mention):
            nodes.append({"type": "mention", "attrs": {"id": part.user}})
        else:
            nodes.extend(_adf_text(part.text, [{"type": "strong"}] if part.strong else None))
    return nodes


def _adf_paragraph(content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "paragraph", "content": content} if content else {"type": "paragraph"}


def to_adf(document: Document, limit: int = MAX_RICH_TEXT) -> dict[str, Any]:
    """An Atlassian Document Format document for Cloud."""
    content: list[dict[str, Any]] = []
    for block in cap(document, limit).blocks:
        if isinstance(block, Heading):
            level = min(6, max(1, block.level))
            node: dict[str, Any] = {"type": "heading", "attrs": {"level": level}}
            text = _adf_text(block.text.replace("\n", " "))
            if text:
                node["content"] = text
            content.append(node)
        elif isinstance(block, Paragraph):
            content.append(_adf_paragraph(_adf_inline(block.parts)))
        elif isinstance(block, BulletList):
            if not block.items:
                continue
            box = CHECKBOX if block.checklist else ""
            items = [
                {"type": "listItem", "content": [_adf_paragraph(_adf_inline(item, box))]}
                for item in block.items
            ]
            content.append({"type": "bulletList", "content": items})
        else:
            content.append(
                {"type": "blockquote", "content": [_adf_paragraph(_adf_text(block.text))]}
            )
    return {"type": "doc", "version": 1, "content": content}


# --- reading back ------------------------------------------------------------------

_BLOCK_NODES = frozenset(
    {"paragraph", "heading", "blockquote", "bulletList", "orderedList", "listItem", "codeBlock",
     "panel", "rule", "table", "tableRow", "tableCell", "tableHeader", "taskList", "taskItem"}
)  # fmt: skip


def adf_to_text(node: Any) -> str:
    """The plain text of an ADF document (or node); blocks on their own lines."""
    return re.sub(r"\n{3,}", "\n\n", _adf_walk(node)).strip("\n")


def _adf_walk(node: Any) -> str:
    if isinstance(node, list):
        return "".join(_adf_walk(child) for child in node)
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        attrs = node.get("attrs") or {}
        return str(attrs.get("text") or "@" + str(attrs.get("id", "")))
    inner = _adf_walk(node.get("content", []))
    if kind == "listItem":
        return "- " + inner.strip("\n") + "\n"
    if kind in _BLOCK_NODES:
        return inner.strip("\n") + "\n"
    return inner


_WIKI_MACRO = re.compile(r"(?<!\\)\{(quote|code|noformat|panel|color)(:[^}]*)?(?<!\\)\}")
_WIKI_STRONG = re.compile(r"(?<!\\)\*")
_WIKI_HEADING = re.compile(r"^(h[1-6]|bq)\. ", re.MULTILINE)
_WIKI_BULLET = re.compile(r"^[*#-]+ ", re.MULTILINE)
_WIKI_MENTION = re.compile(r"\[~([^\]]+)\]")
_WIKI_ESCAPE = re.compile(r"\\(.)")


def wiki_to_text(markup: str) -> str:
    """The plain text of wiki markup: macros, headings, bullets and escapes removed."""
    text = _WIKI_MACRO.sub("", markup)
    text = _WIKI_HEADING.sub("", text)
    text = _WIKI_BULLET.sub("- ", text)
    text = _WIKI_MENTION.sub(lambda m: "@" + m.group(1), text)
    text = _WIKI_STRONG.sub("", text)
    text = _WIKI_ESCAPE.sub(lambda m: m.group(1), text)
    text = text.replace("&#92;", "\\").replace("&amp;", "&")
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def to_text(value: Any) -> str:
    """Plain text of a rich-text field in either dialect (None is empty)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return wiki_to_text(value)
    return adf_to_text(value)
