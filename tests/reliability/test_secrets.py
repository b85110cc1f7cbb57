"""No password, token or OAuth secret in logs, metrics, alerts or Jira, whatever goes wrong."""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.reliability.figures import Figures
from tests.reliability.harness import WEBHOOK_SECRET, Deadline, Rig, complaint, wait_until

pytestmark = pytest.mark.integration

WRONG_IMAP_PASSWORD = "imap-wrong-pw-93b1c7e4"
WRONG_JIRA_TOKEN = "jira-wrong-token-4fa02d6b"
WRONG_PAT = "jira-wrong-pat-77c0e91a"
CLIENT_SECRET = "oauth-client-secret-c3d9a581"
TABLE = "secrets"


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Which secrets (or their base64 forms, as in Basic and SASL PLAIN) occur in the text."""
    found = []
    for secret in secrets:
        forms = {secret, base64.b64encode(secret.encode()).decode()}
        if any(form in text for form in forms):
            found.append(secret)
    return found


def basic_forms(user: str, secret: str) -> list[str]:
    """What a leaked credential pair would look like: Basic auth and SASL PLAIN encodings."""
    return [
        base64.b64encode(f"{user}:{secret}".encode()).decode(),
        base64.b64encode(f"\0{user}\0{secret}".encode()).decode(),
    ]


@pytest.fixture
def token_endpoint() -> Iterator[str]:
    """An OAuth2 token endpoint that fails: 401 on the first call, 500 after."""
    calls: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            calls.append(1)
            status = 401 if len(calls) == 1 else 500
            body = json.dumps({"error": "invalid_client"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/token"
    server.shutdown()
    server.server_close()


def metrics_text(rig: Rig) -> str:
    def fetch() -> str:
        with urllib.request.urlopen(rig.health_url + "/metrics", timeout=2) as answer:
            return str(answer.read().decode())

    return wait_until(
        fetch,
        15,
        "/metrics answers",
        ignoring=(OSError,),
    )


def logged(rig: Rig, *needles: str) -> Callable[[], bool]:
    """A condition: some log line of the worker mentions every needle."""

    def condition() -> bool:
        return any(all(n in line for n in needles) for line in rig.worker.output().splitlines())

    return condition


def test_invalid_settings_do_not_echo_secrets(make_rig: Callable[..., Rig]) -> None:
    """A settings error names the key, never the value, even when the value is a secret."""
    rig = make_rig()
    rig.write_config(
        imap={"password": WRONG_IMAP_PASSWORD, "port": WRONG_JIRA_TOKEN},
        jira={"api_tokn": WRONG_PAT},
    )
    rig.worker.start()
    code = rig.worker.wait_exit(timeout=30)
    output = rig.worker.output()
    assert code == 2
    assert "imap.port" in output
    assert "jira.api_tokn" in output
    assert leaks(output, [WRONG_IMAP_PASSWORD, WRONG_JIRA_TOKEN, WRONG_PAT]) == []


@pytest.mark.parametrize("dialect", ["cloud", "datacenter"])
def test_no_secret_leaks_on_any_error_path(
    make_rig: Callable[..., Rig],
    token_endpoint: str,
    figures: Figures,
    dialect: str,
    request: pytest.FixtureRequest,
) -> None:
    """Wrong credentials, 401s, 500s, a failing token endpoint and a broken store leak nothing."""
    deadline = Deadline(150)
    rig = make_rig(dialect)
    good = dict(rig.settings["jira"])
    secrets = [
        rig.dovecot.password,
        WRONG_IMAP_PASSWORD,
        WRONG_JIRA_TOKEN,
        WRONG_PAT,
        CLIENT_SECRET,
        WEBHOOK_SECRET,
        *[v for k, v in good.items() if k in ("api_token", "pat")],
        *basic_forms(rig.dovecot.user, rig.dovecot.password),
        *basic_forms(rig.dovecot.user, WRONG_IMAP_PASSWORD),
        *basic_forms(str(good.get("email", "")), WRONG_JIRA_TOKEN),
        *basic_forms(str(good.get("email", "")), str(good.get("api_token", ""))),
    ]
    wrong_jira = {"api_token": WRONG_JIRA_TOKEN} if dialect == "cloud" else {"pat": WRONG_PAT}
    seen: dict[str, str] = {}

    # 1. Wrong IMAP password and wrong Jira credentials: both refused.
    rig.write_config(imap={"password": WRONG_IMAP_PASSWORD}, jira=wrong_jira)
    rig.worker.start()
    wait_until(logged(rig, "AuthenticationFailed"), 30, "an authentication failure is logged")
    seen["metrics, wrong credentials"] = metrics_text(rig)
    rig.worker.terminate()
    deadline.check("wrong credentials")

    # 2. XOAUTH2 with a token endpoint answering 401, then 500.
    rig.write_config(
        imap={
            "auth": "xoauth2",
            "oauth2_token_url": token_endpoint,
            "oauth2_client_id": "worker",
            "oauth2_client_secret": CLIENT_SECRET,
        },
        jira=good,
    )
    rig.worker.start()
    wait_until(logged(rig, "TokenUnavailable"), 30, "the token endpoint's refusal is logged")
    rig.worker.terminate()
    deadline.check("oauth")

    # 3. Good credentials, Jira answering 500 to everything, one complaint waiting.
    rig.settings["imap"] = {
        k: v for k, v in rig.settings["imap"].items() if not k.startswith("oauth2_")
    }
    rig.write_config(imap={"auth": "password", "password": rig.dovecot.password})
    rig.sandbox.faults.server_error(500, times=None)
    raw, _ = complaint("S1")
    rig.dovecot.append(raw)
    rig.worker.start()
    wait_until(logged(rig, "500"), 30, "Jira's 500 is logged")
    rig.sandbox.faults.clear()

    # 4. Jira back: the recovery is opened and an SLA alert goes to the signed webhook.
    wait_until(rig.webhook.received, 60, "an alert reaches the webhook")
    seen["metrics, alerts"] = metrics_text(rig)

    # 5. The store is broken under the running worker: the steps fail, loudly, without secrets.
    rig.store_path.write_bytes(b"this is not a database" * 100)
    wait_until(logged(rig, '"level": "error"'), 30, "the broken store is logged as an error")
    rig.worker.terminate()
    deadline.check("broken store")

    seen["worker output"] = rig.worker.output()
    seen["webhook"] = "\n".join(
        f"{json.dumps(d.headers)}\n{d.body.decode(errors='replace')}"
        for d in rig.webhook.received()
    )
    with rig.sandbox.state.lock:
        seen["jira"] = json.dumps(rig.sandbox.state.issues, default=str)
    found = {where: leaks(text, secrets) for where, text in seen.items()}
    figures.note(
        request.node.name,
        error_paths=5,
        worker_runs=rig.worker.runs,
        log_lines=len(seen["worker output"].splitlines()),
        webhook_deliveries=len(rig.webhook.received()),
        secrets_found=sum(len(v) for v in found.values()),
    )
    figures.count(runs=rig.worker.runs, terminations=len(rig.worker.terminations))
    assert all(not v for v in found.values()), found
