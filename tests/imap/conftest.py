"""Fixtures for the IMAP tests: a real Dovecot and an inbox adapter pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.dovecot import Dovecot, plain_settings
from worker.mail.imap import ImapInbox


@pytest.fixture
def make_inbox(dovecot: Dovecot) -> Iterator[Callable[..., ImapInbox]]:
    made: list[ImapInbox] = []

    def make(inbox_kwargs: dict[str, Any] | None = None, **overrides: Any) -> ImapInbox:
        inbox = ImapInbox(plain_settings(dovecot, **overrides), **(inbox_kwargs or {}))
        made.append(inbox)
        return inbox

    yield make
    for inbox in made:
        inbox.close()
