"""Atlassian's OpenAPI specs as a contract: check Jira requests and responses against them.

The sandbox tests switch this on for every exchange (`ContractRecorder`), and adapter unit tests
can call `check_request` / `check_response` on the payloads they stub. Specs are loaded once
per process; compiled validators are cached per schema location. The Cloud spec is in
tests/data; the Data Center spec may not be redistributed and is looked up as
tests/support/data.py says.

Where a spec is known to be wrong about what Jira does, the exception is written out below,
narrowly, with the reason.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.support.data import CLOUD_SPEC, require_dc_spec
from worker.sandbox import Exchange

Dialect = Literal["cloud", "datacenter"]
# The Data Center spec's servers entry ends in /rest; its paths start at /api/2.
PATH_PREFIX = {"cloud": "", "datacenter": "/rest"}
URI = "urn:jira-openapi:{dialect}"


class ContractViolation(AssertionError):
    """A request or response does not match the published Jira spec."""


@dataclass(frozen=True)
class Operation:
    path: str  # the spec's path key
    method: str
    pattern: re.Pattern[str]


def require_specs(*dialects: Dialect) -> None:
    """Check that the specs of these dialects are here, before a sandbox checks against them.

    A missing Data Center spec skips the test (fails it under CI=true) with the way to get
    it; the Cloud spec is part of the repository, so its absence always fails.
    """
    for dialect in dialects:
        _spec_path(dialect)


def _spec_path(dialect: Dialect) -> Path:
    if dialect == "datacenter":
        return require_dc_spec()
    if not CLOUD_SPEC.is_file():
        pytest.fail(f"vendored Jira Cloud spec missing: {CLOUD_SPEC}", pytrace=False)
    return CLOUD_SPEC


@cache
def load_spec(dialect: Dialect) -> dict[str, Any]:
    """The parsed OpenAPI document for a dialect (a missing one skips or fails the test)."""
    path = _spec_path(dialect)
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@cache
def _registry(dialect: Dialect) -> Registry[Any]:
    resource = Resource.from_contents(load_spec(dialect), default_specification=DRAFT4)
    registry: Registry[Any] = Registry().with_resource(URI.format(dialect=dialect), resource)
    return registry


@cache
def _operations(dialect: Dialect) -> tuple[Operation, ...]:
    """Every operation, literal paths before templated ones so /issue/bulk beats /issue/{id}."""
    prefix = PATH_PREFIX[dialect]
    found = []
    for path, item in load_spec(dialect)["paths"].items():
        regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(prefix + path))
        for method in item:
            if method in ("get", "post", "put", "delete", "patch"):
                found.append(Operation(path, method.upper(), re.compile(f"^{regex}$")))
    found.sort(key=lambda op: op.path.count("{"))
    return tuple(found)


def find_operation(dialect: Dialect, method: str, path: str) -> Operation:
    for operation in _operations(dialect):
        if operation.method == method and operation.pattern.match(path):
            return operation
    raise ContractViolation(f"{method} {path} is not an operation of the {dialect} spec")


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@cache
def _validator(dialect: Dialect, pointer: str, write: bool) -> Any:
    schema = {"$ref": f"{URI.format(dialect=dialect)}#/{pointer}"}
    kind = OAS30WriteValidator if write else OAS30ReadValidator
    return kind(schema, registry=_registry(dialect))


def _errors(dialect: Dialect, pointer: str, value: Any, *, write: bool) -> Iterator[Any]:
    yield from _validator(dialect, pointer, write).iter_errors(value)


def _describe(error: Any) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"at {where}: {error.message[:300]}"


def check_request(dialect: Dialect, method: str, path: str, body: Any) -> None:
    """Raise ContractViolation if a request body does not match the spec's request schema."""
    operation = find_operation(dialect, method, path)
    item = load_spec(dialect)["paths"][operation.path][method.lower()]
    content = item.get("requestBody", {}).get("content", {})
    if body is None:
        if item.get("requestBody", {}).get("required") and content:
            raise ContractViolation(f"{method} {path}: the spec requires a request body")
        return
    if "application/json" not in content:
        raise ContractViolation(f"{method} {path}: the spec takes no JSON body")
    body = _request_exceptions(dialect, operation, body)
    pointer = _pointer(
        "paths",
        operation.path,
        method.lower(),
        "requestBody",
        "content",
        "application/json",
        "schema",
    )
    problems = [_describe(e) for e in _errors(dialect, pointer, body, write=True)]
    if problems:
        raise ContractViolation(f"request {method} {path}: " + "; ".join(problems[:5]))


def check_query(dialect: Dialect, method: str, path: str, query: dict[str, list[str]]) -> None:
    """Raise ContractViolation for a query parameter the operation does not declare.

    Jira ignores unknown parameters, so a misspelt one would silently do nothing.
    """
    operation = find_operation(dialect, method, path)
    item = load_spec(dialect)["paths"][operation.path]
    declared = {
        p["name"]
        for p in item.get("parameters", []) + item[method.lower()].get("parameters", [])
        if p.get("in") == "query"
    }
    unknown = sorted(set(query) - declared)
    if unknown:
        raise ContractViolation(f"{method} {path}: undeclared query parameters {unknown}")


def check_response(dialect: Dialect, method: str, path: str, status: int, body: Any) -> None:
    """Raise ContractViolation if a response does not match the spec for that status."""
    operation = find_operation(dialect, method, path)
    responses = load_spec(dialect)["paths"][operation.path][method.lower()].get("responses", {})
    key = str(status) if str(status) in responses else "default"
    if (dialect, operation.path, status) == ("datacenter", "/api/2/issue/bulk", 400):
        # Data Center answers a bulk create where every item failed with the same body as a
        # partial success (issues and errors); its spec leaves the 400 body untyped.
        key = "201"
    if key not in responses:
        if status in (401, 404, 429, 500, 502, 503) or status in _UNDOCUMENTED_STATUS.get(
            (dialect, operation.path, method), ()
        ):
            # Jira's error shape, which the specs leave out for these statuses.
            _check_error_collection(dialect, method, path, body)
            return
        raise ContractViolation(f"{method} {path}: status {status} is not in the spec")
    content = responses[key].get("content", {})
    if "application/json" not in content or "schema" not in content["application/json"]:
        if status >= 400:
            _check_error_collection(dialect, method, path, body)
        elif body is not None and content == {}:
            raise ContractViolation(f"{method} {path}: {status} should have no body, got {body!r}")
        return
    pointer = _pointer(
        "paths",
        operation.path,
        method.lower(),
        "responses",
        key,
        "content",
        "application/json",
        "schema",
    )
    body = _null_changes_as_empty(body)
    for schema_pointer, value in _response_exceptions(dialect, operation, method, pointer, body):
        problems = [_describe(e) for e in _errors(dialect, schema_pointer, value, write=False)]
        if problems:
            raise ContractViolation(
                f"response {method} {path} {status}: " + "; ".join(problems[:5])
            )


def _null_changes_as_empty(body: Any) -> Any:
    """Changelog items: Jira sends null for an empty from/to, the specs type them as strings."""
    if isinstance(body, list):
        return [_null_changes_as_empty(v) for v in body]
    if not isinstance(body, dict):
        return body
    if "fieldtype" in body and "field" in body:
        return {k: "" if v is None and k in _CHANGE_VALUES else v for k, v in body.items()}
    return {k: _null_changes_as_empty(v) for k, v in body.items()}


_CHANGE_VALUES = {"from", "to", "fromString", "toString"}


def _check_error_collection(dialect: Dialect, method: str, path: str, body: Any) -> None:
    pointer = _pointer("components", "schemas", "ErrorCollection")
    problems = [_describe(e) for e in _errors(dialect, pointer, body, write=False)]
    if not isinstance(body, dict) or "errorMessages" not in body or problems:
        raise ContractViolation(
            f"{method} {path}: error body is not Jira's ErrorCollection: {body!r}"
        )


# --- known spec mistakes -------------------------------------------------------

# The Cloud spec lists no 410 for the removed /search; Cloud answers it with an ErrorCollection.
_UNDOCUMENTED_STATUS: dict[tuple[str, str, str], tuple[int, ...]] = {
    ("cloud", "/rest/api/3/search", "GET"): (410,),
    ("cloud", "/rest/api/3/search", "POST"): (410,),
}

# Data Center list endpoints that return a JSON array of what the spec types as a single object.
_DC_ARRAYS = {
    "/api/2/field",
    "/api/2/priority",
    "/api/2/status",
    "/api/2/resolution",
    "/api/2/user/search",
}


# Data Center createmeta pages, typed in the spec as one element of the page.
_DC_PAGES = {
    "/api/2/issue/createmeta/{projectIdOrKey}/issuetypes",
    "/api/2/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
}


def _request_exceptions(dialect: Dialect, operation: Operation, body: Any) -> Any:
    """Requests Jira accepts that the spec refuses; return the body to validate."""
    if (
        operation.path.endswith("/issueLink")
        and isinstance(body, dict)
        and body.get("comment") is None
    ):
        # The jira client always sends "comment": null; Jira treats it as no comment.
        body = {k: v for k, v in body.items() if k != "comment"}
    if operation.path.endswith(("/search", "/search/jql")) and isinstance(body, dict):
        # The jira client sends null for options it leaves unset; Jira reads null as absent.
        body = {k: v for k, v in body.items() if v is not None}
    if operation.path.endswith("/transitions") and isinstance(body, dict):
        transition = body.get("transition")
        if isinstance(transition, dict) and isinstance(transition.get("id"), int):
            # The jira client sends the transition id as a number; Jira accepts either.
            body = {**body, "transition": {**transition, "id": str(transition["id"])}}
    if dialect == "datacenter" and isinstance(body, dict):
        # The spec types every value of `fields` as an object; Jira takes strings, lists and
        # nulls for summary, description, labels, duedate and the like.
        body = _objects_only(body)
        if isinstance(body.get("issueUpdates"), list):
            body = {**body, "issueUpdates": [_objects_only(u) for u in body["issueUpdates"]]}
    if dialect == "datacenter" and operation.path.endswith("/properties/{propertyKey}"):
        # The spec types a property value as a string; Jira stores any JSON value.
        body = json.dumps(body)
    return body


# Issue fields: the Cloud spec types `fields` as a bare object, the Data Center spec as a map of
# objects (wrong for strings, lists and nulls). Both are checked field by field instead: system
# fields against their own schemas, plain values by type.
_FIELD_SCHEMAS = {
    "cloud": {
        "status": "StatusDetails",
        "priority": "Priority",
        "issuetype": "IssueTypeDetails",
        "project": "ProjectDetails",
        "resolution": "Resolution",
        "assignee": "UserDetails",
        "reporter": "UserDetails",
        "comment": "PageOfComments",
    },
    "datacenter": {
        "status": "StatusJsonBean",
        "priority": "PriorityJsonBean",
        "issuetype": "IssueTypeJsonBean",
        "project": "ProjectJsonBean",
        "resolution": "ResolutionJsonBean",
        "assignee": "UserJsonBean",
        "reporter": "UserJsonBean",
        "comment": "CommentsWithPaginationJsonBean",
    },
}
_ISSUE_BEARERS = {"3/issue/{issueIdOrKey}", "2/issue/{issueIdOrKey}", "3/search/jql", "2/search"}
_NULLABLE_FIELDS = {"resolution", "assignee", "resolutiondate", "duedate", "description"}
_STRING_FIELDS = {"summary", "created", "updated", "resolutiondate", "duedate"}


def _issue_fields(dialect: Dialect, fields: Any) -> Iterator[tuple[str, Any]]:
    if not isinstance(fields, dict):
        raise ContractViolation(f"issue fields are not an object: {fields!r}")
    for name, value in fields.items():
        if value is None:
            if name not in _NULLABLE_FIELDS:
                raise ContractViolation(f"issue field {name} is null")
            continue
        if name in _FIELD_SCHEMAS[dialect]:
            yield _pointer("components", "schemas", _FIELD_SCHEMAS[dialect][name]), value
        elif name in _STRING_FIELDS and not isinstance(value, str):
            raise ContractViolation(f"issue field {name} is not a string: {value!r}")
        elif name == "description" and not _rich_text_of(dialect, value):
            # Neither spec types rich text; v3 carries ADF documents, v2 wiki-markup strings.
            raise ContractViolation(f"description is not {dialect} rich text: {value!r}")
        elif name == "labels" and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise ContractViolation(f"labels are not a list of strings: {value!r}")


def _rich_text_of(dialect: Dialect, value: Any) -> bool:
    if dialect == "datacenter":
        return isinstance(value, str)
    return isinstance(value, dict) and value.get("type") == "doc" and value.get("version") == 1


def _issue_beans(dialect: Dialect, pointer: str, body: Any) -> Iterator[tuple[str, Any]]:
    """Split issue beans into the bean without fields and each field value, for one body."""
    if dialect == "datacenter":
        # Validate the bean with its fields emptied; the fields are checked one by one.
        if "issues" in body:
            yield pointer, {**body, "issues": [{**i, "fields": {}} for i in body["issues"]]}
        else:
            yield pointer, {**body, "fields": {}}
    else:
        yield pointer, body
    for issue in body.get("issues", [body]):
        yield from _issue_fields(dialect, issue.get("fields", {}))


def _objects_only(update: Any) -> Any:
    if not isinstance(update, dict):
        return update
    if isinstance(update.get("properties"), list):
        # EntityPropertyBean types a property value as a string; Jira takes any JSON value.
        update = {**update, "properties": [
            {**p, "value": json.dumps(p.get("value"))} if isinstance(p, dict) else p
            for p in update["properties"]
        ]}  # fmt: skip
    if not isinstance(update.get("fields"), dict):
        return update
    fields = {k: v for k, v in update["fields"].items() if isinstance(v, dict)}
    return {**update, "fields": fields}


def _response_exceptions(
    dialect: Dialect, operation: Operation, method: str, pointer: str, body: Any
) -> Iterator[tuple[str, Any]]:
    """(schema pointer, value) pairs to validate for one response."""
    if dialect == "datacenter" and operation.path in _DC_ARRAYS and method == "GET":
        if not isinstance(body, list):
            raise ContractViolation(f"{operation.path} should answer a JSON array")
        for element in body:
            yield pointer, element
        return
    if dialect == "datacenter" and operation.path in _DC_PAGES:
        # A page ({"values": [...]}) of what the spec types as a single element.
        page = dict(body)
        for element in page.pop("values", []):
            yield pointer, element
        for name in ("startAt", "maxResults", "total"):
            if not isinstance(page.pop(name, 0), int):
                raise ContractViolation(f"{operation.path}: {name} is not an integer")
        return
    if (
        dialect == "datacenter"
        and operation.path == "/api/2/issue/{issueIdOrKey}/properties/{propertyKey}"
    ):
        # The value of a property is any JSON, not the string the spec says.
        yield pointer, {**body, "value": json.dumps(body.get("value"))}
        return
    if operation.path.split("/api/")[-1] in _ISSUE_BEARERS and method in ("GET", "POST"):
        yield from _issue_beans(dialect, pointer, body)
        return
    yield pointer, body


@dataclass
class ContractRecorder:
    """An exchange hook for the sandbox: checks every exchange and keeps what failed."""

    checked: int = 0
    failures: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, exchange: Exchange) -> None:
        if exchange.path.startswith("/_sandbox/") or exchange.template is None:
            return
        try:
            if exchange.accepted:
                check_query(exchange.dialect, exchange.method, exchange.path, exchange.query)
                check_request(
                    exchange.dialect, exchange.method, exchange.path, exchange.request_body
                )
            check_response(
                exchange.dialect,
                exchange.method,
                exchange.path,
                exchange.status,
                exchange.response_body,
            )
        except ContractViolation as exc:
            with self._lock:
                self.failures.append(str(exc))
            raise
        finally:
            with self._lock:
                self.checked += 1
