"""The Jira REST resources the sandbox implements, independent of HTTP.

Each handler takes a `Request` and returns a `Reply`; `server.py` does the wire. Both dialects
share one implementation and differ where Jira differs: rich text (ADF or wiki markup), user
identity (accountId or name), and search (`/search/jql` with tokens or `/search` with offsets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from worker.clock import Clock
from worker.domain.document import utf16_units
from worker.sandbox import jql
from worker.sandbox.faults import Faults
from worker.sandbox.render import Renderer, adf_text, is_adf, jira_time
from worker.sandbox.search import SearchIndex, make_token, read_token
from worker.sandbox.state import (
    DEFAULT_PRIORITY,
    ISSUE_TYPES,
    LINK_TYPES,
    PRIORITIES,
    PROJECTS,
    RESOLUTIONS,
    STATUSES,
    TRANSITIONS,
    USERS,
    Project,
    SandboxState,
    User,
    status_by_id,
    user_by_account,
)

BULK_LIMIT = 50
SUMMARY_LIMIT = 255
#: The comment property by which Service Management keeps a comment from the customer.
INTERNAL_PROPERTY = "sd.public.comment"
SEARCH_LIMIT = 100
REMOVED_SEARCH = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
ISSUE_MISSING = "Issue does not exist or you do not have permission to see it."
SETTABLE = {
    "summary",
    "description",
    "priority",
    "labels",
    "duedate",
    "assignee",
    "reporter",
    "parent",
}


@dataclass(frozen=True)
class Request:
    method: str
    params: dict[str, str]  # path parameters
    query: dict[str, list[str]]
    body: Any
    user: User

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Invalid(Exception):
    """A request Jira would refuse with 400 and this error collection."""

    def __init__(
        self,
        errors: dict[str, str] | None = None,
        messages: list[str] | None = None,
        status: int = 400,
    ) -> None:
        super().__init__(messages or errors)
        self.errors = errors or {}
        self.messages = messages or []
        self.status = status

    def reply(self) -> Reply:
        return Reply(self.status, {"errorMessages": self.messages, "errors": self.errors})


class JiraApi:
    """The resources; one instance per running sandbox."""

    def __init__(self, state: SandboxState, clock: Clock, faults: Faults, base_url: str) -> None:
        self.state = state
        self.clock = clock
        self.faults = faults
        self.render = Renderer(state, base_url)
        self.cloud = self.render.cloud
        self.version = self.render.version
        self.index = SearchIndex(state, clock, self.plain)

    def routes(self) -> list[tuple[str, str, Callable[[Request], Reply]]]:
        """(method, path template under /rest/api/N/, handler)."""
        table: list[tuple[str, str, Callable[[Request], Reply]]] = [
            ("GET", "serverInfo", self.server_info),
            ("GET", "myself", self.myself),
            ("GET", "user", self.get_user),
            ("GET", "user/search", self.search_users),
            ("GET", "project/{projectIdOrKey}", self.get_project),
            ("GET", "issue/createmeta/{projectIdOrKey}/issuetypes", self.createmeta_issuetypes),
            (
                "GET",
                "issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
                self.createmeta_fields,
            ),
            ("GET", "field", self.fields),
            ("GET", "priority", self.priorities),
            ("GET", "status", self.statuses),
            ("GET", "resolution", self.resolutions),
            ("GET", "issueLinkType", self.link_types),
            ("POST", "issue", self.create_issue),
            ("POST", "issue/bulk", self.bulk_create),
            ("GET", "issue/{issueIdOrKey}", self.get_issue),
            ("PUT", "issue/{issueIdOrKey}", self.edit_issue),
            ("GET", "issue/{issueIdOrKey}/comment", self.get_comments),
            ("GET", "issue/{issueIdOrKey}/changelog", self.changelog),
            ("POST", "issue/{issueIdOrKey}/comment", self.add_comment),
            ("GET", "issue/{issueIdOrKey}/transitions", self.get_transitions),
            ("POST", "issue/{issueIdOrKey}/transitions", self.do_transition),
            ("POST", "issueLink", self.link_issues),
            ("GET", "issue/{issueIdOrKey}/properties", self.property_keys),
            ("GET", "issue/{issueIdOrKey}/properties/{propertyKey}", self.get_property),
            ("PUT", "issue/{issueIdOrKey}/properties/{propertyKey}", self.set_property),
            ("DELETE", "issue/{issueIdOrKey}/properties/{propertyKey}", self.delete_property),
            ("GET", "search", self.search_offset),
            ("POST", "search", self.search_offset),
        ]
        if self.cloud:
            table += [
                ("GET", "search/jql", self.search_token),
                ("POST", "search/jql", self.search_token),
            ]
        return table

    # --- reference data -----------------------------------------------------

    def find_user(self, reference: Any) -> User:
        """A user from {"accountId": ...} on Cloud or {"name": ...} on Data Center."""
        if not isinstance(reference, dict):
            raise Invalid({"assignee": "data was not an object"})
        if self.cloud:
            wanted = reference.get("accountId")
            found = user_by_account(wanted) if isinstance(wanted, str) else None
        else:
            wanted = reference.get("name") or reference.get("key")
            found = next((u for u in USERS if u.name == wanted), None)
        if found is None:
            raise Invalid({"assignee": f"User '{wanted}' does not exist."})
        return found

    def server_info(self, request: Request) -> Reply:
        body: dict[str, Any] = {
            "baseUrl": self.render.base_url,
            "version": "1001.0.0-SNAPSHOT" if self.cloud else "10.3.4",
            "versionNumbers": [1001, 0, 0] if self.cloud else [10, 3, 4],
            "deploymentType": "Cloud" if self.cloud else "Server",
            "buildNumber": 100300 if self.cloud else 10030004,
            "buildDate": "2026-01-15T00:00:00.000+0000",
            "serverTime": jira_time(self.clock.now()),
            "scmInfo": "0a1b2c3d4e5f",
            "serverTitle": "Recovery sandbox",
        }
        return Reply(200, body)

    def myself(self, request: Request) -> Reply:
        return Reply(200, self.render.user_json(request.user))

    def get_user(self, request: Request) -> Reply:
        wanted = (
            request.arg("accountId")
            if self.cloud
            else (request.arg("username") or request.arg("key"))
        )
        found = next(
            (u for u in USERS if wanted in (u.account_id if self.cloud else u.name,)), None
        )
        if found is None:
            raise Invalid(messages=[f"The user named '{wanted}' does not exist"], status=404)
        return Reply(200, self.render.user_json(found))

    def search_users(self, request: Request) -> Reply:
        text = (request.arg("query") if self.cloud else request.arg("username")) or ""
        text = text.lower()
        found = [
            u
            for u in USERS
            if text in u.name or text in u.email.lower() or text in u.display_name.lower()
        ]
        return Reply(200, [self.render.user_json(u) for u in found])

    def find_project(self, id_or_key: Any) -> Project | None:
        text = str(id_or_key)
        return next((p for p in PROJECTS if text in (p.id, p.key) or text.upper() == p.key), None)

    def get_project(self, request: Request) -> Reply:
        project = self.find_project(request.params["projectIdOrKey"])
        if project is None:
            raise Invalid(
                messages=[
                    f"No project could be found with key '{request.params['projectIdOrKey']}'."
                ],
                status=404,
            )
        return Reply(200, self.render.project_json(project, full=True))

    def createmeta_issuetypes(self, request: Request) -> Reply:
        if self.find_project(request.params["projectIdOrKey"]) is None:
            raise Invalid(messages=["No project could be found."], status=404)
        start = int(request.arg("startAt", "0") or 0)
        limit = int(request.arg("maxResults", "50") or 50)
        types = [self.render.issue_type_json(t) for t in ISSUE_TYPES]
        page = types[start : start + limit]
        key = "issueTypes" if self.cloud else "values"
        body: dict[str, Any] = {
            "startAt": start,
            "maxResults": limit,
            "total": len(types),
            key: page,
        }
        if not self.cloud:
            body["isLast"] = start + limit >= len(types)
        return Reply(200, body)

    def createmeta_fields(self, request: Request) -> Reply:
        """The fields a create of one issue type takes, with which are required."""
        if self.find_project(request.params["projectIdOrKey"]) is None:
            raise Invalid(messages=["No project could be found."], status=404)
        issue_type = next((t for t in ISSUE_TYPES if t.id == request.params["issueTypeId"]), None)
        if issue_type is None:
            raise Invalid(messages=["The issue type could not be found."], status=404)
        priorities = [self.render.priority_json(pid) for pid, _ in PRIORITIES]
        rich = "doc" if self.cloud else "string"
        specs: list[tuple[str, str, str, bool, list[Any] | None]] = [
            ("project", "Project", "project", True, None),
            ("issuetype", "Issue Type", "issuetype", True, None),
            ("summary", "Summary", "string", True, None),
            ("description", "Description", rich, False, None),
            ("priority", "Priority", "priority", False, priorities),
            ("labels", "Labels", "array", False, None),
            ("duedate", "Due date", "date", False, None),
            ("assignee", "Assignee", "user", False, None),
            ("reporter", "Reporter", "user", False, None),
        ]
        if issue_type.subtask:
            specs.append(("parent", "Parent", "issuelink", True, None))
        fields = []
        for field_id, name, kind, required, allowed in specs:
            field: dict[str, Any] = {
                "fieldId": field_id, "name": name, "required": required,
                "schema": {"type": kind, "system": field_id}, "hasDefaultValue": False,
                "operations": ["add", "set", "remove"] if kind == "array" else ["set"],
            }  # fmt: skip
            if kind == "array":
                field["schema"]["items"] = "string"
            if allowed is not None:
                field["allowedValues"] = allowed
            if self.cloud:
                field["key"] = field_id
            fields.append(field)
        start = int(request.arg("startAt", "0") or 0)
        limit = int(request.arg("maxResults", "50") or 50)
        key = "fields" if self.cloud else "values"
        body = {"startAt": start, "maxResults": limit, "total": len(fields),
                key: fields[start : start + limit]}  # fmt: skip
        if not self.cloud:
            body["isLast"] = start + limit >= len(fields)
        return Reply(200, body)

    def fields(self, request: Request) -> Reply:
        system = [
            ("summary", "Summary", "string"),
            ("description", "Description", "string"),
            ("status", "Status", "status"),
            ("priority", "Priority", "priority"),
            ("labels", "Labels", "array"),
            ("issuetype", "Issue Type", "issuetype"),
            ("project", "Project", "project"),
            ("parent", "Parent", "issuelink"),
            ("duedate", "Due date", "date"),
            ("created", "Created", "datetime"),
            ("updated", "Updated", "datetime"),
            ("resolution", "Resolution", "resolution"),
            ("resolutiondate", "Resolved", "datetime"),
            ("assignee", "Assignee", "user"),
            ("reporter", "Reporter", "user"),
            ("comment", "Comment", "comments-page"),
            ("issuelinks", "Linked Issues", "array"),
            ("subtasks", "Sub-tasks", "array"),
        ]
        body = [
            {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": False,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [fid],
                "schema": {"type": kind, "system": fid},
            }
            for fid, name, kind in system
        ]
        if not self.cloud:
            for item in body:
                item.pop("key")
        return Reply(200, body)

    def priorities(self, request: Request) -> Reply:
        return Reply(200, [self.render.priority_json(pid) for pid, _ in PRIORITIES])

    def statuses(self, request: Request) -> Reply:
        return Reply(200, [self.render.status_json(s) for s in STATUSES])

    def resolutions(self, request: Request) -> Reply:
        return Reply(200, [self.render.resolution_json(rid) for rid, _, _ in RESOLUTIONS])

    def link_types(self, request: Request) -> Reply:
        return Reply(200, {"issueLinkTypes": [self.render.link_type_json(t) for t in LINK_TYPES]})

    # --- issues ---------------------------------------------------------------

    def issue_or_404(self, id_or_key: str) -> dict[str, Any]:
        issue = self.state.find(id_or_key)
        if issue is None:
            raise Invalid(messages=[ISSUE_MISSING], status=404)
        return issue

    def rich_text(self, name: str, value: Any) -> Any:
        """Check a rich-text value for the dialect: ADF on Cloud v3, a string on Data Center."""
        if value is None:
            return None
        if self.cloud and not is_adf(value):
            raise Invalid(
                {
                    name: "Operation value must be an Atlassian Document (see the Atlassian "
                    "Document Format)"
                }
            )
        if not self.cloud and not isinstance(value, str):
            raise Invalid({name: "Operation value must be a string"})
        return value

    def plain(self, value: Any) -> str:
        if value is None:
            return ""
        return adf_text(value) if self.cloud else str(value)

    def checked_fields(self, fields: Any, *, creating: bool) -> dict[str, Any]:
        """Validate create/edit fields the way Jira does; return them normalised."""
        if not isinstance(fields, dict):
            raise Invalid(messages=["Can not deserialize: 'fields' must be an object."])
        errors: dict[str, str] = {}
        clean: dict[str, Any] = {}
        allowed = SETTABLE | ({"project", "issuetype"} if creating else set())
        for name in fields:
            if name not in allowed:
                errors[name] = (
                    f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                    "or unknown."
                )
        if creating:
            project = self.find_project(_ref(fields.get("project"), "id", "key"))
            if project is None:
                errors["project"] = "Specify a valid project ID or key"
            else:
                clean["project"] = project.key
            issue_type = next(
                (
                    t
                    for t in ISSUE_TYPES
                    if _ref(fields.get("issuetype"), "id", "name") in (t.id, t.name)
                ),
                None,
            )
            if issue_type is None:
                errors["issuetype"] = "Specify an issue type"
            else:
                clean["issuetype"] = issue_type.id
                if issue_type.subtask and "parent" not in fields:
                    errors["parent"] = (
                        "Issue type is a sub-task but parent issue key or id not specified."
                    )
                if not issue_type.subtask and "parent" in fields:
                    errors["parent"] = "Only sub-task issue types can have a parent here."
            if not fields.get("summary"):
                errors["summary"] = "You must specify a summary of the issue."
        if "summary" in fields:
            summary = fields["summary"]
            if not isinstance(summary, str) or not summary.strip():
                errors["summary"] = "You must specify a summary of the issue."
            elif utf16_units(summary) > SUMMARY_LIMIT:  # Jira counts UTF-16 units
                errors["summary"] = "Summary must be less than 255 characters."
            elif "\n" in summary or "\r" in summary:
                errors["summary"] = "The summary is invalid because it contains newline characters."
            else:
                clean["summary"] = summary
        for name, convert in (
            ("description", lambda v: self.rich_text("description", v)),
            ("priority", self.priority_id),
            ("labels", _labels),
            ("duedate", _due_date),
            ("assignee", lambda v: None if v is None else self.find_user(v).account_id),
            ("reporter", lambda v: self.find_user(v).account_id),
            ("parent", self.parent_key),
        ):
            if name in fields:
                try:
                    clean[name] = convert(fields[name])
                except Invalid as exc:
                    errors[name] = next(iter(exc.errors.values()), "invalid value")
        if errors:
            raise Invalid(errors)
        return clean

    def priority_id(self, value: Any) -> str:
        wanted = _ref(value, "id", "name")
        for pid, name in PRIORITIES:
            if wanted in (pid, name):
                return pid
        raise Invalid({"priority": f"The priority selected is invalid: {wanted}"})

    def parent_key(self, value: Any) -> str:
        parent = self.state.find(str(_ref(value, "key", "id") or ""))
        if parent is None:
            raise Invalid({"parent": "Could not find issue by id or key."})
        if next(t for t in ISSUE_TYPES if t.id == parent["issuetype"]).subtask:
            raise Invalid({"parent": "A sub-task cannot be the parent of another sub-task."})
        return str(parent["key"])

    def new_issue(self, body: Any, user: User) -> dict[str, Any]:
        """Validate one create request and store the issue; raise Invalid instead."""
        if not isinstance(body, dict):
            raise Invalid(messages=["Can not deserialize the issue."])
        clean = self.checked_fields(body.get("fields"), creating=True)
        properties = body.get("properties") or []
        if not isinstance(properties, list) or not all(
            isinstance(p, dict) and isinstance(p.get("key"), str) for p in properties
        ):
            raise Invalid(messages=["Each issue property needs a key and a value."])
        properties = {p["key"]: p.get("value") for p in properties}
        now = self.clock.now()
        with self.state.lock:
            project = clean["project"]
            number = self.state.project_counters.get(project, 0) + 1
            self.state.project_counters[project] = number
            self.state.next_issue_id += 1
            issue: dict[str, Any] = {
                "id": str(self.state.next_issue_id),
                "key": f"{project}-{number}",
                "project": project,
                "issuetype": clean["issuetype"],
                "summary": clean["summary"],
                "description": clean.get("description"),
                "status": STATUSES[0].id,
                "priority": clean.get("priority", DEFAULT_PRIORITY),
                "labels": clean.get("labels", []),
                "parent": clean.get("parent"),
                "duedate": clean.get("duedate"),
                "assignee": clean.get("assignee"),
                "reporter": clean.get("reporter", user.account_id),
                "created": now,
                "updated": now,
                "resolution": None,
                "resolutiondate": None,
                "comments": [],
                "properties": {},
            }
            issue["properties"] = properties
            self.state.issues[issue["key"]] = issue
            lag = self.faults
            if lag.search_lag_seconds or lag.search_lag_calls:
                visible = now + timedelta(seconds=lag.search_lag_seconds)
                self.index.hold_back(issue["id"], visible, lag.search_lag_calls)
        return issue

    def create_issue(self, request: Request) -> Reply:
        issue = self.new_issue(request.body, request.user)
        self.state.save()
        return Reply(201, self.render.created_json(issue))

    def bulk_create(self, request: Request) -> Reply:
        updates = request.body.get("issueUpdates") if isinstance(request.body, dict) else None
        problem = None
        if not isinstance(updates, list):
            problem = "Can not deserialize 'issueUpdates'."
        elif len(updates) > BULK_LIMIT:
            problem = f"The number of issues to create in bulk exceeds the limit of {BULK_LIMIT}."
        if problem or not isinstance(updates, list):
            # Refused as a whole, still in the bulk answer's shape.
            element = {"errorMessages": [problem], "errors": {}}
            return Reply(400, {"issues": [], "errors": [{"status": 400, "elementErrors": element}]})
        created, failed = [], []
        for number, update in enumerate(updates):
            try:
                created.append(self.render.created_json(self.new_issue(update, request.user)))
            except Invalid as exc:
                failed.append(
                    {
                        "status": exc.status,
                        "elementErrors": {"errorMessages": exc.messages, "errors": exc.errors},
                        "failedElementNumber": number,
                    }
                )
        self.state.save()
        status = 201 if created or not updates else 400
        return Reply(status, {"issues": created, "errors": failed})

    def edit_issue(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        body = request.body if isinstance(request.body, dict) else {}
        self.apply_update(issue, body.get("fields") or {}, body.get("update") or {}, request.user)
        self.state.save()
        return Reply(204)

    def tracked(self, issue: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
        """The fields the changelog follows, as (id, display string) pairs."""
        resolution = next((r for r in RESOLUTIONS if r[0] == issue["resolution"]), None)
        assignee = user_by_account(issue["assignee"])
        return {
            "status": (issue["status"], status_by_id(issue["status"]).name),
            "resolution": (resolution[0], resolution[1]) if resolution else (None, None),
            "priority": (issue["priority"], dict(PRIORITIES)[issue["priority"]]),
            "labels": (None, " ".join(issue["labels"])),
            "assignee": (
                (assignee.account_id if self.cloud else assignee.name, assignee.display_name)
                if assignee
                else (None, None)
            ),
            "summary": (None, issue["summary"]),
        }

    def record_changes(
        self, issue: dict[str, Any], before: dict[str, tuple[str | None, str | None]], user: User
    ) -> None:
        """Add one changelog entry for what differs from `before`, if anything does."""
        items = [
            {"field": name, "fieldtype": "jira", "from": old[0], "fromString": old[1],
             "to": new[0], "toString": new[1]}
            for name, new in self.tracked(issue).items()
            if (old := before[name]) != new
        ]  # fmt: skip
        if not items:
            return
        with self.state.lock:
            self.state.next_history_id += 1
            issue.setdefault("history", []).append(
                {"id": str(self.state.next_history_id), "author": user.account_id,
                 "created": self.clock.now(), "items": items}
            )  # fmt: skip

    def apply_update(
        self,
        issue: dict[str, Any],
        fields: dict[str, Any],
        update: Any,
        user: User,
        *,
        record: bool = True,
    ) -> None:
        """Apply `fields` (set) and `update` (operations) to an issue, all or nothing."""
        if not isinstance(update, dict):
            raise Invalid(messages=["'update' must be an object."])
        overlap = set(fields) & set(update)
        if overlap:
            name = sorted(overlap)[0]
            raise Invalid({name: f"Field '{name}' cannot be set in both 'fields' and 'update'."})
        clean = self.checked_fields(fields, creating=False)
        labels = list(issue["labels"])
        comments: list[Any] = []
        for name, operations in update.items():
            if not isinstance(operations, list):
                raise Invalid({name: "Operations must be a list."})
            for operation in operations:
                verb, value = (
                    next(iter(operation.items()))
                    if isinstance(operation, dict) and len(operation) == 1
                    else ("?", None)
                )
                if name == "labels" and verb in ("add", "remove", "set"):
                    if verb == "add":
                        label = _labels([value])[0]
                        labels += [label] if label not in labels else []
                    elif verb == "remove":
                        labels = [x for x in labels if x != value]
                    else:
                        labels = _labels(value)
                elif name == "comment" and verb == "add" and isinstance(value, dict):
                    comments.append(self.rich_text("comment", value.get("body")))
                elif name in SETTABLE and verb == "set":
                    clean.update(self.checked_fields({name: value}, creating=False))
                else:
                    raise Invalid({name: f"Operation '{verb}' is not supported on field '{name}'."})
        now = self.clock.now()
        before = self.tracked(issue)
        with self.state.lock:
            issue.update(clean)
            issue["labels"] = (
                labels if update.get("labels") else clean.get("labels", issue["labels"])
            )
            for body in comments:
                self.store_comment(issue, body, user)
            issue["updated"] = now
        if record:
            self.record_changes(issue, before, user)

    def get_issue(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        wanted = _split(request.arg("fields"))
        properties = _split(request.arg("properties"))
        expand = _split(request.arg("expand"))
        return Reply(200, self.render.issue_json(issue, wanted, properties, expand))

    # --- comments, transitions, links, properties -----------------------------

    def store_comment(
        self, issue: dict[str, Any], body: Any, user: User, *, internal: bool = False
    ) -> dict[str, Any]:
        if body is None or (isinstance(body, str) and not body.strip()):
            raise Invalid({"comment": "Comment body can not be empty!"})
        with self.state.lock:
            self.state.next_comment_id += 1
            comment = {
                "id": str(self.state.next_comment_id),
                "author": user.account_id,
                "body": body,
                "created": self.clock.now(),
                "internal": internal,
            }
            issue["comments"].append(comment)
        return comment

    def get_comments(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        start = int(request.arg("startAt", "0") or 0)
        limit = int(request.arg("maxResults", "50") or 50)
        comments = issue["comments"]
        if request.arg("orderBy") in ("-created", "-id"):
            comments = list(reversed(comments))
        page = [self.render.comment_json(issue, c) for c in comments[start : start + limit]]
        return Reply(
            200, {"startAt": start, "maxResults": limit, "total": len(comments), "comments": page}
        )

    def add_comment(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        if not isinstance(request.body, dict):
            raise Invalid(messages=["Can not deserialize the comment."])
        body = self.rich_text("comment", request.body.get("body"))
        properties = request.body.get("properties") or []
        if not isinstance(properties, list) or not all(isinstance(p, dict) for p in properties):
            raise Invalid({"properties": "Properties must be a list of key and value."})
        internal = any(
            p.get("key") == INTERNAL_PROPERTY
            and isinstance(p.get("value"), dict)
            and p["value"].get("internal") is True
            for p in properties
        )
        comment = self.store_comment(issue, body, request.user, internal=internal)
        with self.state.lock:
            issue["updated"] = self.clock.now()
        self.state.save()
        return Reply(201, self.render.comment_json(issue, comment))

    def get_transitions(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        available = [t for t in TRANSITIONS if t.to != issue["status"]]
        wanted = request.arg("transitionId")
        if wanted:
            available = [t for t in available if t.id == wanted]
        body: dict[str, Any] = {"transitions": [self.render.transition_json(t) for t in available]}
        if self.cloud:
            body["expand"] = "transitions"
        return Reply(200, body)

    def do_transition(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        body = request.body if isinstance(request.body, dict) else {}
        wanted = str(_ref(body.get("transition"), "id") or "")
        transition = next(
            (t for t in TRANSITIONS if t.id == wanted and t.to != issue["status"]), None
        )
        if transition is None:
            raise Invalid(messages=[f"Transition id '{wanted}' is not valid for this issue."])
        fields = dict(body.get("fields") or {})
        resolution_ref = fields.pop("resolution", None)
        target = status_by_id(transition.to)
        resolution = None
        if target.category == "done":
            wanted_resolution = _ref(resolution_ref, "id", "name") if resolution_ref else "Done"
            found = next((r for r in RESOLUTIONS if wanted_resolution in (r[0], r[1])), None)
            if found is None:
                raise Invalid({"resolution": f"Resolution '{wanted_resolution}' does not exist."})
            resolution = found[0]
        elif resolution_ref is not None:
            raise Invalid(
                {
                    "resolution": "Field 'resolution' cannot be set. It is not on the "
                    "appropriate screen, or unknown."
                }
            )
        before = self.tracked(issue)
        self.apply_update(issue, fields, body.get("update") or {}, request.user, record=False)
        with self.state.lock:
            was_done = status_by_id(issue["status"]).category == "done"
            issue["status"] = target.id
            if resolution:
                issue["resolution"] = resolution
                if not was_done or issue["resolutiondate"] is None:
                    issue["resolutiondate"] = self.clock.now()
            else:
                issue["resolution"] = None
                issue["resolutiondate"] = None
            issue["updated"] = self.clock.now()
        self.record_changes(issue, before, request.user)
        self.state.save()
        return Reply(204)

    def changelog(self, request: Request) -> Reply:
        """Cloud's paged changelog of an issue, oldest first."""
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        start = int(request.arg("startAt", "0") or 0)
        limit = int(request.arg("maxResults", "100") or 100)
        histories = self.render.histories_json(issue)
        page = histories[start : start + limit]
        return Reply(200, {
            "self": f"{self.render.rest}/issue/{issue['key']}/changelog?startAt={start}",
            "startAt": start, "maxResults": limit, "total": len(histories),
            "isLast": start + limit >= len(histories), "values": page,
        })  # fmt: skip

    def link_issues(self, request: Request) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        wanted = _ref(body.get("type"), "id", "name")
        link_type = next((t for t in LINK_TYPES if wanted in (t[0], t[1])), None)
        if link_type is None:
            raise Invalid(messages=[f"No issue link type with name '{wanted}' found."], status=404)
        ends = []
        for side in ("inwardIssue", "outwardIssue"):
            issue = self.state.find(str(_ref(body.get(side), "key", "id") or ""))
            if issue is None:
                raise Invalid(messages=[f"Issue Does Not Exist ({side})"], status=404)
            ends.append(issue)
        with self.state.lock:
            self.state.next_link_id += 1
            self.state.links.append(
                {
                    "id": str(self.state.next_link_id),
                    "type": link_type[0],
                    "inward": ends[0]["key"],
                    "outward": ends[1]["key"],
                }
            )
            comment = body.get("comment")
            if isinstance(comment, dict) and comment.get("body") is not None:
                self.store_comment(
                    ends[0], self.rich_text("comment", comment["body"]), request.user
                )
            for issue in ends:
                issue["updated"] = self.clock.now()
        self.state.save()
        return Reply(201)

    def property_keys(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        keys = [
            {"key": k, "self": f"{self.render.rest}/issue/{issue['id']}/properties/{k}"}
            for k in sorted(issue["properties"])
        ]
        return Reply(200, {"keys": keys})

    def get_property(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        key = request.params["propertyKey"]
        if key not in issue["properties"]:
            raise Invalid(messages=[f"The property with key '{key}' does not exist."], status=404)
        return Reply(200, {"key": key, "value": issue["properties"][key]})

    def set_property(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        key = request.params["propertyKey"]
        if len(key) > 255:
            raise Invalid(messages=["The property key is too long (255 characters at most)."])
        if len(json.dumps(request.body)) > 32768:
            raise Invalid(messages=["The property value is too long (32768 bytes at most)."])
        with self.state.lock:
            existed = key in issue["properties"]
            issue["properties"][key] = request.body
        self.state.save()
        return Reply(200 if existed else 201)

    def delete_property(self, request: Request) -> Reply:
        issue = self.issue_or_404(request.params["issueIdOrKey"])
        with self.state.lock:
            if issue["properties"].pop(request.params["propertyKey"], _MISSING) is _MISSING:
                raise Invalid(messages=["The property does not exist."], status=404)
        self.state.save()
        return Reply(204)

    # --- search ---------------------------------------------------------------

    def search(
        self, query_text: str, reconcile: set[str], *, consume_lag: bool
    ) -> list[dict[str, Any]]:
        try:
            return self.index.query(query_text, reconcile, consume_lag=consume_lag)
        except jql.JqlError as exc:
            raise Invalid(messages=[str(exc)]) from exc

    def search_args(self, request: Request) -> dict[str, Any]:
        if request.method == "POST":
            if not isinstance(request.body, dict):
                raise Invalid(messages=["Can not deserialize the search request."])
            args = dict(request.body)
            if isinstance(args.get("fields"), list):
                args["fields"] = ",".join(args["fields"])
            if isinstance(args.get("properties"), list):
                args["properties"] = ",".join(args["properties"])
            return args
        args = {name: values[0] for name, values in request.query.items()}
        if "reconcileIssues" in request.query:
            args["reconcileIssues"] = [
                int(v) for raw in request.query["reconcileIssues"] for v in raw.split(",") if v
            ]
        return args

    def page_size(self, args: dict[str, Any]) -> int:
        try:
            size = int(args.get("maxResults", 50))
        except (TypeError, ValueError) as exc:
            raise Invalid(messages=["maxResults must be a number."]) from exc
        return max(0, min(size, SEARCH_LIMIT))

    def search_token(self, request: Request) -> Reply:
        """Cloud's /search/jql: no total, paged by an opaque nextPageToken."""
        args = self.search_args(request)
        query_text = str(args.get("jql") or "")
        if not query_text.strip() or " ".join(query_text.split()).upper().startswith("ORDER BY"):
            raise Invalid(
                messages=[
                    "Unbounded JQL queries are not allowed here. Please add a search "
                    "restriction to your query."
                ]
            )
        size = self.page_size(args)
        start = 0
        token = args.get("nextPageToken")
        if token:
            try:
                start = read_token(str(token), query_text)
            except ValueError as exc:
                message = "The provided next page token is invalid or expired."
                raise Invalid(messages=[message]) from exc
        reconcile = {str(i) for i in args.get("reconcileIssues") or []}
        matched = self.search(query_text, reconcile, consume_lag=start == 0)
        page = matched[start : start + size]
        wanted = _split(args.get("fields")) or ["id"]
        issues = [
            self.render.issue_json(
                i, wanted, _split(args.get("properties")), _split(args.get("expand"))
            )
            for i in page
        ]
        body: dict[str, Any] = {"issues": issues, "isLast": start + size >= len(matched)}
        if not body["isLast"]:
            body["nextPageToken"] = make_token(start + size, query_text)
        return Reply(200, body)

    def search_offset(self, request: Request) -> Reply:
        """Data Center's /search with startAt and total; gone from Cloud (410)."""
        if self.cloud:
            raise Invalid(messages=[REMOVED_SEARCH], status=410)
        args = self.search_args(request)
        size = self.page_size(args)
        try:
            start = max(0, int(args.get("startAt", 0)))
        except (TypeError, ValueError) as exc:
            raise Invalid(messages=["startAt must be a number."]) from exc
        matched = self.search(str(args.get("jql") or ""), set(), consume_lag=True)
        wanted = _split(args.get("fields")) or ["*navigable"]
        expand = _split(args.get("expand"))
        issues = [
            self.render.issue_json(i, wanted, None, expand) for i in matched[start : start + size]
        ]
        return Reply(
            200,
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": size,
                "total": len(matched),
                "issues": issues,
            },
        )


_MISSING = object()


def _ref(value: Any, *names: str) -> Any:
    """The first of `names` set in a reference like {"id": ...} or {"key": ...}, or a bare value."""
    if isinstance(value, dict):
        for name in names:
            if value.get(name) is not None:
                return str(value[name])
        return None
    return None if value is None else str(value)


def _labels(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Invalid({"labels": "Labels must be a list of strings."})
    for label in value:
        if not label or re.search(r"\s", label):
            raise Invalid({"labels": f"The label '{label}' contains spaces which is invalid."})
        if len(label) > 255:
            raise Invalid({"labels": "The label must not be longer than 255 characters."})
    return list(dict.fromkeys(value))


def _due_date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise Invalid({"duedate": "Error parsing date string: " + str(value)}) from exc


def _split(value: Any) -> list[str] | None:
    if value is None:
        return None
    parts = [p.strip() for p in str(value).split(",") if p.strip()]
    return parts or None
