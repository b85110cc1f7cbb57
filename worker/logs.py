"""Structured logging: stable dotted event names, JSON lines off a terminal, secrets redacted."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

# Keys whose values are never logged, whatever they hold.
_SECRET_KEYS = frozenset(
    {"password", "token", "api_token", "pat", "secret", "client_secret", "authorization"}
)


class SecretRedactor:
    """A processor that removes known secret values from every field of every event."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        merged = set(self._secrets) | {s for s in secrets if len(s) >= 4}
        self._secrets = sorted(merged, key=len, reverse=True)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self._secrets:
                if secret in value:
                    value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {k: REDACTED if k in _SECRET_KEYS else self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._clean(v) for v in value)
        if isinstance(value, BaseException):
            return self._clean(repr(value))
        return value

    def __call__(self, logger: WrappedLogger, name: str, event_dict: EventDict) -> EventDict:
        for key in list(event_dict):
            if key in _SECRET_KEYS:
                event_dict[key] = REDACTED
            else:
                event_dict[key] = self._clean(event_dict[key])
        return event_dict


_redactor = SecretRedactor()


def register_secrets(secrets: Iterable[str]) -> None:
    """Make sure these values never appear in a log line."""
    _redactor.add(secrets)


def _render_exception_then_redact() -> list[Processor]:
    # Tracebacks are rendered to text first so the redactor sees their text too.
    return [structlog.processors.format_exc_info, _redactor]


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Set up structlog for the whole process."""
    out = stream or sys.stdout
    json_output = fmt == "json" or (fmt == "auto" and not out.isatty())
    renderer: Processor
    if json_output:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())
    processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json_output:
        processors += _render_exception_then_redact()
    else:
        processors.append(_redactor)
    processors.append(renderer)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Libraries that use stdlib logging (urllib3, imapclient) must not print credentials either.
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _RedactingHandler)]:
        root.removeHandler(old)
    handler = _RedactingHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    handler.addFilter(_StdlibRedactFilter())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


class _RedactingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one stdlib handler the worker installs; replaced on each reconfiguration."""


class _StdlibRedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _redactor._clean(record.getMessage())
        record.args = ()
        return True


def get_logger(**bound: Any) -> Any:
    """A lazy logger with the given context bound (message id, ticket key, ...).

    Lazy, so module-level loggers pick up the configuration made later at start.
    """
    return structlog.get_logger(**bound)
