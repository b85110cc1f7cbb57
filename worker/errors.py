"""The exception tree: every failure the worker raises is named after what happened.

Transient failures may succeed if tried again later (the retry policy in
`worker.retry` acts on them); permanent failures will not, and are recorded
instead of retried.
"""

from __future__ import annotations


class WorkerError(Exception):
    """Base of every error the worker raises on purpose."""


class Interrupted(WorkerError):
    """The worker was asked to stop during a wait: the work in hand is taken up after restart.

    Neither transient nor permanent: no failure handler acts on it, and it reaches the
    supervisor as it is.
    """


class TransientError(WorkerError):
    """A failure that may go away by itself: retry later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        #: Seconds the remote side asked us to wait, when it said so.
        self.retry_after = retry_after


class Deferred(TransientError):
    """Not a failure: the work waits for something that takes time, ``retry_after`` seconds."""


class PermanentError(WorkerError):
    """A failure that will happen again on retry: record it and move on."""


# --- transient -------------------------------------------------------------


class ConnectionFailed(TransientError):
    """A remote server could not be reached, or dropped the connection."""


class RateLimited(TransientError):
    """The remote server asked us to slow down (HTTP 429)."""


class ServerUnavailable(TransientError):
    """The remote server answered with a temporary error (502, 503, 504)."""


class TokenUnavailable(TransientError):
    """An OAuth2 access token could not be obtained right now (endpoint, command or file)."""


class OutcomeUnknown(TransientError):
    """A write may or may not have happened (timeout after sending).

    Callers must look for what they may already have created before trying again.
    """


# --- permanent -------------------------------------------------------------


class ConfigurationError(PermanentError):
    """The settings are invalid or inconsistent."""


class AuthenticationFailed(PermanentError):
    """The remote server refused our credentials."""


class NotFound(PermanentError):
    """Something we expected to exist in a remote system does not."""


class RequestRejected(PermanentError):
    """The remote server refused a request as invalid (HTTP 400 and friends)."""


class MessageUnparseable(PermanentError):
    """A mail could not be parsed; it is quarantined, never retried."""


class StoreError(PermanentError):
    """The state store is unusable (corrupt, newer schema than this code)."""
