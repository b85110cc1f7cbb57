"""A stateful Jira sandbox speaking the Cloud or the Data Center dialect of the REST API.

Start one with `start_sandbox("cloud")`; point the real `jira` client at `.url` with `.auth`
and `.options`. Tests read `.state`, `.calls` and `.violations` and drive `.faults`.
"""

from __future__ import annotations

from pathlib import Path

from worker.clock import Clock
from worker.sandbox.faults import Fault, FaultRule, Faults
from worker.sandbox.server import Exchange, ExchangeHook, RunningSandbox
from worker.sandbox.state import Dialect, SandboxState

__all__ = [
    "Dialect",
    "Exchange",
    "ExchangeHook",
    "Fault",
    "FaultRule",
    "Faults",
    "RunningSandbox",
    "SandboxState",
    "start_sandbox",
]


def start_sandbox(
    dialect: Dialect,
    *,
    data_file: Path | None = None,
    port: int = 0,
    clock: Clock | None = None,
    validate: ExchangeHook | None = None,
    seed: int | None = None,
) -> RunningSandbox:
    """Start a sandbox on 127.0.0.1 (`port=0`: a free port) and return once it accepts connections.

    `validate` sees every exchange before it is answered; whatever it raises is kept in
    `.violations` (tests check it with the OpenAPI contract). `seed` fixes random faults.
    """
    if dialect not in ("cloud", "datacenter"):
        raise ValueError(f"unknown Jira dialect: {dialect!r}")
    return RunningSandbox(
        dialect, data_file=data_file, port=port, clock=clock, validate=validate, seed=seed
    )
