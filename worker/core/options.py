"""What the core reads from the configuration, as protocols the settings satisfy.

The core never imports the settings module: it names the few values it needs
here, so a rule can be tested with any object that has them and the settings
can import the core without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Protocol

from worker.domain.followup import RootCausePart
from worker.domain.recovery import Severity


class ResponsePolicy(Protocol):
    """The times promised to a client of one severity."""

    @property
    def first_contact(self) -> timedelta: ...
    @property
    def update_every(self) -> timedelta: ...
    @property
    def resolution(self) -> timedelta: ...
    @property
    def calendar(self) -> str: ...


class SlaOptions(Protocol):
    @property
    def policies(self) -> Mapping[Severity, ResponsePolicy]: ...


class TicketOptions(Protocol):
    """Where recoveries and follow-ups are opened in Jira, and for whom."""

    @property
    def project(self) -> str: ...
    @property
    def issue_type(self) -> str: ...
    @property
    def followup_issue_type(self) -> str: ...
    @property
    def labels(self) -> Sequence[str]: ...
    @property
    def default_owner(self) -> str: ...
    @property
    def owners(self) -> Mapping[str, str]: ...
    @property
    def priorities(self) -> Mapping[Severity, str]: ...


class FollowupOptions(Protocol):
    @property
    def due_after_days(self) -> Mapping[Severity, int]: ...
    @property
    def labels(self) -> Sequence[str]: ...
    @property
    def root_cause_fields(self) -> Mapping[RootCausePart, str]: ...
    @property
    def root_cause_headings(self) -> Mapping[RootCausePart, Sequence[str]]: ...


class Options(Protocol):
    """The whole of what planning a recovery and its follow-up reads."""

    @property
    def jira(self) -> TicketOptions: ...
    @property
    def sla(self) -> SlaOptions: ...
    @property
    def followup(self) -> FollowupOptions: ...
