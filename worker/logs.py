"""Structured logging: stable dotted event names, JSON lines off a terminal, secrets redacted."""

from __future__ import annotations

import base64
import logging
import sys
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import parse_qsl, quote, urlsplit

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
        forms = {form for secret in secrets for form in secret_forms(secret)}
        merged = set(self._secrets) | {s for s in forms if len(s) >= 4}
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


#: Shortest part of a secret URL's path that is taken for a secret of its own.
MIN_URL_PART = 8


def secret_forms(secret: str) -> set[str]:
    """Every form in which a secret may come back in an error page or a trace.

    Itself, percent-encoded, and for a URL (a webhook whose path is its key) its path, the
    longer parts of that path and its query: an error page often echoes the request path.
    """
    forms = {secret, quote(secret, safe=""), quote(secret, safe="/:")}
    parts = urlsplit(secret) if "://" in secret else None
    if parts is not None and parts.path:
        forms.add(parts.path)
        forms.update(p for p in parts.path.split("/") if len(p) >= MIN_URL_PART)
        if parts.query:
            forms.add(parts.query)
            forms.update(v for _, v in parse_qsl(parts.query) if len(v) >= MIN_URL_PART)
    return {f for f in forms if f}


def basic_credentials(user: str, secret: str) -> list[str]:
    """The ways ``user`` and ``secret`` travel together: HTTP Basic and SASL PLAIN, base64."""
    return [
        base64.b64encode(f"{user}:{secret}".encode()).decode("ascii"),
        base64.b64encode(f"\0{user}\0{secret}".encode()).decode("ascii"),
    ]


_redactor = SecretRedactor()


def redact(text: str, also: Iterable[str] = ()) -> str:
    """``text`` with every registered secret (and ``also``), in every form, replaced."""
    cleaned: str = _redactor._clean(text)
    extra = list(also)
    if extra:
        cleaned = SecretRedactor(extra)._clean(cleaned)
    return cleaned


#: Characters of an error page read before it is redacted and cut: a secret echoed near the
#: cut must be seen whole to be recognised.
ERROR_PAGE_READ = 4_000


def error_excerpt(text: str, limit: int, also: Iterable[str] = ()) -> str:
    """An outside error page as the worker may repeat it: redacted first, then cut."""
    return redact(text[:ERROR_PAGE_READ], also)[:limit]


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
