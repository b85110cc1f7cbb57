"""HTML mail turned into readable plain text (stdlib html.parser, no network, no scripts)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements whose content is never text a person reads.
_DROPPED = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object"})
#: Elements that start and end on a line of their own.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
        "tbody", "thead", "tfoot", "tr", "ul",
    }
)  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.dropped = 0  # depth inside dropped elements
        self.quote_depth = 0  # depth inside <blockquote>
        self.pre = 0

    def _break(self) -> None:
        text = "".join(self.current)
        if not self.pre:
            text = _SPACES.sub(" ", text).strip()
        prefix = "> " * self.quote_depth
        self.lines.append(prefix + text if text else prefix.rstrip())
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.dropped = 0  # a <head> left open must not hide the body
            return
        if tag in _DROPPED:
            self.dropped += 1
            return
        if self.dropped:
            return
        if tag == "br":
            self._break()
        elif tag in _BLOCKS:
            if self.current:
                self._break()
            if tag == "blockquote":
                self.quote_depth += 1
            elif tag == "pre":
                self.pre += 1
            elif tag == "li":
                self.current.append("- ")
            elif tag == "hr":
                self.lines.append("> " * self.quote_depth + "-" * 32)
        elif tag in ("td", "th") and self.current:
            self.current.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(alt)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropped = max(0, self.dropped - 1)
            return
        if self.dropped:
            return
        if tag in _BLOCKS:
            if self.current:
                self._break()
            if tag == "blockquote":
                self.quote_depth = max(0, self.quote_depth - 1)
            elif tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        if self.pre:
            parts = data.split("\n")
            for part in parts[:-1]:
                self.current.append(part)
                self._break()
            self.current.append(parts[-1])
        else:
            self.current.append(data.replace("\n", " "))


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: blocks on their own lines, quotes prefixed with "> "."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except (AssertionError, ValueError):
        pass  # malformed markup: keep what was read up to there
    if collector.current:
        collector._break()
    text = "\n".join(line.rstrip() for line in collector.lines)
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")
