"""The issue tracker side: one interface, a Jira adapter, rich text rendering."""

from worker.tracker.base import (
    CheckItem,
    Comment,
    CreateFailed,
    Dialect,
    FieldChange,
    Issue,
    IssueRef,
    NewIssue,
    StatusCategory,
    Tracker,
)
from worker.tracker.document import Document

__all__ = [
    "CheckItem",
    "Comment",
    "CreateFailed",
    "Dialect",
    "Document",
    "FieldChange",
    "Issue",
    "IssueRef",
    "NewIssue",
    "StatusCategory",
    "Tracker",
]
