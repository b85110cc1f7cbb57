"""Authentication-Results: only the receiving server's own verdict vouches for a sender."""

from __future__ import annotations

import pytest

from worker.core.auth import authenticated
from worker.mail.parse import parse_message


def with_results(*headers: str) -> bytes:
    lines = "".join(f"Authentication-Results: {h}\r\n" for h in headers)
    return f"From: support@acme.example\r\n{lines}Subject: x\r\n\r\nbody\r\n".encode()


@pytest.mark.parametrize(
    ("headers", "trusted", "expected"),
    [
        (("mx.acme.example; dkim=pass header.d=acme.example",), (), True),
        (("mx.acme.example; spf=pass smtp.mailfrom=acme.example",), (), True),
        (("mx.acme.example; dmarc=pass header.from=acme.example",), (), True),
        (("mx.acme.example; dkim=fail; spf=softfail; dmarc=fail",), (), False),
        (("mx.acme.example; none",), (), False),
        (("mx.acme.example; dkim=pass",), ("mx.acme.example",), True),
        (("mx.other.example; dkim=pass",), ("mx.acme.example",), False),
        (("mx.acme.example; dkim=none", "forged.example; dkim=pass"), (), False),
        ((), (), False),
    ],
)
def test_the_topmost_results_of_a_trusted_server_decide(
    headers: tuple[str, ...], trusted: tuple[str, ...], expected: bool
) -> None:
    assert authenticated(parse_message(with_results(*headers)), trusted) is expected
