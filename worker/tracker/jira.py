"""The tracker on Jira Cloud and Jira Data Center, through the ``jira`` client.

The client's own retries are off and every call has a (connect, read) timeout;
reads go through :mod:`worker.retry`. A create is retried only after an answer
that proves nothing was created (429, 503, a connection never made); any other
failure after the request left is :class:`~worker.errors.OutcomeUnknown`, and
the caller looks for what may exist before trying again. A transition whose
answer is lost is followed by a read of the issue's status before it is sent again.

Cloud: email + API token, ``/rest/api/3``, ADF, ``/search/jql`` paged by
``nextPageToken``. Data Center: a Personal Access Token as Bearer, ``/rest/api/2``,
wiki markup, ``/search`` paged by ``startAt``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar

import jira
import requests
from jira.exceptions import JIRAError

from worker.clock import Clock, SystemClock
from worker.domain.document import Document, cut_to_units
from worker.domain.issue import (
    CheckItem,
    Comment,
    CreateFailed,
    Dialect,
    FieldChange,
    Issue,
    IssueRef,
    NewIssue,
    StatusCategory,
)
from worker.errors import (
    AuthenticationFailed,
    ConfigurationError,
    ConnectionFailed,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RequestRejected,
    ServerUnavailable,
    WorkerError,
)
from worker.logs import error_excerpt, get_logger
from worker.retry import RetryPolicy, parse_retry_after
from worker.settings import JiraSettings
from worker.tracker import markup
from worker.tracker.jql import all_of, eq

T = TypeVar("T")

log = get_logger()
#: The comment property that makes a comment internal on Service Management projects.
INTERNAL_COMMENT = {"key": "sd.public.comment", "value": {"internal": True}}

#: Jira creates at most 50 issues per bulk call.
BULK_LIMIT = 50
PAGE_SIZE = 100
#: The fields read back for an Issue.
ISSUE_FIELDS = (
    "summary", "description", "issuetype", "project", "status", "priority", "labels", "duedate",
    "created", "updated", "resolution", "resolutiondate", "assignee", "reporter", "parent",
    "subtasks",
)  # fmt: skip


def parse_time(value: str) -> datetime:
    """Jira's timestamp (``2026-03-02T09:00:00.000+0000``) as an aware datetime."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def _messages(response: requests.Response | None) -> str:
    """Jira's errorMessages and field errors from an error answer, as one line."""
    if response is None:
        return ""
    try:
        body = response.json()
    except ValueError:
        return error_excerpt(response.text, 300)
    if not isinstance(body, dict):
        return error_excerpt(str(body), 300)
    parts = [str(m) for m in body.get("errorMessages") or []]
    errors = body.get("errors") or {}
    if isinstance(errors, dict):
        parts += [f"{name}: {text}" for name, text in errors.items()]
    return error_excerpt("; ".join(parts), 1000)


def map_error(exc: Exception, clock: Clock, *, write: bool = False) -> WorkerError:
    """The worker's error for a ``jira``/``requests`` failure.

    With ``write`` set, a failure after the request may have reached Jira becomes
    OutcomeUnknown; one that proves nothing happened keeps its transient type.
    """
    if isinstance(exc, JIRAError):
        status = exc.status_code
        response = exc.response
        detail = _messages(response) or error_excerpt(str(exc.text or ""), 300)
        header = response.headers.get("Retry-After") if response is not None else None
        after = parse_retry_after(header, clock.now())
        if status == 429:
            return RateLimited(f"Jira asked to slow down: {detail}", retry_after=after)
        if status == 503:
            return ServerUnavailable(f"Jira unavailable (503): {detail}", retry_after=after)
        if status in (500, 502, 504):
            if write:
                return OutcomeUnknown(f"Jira answered {status} to a write: {detail}")
            return ServerUnavailable(f"Jira answered {status}: {detail}", retry_after=after)
        if status == 401:
            return AuthenticationFailed(f"Jira refused the credentials: {detail}")
        if status == 403:
            return AuthenticationFailed(f"Jira denied the permission: {detail}")
        if status == 404:
            return NotFound(f"not found in Jira: {detail}")
        if status is None:
            if write:
                return OutcomeUnknown(f"Jira gave no usable answer to a write: {exc.text}")
            return ServerUnavailable(f"Jira gave no usable answer: {exc.text}")
        return RequestRejected(f"Jira refused the request ({status}): {detail}")
    if isinstance(exc, requests.ConnectTimeout):
        return ConnectionFailed(f"cannot connect to Jira: {exc}")
    if isinstance(exc, requests.ConnectionError) and _never_sent(exc):
        return ConnectionFailed(f"cannot connect to Jira: {exc}")
    if isinstance(exc, requests.RequestException):
        if write:
            return OutcomeUnknown(f"the connection to Jira failed during a write: {exc}")
        return ConnectionFailed(f"the connection to Jira failed: {exc}")
    raise exc


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection was never established, so the request never left."""
    reason = exc.args[0] if exc.args else None
    text = repr(reason)
    return "NewConnectionError" in text or "ConnectTimeoutError" in text


class JiraTracker:
    """The Tracker on a Jira site; build it with :meth:`connect` or :meth:`from_settings`."""

    def __init__(
        self,
        client: Any,
        dialect: Dialect,
        *,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._client = client
        self._dialect = dialect
        self._clock = clock or SystemClock()
        self._retry = retry or RetryPolicy(clock=self._clock)
        self._subtask_types: dict[str, str] = {}
        # The client's @cloud_api methods read this; it is only set by its own serverInfo call.
        client.deploymentType = "Cloud" if dialect == Dialect.CLOUD else "Server"

    # --- construction --------------------------------------------------------

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        dialect: str = "auto",
        email: str = "",
        api_token: str = "",
        pat: str = "",
        timeouts: tuple[float, float] = (5.0, 30.0),
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> JiraTracker:
        """A tracker for the site at ``url``; ``dialect`` "auto" asks serverInfo."""
        clock = clock or SystemClock()
        retry = retry or RetryPolicy(clock=clock)
        if pat:
            auth: dict[str, Any] = {"token_auth": pat}
        elif email and api_token:
            auth = {"basic_auth": (email, api_token)}
        else:
            raise ConfigurationError(
                "Jira needs jira.email + jira.api_token (Cloud) or jira.pat (Data Center)"
            )

        def client(version: str) -> Any:
            return jira.JIRA(
                server=url.rstrip("/"),
                options={"rest_api_version": version, "check_update": False},
                get_server_info=False,
                max_retries=0,
                timeout=timeouts,
                **auth,
            )

        if dialect == "auto":
            chosen = retry.call(lambda: cls._detect(client, clock))
        else:
            chosen = Dialect(dialect)
        version = "3" if chosen == Dialect.CLOUD else "2"
        log.info("jira.connected", url=url, dialect=str(chosen))
        return cls(client(version), chosen, retry=retry, clock=clock)

    @staticmethod
    def _detect(client: Callable[[str], Any], clock: Clock) -> Dialect:
        """Cloud or Data Center, from serverInfo's deploymentType (API 2, else API 3)."""
        for version in ("2", "3"):
            try:
                info = client(version).server_info()
            except (JIRAError, requests.RequestException) as exc:
                error = map_error(exc, clock)
                if isinstance(error, NotFound) and version == "2":
                    continue
                raise error from None
            return Dialect.CLOUD if info.get("deploymentType") == "Cloud" else Dialect.DATACENTER
        raise NotFound("Jira's serverInfo answers on neither API 2 nor API 3")

    @classmethod
    def from_settings(
        cls, settings: JiraSettings, *, clock: Clock | None = None, retry: RetryPolicy | None = None
    ) -> JiraTracker:
        if not settings.url:
            raise ConfigurationError("jira.url is not set")
        token = settings.resolved_api_token()
        pat = settings.resolved_pat()
        return cls.connect(
            settings.url,
            dialect=settings.dialect,
            email=settings.email,
            api_token=token.get_secret_value() if token else "",
            pat=pat.get_secret_value() if pat else "",
            timeouts=(
                settings.connect_timeout.total_seconds(),
                settings.read_timeout.total_seconds(),
            ),
            retry=retry,
            clock=clock,
        )

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    @property
    def cloud(self) -> bool:
        return self._dialect == Dialect.CLOUD

    # --- plumbing ------------------------------------------------------------

    def _read(self, action: Callable[[], T]) -> T:
        """A call that changes nothing, or that is safe to repeat: retried when transient."""

        def attempt() -> T:
            try:
                return action()
            except (JIRAError, requests.RequestException) as exc:
                raise map_error(exc, self._clock) from None

        return self._retry.call(attempt)

    def _write(self, action: Callable[[], T]) -> T:
        """A create: retried only after answers that prove nothing was created."""
        return self._retry.call(self._as_write(action))

    def _as_write(self, action: Callable[[], T]) -> Callable[[], T]:
        """``action`` with Jira's failures named as a write's: a lost answer is OutcomeUnknown."""

        def attempt() -> T:
            try:
                return action()
            except (JIRAError, requests.RequestException) as exc:
                raise map_error(exc, self._clock, write=True) from None

        return attempt

    def _send(self, method: str, path: str, body: Any = None) -> Any:
        """One request through the client's authenticated session; the answer's JSON or None."""
        url = self._client._get_url(path)
        data = None if body is None else json.dumps(body)
        response = self._client._session.request(method, url, data=data)
        return response.json() if response.content else None

    def _rich(self, document: Document) -> Any:
        return markup.to_adf(document) if self.cloud else markup.to_wiki(document)

    def _user(self, user: str) -> dict[str, str]:
        return {"accountId": user} if self.cloud else {"name": user}

    def _user_id(self, value: Any) -> str | None:
        if not isinstance(value, dict):
            return None
        found = value.get("accountId") if self.cloud else value.get("name")
        return str(found) if found else None

    def _fields(self, issue: NewIssue) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "project": {"key": issue.project},
            "issuetype": {"name": issue.issue_type},
            "summary": cut_to_units(issue.summary.replace("\n", " "), 255),
            "description": self._rich(issue.description),
        }
        if issue.labels:
            fields["labels"] = list(issue.labels)
        if issue.priority:
            fields["priority"] = {"name": issue.priority}
        if issue.assignee:
            fields["assignee"] = self._user(issue.assignee)
        if issue.parent:
            fields["parent"] = {"key": issue.parent}
        if issue.due:
            fields["duedate"] = issue.due.isoformat()
        return fields

    # --- the Tracker interface ------------------------------------------------

    def check(
        self, project: str, issue_types: Sequence[str], subtask_type: str = ""
    ) -> list[CheckItem]:
        """Login, project, issue types and the subtask type, each a checklist item."""
        items: list[CheckItem] = []
        try:
            me = self._read(self._client.myself)
        except WorkerError as exc:
            return [CheckItem("login", False, f"{type(exc).__name__}: {exc}")]
        who = me.get("emailAddress") or me.get("name") or me.get("accountId") or "?"
        items.append(CheckItem("login", True, f"logged in as {who} ({self._dialect})"))
        try:
            types = self._issue_types(project)
        except WorkerError as exc:
            items.append(CheckItem(f"project {project}", False, f"{type(exc).__name__}: {exc}"))
            return items
        items.append(CheckItem(f"project {project}", True, f"{len(types)} issue types"))
        # A subtask type cannot be a parent, nor a standard type a subtask: Jira refuses both.
        standard = {t["name"] for t in types if not t.get("subtask")}
        subtasks = [t["name"] for t in types if t.get("subtask")]
        for name in issue_types:
            if not name:
                continue
            ok = name in standard
            detail = (
                "available" if ok else f"not in {project}; it has {', '.join(sorted(standard))}"
            )
            if name in subtasks:
                detail = f"is a subtask type in {project}; it has {', '.join(sorted(standard))}"
            items.append(CheckItem(f"issue type {name}", ok, detail))
        if subtask_type:
            ok = subtask_type in subtasks
            detail = (
                subtask_type
                if ok
                else (
                    f"{subtask_type} is not a subtask type of {project}; "
                    f"its subtask types: {', '.join(subtasks) or 'none'}"
                )
            )
            items.append(CheckItem("subtask type", ok, detail))
            return items
        items.append(
            CheckItem(
                "subtask type",
                bool(subtasks),
                subtasks[0] if subtasks else f"{project} has no subtask issue type",
            )
        )
        return items

    def _issue_types(self, project: str) -> list[dict[str, Any]]:
        """The issue types a create in ``project`` may use: createmeta, else the project's."""
        try:
            return self._createmeta_types(project)
        except NotFound:
            # Jira before 8.4 has no per-project createmeta; the project lists its types.
            raw = self._read(lambda: self._send("GET", f"project/{project}"))
            types: list[dict[str, Any]] = raw.get("issueTypes") or []
            return types

    def _createmeta_types(self, project: str) -> list[dict[str, Any]]:
        key = "issueTypes" if self.cloud else "values"
        found: list[dict[str, Any]] = []
        start = 0
        while True:
            path = f"issue/createmeta/{project}/issuetypes?startAt={start}&maxResults=50"
            page = self._read(partial(self._send, "GET", path))
            values = page.get(key) or []
            found.extend(values)
            start += len(values)
            if not values or start >= int(page.get("total", start)):
                return found

    def subtask_issue_type(self, project: str) -> str:
        if project not in self._subtask_types:
            names = [t["name"] for t in self._issue_types(project) if t.get("subtask")]
            if not names:
                raise ConfigurationError(f"project {project} has no subtask issue type")
            self._subtask_types[project] = names[0]
        return self._subtask_types[project]

    def create_issue(self, issue: NewIssue) -> IssueRef:
        fields = self._fields(issue)
        created = self._write(lambda: self._client.create_issue(fields=fields, prefetch=False))
        ref = IssueRef(key=created.raw["key"], id=str(created.raw["id"]))
        log.info("jira.issue_created", key=ref.key, project=issue.project)
        return ref

    def create_issues(self, issues: Sequence[NewIssue]) -> list[IssueRef | CreateFailed]:
        results: list[IssueRef | CreateFailed] = []
        for start in range(0, len(issues), BULK_LIMIT):
            chunk = issues[start : start + BULK_LIMIT]
            body = {"issueUpdates": [{"fields": self._fields(i)} for i in chunk]}
            answer = self._write(partial(self._bulk, body))
            failed = {
                int(e.get("failedElementNumber", -1)): e.get("elementErrors") or {}
                for e in answer.get("errors") or []
            }
            created = iter(answer.get("issues") or [])
            for number in range(len(chunk)):
                if number in failed:
                    errors = dict(failed[number].get("errors") or {})
                    for message in failed[number].get("errorMessages") or []:
                        errors.setdefault("", str(message))
                    results.append(CreateFailed(start + number, errors))
                else:
                    raw = next(created)
                    results.append(IssueRef(key=raw["key"], id=str(raw["id"])))
        return results

    def _bulk(self, body: dict[str, Any]) -> Any:
        try:
            return self._send("POST", "issue/bulk", body)
        except JIRAError as exc:
            # Jira answers 400 when every item failed, with the per-item errors in the body.
            if exc.status_code == 400 and exc.response is not None:
                try:
                    answer = exc.response.json()
                except ValueError:
                    raise exc from None
                if isinstance(answer, dict) and answer.get("errors"):
                    return answer
            raise

    def get_issue(self, key: str, extra_fields: Sequence[str] = ()) -> Issue:
        fields = ",".join((*ISSUE_FIELDS, *extra_fields))
        raw = self._read(lambda: self._send("GET", f"issue/{key}?fields={fields}"))
        return self._issue(raw, extra_fields)

    def search(
        self,
        jql: str,
        *,
        extra_fields: Sequence[str] = (),
        limit: int | None = None,
        history: bool = False,
    ) -> Iterator[Issue]:
        fields = [*ISSUE_FIELDS, *extra_fields]
        expand = "changelog" if history else None
        seen = 0
        token: str | None = None
        start = 0
        while True:
            size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - seen)
            if size <= 0:
                return
            if self.cloud:
                page = self._read(
                    partial(
                        self._client.enhanced_search_issues,
                        jql,
                        nextPageToken=token,
                        maxResults=size,
                        fields=list(fields),
                        expand=expand,
                        json_result=True,
                        use_post=True,
                    )
                )
            else:
                page = self._read(
                    partial(
                        self._client.search_issues,
                        jql,
                        startAt=start,
                        maxResults=size,
                        # One comma-separated value: Jira reads it like the list, and the
                        # client then leaves the names untranslated.
                        fields=[",".join(fields)] if history else list(fields),
                        expand=expand,
                        validate_query=True,
                        json_result=True,
                        # POST keeps long queries out of the URL, but Data Center's POST
                        # body has no string form of expand: ask for history by GET.
                        use_post=not history,
                    )
                )
            issues = page.get("issues") or []
            for raw in issues:
                yield self._issue(raw, extra_fields)
            seen += len(issues)
            start += len(issues)
            if self.cloud:
                token = page.get("nextPageToken")
                if not token or not issues:
                    return
            elif not issues or start >= int(page.get("total", start)):
                return

    def find_by_label(self, project: str, label: str) -> list[Issue]:
        return list(self.search(all_of(eq("project", project), eq("labels", label))))

    def add_comment(self, key: str, body: Document) -> Comment:
        # Internal on Service Management projects: the worker's notes, alerts and the client's
        # own mail are for the team, never shown on the customer portal. Elsewhere Jira keeps
        # the property and nothing changes.
        payload = {"body": self._rich(body), "properties": [INTERNAL_COMMENT]}
        raw = self._write(lambda: self._send("POST", f"issue/{key}/comment", payload))
        return self._comment(key, raw)

    def comments(self, key: str) -> list[Comment]:
        found: list[Comment] = []
        start = 0
        while True:
            path = f"issue/{key}/comment?startAt={start}&maxResults=100"
            page = self._read(partial(self._send, "GET", path))
            values = page.get("comments") or []
            found.extend(self._comment(key, c) for c in values)
            start += len(values)
            if not values or start >= int(page.get("total", start)):
                return found

    def link(self, inward: str, outward: str, link_type: str = "Relates") -> None:
        body = {
            "type": {"name": link_type},
            "inwardIssue": {"key": inward},
            "outwardIssue": {"key": outward},
        }
        try:
            self._write(lambda: self._send("POST", "issueLink", body))
        except OutcomeUnknown:
            if not self._linked(inward, outward, link_type):
                raise

    def _linked(self, inward: str, outward: str, link_type: str) -> bool:
        """Whether ``inward`` already has a link of that type to ``outward``."""
        raw = self._read(lambda: self._send("GET", f"issue/{inward}?fields=issuelinks"))
        return any(
            (link.get("outwardIssue") or {}).get("key") == outward
            and (link.get("type") or {}).get("name") == link_type
            for link in (raw.get("fields") or {}).get("issuelinks") or []
        )

    def _edit(self, key: str, body: dict[str, Any]) -> None:
        # Edits set a value: repeating one changes nothing, so they retry like reads.
        self._read(lambda: self._send("PUT", f"issue/{key}", body))

    def add_labels(self, key: str, labels: Sequence[str]) -> None:
        if labels:
            self._edit(key, {"update": {"labels": [{"add": label} for label in labels]}})

    def remove_labels(self, key: str, labels: Sequence[str]) -> None:
        if labels:
            self._edit(key, {"update": {"labels": [{"remove": label} for label in labels]}})

    def set_priority(self, key: str, priority: str) -> None:
        self._edit(key, {"fields": {"priority": {"name": priority}}})

    def set_due(self, key: str, due: date, field_id: str = "duedate") -> None:
        self._edit(key, {"fields": {field_id: due.isoformat()}})

    def transition(self, key: str, to: StatusCategory | str) -> bool:
        answer = self._read(lambda: self._send("GET", f"issue/{key}/transitions"))
        for candidate in answer.get("transitions") or []:
            target = candidate.get("to") or {}
            category = (target.get("statusCategory") or {}).get("key")
            matches = (
                category == to.value
                if isinstance(to, StatusCategory)
                else str(target.get("name", "")).lower() == to.lower()
            )
            if matches:
                self._move(key, to, {"transition": {"id": str(candidate["id"])}})
                return True
        return False

    def _move(self, key: str, to: StatusCategory | str, body: dict[str, Any]) -> None:
        """Send a transition; after a lost answer, read the status before sending it again.

        A transition is not idempotent: Jira refuses to repeat one that already went
        through, so an issue found where it was going counts as moved.
        """
        self._retry.call_unless_landed(
            self._as_write(partial(self._send, "POST", f"issue/{key}/transitions", body)),
            lambda: self._arrived(key, to),
        )

    def _arrived(self, key: str, to: StatusCategory | str) -> bool:
        """Whether the issue is in the status, or status category, a transition was taking it to."""
        issue = self.get_issue(key)
        if isinstance(to, StatusCategory):
            return issue.status_category is to
        return issue.status.lower() == to.lower()

    # --- reading Jira's JSON ----------------------------------------------------

    def _issue(self, raw: dict[str, Any], extra_fields: Sequence[str] = ()) -> Issue:
        f = raw.get("fields") or {}
        status = f.get("status") or {}
        category = (status.get("statusCategory") or {}).get("key", "new")
        resolution = f.get("resolution") or None
        return Issue(
            key=raw["key"],
            id=str(raw["id"]),
            project=(f.get("project") or {}).get("key", raw["key"].split("-")[0]),
            issue_type=(f.get("issuetype") or {}).get("name", ""),
            summary=f.get("summary") or "",
            status=status.get("name", ""),
            status_category=StatusCategory(category),
            created_at=parse_time(f["created"]),
            updated_at=parse_time(f["updated"]),
            resolution=resolution.get("name") if resolution else None,
            resolved_at=parse_time(f["resolutiondate"]) if f.get("resolutiondate") else None,
            labels=tuple(f.get("labels") or ()),
            priority=(f.get("priority") or {}).get("name"),
            assignee=self._user_id(f.get("assignee")),
            reporter=self._user_id(f.get("reporter")),
            parent=(f.get("parent") or {}).get("key"),
            subtasks=tuple(s["key"] for s in f.get("subtasks") or ()),
            due=date.fromisoformat(f["duedate"]) if f.get("duedate") else None,
            description=markup.to_text(f.get("description")),
            extra={name: _plain(f.get(name)) for name in extra_fields},
            history=self._history(raw.get("changelog")),
        )

    def _history(self, changelog: Any) -> tuple[FieldChange, ...]:
        if not isinstance(changelog, dict):
            return ()
        changes = []
        for entry in changelog.get("histories") or []:
            at = parse_time(entry["created"])
            author = self._user_id(entry.get("author"))
            for item in entry.get("items") or []:
                changes.append(
                    FieldChange(
                        field=str(item.get("field", "")),
                        from_string=item.get("fromString"),
                        to_string=item.get("toString"),
                        at=at,
                        author=author,
                    )
                )
        return tuple(sorted(changes, key=lambda change: change.at))

    def _comment(self, key: str, raw: dict[str, Any]) -> Comment:
        visibility = raw.get("visibility") or {}
        public = raw.get("jsdPublic")
        return Comment(
            id=str(raw["id"]),
            issue_key=key,
            author=self._user_id(raw.get("author")),
            body=markup.to_text(raw.get("body")),
            created_at=parse_time(raw["created"]),
            updated_at=parse_time(raw.get("updated") or raw["created"]),
            public=public if isinstance(public, bool) else None,
            visibility=visibility.get("value"),
        )


def _plain(value: Any) -> str:
    """A custom field's value as plain text."""
    if value is None:
        return ""
    if isinstance(value, dict):
        if value.get("type") == "doc":
            return markup.adf_to_text(value)
        return str(value.get("value") or value.get("name") or value.get("displayName") or "")
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return markup.to_text(value) if isinstance(value, str) else str(value)
