"""JQL building: hostile values stay values, through the sandbox's own parser."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.sandbox.jql import BoolOp, Clause, parse
from worker.tracker import jql

HOSTILE = [
    'say "hi"',
    "back\\slash\\",
    '\\"',
    "' OR project = OPS",
    '" OR project = OPS OR summary ~ "',
    "AND OR NOT IN EMPTY ORDER BY",
    "line one\nline two\r\n\ttabbed",
    "}{code}[~admin]||x|",
    "x" * 10_000,
    "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_parse_back_to_themselves(value: str) -> None:
    """Quotes, backslashes, keywords, newlines and long text come back as one literal value."""
    assert parse(jql.eq("summary", value)).where == Clause("summary", "=", (value,))


@given(st.text(max_size=300))
def test_quote_round_trips_any_text(value: str) -> None:
    """Whatever the text, the sandbox parser reads the quoted literal back unchanged."""
    query = jql.all_of(jql.eq("project", "SUP"), jql.in_("labels", [value, "b"]))
    assert parse(query).where == BoolOp(
        "and", (Clause("project", "=", ("SUP",)), Clause("labels", "in", (value, "b")))
    )


def test_updated_since_is_written_in_the_given_zone() -> None:
    """A UTC moment is written as the wall time of the zone Jira reads queries in."""
    moment = datetime(2026, 3, 2, 9, 5, 59, tzinfo=UTC)
    assert jql.updated_since(moment, UTC) == 'updated >= "2026/03/02 09:05"'
    assert jql.updated_since(moment, ZoneInfo("Europe/Berlin")) == 'updated >= "2026/03/02 10:05"'


def test_all_of_keeps_or_inside_its_clause() -> None:
    """An OR in one clause cannot widen the others."""
    query = jql.all_of(jql.eq("project", "SUP"), jql.any_of(jql.eq("labels", "a"), "priority = 1"))
    assert query == '(project = "SUP") AND ((labels = "a") OR (priority = 1))'
    where = parse(query).where
    assert isinstance(where, BoolOp)
    assert where.operator == "and"


def test_odd_field_names_are_quoted_and_empty_in_refused() -> None:
    """Field names that are not plain words are quoted; an empty IN list is a bug."""
    assert jql.field("cf[10010]") == "cf[10010]"
    assert jql.field('Root "cause"') == '"Root \\"cause\\""'
    with pytest.raises(ValueError):
        jql.in_("labels", [])


def test_order_by() -> None:
    assert jql.order_by('project = "SUP"', "updated ASC", "key") == (
        'project = "SUP" ORDER BY updated ASC, key'
    )
