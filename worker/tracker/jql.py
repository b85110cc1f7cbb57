"""JQL, built only here: every value goes through :func:`quote`, never into a query by hand."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, tzinfo

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_PLAIN_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_CUSTOM_FIELD = re.compile(r"^cf\[\d+\]$")


def quote(value: str) -> str:
    """A JQL string literal holding ``value`` exactly: quotes, backslashes, newlines escaped."""
    return '"' + "".join(_ESCAPES.get(char, char) for char in value) + '"'


def field(name: str) -> str:
    """A field name as JQL wants it: bare when it is a plain word, quoted otherwise."""
    if _PLAIN_FIELD.match(name) or _CUSTOM_FIELD.match(name):
        return name
    return quote(name)


def eq(name: str, value: str) -> str:
    """``field = "value"``."""
    return f"{field(name)} = {quote(value)}"


def not_eq(name: str, value: str) -> str:
    return f"{field(name)} != {quote(value)}"


def in_(name: str, values: Iterable[str]) -> str:
    """``field IN ("a", "b")``; at least one value is required."""
    quoted = [quote(v) for v in values]
    if not quoted:
        raise ValueError(f"IN needs at least one value for {name}")
    return f"{field(name)} IN ({', '.join(quoted)})"


def jql_time(moment: datetime, zone: tzinfo) -> str:
    """A moment as JQL's ``yyyy/MM/dd HH:mm`` in the zone Jira reads it in (the user's zone)."""
    if moment.tzinfo is None:
        raise ValueError("JQL times need an aware datetime")
    return moment.astimezone(zone).strftime("%Y/%m/%d %H:%M")


def updated_since(moment: datetime, zone: tzinfo) -> str:
    """``updated >= "yyyy/MM/dd HH:mm"``; minutes only, so callers overlap their windows."""
    return f"updated >= {quote(jql_time(moment, zone))}"


def all_of(*clauses: str) -> str:
    """Clauses joined by AND, each in parentheses so OR inside one cannot leak out."""
    parts = [c for c in clauses if c]
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({c})" for c in parts)


def any_of(*clauses: str) -> str:
    parts = [c for c in clauses if c]
    if len(parts) == 1:
        return parts[0]
    return " OR ".join(f"({c})" for c in parts)


def order_by(query: str, *fields: str) -> str:
    """``query ORDER BY f1, f2``; a field may end in `` ASC`` or `` DESC``."""
    return f"{query} ORDER BY {', '.join(fields)}"
