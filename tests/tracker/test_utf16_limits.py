"""Jira counts lengths in UTF-16 units: a summary or comment of emoji must still fit."""

from __future__ import annotations

from worker.domain.document import Document, Paragraph, Text, cut_to_units, utf16_units
from worker.tracker import markup

EMOJI = "\U0001f620"  # one code point, two UTF-16 units


def test_units_count_characters_past_the_basic_plane_twice() -> None:
    assert utf16_units("abc") == 3
    assert utf16_units(EMOJI * 250) == 500


def test_a_cut_never_splits_a_pair_and_fits_the_limit() -> None:
    cut = cut_to_units("Angry " + EMOJI * 250, 255)
    assert utf16_units(cut) <= 255
    assert cut.endswith("…")
    assert cut_to_units("short", 255) == "short"


def test_a_capped_document_fits_jiras_limit_in_units() -> None:
    document = Document((Paragraph((Text(EMOJI * 20_000),)),))
    capped = markup.cap(document)
    assert utf16_units(capped.plain_text()) <= markup.MAX_RICH_TEXT
