"""The sandbox's read-only web page: every issue with its subtasks, comments, labels and due date.

Served at ``/`` and ``/issues`` without credentials, for people: whoever runs the demo or
``run --local`` opens it in a browser to see what the worker made. Every piece of text
comes from issues that anyone with the API credentials (or a client's mail, through the
worker) may have written, so all of it is escaped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from worker.sandbox.state import (
    ISSUE_TYPES,
    LINK_TYPES,
    PRIORITIES,
    RESOLUTIONS,
    SandboxState,
    status_by_id,
    user_by_account,
)
from worker.tracker.markup import to_text

#: The paths that answer with the page.
PAGE_PATHS = frozenset({"/", "/issues", "/issues/"})

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em;
       color: #172b4d; }
h1 small, .meta, .empty { color: #5e6c84; font-weight: normal; }
article { border: 1px solid #dfe1e6; border-radius: 6px; padding: .6em 1em; margin: 1em 0; }
article article { margin: .6em 0; background: #fafbfc; }
h2, h3, h4, h5 { margin: .2em 0; } h2 { font-size: 1.15em; } h3, h4, h5 { font-size: 1em; }
.key { font-family: ui-monospace, monospace; margin-right: .5em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: .4em 0; }
dt { color: #5e6c84; } dd { margin: 0; }
.label { background: #dfe1e6; border-radius: 3px; padding: 0 .4em; margin-right: .3em;
         font-size: .9em; }
.text { white-space: pre-wrap; margin: .3em 0; }
.comment { border-left: 3px solid #dfe1e6; padding-left: .7em; margin: .5em 0; }
.comment.internal { border-left-color: #ffab00; }
"""


def issues_page(state: SandboxState, *, rest_path: str) -> str:
    """The page: top-level issues newest first, each with its subtasks inside it."""
    with state.lock:
        issues = [_snapshot(issue) for issue in state.issues.values()]
        links = [dict(link) for link in state.links]
    by_key = {issue["key"]: issue for issue in issues}
    children: dict[str, list[dict[str, Any]]] = {}
    for issue in issues:
        if issue["parent"] in by_key:
            children.setdefault(issue["parent"], []).append(issue)
    top = [issue for issue in issues if issue["parent"] not in by_key]
    top.sort(key=_newest_first)
    for group in children.values():
        group.sort(key=lambda issue: int(issue["id"]))
    dialect = "Cloud" if state.dialect == "cloud" else "Data Center"
    count = f"{len(issues)} issue{'s' if len(issues) != 1 else ''}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Jira sandbox ({dialect}): {count}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Jira sandbox <small>{dialect} dialect, read-only view</small></h1>",
        f'<p class="meta">{count}, newest first; reload the page to see changes. '
        f"The REST API is at <code>{escape(rest_path)}</code> and needs the sandbox's "
        "credentials.</p>",
    ]
    if not top:
        parts.append('<p class="empty">No issues yet.</p>')
    for issue in top:
        parts.append(_issue(issue, children.get(issue["key"], []), links))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _snapshot(issue: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of an issue, copied while the state's lock is held."""
    return {
        "id": str(issue["id"]),
        "key": str(issue["key"]),
        "parent": issue.get("parent"),
        "summary": str(issue.get("summary") or ""),
        "issuetype": issue.get("issuetype"),
        "status": issue.get("status"),
        "priority": issue.get("priority"),
        "assignee": issue.get("assignee"),
        "labels": list(issue.get("labels") or []),
        "duedate": issue.get("duedate"),
        "created": issue.get("created"),
        "resolution": issue.get("resolution"),
        "description": to_text(issue.get("description")),
        "comments": [
            {
                "author": comment.get("author"),
                "created": comment.get("created"),
                "internal": bool(comment.get("internal")),
                "body": to_text(comment.get("body")),
            }
            for comment in issue.get("comments") or []
        ],
    }


def _newest_first(issue: dict[str, Any]) -> int:
    return -int(issue["id"])


def _issue(
    issue: dict[str, Any],
    subtasks: list[dict[str, Any]],
    links: list[dict[str, str]],
    level: int = 2,
) -> str:
    """One issue's article; its subtasks' articles inside it, a heading level down."""
    key = escape(issue["key"])
    parts = [
        f'<article class="issue" id="{key}">',
        f'<h{level}><a class="key" href="#{key}">{key}</a>{escape(issue["summary"])}</h{level}>',
        _fields(issue, links),
    ]
    if issue["description"]:
        parts.append(
            "<details><summary>Description</summary>"
            f'<div class="text">{escape(issue["description"])}</div></details>'
        )
    if subtasks:
        parts.append(
            f'<section class="subtasks"><h{level + 1}>Subtasks ({len(subtasks)})</h{level + 1}>'
        )
        parts.extend(_issue(subtask, [], links, level + 2) for subtask in subtasks)
        parts.append("</section>")
    parts.append(_comments(issue["comments"], level + 1))
    parts.append("</article>")
    return "\n".join(parts)


def _fields(issue: dict[str, Any], links: list[dict[str, str]]) -> str:
    rows: list[tuple[str, str]] = [
        ("Type", escape(_type_name(issue["issuetype"]))),
        ("Status", escape(_status_name(issue["status"]))),
        ("Priority", escape(dict(PRIORITIES).get(str(issue["priority"]), "—"))),
        ("Assignee", escape(_user_name(issue["assignee"]) or "unassigned")),
        ("Labels", _labels(issue["labels"])),
        ("Due", escape(str(issue["duedate"])) if issue["duedate"] else "—"),
        ("Created", escape(_when(issue["created"]))),
    ]
    if issue["resolution"]:
        names = {resolution_id: name for resolution_id, name, _ in RESOLUTIONS}
        resolution = str(issue["resolution"])
        rows.append(("Resolution", escape(names.get(resolution, resolution))))
    related = _links(issue["key"], links)
    if related:
        rows.append(("Links", related))
    cells = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return f"<dl>{cells}</dl>"


def _labels(labels: list[str]) -> str:
    if not labels:
        return "—"
    return "".join(f'<span class="label">{escape(str(label))}</span>' for label in labels)


def _links(key: str, links: list[dict[str, str]]) -> str:
    names = {type_id: (inward, outward) for type_id, _, inward, outward in LINK_TYPES}
    found = []
    for link in links:
        inward, outward = names.get(link.get("type", ""), ("relates to", "relates to"))
        if link.get("inward") == key:
            found.append((outward, link.get("outward", "")))
        elif link.get("outward") == key:
            found.append((inward, link.get("inward", "")))
    return ", ".join(
        f'{escape(verb)} <a href="#{escape(other)}">{escape(other)}</a>' for verb, other in found
    )


def _comments(comments: list[dict[str, Any]], level: int) -> str:
    if not comments:
        return '<p class="meta">No comments.</p>'
    parts = [f'<section class="comments"><h{level}>Comments ({len(comments)})</h{level}>']
    for comment in comments:
        internal = comment["internal"]
        meta = f"{_user_name(comment['author']) or 'unknown'} · {_when(comment['created'])}"
        if internal:
            meta += " · internal note"
        parts.append(
            f'<div class="comment{" internal" if internal else ""}">'
            f'<div class="meta">{escape(meta)}</div>'
            f'<div class="text">{escape(comment["body"])}</div></div>'
        )
    parts.append("</section>")
    return "\n".join(parts)


def _type_name(type_id: Any) -> str:
    return next((t.name for t in ISSUE_TYPES if t.id == type_id), str(type_id))


def _status_name(status_id: Any) -> str:
    try:
        return status_by_id(str(status_id)).name
    except StopIteration:
        return str(status_id)


def _user_name(account_id: Any) -> str:
    user = user_by_account(account_id)
    return user.display_name if user is not None else str(account_id or "")


def _when(moment: Any) -> str:
    if isinstance(moment, datetime):
        return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return str(moment or "")
