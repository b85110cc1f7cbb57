"""How the sandbox writes Jira's resources as JSON, in the dialect it serves.

Cloud and Data Center differ here in the small ways the clients notice: users carry an
accountId or a name, issue types a hierarchy level or not, transitions their Cloud flags.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from worker.sandbox.state import (
    CATEGORIES,
    ISSUE_TYPES,
    LINK_TYPES,
    PRIORITIES,
    PROJECTS,
    RESOLUTIONS,
    IssueType,
    Project,
    SandboxState,
    Status,
    Transition,
    User,
    status_by_id,
    user_by_account,
)

EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def jira_time(moment: datetime) -> str:
    """Jira's timestamp format: 2026-03-02T09:00:00.000+0000."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}+0000"
    )


def adf_text(document: Any) -> str:
    """The plain text inside an Atlassian Document Format node."""
    if isinstance(document, dict):
        own = document.get("text", "") if document.get("type") == "text" else ""
        inner = " ".join(adf_text(child) for child in document.get("content", []))
        return f"{own} {inner}".strip()
    return ""


def is_adf(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


class Renderer:
    """Resource JSON for one sandbox; `base_url` is set once the port is known."""

    def __init__(self, state: SandboxState, base_url: str = "") -> None:
        self.state = state
        self.cloud = state.dialect == "cloud"
        self.version = "3" if self.cloud else "2"
        self.base_url = base_url

    @property
    def rest(self) -> str:
        return f"{self.base_url}/rest/api/{self.version}"

    def user_json(self, user: User | None) -> dict[str, Any] | None:
        if user is None:
            return None
        avatars = {
            size: f"{self.base_url}/avatar/{user.name}?s={size[:2]}"
            for size in ("48x48", "24x24", "16x16", "32x32")
        }
        body: dict[str, Any] = {
            "displayName": user.display_name,
            "emailAddress": user.email,
            "active": True,
            "timeZone": "UTC",
            "avatarUrls": avatars,
        }
        if self.cloud:
            body.update(
                self=f"{self.rest}/user?accountId={user.account_id}",
                accountId=user.account_id,
                accountType="atlassian",
            )
        else:
            body.update(
                self=f"{self.rest}/user?username={user.name}", name=user.name, key=user.name
            )
        return body

    def status_json(self, status: Status) -> dict[str, Any]:
        category = CATEGORIES[status.category]
        return {
            "self": f"{self.rest}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.base_url}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {"self": f"{self.rest}/statuscategory/{category['id']}", **category},
        }

    def priority_json(self, priority_id: str) -> dict[str, Any]:
        name = dict(PRIORITIES)[priority_id]
        return {
            "self": f"{self.rest}/priority/{priority_id}",
            "iconUrl": f"{self.base_url}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": priority_id,
        }

    def resolution_json(self, resolution_id: str) -> dict[str, Any]:
        _, name, description = next(r for r in RESOLUTIONS if r[0] == resolution_id)
        return {
            "self": f"{self.rest}/resolution/{resolution_id}",
            "id": resolution_id,
            "name": name,
            "description": description,
        }

    def issue_type_json(self, issue_type: IssueType) -> dict[str, Any]:
        body: dict[str, Any] = {
            "self": f"{self.rest}/issuetype/{issue_type.id}",
            "id": issue_type.id,
            "description": issue_type.description,
            "iconUrl": f"{self.base_url}/images/icons/issuetypes/{issue_type.name.lower()}.svg",
            "name": issue_type.name,
            "subtask": issue_type.subtask,
            "avatarId": 10316,
        }
        if self.cloud:
            body["hierarchyLevel"] = -1 if issue_type.subtask else 0
        return body

    def project_json(self, project: Project, *, full: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "self": f"{self.rest}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "avatarUrls": {"48x48": f"{self.base_url}/avatar/project/{project.key}"},
        }
        if full:
            body["issueTypes"] = [self.issue_type_json(t) for t in ISSUE_TYPES]
            body["lead"] = self.user_json(user_by_account(project.lead))
            body["description"] = ""
        return body

    def link_type_json(self, link_type: tuple[str, str, str, str]) -> dict[str, Any]:
        type_id, name, inward, outward = link_type
        return {
            "id": type_id,
            "name": name,
            "inward": inward,
            "outward": outward,
            "self": f"{self.rest}/issueLinkType/{type_id}",
        }

    def created_json(self, issue: dict[str, Any]) -> dict[str, Any]:
        return {"id": issue["id"], "key": issue["key"], "self": f"{self.rest}/issue/{issue['id']}"}

    def issue_ref(self, issue: dict[str, Any]) -> dict[str, Any]:
        """The short form of an issue inside another one (parent, subtasks, links)."""
        issue_type = next(t for t in ISSUE_TYPES if t.id == issue["issuetype"])
        return {
            "id": issue["id"],
            "key": issue["key"],
            "self": f"{self.rest}/issue/{issue['id']}",
            "fields": {
                "summary": issue["summary"],
                "status": self.status_json(status_by_id(issue["status"])),
                "priority": self.priority_json(issue["priority"]),
                "issuetype": self.issue_type_json(issue_type),
            },
        }

    def comment_json(self, issue: dict[str, Any], comment: dict[str, Any]) -> dict[str, Any]:
        author = self.user_json(user_by_account(comment["author"]))
        body: dict[str, Any] = {
            "self": f"{self.rest}/issue/{issue['id']}/comment/{comment['id']}",
            "id": comment["id"],
            "author": author,
            "body": comment["body"],
            "updateAuthor": author,
            "created": jira_time(comment["created"]),
            "updated": jira_time(comment["created"]),
        }
        if self.cloud:
            # Service Management keeps a comment from the customer when the sd.public.comment
            # property says it is internal.
            body["jsdPublic"] = not comment.get("internal", False)
        return body

    def links_json(self, issue: dict[str, Any]) -> list[dict[str, Any]]:
        rendered = []
        for link in self.state.links:
            link_type = self.link_type_json(next(t for t in LINK_TYPES if t[0] == link["type"]))
            if link["outward"] == issue["key"]:
                other, side = link["inward"], "inwardIssue"
            elif link["inward"] == issue["key"]:
                other, side = link["outward"], "outwardIssue"
            else:
                continue
            rendered.append(
                {
                    "id": link["id"],
                    "self": f"{self.rest}/issueLink/{link['id']}",
                    "type": link_type,
                    side: self.issue_ref(self.state.issues[other]),
                }
            )
        return rendered

    def all_fields(self, issue: dict[str, Any]) -> dict[str, Any]:
        issue_type = next(t for t in ISSUE_TYPES if t.id == issue["issuetype"])
        project = next(p for p in PROJECTS if p.key == issue["project"])
        comments = [self.comment_json(issue, c) for c in issue["comments"]]
        subtasks = [
            self.issue_ref(i) for i in self.state.issues.values() if i["parent"] == issue["key"]
        ]
        resolution = issue["resolution"]
        fields: dict[str, Any] = {
            "summary": issue["summary"],
            "description": issue["description"],
            "issuetype": self.issue_type_json(issue_type),
            "project": self.project_json(project),
            "status": self.status_json(status_by_id(issue["status"])),
            "priority": self.priority_json(issue["priority"]),
            "labels": list(issue["labels"]),
            "duedate": issue["duedate"],
            "created": jira_time(issue["created"]),
            "updated": jira_time(issue["updated"]),
            "resolution": self.resolution_json(resolution) if resolution else None,
            "resolutiondate": jira_time(issue["resolutiondate"])
            if issue["resolutiondate"]
            else None,
            "assignee": self.user_json(user_by_account(issue["assignee"])),
            "reporter": self.user_json(user_by_account(issue["reporter"])),
            "comment": {
                "comments": comments,
                "maxResults": len(comments),
                "total": len(comments),
                "startAt": 0,
            },
            "issuelinks": self.links_json(issue),
            "subtasks": subtasks,
        }
        if issue["parent"]:
            fields["parent"] = self.issue_ref(self.state.issues[issue["parent"]])
        return fields

    def histories_json(self, issue: dict[str, Any]) -> list[dict[str, Any]]:
        """The changelog entries of an issue, oldest first."""
        histories = []
        for entry in issue.get("history", []):
            items = [dict(item) for item in entry["items"]]
            if self.cloud:
                for item in items:
                    item["fieldId"] = item["field"]
            histories.append({
                "id": entry["id"],
                "author": self.user_json(user_by_account(entry["author"])),
                "created": jira_time(entry["created"]),
                "items": items,
            })  # fmt: skip
        return histories

    def issue_json(
        self,
        issue: dict[str, Any],
        wanted: list[str] | None,
        properties: list[str] | None = None,
        expand: list[str] | None = None,
    ) -> dict[str, Any]:
        """An IssueBean with the `fields` asked for (None: all), and the changelog on request."""
        with self.state.lock:
            fields = self.all_fields(issue)
        if wanted is not None:
            include_all = "*all" in wanted or "*navigable" in wanted
            excluded = {w[1:] for w in wanted if w.startswith("-")}
            fields = {
                name: value
                for name, value in fields.items()
                if (include_all or name in wanted) and name not in excluded
            }
        body: dict[str, Any] = {
            "expand": EXPAND,
            "id": issue["id"],
            "self": f"{self.rest}/issue/{issue['id']}",
            "key": issue["key"],
            "fields": fields,
        }
        if expand and "changelog" in expand:
            histories = self.histories_json(issue)
            body["changelog"] = {"startAt": 0, "maxResults": len(histories),
                                 "total": len(histories), "histories": histories}  # fmt: skip
        if properties:
            body["properties"] = {
                k: v
                for k, v in issue["properties"].items()
                if "*all" in properties or k in properties
            }
        return body

    def transition_json(self, transition: Transition) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": transition.id,
            "name": transition.name,
            "to": self.status_json(status_by_id(transition.to)),
        }
        if self.cloud:
            body.update(
                hasScreen=False,
                isGlobal=True,
                isInitial=False,
                isAvailable=True,
                isConditional=False,
                isLooped=False,
            )
        else:
            body["opsbarSequence"] = int(transition.id)
        return body
