"""Every log event the worker emits is documented in docs/log-events.md, and nothing more.

Event names are found by parsing worker/**/*.py with ``ast``: calls such as
``log.info("recovery.opened", ...)`` on a logger obtained from ``get_logger(...)``
(directly, through ``.bind(...)``, or kept on ``self``). A name need not be written out at
the call: it may be a module constant, a local variable or parameter given literal values,
a concatenation or f-string of those, or a field of a class built with literal values
(``log.warning(alert.kind)`` with ``Alert(kind=OVERDUE)`` somewhere in worker/).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "worker"
DOC = ROOT / "docs" / "log-events.md"

LEVELS = {
    "debug": "debug",
    "info": "info",
    "msg": "info",
    "warning": "warning",
    "warn": "warning",
    "error": "error",
    "exception": "error",
    "critical": "critical",
    "fatal": "critical",
}
LOGGER_FACTORIES = {"get_logger"}
#: Functions that log the event they are given, by the position of its argument: the steps'
#: failure handler logs a warning or an error by the kind of failure.
EVENT_FORWARDERS = {"failed": 2}
LOGGER_DERIVATIONS = {"bind", "new", "unbind", "try_unbind", "opt"}
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
DOC_HEADING = re.compile(r"^#{2,4}\s+`([^`]+)`\s*$", re.MULTILINE)


@dataclass
class Emission:
    """One place where an event is logged."""

    event: str
    level: str
    where: str
    fields: list[str] = field(default_factory=list)


@dataclass
class Scan:
    """What the scan of the source found."""

    emissions: list[Emission] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)

    def events(self) -> set[str]:
        return {e.event for e in self.emissions}


def _target_key(node: ast.expr) -> str | None:
    """A name for an assignment target or a receiver: ``log``, ``self.log``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _callee_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _annotation_name(annotation: ast.expr | None) -> str | None:
    """The class an annotation names: ``Alert``, ``"Alert"``, ``alerts.Alert``."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value.rsplit(".", 1)[-1]
    if isinstance(annotation, ast.Name | ast.Attribute):
        return _callee_name(annotation)
    return None


Function = ast.FunctionDef | ast.AsyncFunctionDef
Rebinding = ast.AugAssign | ast.NamedExpr | ast.For | ast.AsyncFor | ast.comprehension
Values = list[str] | None  # None: the value cannot be known from the source
MAX_VALUES = 200


def _join(left: Values, right: Values) -> Values:
    if left is None or right is None or len(left) * len(right) > MAX_VALUES:
        return None
    return [a + b for a in left for b in right]


class _Project:
    """What modules tell about each other: class fields, and the calls that build classes."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.calls: dict[str, list[tuple[_ModuleScanner, ast.Call]]] = {}

    def add(self, scanner: _ModuleScanner) -> None:
        for node in ast.walk(scanner.tree):
            if isinstance(node, ast.ClassDef):
                names = [
                    stmt.target.id
                    for stmt in node.body
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                ]
                self.fields.setdefault(node.name, names)
            elif isinstance(node, ast.Call):
                name = _callee_name(node.func)
                if name and name[:1].isupper():
                    self.calls.setdefault(name, []).append((scanner, node))

    def field_values(self, cls: str, name: str, seen: frozenset[int]) -> Values:
        """Every value given to field ``name`` where ``cls`` is built, when all are literal."""
        fields = self.fields.get(cls, [])
        found: list[str] = []
        for scanner, call in self.calls.get(cls, []):
            argument: ast.expr | None = None
            if name in fields and fields.index(name) < len(call.args):
                argument = call.args[fields.index(name)]
            for keyword in call.keywords:
                if keyword.arg == name:
                    argument = keyword.value
                elif keyword.arg is None:
                    return None  # Alert(**kwargs): cannot tell
            if argument is None:
                continue  # the field keeps its default, which is not an event name
            values = scanner.values(argument, seen)
            if values is None:
                return None
            found += values
        return found or None


class _ModuleScanner:
    """Finds the loggers of one module, then the events logged on them."""

    def __init__(self, tree: ast.Module, relpath: str, project: _Project) -> None:
        self.tree = tree
        self.relpath = relpath
        self.project = project
        self.loggers: set[str] = set()
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        self.constants: dict[str, ast.expr] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target, value = stmt.targets[0], stmt.value
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                target, value = stmt.target, stmt.value
            else:
                continue
            if isinstance(target, ast.Name):
                self.constants[target.id] = value
        self._find_loggers()
        project.add(self)

    def _is_logger(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Call):
            name = _callee_name(node.func)
            if name in LOGGER_FACTORIES:
                return True
            if name in LOGGER_DERIVATIONS and isinstance(node.func, ast.Attribute):
                return self._is_logger(node.func.value)
            return False
        key = _target_key(node)
        return key is not None and key in self.loggers

    def _bound_fields(self, node: ast.expr, depth: int = 0) -> set[str]:
        """Keys bound on a logger by ``get_logger(...)`` and ``.bind(...)`` on its way here."""
        if depth > 10:
            return set()
        if isinstance(node, ast.Call):
            given = {k.arg for k in node.keywords if k.arg}
            if isinstance(node.func, ast.Attribute) and _callee_name(node.func) != "get_logger":
                given |= self._bound_fields(node.func.value, depth + 1)
            return given
        key = _target_key(node)
        function = self._function_of(node)
        keys: set[str] = set()
        for scope in (function, self.tree) if function else (self.tree,):
            for assign in ast.walk(scope):
                if isinstance(assign, ast.Assign) and any(
                    _target_key(t) == key for t in assign.targets
                ):
                    keys |= self._bound_fields(assign.value, depth + 1)
            if keys:
                break
        return keys

    def _find_loggers(self) -> None:
        changed = True
        while changed:
            changed = False
            for node in ast.walk(self.tree):
                pairs: list[tuple[ast.expr, ast.expr]] = []
                if isinstance(node, ast.Assign):
                    pairs = [(t, node.value) for t in node.targets]
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    pairs = [(node.target, node.value)]
                for target, value in pairs:
                    key = _target_key(target)
                    if key and key not in self.loggers and self._is_logger(value):
                        self.loggers.add(key)
                        changed = True

    def _function_of(self, node: ast.AST) -> Function | None:
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
                return current
            current = self.parents.get(current)
        return None

    def values(self, node: ast.expr, seen: frozenset[int] = frozenset()) -> Values:
        """The string values an expression can take, when the source tells them all."""
        if id(node) in seen:
            return None
        seen = seen | {id(node)}
        if isinstance(node, ast.Constant):
            return [node.value] if isinstance(node.value, str) else None
        if isinstance(node, ast.IfExp):
            body, orelse = self.values(node.body, seen), self.values(node.orelse, seen)
            return body + orelse if body is not None and orelse is not None else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _join(self.values(node.left, seen), self.values(node.right, seen))
        if isinstance(node, ast.JoinedStr):
            joined: Values = [""]
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    if part.format_spec is not None or part.conversion != -1:
                        return None
                    joined = _join(joined, self.values(part.value, seen))
                else:
                    joined = _join(joined, self.values(part, seen))
            return joined
        if isinstance(node, ast.Name):
            return self._name_values(node, seen)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            cls = self._class_of(node.value)
            return self.project.field_values(cls, node.attr, seen) if cls else None
        return None

    def _name_values(self, node: ast.Name, seen: frozenset[int]) -> Values:
        function = self._function_of(node)
        if function is not None:
            if node.id in self._parameters(function):
                return self._passed_to(function, node.id, seen)
            assigned = self._local_assignments(function, node.id)
            if assigned:
                found: list[str] = []
                for value in assigned:
                    values = self.values(value, seen) if value is not None else None
                    if values is None:
                        return None
                    found += values
                return found
        if node.id in self.constants:
            return self.values(self.constants[node.id], seen)
        return None

    @staticmethod
    def _parameters(function: Function) -> list[str]:
        args = function.args
        return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]

    @staticmethod
    def _local_assignments(function: Function, name: str) -> list[ast.expr | None]:
        """What ``name`` is set to in the function; None for a value that cannot be read."""

        def binds(target: ast.AST) -> bool:
            return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target))

        found: list[ast.expr | None] = []
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        found.append(node.value)
                    elif binds(target):
                        found.append(None)  # unpacked from a tuple
            elif isinstance(node, ast.AnnAssign) and binds(node.target):
                found.append(node.value)
            elif isinstance(node, ast.withitem):
                if node.optional_vars is not None and binds(node.optional_vars):
                    found.append(None)
            elif isinstance(node, Rebinding) and binds(node.target):
                found.append(None)  # augmented, walrus, or a loop variable
        return found

    def _class_of(self, name: ast.Name) -> str | None:
        function = self._function_of(name)
        if function is None:
            return None
        args = function.args
        for arg in args.posonlyargs + args.args + args.kwonlyargs:
            if arg.arg == name.id:
                return _annotation_name(arg.annotation)
        return None

    def _passed_to(self, function: Function, name: str, seen: frozenset[int]) -> Values:
        """Event names given to the parameter ``name`` by the function's callers in this module."""
        params = [a.arg for a in function.args.posonlyargs + function.args.args]
        offset = 1 if params and params[0] in ("self", "cls") else 0
        position = params.index(name) - offset if name in params else None
        found: list[str] = []
        callers = 0
        for node in ast.walk(self.tree):
            if not (isinstance(node, ast.Call) and _callee_name(node.func) == function.name):
                continue
            callers += 1
            argument: ast.expr | None = None
            if position is not None and 0 <= position < len(node.args):
                argument = node.args[position]
            for keyword in node.keywords:
                if keyword.arg == name:
                    argument = keyword.value
            values = self.values(argument, seen) if argument is not None else None
            if values is None:
                return None
            found += values
        return found if callers else None

    def forwarded(self) -> Iterator[Emission | str]:
        """Events handed to a function that logs them (see EVENT_FORWARDERS)."""
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            position = EVENT_FORWARDERS.get(_callee_name(node.func) or "")
            if position is None or isinstance(node.func, ast.Attribute):
                continue
            where = f"{self.relpath}:{node.lineno}"
            if len(node.args) <= position:
                yield f"{where}: a failure handed on without an event name"
                continue
            values = self.values(node.args[position])
            if values is None:
                source = ast.unparse(node.args[position])
                yield f"{where}: the event name cannot be read from the source ({source})"
                continue
            fields = sorted({k.arg for k in node.keywords if k.arg and k.arg != "logger"})
            for value in values:
                yield Emission(value, "warning or error", where, ["detail", "error", *fields])

    def emissions(self) -> Iterator[Emission | str]:
        yield from self.forwarded()
        for node in ast.walk(self.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            level = LEVELS.get(node.func.attr)
            if level is None or not self._is_logger(node.func.value):
                continue
            where = f"{self.relpath}:{node.lineno}"
            argument: ast.expr | None = node.args[0] if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "event":
                    argument = keyword.value
            if argument is None:
                yield f"{where}: a log call without an event name"
                continue
            values = self.values(argument)
            if values is None:
                source = ast.unparse(argument)
                yield f"{where}: the event name cannot be read from the source ({source})"
                continue
            fields = sorted(
                {k.arg or f"**{ast.unparse(k.value)}" for k in node.keywords if k.arg != "event"}
                | self._bound_fields(node.func.value)
            )
            for value in values:
                yield Emission(value, level, where, fields)


def _scan_modules(modules: list[tuple[str, str]]) -> Scan:
    """Scan (relative path, source) pairs together, so that one may build another's classes."""
    project = _Project()
    scanners = [
        _ModuleScanner(ast.parse(text, filename=rel), rel, project) for rel, text in modules
    ]
    scan = Scan()
    for scanner in scanners:
        for found in scanner.emissions():
            if isinstance(found, Emission):
                scan.emissions.append(found)
            else:
                scan.unresolved.append(found)
    return scan


def scan_source(root: Path = SOURCE) -> Scan:
    """Every event logged by the modules under ``root``."""
    return _scan_modules(
        [
            (path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))
            for path in sorted(root.rglob("*.py"))
        ]
    )


def documented_events(text: str) -> set[str]:
    """Event names of the doc: each has a heading of its own, the name in backquotes."""
    return set(DOC_HEADING.findall(text))


def _scan_snippet(source: str) -> Scan:
    return _scan_modules([("snippet.py", source)])


def test_the_scanner_finds_events_on_every_kind_of_logger() -> None:
    """Module loggers, bound loggers, loggers on self and direct calls are all seen."""
    scan = _scan_snippet(
        "from worker.logs import get_logger\n"
        "log = get_logger()\n"
        "NAME = 'a.constant'\n"
        "log.info('a.info', x=1)\n"
        "log.exception(event='a.keyword')\n"
        "get_logger(k=1).warning('a.direct')\n"
        "def f(key):\n"
        "    bound = log.bind(key=key)\n"
        "    bound.error('a.bound')\n"
        "    bound.debug(NAME if key else 'a.other')\n"
        "class C:\n"
        "    def __init__(self):\n"
        "        self.log = get_logger().bind(c=1)\n"
        "    def g(self):\n"
        "        self.log.critical('a.self')\n"
        "    def emit(self, event):\n"
        "        self.log.info(event)\n"
        "    def h(self):\n"
        "        self.emit('a.passed')\n"
        "parser.error('not.a.logger')\n"
        "logging_like = object()\n"
        "logging_like.info('not.a.logger.either')\n"
    )
    assert scan.events() == {
        "a.info",
        "a.keyword",
        "a.direct",
        "a.bound",
        "a.constant",
        "a.other",
        "a.self",
        "a.passed",
    }
    assert scan.unresolved == []
    levels = {e.event: e.level for e in scan.emissions}
    assert levels["a.keyword"] == "error"
    assert levels["a.self"] == "critical"
    assert next(e for e in scan.emissions if e.event == "a.info").fields == ["x"]


def test_the_scanner_sees_events_handed_to_the_failure_handler() -> None:
    scan = _scan_snippet(
        "from worker.steps import failed\n"
        "EVENT = 'c.constant'\n"
        "def step(services, exc):\n"
        "    failed(services, 'step', 'c.failed', exc, recovery_id=1)\n"
        "    failed(services, 'step', EVENT, exc)\n"
        "    services.failed(1, 2, 'not.an.event')\n"
    )
    assert scan.unresolved == []
    assert scan.events() == {"c.failed", "c.constant"}
    found = next(e for e in scan.emissions if e.event == "c.failed")
    assert found.fields == ["detail", "error", "recovery_id"]


def test_the_scanner_follows_names_built_from_literals() -> None:
    """Local variables, concatenations, f-strings and fields of built classes are resolved."""
    scan = _scan_modules(
        [
            (
                "alerts.py",
                "from dataclasses import dataclass\n"
                "OVERDUE = 'b.overdue'\n"
                "@dataclass\n"
                "class Alert:\n"
                "    kind: str\n"
                "    message: str = ''\n"
                "def late():\n"
                "    return Alert(OVERDUE)\n",
            ),
            (
                "steps.py",
                "from worker.logs import get_logger\n"
                "from alerts import Alert\n"
                "log = get_logger()\n"
                "def send(alert: Alert) -> None:\n"
                "    log.warning(alert.kind, message=alert.message)\n"
                "def missing():\n"
                "    return Alert(kind='b.missing')\n"
                "def change(new):\n"
                "    what = 'created' if new else 'kept'\n"
                "    log.info('b.' + what)\n"
                "    log.info(f'b.{what}.again')\n",
            ),
        ]
    )
    assert scan.unresolved == []
    assert scan.events() == {
        "b.overdue",
        "b.missing",
        "b.created",
        "b.kept",
        "b.created.again",
        "b.kept.again",
    }


def test_the_scanner_reports_event_names_it_cannot_read() -> None:
    """A computed event name cannot be documented, so it is reported."""
    scan = _scan_snippet(
        "from worker.logs import get_logger\n"
        "log = get_logger()\n"
        "def f(kind):\n"
        "    log.info(f'x.{kind}', n=kind)\n"
    )
    assert scan.events() == set()
    assert len(scan.unresolved) == 1
    assert scan.unresolved[0].startswith("snippet.py:4: the event name cannot be read")


def test_the_doc_lists_events_by_heading() -> None:
    """Only backquoted headings count as documented events."""
    text = "# Log events\n\n## Worker\n\n### `worker.started`\n\nsee `worker.stopped`\n"
    assert documented_events(text) == {"worker.started"}


@pytest.fixture(scope="module")
def scan() -> Scan:
    return scan_source()


def test_every_event_name_is_a_literal_dotted_name(scan: Scan) -> None:
    """Event names are literal, lower-case and dotted, so they can be documented and searched."""
    badly_named = sorted(
        f"{e.where}: {e.event!r}" for e in scan.emissions if not EVENT_NAME.match(e.event)
    )
    problems = scan.unresolved + badly_named
    assert not problems, "log events that cannot be documented:\n  " + "\n  ".join(problems)


def test_every_emitted_event_is_documented(scan: Scan) -> None:
    """A new event gets its own heading in docs/log-events.md."""
    documented = documented_events(DOC.read_text(encoding="utf-8"))
    missing = sorted(
        {f"{e.event} ({e.where})" for e in scan.emissions if e.event not in documented}
    )
    assert not missing, "events missing from docs/log-events.md:\n  " + "\n  ".join(missing)


def test_every_documented_event_is_still_emitted(scan: Scan) -> None:
    """An event the worker no longer logs is taken out of docs/log-events.md."""
    documented = documented_events(DOC.read_text(encoding="utf-8"))
    stale = sorted(documented - scan.events())
    assert not stale, "documented events no longer emitted:\n  " + "\n  ".join(stale)
