"""The HTTP side of the sandbox: auth, routing, call counting, faults, and the exchange hook.

Besides the Jira API and the control surface under /_sandbox/, it serves a read-only page
of the issues for people at ``/`` (see pages.py), without credentials.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from worker.clock import Clock, SystemClock
from worker.sandbox.api import Invalid, JiraApi, Reply, Request
from worker.sandbox.faults import Fault, FaultRule, Faults
from worker.sandbox.pages import PAGE_PATHS, issues_page
from worker.sandbox.state import USERS, Dialect, SandboxState, User

CLOUD_EMAIL = USERS[0].email
CLOUD_TOKEN = "sandbox-api-token"  # noqa: S105  (a fixed, public credential)
DATACENTER_PAT = "sandbox-personal-access-token"
ADMIN_PREFIX = "/_sandbox/"
MAX_BODY = 10 * 1024 * 1024
UNAUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as the exchange hook sees them."""

    dialect: Dialect
    method: str
    path: str  # the concrete path, e.g. /rest/api/3/issue/SUP-1
    template: str | None  # the route template, e.g. /rest/api/3/issue/{issueIdOrKey}
    query: dict[str, list[str]]
    request_body: Any
    status: int
    response_body: Any
    accepted: bool  # the sandbox did the work (2xx)
    received_at: float = 0.0  # time.monotonic() when the request arrived, before any latency


ExchangeHook = Callable[[Exchange], None]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Callable[[Request], Reply]


def compile_routes(api: JiraApi) -> list[Route]:
    """Routes with literal paths first, so /issue/bulk wins over /issue/{issueIdOrKey}."""
    routes = []
    for method, relative, handler in api.routes():
        template = f"/rest/api/{api.version}/{relative}"
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        routes.append(Route(method, template, re.compile(f"^{pattern}$"), handler))
    routes.sort(key=lambda r: r.template.count("{"))
    return routes


class Sandbox(ThreadingHTTPServer):
    """The server object; request handlers reach the shared parts through it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], api: JiraApi, faults: Faults, validate: ExchangeHook | None
    ) -> None:
        super().__init__(address, _Handler)
        self.api = api
        self.faults = faults
        self.validate = validate
        self.routes = compile_routes(api)
        self.calls: Counter[str] = Counter()
        self.violations: list[str] = []
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (after a timeout, say) is routine; anything else is printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def authenticate(self, header: str | None) -> User | bool | None:
        """The user the Authorization header names; None without one; False when it is wrong."""
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if self.api.cloud and scheme.lower() == "basic":
            try:
                email, _, token = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            if email == CLOUD_EMAIL and token == CLOUD_TOKEN:
                return USERS[0]
        if not self.api.cloud and scheme.lower() == "bearer" and value == DATACENTER_PAT:
            return USERS[0]
        return False


class _Handler(BaseHTTPRequestHandler):
    server: Sandbox
    call: tuple[str, str, str | None, dict[str, list[str]]]
    protocol_version = "HTTP/1.1"
    # One buffered write per answer and no Nagle delay: keep-alive calls stay sub-millisecond.
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read the call counter, not an access log."""

    def do_GET(self) -> None:
        self.handle_call("GET")

    def do_POST(self) -> None:
        self.handle_call("POST")

    def do_PUT(self) -> None:
        self.handle_call("PUT")

    def do_DELETE(self) -> None:
        self.handle_call("DELETE")

    def handle_call(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True  # the unread rest of the body would garble the next call
            self.send(Reply(413, {"errorMessages": ["Request entity too large."], "errors": {}}))
            return
        raw = self.rfile.read(length) if length else b""
        if url.path in PAGE_PATHS:
            self.send_page(method)
            return
        if url.path.startswith(ADMIN_PREFIX):
            self.send(admin(self.server, method, url.path, raw))
            return
        route, params = self.route(method, url.path)
        template = route.template if route else None
        name = f"{method} {template or url.path}"
        self.call = (method, url.path, template, query)
        self.received_at = time.monotonic()
        with self.server.lock:
            self.server.calls[name] += 1
        for fault in self.server.faults.pick(name):
            if fault.kind == "latency":
                time.sleep(fault.delay)
            elif fault.kind == "drop":
                self.drop()
                return
            else:
                self.finish_call(None, fault_reply(fault), accepted=False)
                return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            message = "Unexpected character in the request body: not valid JSON."
            self.finish_call(raw, Invalid(messages=[message]).reply(), accepted=False)
            return
        reply = self.answer(method, route, params, query, body)
        self.finish_call(body, reply, accepted=reply.status < 400)

    def answer(
        self,
        method: str,
        route: Route | None,
        params: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
    ) -> Reply:
        """Authenticate, then let the route's handler do the work."""
        user = self.server.authenticate(self.headers.get("Authorization"))
        anonymous_ok = route is not None and route.template.endswith("/serverInfo")
        if user is False or (user is None and not anonymous_ok):
            challenge = 'Basic realm="protected-area"' if self.server.api.cloud else "Bearer"
            return Reply(401, {"errorMessages": [UNAUTHENTICATED], "errors": {}},
                         {"WWW-Authenticate": challenge})  # fmt: skip
        if route is None:
            message = f"No resource found for {method} {urlsplit(self.path).path}"
            return Reply(404, {"errorMessages": [message], "errors": {}})
        caller = user if isinstance(user, User) else USERS[0]
        try:
            return route.handler(Request(method, params, query, body, caller))
        except Invalid as exc:
            return exc.reply()
        except Exception as exc:  # a sandbox bug: answer like Jira, and make the tests see it
            with self.server.lock:
                self.server.violations.append(f"{method} {self.path} crashed: {exc!r}")
            return Reply(500, {"errorMessages": ["Internal server error"], "errors": {}})

    def route(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.server.routes:
            match = route.pattern.match(path)
            if match and route.method == method:
                return route, {name: unquote(value) for name, value in match.groupdict().items()}
        return None, {}

    def finish_call(self, body: Any, reply: Reply, *, accepted: bool) -> None:
        """Show the exchange to the hook, then answer."""
        hook = self.server.validate
        if hook is not None:
            method, path, template, query = self.call
            exchange = Exchange(
                self.server.api.state.dialect,
                method,
                path,
                template,
                query,
                body,
                reply.status,
                reply.body,
                accepted,
                self.received_at,
            )
            try:
                hook(exchange)
            except Exception as exc:
                with self.server.lock:
                    self.server.violations.append(f"{method} {path} -> {reply.status}: {exc}")
        self.send(reply)

    def send(self, reply: Reply) -> None:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def send_page(self, method: str) -> None:
        """The read-only page of the issues, for people; no credentials, and no writes."""
        if method != "GET":
            self.send_text(405, "text/plain", b"This page is read-only.\n", {"Allow": "GET"})
            return
        page = issues_page(self.server.api.state, rest_path=f"/rest/api/{self.server.api.version}")
        self.send_text(200, "text/html", page.encode("utf-8"), {"Cache-Control": "no-store"})

    def send_text(
        self, status: int, kind: str, payload: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def drop(self) -> None:
        """Close the socket with no answer at all, as a crashed proxy would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def fault_reply(fault: Fault) -> Reply:
    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
    messages = {
        429: "Rate limit exceeded.",
        500: "Internal server error.",
        502: "Bad gateway.",
        503: "Service unavailable.",
        504: "Gateway timeout.",
    }
    return Reply(
        fault.status,
        {"errorMessages": [messages.get(fault.status, "Error.")], "errors": {}},
        headers,
    )


def admin(server: Sandbox, method: str, path: str, raw: bytes) -> Reply:
    """A small control surface for a sandbox run out of process (`recovery-worker sandbox`).

    GET /_sandbox/calls, POST /_sandbox/faults with a FaultRule or {"search_lag": {...}},
    DELETE /_sandbox/faults. Not part of any Jira API.
    """
    if path == "/_sandbox/calls" and method == "GET":
        with server.lock:
            return Reply(200, dict(server.calls))
    if path == "/_sandbox/faults" and method == "DELETE":
        server.faults.clear()
        return Reply(204)
    if path == "/_sandbox/faults" and method == "POST":
        try:
            spec = json.loads(raw)
            if "search_lag" in spec:
                server.faults.search_lag(**spec["search_lag"])
            else:
                server.faults.add(FaultRule(**spec))
        except (ValueError, TypeError) as exc:
            return Reply(400, {"errorMessages": [f"bad fault: {exc}"], "errors": {}})
        return Reply(201)
    return Reply(404, {"errorMessages": [f"no admin resource {method} {path}"], "errors": {}})


class RunningSandbox:
    """A sandbox serving on 127.0.0.1 in a background thread; stop it, or use it with `with`."""

    def __init__(
        self,
        dialect: Dialect,
        *,
        data_file: Path | None = None,
        port: int = 0,
        clock: Clock | None = None,
        validate: ExchangeHook | None = None,
        seed: int | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.dialect: Dialect = dialect
        self.clock = clock or SystemClock()
        self.faults = Faults(seed=seed)
        self.state = SandboxState.load(dialect, data_file)
        self._server = Sandbox(
            (host, port), JiraApi(self.state, self.clock, self.faults, ""), self.faults, validate
        )
        self.port = int(self._server.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self._server.api.render.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name="jira-sandbox",
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()

    @property
    def credentials(self) -> dict[str, str]:
        """The accepted credentials, named as in `JiraSettings`: email and api_token, or pat."""
        if self.dialect == "cloud":
            return {"email": CLOUD_EMAIL, "api_token": CLOUD_TOKEN}
        return {"pat": DATACENTER_PAT}

    @property
    def auth(self) -> dict[str, Any]:
        """Keyword arguments for `jira.JIRA` that authenticate against this sandbox."""
        if self.dialect == "cloud":
            return {"basic_auth": (CLOUD_EMAIL, CLOUD_TOKEN)}
        return {"token_auth": DATACENTER_PAT}

    @property
    def options(self) -> dict[str, str]:
        """`options` for `jira.JIRA`: the REST version this dialect serves."""
        return {"rest_api_version": "3" if self.dialect == "cloud" else "2"}

    @property
    def rest_url(self) -> str:
        return f"{self.url}/rest/api/{'3' if self.dialect == 'cloud' else '2'}"

    @property
    def calls(self) -> Counter[str]:
        """Calls per endpoint, as "METHOD /rest/api/N/path/{template}"."""
        with self._server.lock:
            return Counter(self._server.calls)

    @property
    def violations(self) -> list[str]:
        """What the exchange hook rejected, in order."""
        with self._server.lock:
            return list(self._server.violations)

    def reset_calls(self) -> None:
        with self._server.lock:
            self._server.calls.clear()

    def stop(self) -> None:
        """Stop serving and release the port; the data file already holds every write."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
