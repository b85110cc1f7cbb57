"""The issue tracker side: one interface, a Jira adapter, rich text rendering."""

from worker.domain.document import Document
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
from worker.tracker.base import Tracker

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
