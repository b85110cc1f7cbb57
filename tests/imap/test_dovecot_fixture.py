"""The Dovecot fixture itself: both ways of running it work, so any machine can run the tests."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support import dovecot as dovecot_support
from tests.support.ci import unavailable
from tests.support.dovecot import make_message, plain_settings, start_dovecot
from worker.mail.imap import ImapInbox

pytestmark = pytest.mark.integration


def test_dovecot_runs_as_an_unprivileged_user() -> None:
    """The configuration for non-root users (login services not chrooted) serves mail too."""
    if os.geteuid() != 0:
        # Not a missing server: CI runs as root and so runs this; a normal user (no CI) does not
        # need it, as every other test already runs Dovecot that way.
        pytest.skip("needs root to drop to another user; as a normal user (no CI) nothing to add")
    if shutil.which("setpriv") is None:
        unavailable("setpriv (util-linux) is missing: the fixture drops to another user with it")
    server = start_dovecot(run_as="nobody")
    try:
        uid = server.append(make_message("Unprivileged"))
        old = server.uidvalidity()
        new = server.change_uidvalidity()
        inbox = ImapInbox(plain_settings(server))
        try:
            (message,) = inbox.fetch_since("INBOX", 0, limit=10)
        finally:
            inbox.close()
        processes = os.popen(f"ps -o user= -g {server.process.pid if server.process else 0}").read()
    finally:
        server.cleanup()

    assert message.uid == uid
    assert message.uidvalidity == new != old
    assert set(processes.split()) == {"nobody"}


def test_missing_dovecot_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Dovecot the IMAP tests fail under CI=true and are skipped with a reason elsewhere."""
    monkeypatch.setattr(dovecot_support, "dovecot_binary", lambda: None)

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="dovecot is not installed"):
        dovecot_support.require_dovecot()

    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="install-debian-packages"):
        dovecot_support.require_dovecot()
