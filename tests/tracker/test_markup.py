"""Rendering documents as wiki markup and ADF: outside text stays text, sizes stay capped."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.domain.document import (
    BulletList,
    Document,
    Heading,
    Mention,
    Paragraph,
    Quote,
    Text,
    bullets,
    document,
    paragraph,
)
from worker.tracker import markup

HOSTILE = [
    "{code}rm -rf /{code}",
    "{noformat}x{noformat}",
    "[~admin] please look",
    "|| head || cells ||",
    "*bold* _it_ -strike- +ins+ ^sup^ ~sub~ ??cite?? !image.png!",
    "h1. Not a heading",
    "bq. not a quote",
    "# not a list",
    "* not a bullet",
    "----",
    "back\\slash \\\\ break",
    "[link|http://evil.example]",
    "&amp; &#92; entities",
    "(y) (!) :) emoticons",
    "{color:red}red{color} {panel:title=x}p{panel}",
]


def unescaped_markup(wiki: str) -> list[str]:
    """Markup characters left active in escaped wiki text."""
    stripped = re.sub(r"\\.", "", wiki).replace("&#92;", "").replace("&amp;", "")
    found = [c for c in stripped if c in markup._WIKI_SPECIAL or c in "\\&"]
    found += [line for line in stripped.splitlines() if re.match(r"\s*(h[1-6]|bq)\.", line)]
    return found


@pytest.mark.parametrize("text", HOSTILE)
def test_wiki_escaping_leaves_no_markup_active(text: str) -> None:
    """Every markup character of client text is escaped, and it reads back unchanged."""
    escaped = markup.escape_wiki(text)
    assert unescaped_markup(escaped) == []
    assert markup.wiki_to_text(escaped) == text


@given(st.text(alphabet=st.characters(exclude_characters="\r"), max_size=200))
def test_wiki_escaping_round_trips(text: str) -> None:
    """Any text escaped for wiki markup flattens back to itself."""
    escaped = markup.escape_wiki(text)
    assert unescaped_markup(escaped) == []
    assert markup.wiki_to_text(escaped) == text.strip("\n") or text.strip("\n") == ""


def test_wiki_document_structure() -> None:
    """Headings, paragraphs with mentions, checklists and quotes render as wiki markup."""
    doc = document(
        Heading("KNOW", 3),
        paragraph("Owner: ", Mention("alice"), Text(" (sev1)", strong=True)),
        bullets(["goals", "history"], checklist=True),
        Quote("Dear team,\n{code}boom{code}"),
    )
    assert markup.to_wiki(doc) == (
        "h3. KNOW\n\n"
        "Owner: [~alice] *\\(sev1\\)*\n\n"
        "* \u2610 goals\n* \u2610 history\n\n"
        "{quote}\nDear team,\n\\{code\\}boom\\{code\\}\n{quote}"
    )


def test_adf_document_structure() -> None:
    """The same document as ADF: mention nodes by accountId, a blockquote with hard breaks."""
    doc = document(
        Heading("KNOW"),
        paragraph("Owner: ", Mention("5b10ac8d82e05b22cc7d4ef5")),
        BulletList(((Text("goals"),),), checklist=True),
        Quote("line 1\nline 2"),
    )
    adf = markup.to_adf(doc)
    assert adf["type"] == "doc"
    assert adf["version"] == 1
    heading, para, bullet, quote = adf["content"]
    assert heading == {
        "type": "heading",
        "attrs": {"level": 3},
        "content": [{"type": "text", "text": "KNOW"}],
    }
    assert para["content"][1] == {"type": "mention", "attrs": {"id": "5b10ac8d82e05b22cc7d4ef5"}}
    assert markup.adf_to_text(bullet) == "- \u2610 goals"
    assert quote["content"][0]["content"] == [
        {"type": "text", "text": "line 1"},
        {"type": "hardBreak"},
        {"type": "text", "text": "line 2"},
    ]


def test_adf_keeps_hostile_text_verbatim() -> None:
    """ADF carries text as data: the hostile strings arrive as they were written."""
    doc = document(*(Paragraph((Text(t),)) for t in HOSTILE))
    assert markup.adf_to_text(markup.to_adf(doc)).split("\n") == HOSTILE


def test_long_text_is_capped_in_both_forms() -> None:
    """A huge quoted mail is cut so the field stays under Jira's limit, and says so."""
    doc = document(Heading("Complaint"), Quote("x" * 100_000), paragraph("after"))
    wiki = markup.to_wiki(doc)
    adf_text = markup.adf_to_text(markup.to_adf(doc))
    assert len(wiki) <= markup.MAX_RICH_TEXT
    assert len(adf_text) <= markup.MAX_RICH_TEXT
    assert wiki.rstrip().endswith("truncated\n{quote}")
    assert "after" not in adf_text


@pytest.mark.parametrize("marker", ["rw-reply-0123456789abcdef", "rw-alert-fedcba9876543210"])
def test_long_text_keeps_its_closing_reference_in_both_forms(marker: str) -> None:
    """A comment's closing ``ref:`` line survives the cap, even when escaping grows the text."""
    punctuated = "Broken!!! (again) [see #12] {x} *why* -- a|b & \\ ?\n" * 1_000
    doc = document(paragraph("Client reply:"), Quote(punctuated), paragraph(f"ref: {marker}"))
    wiki = markup.to_wiki(doc)
    adf = markup.to_adf(doc)
    assert len(wiki) <= markup.MAX_RICH_TEXT
    assert len(markup.adf_to_text(adf)) <= markup.MAX_RICH_TEXT
    assert markup.wiki_to_text(wiki).endswith(f"truncated\n\nref: {marker}")
    assert adf["content"][-1] == {
        "type": "paragraph",
        "content": [{"type": "text", "text": f"ref: {marker}"}],
    }
    assert "truncated" in markup.adf_to_text(adf["content"][-2])


def test_to_text_reads_either_dialect() -> None:
    """to_text flattens a wiki string or an ADF document to the same plain text."""
    doc = document(paragraph("It broke {again}"), Quote("a\nb"))
    assert markup.to_text(markup.to_wiki(doc)) == "It broke {again}\n\na\nb"
    assert markup.to_text(markup.to_adf(doc)) == "It broke {again}\na\nb"
    assert markup.to_text(None) == ""


def test_empty_document_renders() -> None:
    assert markup.to_wiki(Document()) == ""
    assert markup.to_adf(Document()) == {"type": "doc", "version": 1, "content": []}
