"""A parser and evaluator for the part of JQL the worker sends.

Anything outside that part raises `JqlError`, which the server answers with Jira's 400,
so a query the sandbox does not understand never returns a silently wrong result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "EMPTY", "NULL", "ORDER", "BY", "ASC", "DESC"}
OPERATORS = ("!=", ">=", "<=", "!~", "=", "~", ">", "<")
RELATIVE = re.compile(r"^([-+]?)(\d+)([wdhm])$")
ABSOLUTE = re.compile(r"^(\d{4})[-/](\d{2})[-/](\d{2})(?: (\d{2}):(\d{2}))?$")
UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
}


class JqlError(ValueError):
    """The query is malformed or uses something the sandbox does not implement."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "op", "(", ")", ","
    text: str
    position: int


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(query):
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "(),":
            tokens.append(Token(char, char, i))
            i += 1
        elif char in "\"'":
            start, i, text = i, i + 1, []
            while True:
                if i >= len(query):
                    raise JqlError(
                        f"Error in the JQL Query: unterminated quote (character {start + 1})."
                    )
                if query[i] == "\\" and i + 1 < len(query):
                    escaped = query[i + 1]
                    text.append({"n": "\n", "t": "\t", "r": "\r"}.get(escaped, escaped))
                    i += 2
                elif query[i] == char:
                    i += 1
                    break
                else:
                    text.append(query[i])
                    i += 1
            tokens.append(Token("string", "".join(text), start))
        else:
            for op in OPERATORS:
                if query.startswith(op, i):
                    tokens.append(Token("op", op, i))
                    i += len(op)
                    break
            else:
                match = re.compile(r"[^\s(),=!~<>\"']+").match(query, i)
                if match is None:
                    raise JqlError(
                        f"Error in the JQL Query: the character '{char}' is a reserved JQL "
                        f"character (line 1, character {i + 1})."
                    )
                tokens.append(Token("word", match.group(), i))
                i = match.end()
    return tokens


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str  # "=", "!=", "~", "!~", ">", ">=", "<", "<=", "in", "not in", "is", "is not"
    values: tuple[str | None, ...]  # None stands for EMPTY


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class BoolOp:
    operator: str  # "and" | "or"
    parts: tuple[Node, ...]


Node = Clause | Not | BoolOp


@dataclass(frozen=True)
class Query:
    where: Node | None
    order_by: tuple[tuple[str, bool], ...] = field(default=())  # (field, descending)


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        """Consume the keywords if they come next (case-insensitive)."""
        for offset, word in enumerate(words):
            token = self.tokens[self.i + offset] if self.i + offset < len(self.tokens) else None
            if token is None or token.kind != "word" or token.text.upper() != word:
                return False
        self.i += len(words)
        return True

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise JqlError("Error in the JQL Query: the query ended unexpectedly.")
        self.i += 1
        return token

    def parse(self) -> Query:
        where = None
        token = self.peek()
        if token is not None and not (token.kind == "word" and token.text.upper() == "ORDER"):
            where = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.keyword("ORDER"):
            if not self.keyword("BY"):
                raise JqlError("Error in the JQL Query: expecting 'BY' after 'ORDER'.")
            while True:
                name = self.take()
                if name.kind not in ("word", "string"):
                    raise JqlError(
                        f"Error in the JQL Query: expecting a field name but got '{name.text}'."
                    )
                descending = self.keyword("DESC")
                if not descending:
                    self.keyword("ASC")
                order.append((name.text.lower(), descending))
                if not (self.peek() and self.peek().kind == ","):  # type: ignore[union-attr]
                    break
                self.i += 1
        rest = self.peek()
        if rest is not None:
            raise JqlError(
                f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{rest.text}'. "
                f"(line 1, character {rest.position + 1})"
            )
        return Query(where, tuple(order))

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.keyword("OR"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.not_expr()]
        while self.keyword("AND"):
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def not_expr(self) -> Node:
        token = self.peek()
        if self.keyword("NOT"):
            return Not(self.not_expr())
        if token is not None and token.kind == "(":
            self.i += 1
            inner = self.or_expr()
            closing = self.take()
            if closing.kind != ")":
                raise JqlError(f"Error in the JQL Query: expecting ')' but got '{closing.text}'.")
            return inner
        return self.clause()

    def clause(self) -> Clause:
        name = self.take()
        if name.kind not in ("word", "string") or name.text.upper() in KEYWORDS:
            raise JqlError(
                f"Error in the JQL Query: Expecting a field name but got '{name.text}'. "
                f"(line 1, character {name.position + 1})"
            )
        if self.peek() is not None and self.peek().kind == "(":  # type: ignore[union-attr]
            raise JqlError(
                f"Error in the JQL Query: the function '{name.text}' is not supported here."
            )
        field_name = name.text.lower()
        if self.keyword("NOT", "IN"):
            return Clause(field_name, "not in", self.value_list())
        if self.keyword("IN"):
            return Clause(field_name, "in", self.value_list())
        if self.keyword("IS", "NOT"):
            self.empty()
            return Clause(field_name, "is not", (None,))
        if self.keyword("IS"):
            self.empty()
            return Clause(field_name, "is", (None,))
        op = self.take()
        if op.kind != "op":
            raise JqlError(
                f"Error in the JQL Query: Expecting operator but got '{op.text}'. "
                f"(line 1, character {op.position + 1})"
            )
        return Clause(field_name, op.text, (self.value(),))

    def empty(self) -> None:
        if not (self.keyword("EMPTY") or self.keyword("NULL")):
            raise JqlError("Error in the JQL Query: expecting EMPTY or NULL after IS.")

    def value(self) -> str | None:
        token = self.take()
        if token.kind == "string":
            return token.text
        if token.kind != "word" or token.text.upper() in KEYWORDS - {"EMPTY", "NULL"}:
            raise JqlError(
                f"Error in the JQL Query: Expecting a value but got '{token.text}'. "
                f"(line 1, character {token.position + 1})"
            )
        if self.peek() is not None and self.peek().kind == "(":  # type: ignore[union-attr]
            raise JqlError(f"Error in the JQL Query: the function '{token.text}' is not supported.")
        if token.text.upper() in ("EMPTY", "NULL"):
            return None
        return token.text

    def value_list(self) -> tuple[str | None, ...]:
        if self.take().kind != "(":
            raise JqlError("Error in the JQL Query: expecting '(' after IN.")
        values = [self.value()]
        while True:
            token = self.take()
            if token.kind == ")":
                return tuple(values)
            if token.kind != ",":
                raise JqlError(
                    f"Error in the JQL Query: expecting ',' or ')' but got '{token.text}'."
                )
            values.append(self.value())


def parse(query: str) -> Query:
    """Parse a JQL string; raise JqlError for anything malformed or unsupported."""
    return _Parser(tokenize(query)).parse()


def parse_moment(value: str, now: datetime) -> datetime:
    """A JQL date value: relative ("-5m", "-1d") or absolute ("2026-01-02 10:00"), in UTC."""
    relative = RELATIVE.match(value.strip())
    if relative:
        sign, amount, unit = relative.groups()
        delta = UNITS[unit] * int(amount)
        return now - delta if sign == "-" else now + delta
    absolute = ABSOLUTE.match(value.strip())
    if absolute:
        year, month, day, hour, minute = absolute.groups()
        return datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=UTC
        )
    raise JqlError(
        f"Date value '{value}' for field is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )


# --- evaluation --------------------------------------------------------------

Getter = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class FieldSpec:
    """How one JQL field reads an issue: its kind decides which operators make sense."""

    kind: str  # "match" (names/ids), "list" (labels), "date", "text", "key"
    get: Getter
    empty_names: frozenset[str] = frozenset()  # values that mean EMPTY, e.g. "Unresolved"


def evaluate(
    node: Node | None, issue: Mapping[str, Any], fields: Mapping[str, FieldSpec], now: datetime
) -> bool:
    """Whether an issue (as flattened by the caller) matches the query."""
    if node is None:
        return True
    if isinstance(node, Not):
        return not evaluate(node.inner, issue, fields, now)
    if isinstance(node, BoolOp):
        results = (evaluate(part, issue, fields, now) for part in node.parts)
        return all(results) if node.operator == "and" else any(results)
    return _clause(node, issue, fields, now)


def check(node: Node | None, fields: Mapping[str, FieldSpec], now: datetime) -> None:
    """Reject unknown fields and operators a field does not support, before any issue is read."""
    if node is None:
        return
    if isinstance(node, Not):
        check(node.inner, fields, now)
        return
    if isinstance(node, BoolOp):
        for part in node.parts:
            check(part, fields, now)
        return
    spec = fields.get(node.field)
    if spec is None:
        raise JqlError(
            f"Field '{node.field}' does not exist or you do not have permission to view it."
        )
    allowed = {
        "match": {"=", "!=", "in", "not in", "is", "is not"},
        "list": {"=", "!=", "in", "not in", "is", "is not"},
        "date": {"=", "!=", ">", ">=", "<", "<=", "is", "is not", "in", "not in"},
        "text": {"~", "!~", "is", "is not"},
        "key": {"=", "!=", "in", "not in"},
    }[spec.kind]
    if node.operator not in allowed:
        raise JqlError(
            f"The operator '{node.operator}' is not supported by the '{node.field}' field."
        )
    if spec.kind == "date":
        for value in node.values:
            if value is not None:
                parse_moment(value, now)


def _clause(
    clause: Clause, issue: Mapping[str, Any], fields: Mapping[str, FieldSpec], now: datetime
) -> bool:
    spec = fields[clause.field]
    actual = spec.get(issue)
    op, values = clause.operator, clause.values
    if op in ("is", "is not"):
        empty = actual is None or actual in ([], "")
        return empty if op == "is" else not empty
    if spec.kind == "text":
        text = (actual or "").lower()
        found = all(_text_contains(text, term) for term in values if term is not None)
        return found if op == "~" else not found
    if spec.kind == "date":
        if actual is None:
            return False
        moments = [parse_moment(v, now) for v in values if v is not None]
        return _compare(op, actual, moments)
    candidates: Sequence[Any] = actual if spec.kind == "list" else [actual]
    names = {str(c).lower() for c in _flatten(candidates) if c is not None}
    wanted = {v.lower() for v in values if v is not None and v.lower() not in spec.empty_names}
    wants_empty = len(wanted) < len(values)
    hit = bool(names & wanted) or (wants_empty and not names)
    if op in ("=", "in"):
        return hit
    # As in Jira, != and NOT IN never match an empty field unless EMPTY is among the values.
    return not hit and (bool(names) or wants_empty)


def _flatten(values: Sequence[Any]) -> list[Any]:
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, tuple | list) else [value])
    return flat


def _compare(op: str, actual: datetime, moments: list[datetime]) -> bool:
    if op in ("in", "=", "not in", "!="):
        hit = actual in moments
        return hit if op in ("in", "=") else not hit
    moment = moments[0]
    return {
        ">": actual > moment,
        ">=": actual >= moment,
        "<": actual < moment,
        "<=": actual <= moment,
    }[op]


def _text_contains(text: str, term: str) -> bool:
    """Every word of the term appears in the text; a trailing '*' is a prefix match."""
    words = re.findall(r"[\w*]+", term.lower())
    if not words:
        return True
    haystack = set(re.findall(r"\w+", text))
    for word in words:
        if word.endswith("*"):
            if not any(h.startswith(word.rstrip("*")) for h in haystack):
                return False
        elif word not in haystack and word not in text:
            return False
    return True
