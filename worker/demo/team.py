"""The support team in the demo: what people do in Jira, done through the real `jira` client."""

from __future__ import annotations

from typing import Any

import jira

from worker.domain.document import Document
from worker.sandbox import RunningSandbox
from worker.tracker.markup import to_adf, to_wiki


class TeamDesk:
    """A person at the support desk, working in the sandbox the way they would in Jira."""

    def __init__(self, sandbox: RunningSandbox) -> None:
        self.cloud = sandbox.dialect == "cloud"
        options: dict[str, Any] = dict(sandbox.options)
        self.client = jira.JIRA(
            sandbox.url, options=options, max_retries=0, timeout=10, **sandbox.auth
        )

    def _rich(self, body: Document) -> Any:
        return to_adf(body) if self.cloud else to_wiki(body)

    def comment(self, key: str, body: Document) -> None:
        self.client.add_comment(key, self._rich(body))

    def describe(self, key: str, body: Document) -> None:
        self.client.issue(key).update(fields={"description": self._rich(body)})

    def move(self, key: str, status: str) -> None:
        """Take the transition that leads to ``status`` (by name)."""
        for transition in self.client.transitions(key):
            if transition["to"]["name"].lower() == status.lower():
                self.client.transition_issue(key, transition["id"])
                return
        raise LookupError(f"no transition of {key} leads to {status!r}")

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]
