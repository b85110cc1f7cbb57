"""Fixtures for the IMAP tests: a real Dovecot and an inbox adapter pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from tests.support.dovecot import Dovecot, start_dovecot
from worker.mail.imap import ImapInbox
from worker.settings import ImapSettings


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = start_dovecot()
    yield server
    server.cleanup()


def plain_settings(server: Dovecot, **overrides: Any) -> ImapSettings:
    """Settings for the plain-text listener, which Dovecot allows from 127.0.0.1 only."""
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.imap_port,
        "security": "plain",
        "username": server.user,
        "password": SecretStr(server.password),
        "timeout": timedelta(seconds=5),
    }
    values.update(overrides)
    return ImapSettings(**values)


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
