"""TLS to a real Dovecot with a self-signed certificate: trusted via ca_file, else refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.dovecot import Dovecot, make_message
from worker.errors import ConfigurationError, ConnectionFailed
from worker.mail.imap import ImapInbox


def test_imaps_with_the_certificate_trusted_works(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """IMAPS verifies the server against ca_file and reads mail."""
    uid = dovecot.append(make_message("Over TLS"))
    inbox = make_inbox(security="tls", port=dovecot.imaps_port, ca_file=dovecot.cert)

    assert [m.uid for m in inbox.fetch_since("INBOX", 0, limit=10)] == [uid]


def test_imaps_without_trust_is_refused(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """Without ca_file the self-signed certificate is rejected and nothing is sent."""
    inbox = make_inbox(security="tls", port=dovecot.imaps_port)

    with pytest.raises(ConnectionFailed, match="certificate"):
        inbox.connect()
    assert not inbox.connected


def test_starttls_with_the_certificate_trusted_works(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """STARTTLS upgrades the plain port and verifies the certificate."""
    uid = dovecot.append(make_message("Upgraded"))
    inbox = make_inbox(security="starttls", ca_file=dovecot.cert)

    assert [m.uid for m in inbox.fetch_since("INBOX", 0, limit=10)] == [uid]


def test_starttls_without_trust_is_refused(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """STARTTLS never falls back to plain text when the certificate is not trusted."""
    inbox = make_inbox(security="starttls")

    with pytest.raises(ConnectionFailed, match="certificate"):
        inbox.connect()
    assert "method=PLAIN" not in dovecot.log_tail(50)


def test_unreadable_ca_file_is_a_configuration_error(
    dovecot: Dovecot, make_inbox: Callable[..., ImapInbox]
) -> None:
    """A ca_file that is not a certificate is reported as a settings problem."""
    bogus = dovecot.root / "not-a-cert.pem"
    bogus.write_text("hello")
    inbox = make_inbox(security="tls", port=dovecot.imaps_port, ca_file=bogus)

    with pytest.raises(ConfigurationError, match="ca_file"):
        inbox.connect()
